"""`t2izoo demo` writes a page naming the prompts with decodable images; `generate` defaults to card weights."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

import t2izoo
from t2izoo.cli import main

from .helpers import same_weights, saved_pipeline


def _images(page):
    return re.findall(r"src='([^']+\.png)'", page.read_text())


def test_demo_page_names_prompts_and_images_decode(tmp_path, cards):
    cards.write("demo-tiny", metrics={"clip-score": {"value": 0.271, "protocol": {"backbone": "tiny-clip"}}})
    out = tmp_path / "demo"
    prompts = ["a small red circle left of a blue square", "a green <b>triangle</b> & co"]
    assert main(["demo", "demo-tiny", "--prompts", *prompts, "--out", str(out), "--seeds", "0", "1",
                 "--device", "cpu"]) == 0
    page = out / "index.html"
    text = page.read_text()
    assert "a small red circle left of a blue square" in text
    assert "a green &lt;b&gt;triangle&lt;/b&gt; &amp; co" in text and "<b>triangle" not in text  # escaped
    assert "clip-score" in text and "0.271" in text and "backbone=tiny-clip" in text
    files = _images(page)
    # 2 prompts x 2 seeds x (2 generator stages + refiner)
    assert len(files) == 12 and len(set(files)) == 12
    sizes = set()
    for name in files:
        with Image.open(out / name) as img:
            img.load()
            sizes.add(img.size)
    assert sizes == {(16, 16), (32, 32), (64, 64)}
    assert "refiner (interpolate)" in text


def test_demo_shows_attention_maps_when_the_generator_returns_them(tmp_path):
    from t2izoo._demo import write_demo

    out = tmp_path / "demo"
    pipe = t2izoo.build("shapes-attngan", {"generator.ngf": 4, "encoder.embed_dim": 16, "encoder.hidden": 16,
                                           "generator.word_dim": 16, "generator.sentence_dim": 16})
    write_demo(pipe, ["a red circle above a blue square"], out)
    text = (out / "index.html").read_text()
    att = [f for f in _images(out / "index.html") if "_att" in f]
    assert att, "attngan returns word attention from stage 2 on"
    assert "word attention behind generator stage 2" in text and ">red<" in text
    for name in att:
        with Image.open(out / name) as img:
            img.load()


def test_generate_uses_the_cards_weights_by_default(tmp_path, cards, monkeypatch):
    from t2izoo import _hub
    from t2izoo._publish import publish

    cards.write("gen-tiny")
    run = saved_pipeline(tmp_path / "run", seed=7)
    monkeypatch.setenv("T2IZOO_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.setattr(_hub, "bundled_hub_dirs", lambda: [tmp_path / "hub"])
    publish(run, "gen-tiny", hub_dir=tmp_path / "hub")
    out = tmp_path / "a.png"
    assert main(["generate", "gen-tiny", "a red circle", "-o", str(out), "--device", "cpu", "--offline"]) == 0
    expected = t2izoo.Text2ImagePipeline.from_pretrained(run)(["a red circle"], seed=0).images[0]
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(expected))
    rand = tmp_path / "r.png"
    assert main(["generate", "gen-tiny", "a red circle", "-o", str(rand), "--device", "cpu", "--random-weights"]) == 0
    assert not np.array_equal(np.asarray(Image.open(rand)), np.asarray(expected))
    assert same_weights(t2izoo.build("gen-tiny", pretrained=True), t2izoo.Text2ImagePipeline.from_pretrained(run))
