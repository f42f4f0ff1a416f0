"""The DAMSM space (`embedder: damsm`): loads a trained text/image encoder pair from a run directory."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

import t2izoo
from t2izoo.evaluation import WeightsNotFoundError, load_embedder
from t2izoo.nn import DAMSMImageEncoder


def _write_damsm_run(root):
    """What `t2izoo train shapes-attngan --recipe damsm` leaves in RUN/final (tiny sizes)."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    encoder = t2izoo.create_component("encoder", {"name": "lstm", "embed_dim": 8, "hidden": 8, "max_length": 16})
    image = DAMSMImageEncoder(embed_dim=8, backbone="tiny", input_size=32, freeze_trunk=False, tiny_width=4)
    text_dir = root / "final" / "encoder"
    text_dir.mkdir(parents=True)
    (text_dir / "config.json").write_text(json.dumps(encoder.config.model_dump(mode="json")))
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(text_dir / "model.safetensors"))
    encoder.save_assets(text_dir)
    image.save_pretrained(root / "final" / "damsm_image_encoder")
    return encoder.eval(), image.eval()


def test_loads_the_pair_and_embeds_like_the_originals(tmp_path):
    encoder, image = _write_damsm_run(tmp_path)
    emb = load_embedder("damsm", weights=str(tmp_path), shared=False)
    captions = ["a small red circle", "a big blue square left of a green triangle"]
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(emb.embed_texts(captions), encoder.encode(captions).sentence)
        assert torch.allclose(emb.embed_images(images), image(images)[1])
    # deterministic (the bi-LSTM's dropout is off) and the protocol names the space and weights
    assert torch.equal(emb.embed_texts(captions), emb.embed_texts(captions))
    proto = emb.protocol()
    assert proto["space"] == "damsm" and len(proto["weights_sha256"]["text"]) == 64
    # the final/ folder itself works too
    assert torch.allclose(load_embedder("damsm", weights=str(tmp_path / "final"), shared=False)
                          .embed_texts(captions), emb.embed_texts(captions))


def test_r_precision_in_damsm_space_ranks_the_true_caption(tmp_path):
    _write_damsm_run(tmp_path)
    emb = load_embedder("damsm", weights=str(tmp_path), shared=False)
    captions = [f"a {c} {s}" for c in ("red", "blue", "green", "yellow") for s in ("circle", "square", "triangle")]
    # images that sit exactly on their caption's direction in the DAMSM space would score 1: check the
    # evaluator's wiring by giving an embedder whose image side returns the text embedding
    target = F.normalize(emb.embed_texts(captions), dim=-1)

    class Oracle(type(emb)):
        def embed_images(self, images):
            return target[images[:, 0, 0, 0].long()]

    oracle = Oracle(emb.text_encoder, emb.image_encoder)
    rp = t2izoo.create_component("evaluator", {"name": "r-precision", "embedder": "damsm", "model": None,
                                               "weights": str(tmp_path), "distractors": 5, "folds": 2},
                                 embedder=oracle)
    index = torch.arange(len(captions)).float().view(-1, 1, 1, 1).expand(-1, 3, 8, 8)
    rp.update(index, prompts=captions)
    assert rp.compute().value == 1.0
    # the real DAMSM image encoder, untrained: a number in [0, 1] with the damsm protocol
    real = t2izoo.create_component("evaluator", {"name": "r-precision", "embedder": "damsm", "model": None,
                                                 "weights": str(tmp_path), "distractors": 5, "folds": 2})
    real.update(torch.rand(len(captions), 3, 32, 32) * 2 - 1, prompts=captions)
    result = real.compute()
    assert 0.0 <= result.value <= 1.0 and result.protocol["space"] == "damsm"


def test_mismatched_pair_is_refused(tmp_path):
    _write_damsm_run(tmp_path)
    DAMSMImageEncoder(embed_dim=12, backbone="tiny", input_size=32, tiny_width=4).save_pretrained(
        tmp_path / "final" / "damsm_image_encoder")
    with pytest.raises(ValueError, match="not one pair"):
        load_embedder("damsm", weights=str(tmp_path), shared=False)


def test_missing_run_names_what_to_do(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="--recipe damsm"):
        load_embedder("damsm", weights=str(tmp_path / "nothing"), shared=False)
    with pytest.raises(ValueError, match="needs 'weights'"):
        load_embedder("damsm", weights=None, shared=False)
