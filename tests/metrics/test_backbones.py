"""Backbone loading: exact on-disk formats, the HF cache, and errors that say what to fetch."""

import pytest
import torch

from t2izoo.evaluation import (
    WeightsNotFoundError,
    load_embedder,
    load_image_backbone,
    resize_images,
    sha256_file,
)
from t2izoo.evaluation.inception import FID_INCEPTION_FILE, build_fid_inception_network


def test_missing_fid_inception_names_file_url_and_destination(tmp_path, monkeypatch):
    monkeypatch.setenv("T2IZOO_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.delenv("T2IZOO_FID_INCEPTION", raising=False)
    with pytest.raises(WeightsNotFoundError) as err:
        load_image_backbone("fid-inception", shared=False)
    msg = str(err.value)
    assert FID_INCEPTION_FILE in msg
    assert "https://github.com/mseitzer/pytorch-fid/releases" in msg
    assert str(tmp_path / "w" / FID_INCEPTION_FILE) in msg


@pytest.mark.slow
def test_fid_inception_loads_a_plain_state_dict_file(tmp_path):
    net = build_fid_inception_network()
    torch.manual_seed(0)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.02)
    path = tmp_path / FID_INCEPTION_FILE
    torch.save(net.state_dict(), path)  # the format pytorch-fid ships: a plain state dict
    fe = load_image_backbone("fid-inception", weights=str(tmp_path), shared=False)
    assert fe.protocol()["weights_sha256"] == sha256_file(path)
    assert fe.protocol()["resize"] == "tf1-bilinear"
    out = fe.features(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert out.features.shape == (1, 2048) and out.logits.shape == (1, 1008)
    # logits are pool3 times the fc weight, without the bias (as the original IS graph)
    torch.testing.assert_close(out.logits, out.features @ net.fc.weight.T)


def test_fid_inception_rejects_a_wrong_state_dict(tmp_path):
    path = tmp_path / FID_INCEPTION_FILE
    torch.save({"fc.weight": torch.zeros(1008, 2048)}, path)
    with pytest.raises(ValueError, match="not the FID Inception state dict"):
        load_image_backbone("fid-inception", weights=str(path), shared=False)


def _hf_cache(monkeypatch, root):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))


def test_timm_inception_missing_from_hf_cache(tmp_path, monkeypatch):
    _hf_cache(monkeypatch, tmp_path)
    with pytest.raises(WeightsNotFoundError, match=r"inception_v3.tv_in1k.*Hugging Face cache.*hf download timm/"):
        load_image_backbone("timm-inception", shared=False)


@pytest.mark.slow
def test_timm_inception_from_a_filled_hf_cache(tmp_path, monkeypatch):
    import timm
    from safetensors.torch import save_file

    snap = tmp_path / "models--timm--inception_v3.tv_in1k" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (tmp_path / "models--timm--inception_v3.tv_in1k" / "refs").mkdir()
    (tmp_path / "models--timm--inception_v3.tv_in1k" / "refs" / "main").write_text("abc123")
    model = timm.create_model("inception_v3.tv_in1k", pretrained=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(snap / "model.safetensors"))
    _hf_cache(monkeypatch, tmp_path)
    fe = load_image_backbone("timm-inception", shared=False)
    out = fe.features(torch.zeros(1, 3, 16, 16))
    assert out.features.shape == (1, 2048) and out.logits.shape == (1, 1000)
    assert fe.protocol()["weights_sha256"] == sha256_file(snap / "model.safetensors")


def test_open_clip_missing_weights_are_explained(tmp_path, monkeypatch):
    _hf_cache(monkeypatch, tmp_path)
    with pytest.raises(WeightsNotFoundError, match=r"ViT-B-32/laion2b_s34b_b79k.*Hugging Face cache"):
        load_embedder("open-clip", model="ViT-B-32", weights="laion2b_s34b_b79k", shared=False)
    with pytest.raises(WeightsNotFoundError, match="not found at"):
        load_embedder("open-clip", model="ViT-B-32", weights=str(tmp_path / "nope.bin"), shared=False)


def test_unknown_backbone_lists_known_ones():
    with pytest.raises(ValueError, match="known: .*fid-inception"):
        load_image_backbone("nope")


def test_tf1_bilinear_has_no_half_pixel_offset():
    x = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])
    out = resize_images(x, (1, 8), "tf1-bilinear")
    # TF1 align_corners=False: source = dst * in/out, the last samples clamp to the edge
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0]))
    torch_bilinear = resize_images(x, (1, 8), "bilinear")[0, 0, 0]
    assert not torch.allclose(out[0, 0, 0], torch_bilinear)


def test_resize_policy_errors():
    with pytest.raises(ValueError, match="unknown resize policy"):
        resize_images(torch.zeros(1, 3, 4, 4), 8, "lanczos")
    with pytest.raises(ValueError, match="'none'"):
        resize_images(torch.zeros(1, 3, 4, 4), 8, "none")
    assert resize_images(torch.zeros(1, 3, 8, 8), 8, "none").shape[-1] == 8
