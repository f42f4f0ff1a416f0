"""The inference fast path keeps generation within its stated tolerance of fp32 eager."""

from __future__ import annotations

import pytest
import torch

import t2izoo
from t2izoo.nn.fastpath import AUTOCAST_TOLERANCE, FP32_TOLERANCE, InferenceOptions, inference_context

TINY = {"generator.ngf": 8, "generator.z_dim": 8, "encoder.dim": 16, "generator.text_dim": 16,
        "encoder.buckets": 256}
CAPTIONS = ["a small red circle", "a big blue square left of a green triangle", "a yellow circle"]


def _pipe(seed: int = 0):
    torch.manual_seed(seed)
    return t2izoo.build("shapes-tiny", dict(TINY))


def _generate(options: InferenceOptions | None) -> torch.Tensor:
    pipe = _pipe()
    if options is not None:
        pipe.optimize_for_inference(options)
    return pipe(CAPTIONS, seed=3).tensors


def test_default_is_inference_mode_and_exact():
    pipe = _pipe()
    assert pipe.inference_options is None  # not optimised: inference mode only, bit-exact
    plain = _generate(InferenceOptions.plain())
    default = _generate(None)
    assert torch.equal(plain, default)
    auto = _pipe().optimize_for_inference()
    assert auto.inference_options == InferenceOptions.auto("cpu")
    assert (auto(CAPTIONS, seed=3).tensors - plain).abs().max() <= FP32_TOLERANCE
    with inference_context(InferenceOptions(), "cpu"):
        assert torch.is_inference_mode_enabled()
    with inference_context(InferenceOptions.plain(), "cpu"):
        assert not torch.is_inference_mode_enabled() and not torch.is_grad_enabled()


def test_channels_last_within_fp32_tolerance_and_changes_layout():
    pipe = _pipe().optimize_for_inference(InferenceOptions(channels_last=True))
    convs = [m for m in pipe.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    out = pipe(CAPTIONS, seed=3).tensors
    ref = _generate(InferenceOptions.plain())
    assert (out - ref).abs().max() <= FP32_TOLERANCE
    # back to the plain layout: weights contiguous again, state dict keys unchanged
    pipe.optimize_for_inference(InferenceOptions())
    assert all(c.weight.is_contiguous() for c in convs)
    assert set(pipe.state_dict()) == set(_pipe().state_dict())


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="bf16 CPU autocast needs oneDNN")
def test_bf16_autocast_within_tolerance_and_returns_fp32():
    out = _generate(InferenceOptions(autocast="bf16"))
    ref = _generate(InferenceOptions.plain())
    assert out.dtype == torch.float32
    assert (out - ref).abs().mean() <= AUTOCAST_TOLERANCE
    assert not torch.equal(out, ref)  # bf16 really ran (it is not exact)


def test_compile_keeps_outputs_and_state_dict_keys():
    pipe = _pipe()
    keys = set(pipe.state_dict())
    pipe.optimize_for_inference(InferenceOptions(compile=True, compile_backend="eager"))
    assert set(pipe.state_dict()) == keys
    out = pipe(CAPTIONS, seed=3).tensors
    assert (out - _generate(InferenceOptions.plain())).abs().max() <= FP32_TOLERANCE


def test_fp16_refused_on_cpu_and_switches_override_auto():
    with pytest.raises(ValueError, match="fp16"):
        _pipe().optimize_for_inference(InferenceOptions(autocast="fp16"))
    pipe = _pipe().optimize_for_inference(channels_last=True)
    assert pipe.inference_options == InferenceOptions.auto("cpu").replace(channels_last=True)
    assert InferenceOptions.plain().label() == "eager"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("autocast", ["bf16", "fp16"])
def test_gpu_autocast_and_channels_last_within_tolerance(autocast):
    torch.manual_seed(0)
    base = t2izoo.build("shapes-attngan", device="cuda")
    ref = base(CAPTIONS, seed=3).tensors
    fast = t2izoo.build("shapes-attngan", device="cuda")
    fast.load_state_dict(base.state_dict())
    fast.optimize_for_inference(InferenceOptions(channels_last=True, autocast=autocast))
    out = fast(CAPTIONS, seed=3).tensors
    assert out.dtype == torch.float32
    assert (out - ref).abs().mean() <= AUTOCAST_TOLERANCE


def test_auto_leaves_channels_last_off_for_iterative_components():
    """Diffusion sampling and VQGAN-CLIP loop over their networks: the measured default skips channels_last."""
    from t2izoo_diffusion.configs import DiffusionSRConfig

    refiner = t2izoo.create_component("refiner", {"name": "diffusion-sr", **DiffusionSRConfig.tiny(), "word_dim": 8,
                                                  "sentence_dim": 8})
    assert refiner.iterative_inference and not _pipe().generator.iterative_inference
    assert InferenceOptions.auto("cpu", {"refiner": refiner}).channels_last is False
    assert InferenceOptions.auto("cpu", [None, refiner]) == InferenceOptions()
    assert InferenceOptions.auto("cpu", _pipe().components()).channels_last is True
    pipe = t2izoo.build("shapes-clip-diffusion").optimize_for_inference()
    assert pipe.inference_options.label() == "inference_mode"
