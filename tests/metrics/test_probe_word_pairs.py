"""The minimal-pair word probe: pairing, same noise per pair, and what it says of oracle and word-blind models."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from t2izoo_metrics import probe_word_pairs as pwp

from t2izoo.data import ShapesDataset

N = 12  # minimal pairs per field: small, but enough for the pinned classifier to be near its ceiling


class CaptionLookupPipeline:
    """Returns the real test image of each caption (or of its partner): an oracle without a generator.

    `seed` is recorded per call so the test can check that both halves of a pair share it.
    """

    device = torch.device("cpu")

    def __init__(self, field: str = "shape", swap: bool = False, blind: bool = False, **data_options) -> None:
        # one field per pipeline: the first scene of a pair is the same in the shape and colour data
        self.by_caption: dict[str, torch.Tensor] = {}
        self.partner: dict[str, str] = {}
        data = ShapesDataset("test", size=2 * N, resolutions=(64,), minimal_pairs=field, **data_options)
        items = [data[i] for i in range(2 * N)]
        for k in range(N):
            a, b = items[2 * k], items[2 * k + 1]
            self.by_caption[a.captions[0]], self.by_caption[b.captions[0]] = a.images[64], b.images[64]
            self.partner[a.captions[0]], self.partner[b.captions[0]] = b.captions[0], a.captions[0]
        self.swap, self.blind, self.seeds = swap, blind, []

    def __call__(self, prompts, seed=None):
        self.seeds.append(seed)
        if self.blind:  # ignores the words: one image per seed and row
            g = torch.Generator().manual_seed(int(seed))
            images = torch.rand(len(prompts), 3, 64, 64, generator=g) * 2 - 1
        else:
            images = torch.stack([self.by_caption[self.partner[p] if self.swap else p] for p in prompts])
        return SimpleNamespace(tensors=images)


def test_word_pair_hits_compares_only_the_words_that_differ():
    presence = torch.tensor([
        [0.9, 0.2, 0.1],   # own {0, 2} vs partner {1, 2}: compares 0 with 1 -> right
        [0.9, 0.2, 0.1],   # own {1, 2} vs partner {0, 2}: 0.2 < 0.9 -> wrong
        [0.3, 0.3, 0.3],
        [0.3, 0.3, 0.3],
    ])
    hits = pwp.word_pair_hits(presence, [{0, 2}, {1, 2}, {0, 1}, {1, 0}])
    assert hits[:2].tolist() == [1.0, 0.0]
    assert all(math.isnan(h) for h in hits[2:].tolist())  # swapped words: undecidable, not a guess
    with pytest.raises(ValueError, match="even number"):
        pwp.word_pair_hits(presence[:3], [{0}, {1}, {2}])


@pytest.mark.parametrize("field", ["shape", "colour"])
def test_oracle_reaches_the_real_ceiling_and_its_swap_falls_to_its_complement(field):
    oracle = CaptionLookupPipeline(field)
    r = pwp.probe_word_pairs(oracle, n=N, batch_size=5, fields=[field], progress=False)[field]
    # the oracle draws the real images, so its score is the real images' score, computed separately
    assert r["accuracy"] == pytest.approx(r["real"]["accuracy"])
    assert r["accuracy"] >= 0.9, r
    assert r["images"] + 2 * r["undecidable_pairs"] == 2 * N
    # the oracle's pairs are the real pairs: the same coarse difference, small but not zero
    coarse = r["coarse_difference"]
    assert coarse["fake"] == pytest.approx(coarse["real"]) and 0 < coarse["real"] < 0.05
    # both halves of every pair batch were generated with the same seed (same noise per row)
    assert oracle.seeds[0::2] == oracle.seeds[1::2] == [0, 1, 2]

    swapped = pwp.probe_word_pairs(CaptionLookupPipeline(field, swap=True), n=N, batch_size=5, fields=[field],
                                   progress=False)[field]
    assert swapped["accuracy"] == pytest.approx(1 - r["accuracy"])


def test_a_word_blind_model_never_gets_both_images_of_a_pair_right():
    result = pwp.probe_word_pairs(CaptionLookupPipeline(blind=True), n=N, batch_size=4, fields=["shape"],
                                  progress=False)
    # same noise -> the same image for both captions; only one of the two comparisons can hold
    assert result["shape"]["both"] == 0.0
    assert result["shape"]["accuracy"] <= 0.5
    assert result["shape"]["coarse_difference"]["fake"] == 0.0  # one image for both captions
    assert result["shape"]["coarse_difference"]["real"] > 0


def test_data_options_choose_the_test_scenes():
    # the oracle only knows the captions of one-object scenes: a probe of other scenes would miss them
    oracle = CaptionLookupPipeline("shape", max_objects=1)
    r = pwp.probe_word_pairs(oracle, n=N, batch_size=6, fields=["shape"], progress=False,
                             data_options={"max_objects": 1})
    assert r["data_options"] == {"max_objects": 1}
    assert r["shape"]["accuracy"] == pytest.approx(r["shape"]["real"]["accuracy"])
    with pytest.raises(KeyError):
        pwp.probe_word_pairs(oracle, n=N, batch_size=6, fields=["shape"], progress=False)
    for bad in ({"minimal_pairs": "colour"}, {"objects": 1}):
        with pytest.raises(ValueError, match=repr(next(iter(bad)))):
            pwp.probe_word_pairs(oracle, n=2, fields=["shape"], progress=False, data_options=bad)


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="size"):
        pwp.probe_word_pairs(CaptionLookupPipeline(blind=True), n=2, fields=["size"], progress=False)


def test_command_line_on_the_published_preset(tmp_path, capsys, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)  # a folder named like the preset in the cwd would be taken for a model dir
    assert pwp.main(["shapes-attngan", "--n", "3", "--fields", "shape", "--json", "out.json"]) == 0
    assert "shape words:" in capsys.readouterr().out
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["model"] == "shapes-attngan" and report["pairs"] == 3
    assert 0.0 <= report["shape"]["accuracy"] <= 1.0 and "colour" not in report


def _tiny_text_encoder():
    import t2izoo

    pipe = t2izoo.build("shapes-attngan", {"generator.ngf": 4, "encoder.embed_dim": 16, "encoder.hidden": 16,
                                           "generator.word_dim": 16, "generator.sentence_dim": 16})
    return pipe.encoder.eval()


class CaptionOracleDAMSM(torch.nn.Module):
    """A 'DAMSM' whose image code is the sentence vector of the caption the image was drawn for."""

    def __init__(self, pipe: CaptionLookupPipeline) -> None:
        super().__init__()
        captions = list(pipe.by_caption)
        sentences = pipe.encoder.encode(captions).sentence.detach()
        self.code = {_key(pipe.by_caption[c]): sentences[i] for i, c in enumerate(captions)}

    def forward(self, images):
        return None, torch.stack([self.code[_key(im)] for im in images])


def _key(image: torch.Tensor) -> bytes:
    return image.float().numpy().tobytes()


def test_damsm_reads_the_fakes_and_pairs_them_with_their_own_captions():
    text_encoder = _tiny_text_encoder()  # random, but it only has to tell the captions apart
    reference = CaptionLookupPipeline("shape")
    reference.encoder = text_encoder
    damsm = CaptionOracleDAMSM(reference)
    results = {}
    for swap in (False, True):
        oracle = CaptionLookupPipeline("shape", swap=swap)
        oracle.encoder = text_encoder
        results[swap] = pwp.probe_word_pairs(oracle, n=N, batch_size=5, fields=["shape"], progress=False,
                                             damsm=damsm)["shape"]["damsm"]
    # a DAMSM that knows every image's caption ranks the real images right, and the fakes of a
    # model that draws each caption's partner wrong: the fakes, not the real images, are scored
    assert results[False] == {"fake": 1.0, "real": 1.0}
    assert results[True] == {"fake": 0.0, "real": 1.0}


def test_damsm_needs_a_text_encoder_and_a_real_directory(tmp_path):
    with pytest.raises(ValueError, match="no text encoder"):
        pwp.probe_word_pairs(CaptionLookupPipeline(), n=2, fields=["shape"], progress=False, damsm=torch.nn.Identity())
    with pytest.raises(FileNotFoundError, match="config.json"):
        pwp.probe_word_pairs(CaptionLookupPipeline(), n=2, fields=["shape"], progress=False, damsm=tmp_path)


def test_command_line_damsm_option(tmp_path, capsys, monkeypatch):
    from t2izoo.nn import DAMSMImageEncoder

    monkeypatch.chdir(tmp_path)
    # the published shapes-attngan encoder gives 128-d sentence vectors
    DAMSMImageEncoder(embed_dim=128, backbone="tiny", tiny_width=4).save_pretrained(tmp_path / "damsm")
    assert pwp.main(["shapes-attngan", "--n", "3", "--fields", "shape", "--damsm", str(tmp_path / "damsm"),
                     "--json", "out.json"]) == 0
    assert "DAMSM shape pairs:" in capsys.readouterr().out
    import json

    damsm = json.loads((tmp_path / "out.json").read_text())["shape"]["damsm"]
    assert set(damsm) == {"fake", "real"} and all(0.0 <= v <= 1.0 for v in damsm.values())


def _frame_pixels(figure, colour) -> int:
    import numpy as np

    return int((np.asarray(figure) == np.array(colour, dtype=np.uint8)).all(-1).sum())


@pytest.mark.parametrize("swap", [False, True])
def test_pair_figure_frames_each_fake_as_the_probe_scores_it(swap):
    from t2izoo_metrics.pair_figure import FRAME_COLOURS, pair_figure

    pairs, cell, width = 4, 32, 4
    frame = cell * cell - (cell - 2 * width) ** 2  # pixels of one image's frame
    r = pwp.probe_word_pairs(CaptionLookupPipeline("shape", swap=swap), n=pairs, batch_size=5, fields=["shape"],
                             progress=False)["shape"]
    model = CaptionLookupPipeline("shape", swap=swap)
    figure = pair_figure({"m": model}, fields=["shape"], pairs=pairs, batch_size=5, cell=cell)
    right = round(r["accuracy"] * r["images"])
    # one frame per generated image, coloured by the probe's own verdict on that image
    assert _frame_pixels(figure, FRAME_COLOURS[1.0]) == frame * right
    assert _frame_pixels(figure, FRAME_COLOURS[0.0]) == frame * (r["images"] - right)
    assert _frame_pixels(figure, FRAME_COLOURS[None]) == frame * 2 * r["undecidable_pairs"]
    assert (right > r["images"] / 2) != swap  # the oracle is mostly right, its swap mostly wrong
    assert model.seeds == [0, 0]  # one probe batch, both halves with the probe's seed


def test_pair_figure_rows_and_errors():
    from t2izoo_metrics.pair_figure import pair_figure

    one = pair_figure({"a": CaptionLookupPipeline("shape")}, pairs=2, batch_size=5, cell=32)
    two = pair_figure({"a": CaptionLookupPipeline("shape"), "b": CaptionLookupPipeline("shape", blind=True)},
                      pairs=2, batch_size=5, cell=32)
    both = pair_figure({"a": CaptionLookupPipeline(blind=True)}, fields=["shape", "colour"], pairs=2, batch_size=5,
                       cell=32)
    assert one.width == two.width == both.width  # two pairs per row, whatever the rows
    assert one.height < two.height and one.height < both.height  # a row per model, a section per field
    with pytest.raises(ValueError, match="at least one model"):
        pair_figure({})
    with pytest.raises(ValueError, match="size"):
        pair_figure({"a": CaptionLookupPipeline()}, fields=["size"])
    with pytest.raises(ValueError, match="pairs"):
        pair_figure({"a": CaptionLookupPipeline()}, pairs=0)


def test_command_line_figure(tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    assert pwp.main(["shapes-attngan", "--n", "2", "--batch-size", "2", "--fields", "shape", "--figure", "f/p.png",
                     "--figure-pairs", "2"]) == 0
    assert "figure: f/p.png" in capsys.readouterr().out
    assert Image.open(tmp_path / "f" / "p.png").width == 4 * (96 + 4) + 4  # 2 pairs of 96 px images
    with pytest.raises(SystemExit):
        pwp.main(["shapes-attngan", "--n", "2", "--figure-with", "shapes-attngan"])
    assert "--figure-with" in capsys.readouterr().err
