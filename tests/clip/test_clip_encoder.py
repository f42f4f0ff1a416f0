"""The ``clip`` encoder: features, masks, image side, weights sources and their error messages."""

import os
import subprocess
import sys

import pytest
import torch
from t2izoo_clip.configs import CLIPEncoderConfig
from t2izoo_clip.weights import CLIPWeightsError

import t2izoo

TINY = {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None}
PROMPTS = ["a red circle", "two small blue squares left of a green triangle"]


@pytest.fixture(scope="module")
def enc():
    torch.manual_seed(0)
    return t2izoo.create_component("encoder", TINY)


def test_text_features(enc):
    feats = enc.encode(PROMPTS)
    assert feats.words.shape == (2, 32, 64) and feats.sentence.shape == (2, 64)
    ids = enc.tokenize(PROMPTS).ids
    eot = ids.argmax(-1)  # CLIP's EOT has the largest id
    for i in range(2):
        assert not feats.mask[i, : eot[i] + 1].any() and feats.mask[i, eot[i] + 1 :].all()
        assert feats.words[i, eot[i] + 1 :].abs().sum() == 0
    assert int(eot[0]) == 4  # <start> a red circle <end>
    # sentence = open_clip's own pooled, projected text embedding; words = ln_final tokens
    assert torch.allclose(feats.sentence, enc.clip.encode_text(ids), atol=1e-5)
    assert torch.allclose(feats.words[0, int(eot[0])] @ enc.clip.text_projection, feats.sentence[0], atol=1e-5)


def test_frozen_by_default(enc):
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.clip.training  # a frozen CLIP stays in eval mode
    trainable = t2izoo.create_component("encoder", {**TINY, "frozen": False})
    assert all(p.requires_grad for p in trainable.parameters())


def test_ports_without_building():
    vit = CLIPEncoderConfig(model="ViT-B-32").ports().outputs
    assert vit == {"word_dim": 512, "sentence_dim": 512, "tokenizer": "clip-bpe"}
    assert CLIPEncoderConfig(model="ViT-L-14").ports().outputs["word_dim"] == 768
    assert CLIPEncoderConfig(model="ViT-L-14", project_words=True).ports().outputs["word_dim"] == 768
    assert CLIPEncoderConfig(model="RN50").ports().outputs["sentence_dim"] == 1024
    hub = CLIPEncoderConfig(model="hf-hub:org/repo", sentence_dim=512).ports().outputs
    assert hub["sentence_dim"] == 512 and hub["word_dim"] is None
    with pytest.raises(ValueError, match="not an open_clip architecture"):
        CLIPEncoderConfig(model="ViT-Q-99")


def test_projected_words_and_context_length():
    enc = t2izoo.create_component("encoder", {**TINY, "context_length": 12, "project_words": True, "normalize_sentence": True})
    feats = enc.encode(PROMPTS)
    assert feats.words.shape == (2, 12, 64)
    assert torch.allclose(feats.sentence.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_image_side(enc):
    images = (torch.rand(2, 3, 48, 48) * 2 - 1).requires_grad_()
    feats = enc.image_features(images)
    assert feats.shape == (2, 64)
    feats.sum().backward()  # frozen weights, but gradients reach the images (CLIP losses)
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert enc.image_tokens(images.detach()).shape == (2, 64, 64)  # (64/8)^2 patches, width 64
    assert torch.allclose(enc.image_features(images.detach(), normalize=True).norm(dim=-1), torch.ones(2), atol=1e-5)


def test_contrastive_loss_trains():
    torch.manual_seed(0)
    enc = t2izoo.create_component("encoder", {**TINY, "frozen": False, "context_length": 12}).train()
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 64, 64, generator=g) * 2 - 1
    tokens = enc.tokenize(["a red circle", "a blue square", "a green triangle", "a yellow star"])
    opt = torch.optim.AdamW(enc.parameters(), lr=1e-3)
    first = None
    for _ in range(15):
        loss = enc.contrastive_loss(images, tokens)
        first = first if first is not None else float(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.5 * first


def test_local_checkpoint_file_roundtrip(tmp_path, enc):
    path = tmp_path / "tiny.pt"
    torch.save(enc.clip.state_dict(), path)  # open_clip's checkpoint format: a plain state dict
    loaded = t2izoo.create_component("encoder", {**TINY, "pretrained": str(path)})
    assert torch.allclose(loaded.encode(PROMPTS).sentence, enc.encode(PROMPTS).sentence)


def test_inline_architecture():
    arch = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
            "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    cfg = {"name": "clip", "model": "custom", "architecture": arch, "pretrained": None}
    assert CLIPEncoderConfig(**cfg).ports().outputs["word_dim"] == 32
    feats = t2izoo.create_component("encoder", cfg).encode(PROMPTS)
    assert feats.words.shape == (2, 8, 32) and feats.sentence.shape == (2, 16)


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "no-such-clip.pt"
    with pytest.raises(FileNotFoundError, match="no-such-clip.pt") as err:
        t2izoo.create_component("encoder", {**TINY, "pretrained": str(missing)})
    assert "clip.pretrained" in str(err.value) and "null for random initialisation" in str(err.value)


def test_unknown_tag_lists_tags():
    with pytest.raises(ValueError, match="Tags for ViT-B-32: openai, laion400m_e31"):
        t2izoo.create_component("encoder", {"name": "clip", "model": "ViT-B-32", "pretrained": "not-a-tag"})


def test_tag_offline_in_empty_cache(tmp_path):
    # in-process: an empty cache_dir; huggingface_hub is offline in the test suite
    with pytest.raises(CLIPWeightsError) as err:
        t2izoo.create_component(
            "encoder", {"name": "clip", "model": "ViT-B-32", "pretrained": "openai", "cache_dir": str(tmp_path)}
        )
    msg = str(err.value)
    assert "clip.pretrained='openai'" in msg and "ViT-B-32" in msg
    assert "https://huggingface.co/timm/vit_base_patch32_clip_224.openai" in msg
    assert str(tmp_path) in msg and "clip.pretrained=/path/to/file" in msg


SCRIPT = """
import t2izoo
for model, tag in CASES:
    try:
        t2izoo.create_component("encoder", {"name": "clip", "model": model, "pretrained": tag})
    except Exception as err:
        print(type(err).__name__ + ": " + str(err).replace(chr(10), " "))
    else:
        print("LOADED")
"""


def test_offline_env_with_empty_hf_home(tmp_path):
    # a fresh interpreter, so huggingface_hub reads HF_HUB_OFFLINE / HF_HOME at import
    cases = [("ViT-B-32", "laion2b_s34b_b79k"), ("hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K", None)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1"}
    env.pop("HF_HUB_CACHE", None)
    code = f"CASES = {cases!r}\n" + SCRIPT
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2, proc.stdout + proc.stderr
    tag_msg, hub_msg = lines
    for msg in lines:
        assert msg.startswith("CLIPWeightsError"), msg
        assert "HF_HUB_OFFLINE=1" in msg and str(tmp_path / "hf") in msg
    assert "https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in tag_msg
    assert "clip.pretrained='laion2b_s34b_b79k'" in tag_msg
    assert "huggingface-cli download laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in hub_msg
    assert "local-dir:" in hub_msg
