"""Conformance kit: checks that any registered component behaves as the zoo expects.

``check_component(kind, name, **config)`` builds the component (with its config class's
``tiny()`` overrides unless told otherwise) and checks:

1. interface: it subclasses the kind's base class and its outputs have the declared shapes;
2. ports: output widths/sizes equal what ``config.ports()`` declares;
3. config round-trip: JSON and YAML give an equal config, and rebuilding from it works;
4. state_dict round-trip: a fresh instance loading the state gives identical outputs;
5. seeded determinism: the same `torch.Generator` seed gives identical outputs;
6. dtype/device moves: float64 and back, and CUDA when present.

Our own suite runs it over every registered component; third-party plugins run it in theirs.

Example:
    >>> from t2izoo.testing import check_component
    >>> report = check_component("generator", "tiny-conv")
    >>> sorted(report)
    ['config', 'determinism', 'interface', 'moves', 'ports', 'state_dict']
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from typing import Any

import torch

from ._build import create_component, resolve_component_config
from ._config import ComponentConfig
from ._registry import _loaded_registry
from .interfaces import Component, Encoder, Evaluator, Fusion, Generator, Refiner
from .types import FusionOutput, GeneratorOutput, MetricResult, TextFeatures

__all__ = ["check_component", "ConformanceError", "make_text_features", "conformance_cases"]

_PROMPTS = ["a small red circle left of a blue square", "a big green striped triangle"]
_DEFAULT_DIM = 16


class ConformanceError(AssertionError):
    """A component broke the zoo's contract; the message names the component and the check."""


def make_text_features(
    batch: int, word_dim: int | None, sentence_dim: int | None, length: int = 6, seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> TextFeatures:
    """Random `TextFeatures` with a realistic padding mask (the second caption is shorter).

    Example:
        >>> make_text_features(2, 8, 8).mask.tolist()[1]
        [False, False, False, False, True, True]
    """
    g = torch.Generator().manual_seed(seed)
    wd, sd = word_dim or _DEFAULT_DIM, sentence_dim or _DEFAULT_DIM
    mask = torch.zeros(batch, length, dtype=torch.bool)
    if batch > 1:
        mask[1:, length - 2:] = True
    # drawn in float32 then cast, so every dtype sees the same values
    words = torch.randn(batch, length, wd, generator=g).masked_fill(mask.unsqueeze(-1), 0).to(dtype)
    return TextFeatures(words=words, mask=mask, sentence=torch.randn(batch, sd, generator=g).to(dtype))


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _first_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, TextFeatures):
        return value.sentence
    if isinstance(value, FusionOutput):
        return value.features
    if isinstance(value, GeneratorOutput):
        return value.images[-1]
    if isinstance(value, MetricResult):
        return torch.tensor(value.value, dtype=torch.float64)
    raise TypeError(f"cannot compare {type(value).__name__}")


class _Case:
    """How to feed one kind of component and what to check on its output."""

    def __init__(self, kind: str, config: ComponentConfig, context: dict[str, Any]) -> None:
        self.kind, self.config, self.context = kind, config, context
        self.ports = config.ports()
        self.label = f"{kind} '{config.name}'"

    def fail(self, check: str, message: str) -> ConformanceError:
        return ConformanceError(f"{self.label} failed the '{check}' check: {message}")

    def build(self) -> Component:
        torch.manual_seed(0)
        return create_component(self.kind, self.config, **self.context)

    def text(self, dtype: torch.dtype = torch.float32) -> TextFeatures:
        ins = self.ports.inputs
        return make_text_features(
            2,
            ins.get("word_dim") or self.context.get("word_dim"),
            ins.get("sentence_dim") or self.context.get("sentence_dim"),
            dtype=dtype,
        )

    def run(self, module: Component, seed: int = 0, dtype: torch.dtype = torch.float32) -> Any:
        module.eval()
        with torch.no_grad():
            if isinstance(module, Encoder):
                return module.encode(_PROMPTS)
            if isinstance(module, Fusion):
                g = _seeded(seed)
                c = self.context.get("channels", 8)
                visual = torch.randn(2, c, 8, 8, generator=g).to(dtype)
                return module(visual.to(module.device), self.text(dtype).to(module.device))
            if isinstance(module, Generator):
                return module(self.text(dtype).to(module.device), generator=_seeded(seed))
            if isinstance(module, Refiner):
                size = self.ports.inputs.get("image_size") or 8
                g = _seeded(seed)
                images = (torch.rand(2, 3, size, size, generator=g) * 2 - 1).to(dtype)
                return module(images.to(module.device), self.text(dtype).to(module.device), generator=_seeded(seed))
            if isinstance(module, Evaluator):
                module.reset()
                g = _seeded(seed)
                size = 32
                fake = (torch.rand(4, 3, size, size, generator=g) * 2 - 1).to(dtype)
                real = (torch.rand(4, 3, size, size, generator=g) * 2 - 1).to(dtype)
                module.update(fake, prompts=_PROMPTS * 2, real_images=real)
                return module.compute()
        raise self.fail("interface", f"{type(module).__name__} is not a t2izoo component base class")

    def check_output(self, module: Component, out: Any) -> None:
        outs = self.ports.outputs
        if isinstance(module, Encoder):
            if not isinstance(out, TextFeatures):
                raise self.fail("interface", f"encode() returned {type(out).__name__}, not TextFeatures")
            if out.sentence.shape[0] != len(_PROMPTS):
                raise self.fail("interface", f"sentence has batch {out.sentence.shape[0]}, expected 2")
            if "sentence_dim" in outs and out.sentence.shape[-1] != outs["sentence_dim"]:
                raise self.fail("ports", f"sentence width {out.sentence.shape[-1]} != declared {outs['sentence_dim']}")
            if out.words is not None:
                if "word_dim" in outs and out.words.shape[-1] != outs["word_dim"]:
                    raise self.fail("ports", f"word width {out.words.shape[-1]} != declared {outs['word_dim']}")
                if out.mask is not None and out.mask.shape != out.words.shape[:2]:
                    raise self.fail("interface", f"mask {tuple(out.mask.shape)} != words[:2] {tuple(out.words.shape[:2])}")
                if out.mask is not None and out.mask.dtype != torch.bool:
                    raise self.fail("interface", f"mask dtype is {out.mask.dtype}, expected torch.bool")
        elif isinstance(module, Fusion):
            if not isinstance(out, FusionOutput):
                raise self.fail("interface", f"returned {type(out).__name__}, not FusionOutput")
            if out.features.shape[1] != module.out_channels or out.features.shape[-2:] != (8, 8):
                raise self.fail("interface", f"features {tuple(out.features.shape)}; expected [2,{module.out_channels},8,8]")
        elif isinstance(module, Generator):
            if not isinstance(out, GeneratorOutput) or not out.images:
                raise self.fail("interface", "must return a GeneratorOutput with at least one image")
            final = out.images[-1]
            if "image_size" in outs and outs["image_size"] and final.shape[-1] != outs["image_size"]:
                raise self.fail("ports", f"final image is {final.shape[-1]}px, declared image_size={outs['image_size']}")
            if "image_channels" in outs and final.shape[1] != outs["image_channels"]:
                raise self.fail("ports", f"{final.shape[1]} channels, declared {outs['image_channels']}")
            for img in out.images:
                if img.min() < -1 - 1e-4 or img.max() > 1 + 1e-4:
                    raise self.fail("interface", "images must lie in [-1, 1]")
        elif isinstance(module, Refiner):
            if "image_size" in outs and outs["image_size"] and out.shape[-1] != outs["image_size"]:
                raise self.fail("ports", f"output is {out.shape[-1]}px, declared image_size={outs['image_size']}")
        elif isinstance(module, Evaluator):
            if not isinstance(out, MetricResult):
                raise self.fail("interface", f"compute() returned {type(out).__name__}, not MetricResult")
            if not isinstance(out.protocol, dict) or not out.protocol:
                raise self.fail("interface", "MetricResult.protocol must record how the value was computed")


def _equal(a: Any, b: Any) -> bool:
    ta, tb = _first_tensor(a), _first_tensor(b)
    return ta.shape == tb.shape and torch.allclose(ta.double(), tb.double(), rtol=1e-5, atol=1e-6)


def check_component(
    kind: str,
    name: str,
    *,
    context: dict[str, Any] | None = None,
    use_tiny: bool = True,
    **config: Any,
) -> dict[str, str]:
    """Run every conformance check on one component; raise `ConformanceError` on the first failure.

    Args:
        kind, name: the registered component.
        context: construction context (fusions get ``channels``, ``word_dim``, ``sentence_dim``).
        use_tiny: start from the config class's ``tiny()`` overrides (fast).
        **config: further config fields.

    Returns:
        check name -> "ok".

    Example:
        >>> check_component("fusion", "sentence-concat", context={"channels": 8})["state_dict"]
        'ok'
    """
    entry = _loaded_registry().get(kind, name)
    fields = {**(entry.config_class.tiny() if use_tiny else {}), **config, "name": entry.name}
    cfg = resolve_component_config(kind, fields)
    ctx = dict(context or {})
    if kind in ("fusion", "refiner"):
        ctx.setdefault("word_dim", _DEFAULT_DIM)
        ctx.setdefault("sentence_dim", _DEFAULT_DIM)
    if kind == "fusion":
        ctx.setdefault("channels", 8)
    case = _Case(kind, cfg, ctx)
    report: dict[str, str] = {}

    module = case.build()
    if module.kind != kind:
        raise case.fail("interface", f"built a {module.kind or type(module).__name__}, not a {kind}")
    out = case.run(module)
    case.check_output(module, out)
    report["interface"] = report["ports"] = "ok"

    for fmt, dump, load in (
        ("json", lambda c: c.model_dump_json(), lambda s: type(cfg).model_validate_json(s)),
        ("yaml", _yaml_dump, _yaml_loader(type(cfg))),
    ):
        again = load(dump(cfg))
        if again != cfg:
            raise case.fail("config", f"{fmt} round-trip changed the config: {cfg!r} -> {again!r}")
    report["config"] = "ok"

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    fresh = _Case(kind, copy.deepcopy(cfg), ctx).build()
    torch.manual_seed(12345)  # a different init, so only load_state_dict can make them agree
    for p in fresh.parameters():
        if p.is_floating_point():
            torch.nn.init.normal_(p)
    fresh.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    if not _equal(case.run(fresh), case.run(module)):
        raise case.fail("state_dict", "a fresh instance with the loaded state_dict gives different outputs")
    report["state_dict"] = "ok"

    if not _equal(case.run(module, seed=3), case.run(module, seed=3)):
        raise case.fail("determinism", "the same seed gave different outputs")
    report["determinism"] = "ok"

    _check_moves(case, module)
    report["moves"] = "ok"
    return report


def _check_moves(case: _Case, module: Component) -> None:
    reference = case.run(module)
    module64 = copy.deepcopy(module).to(torch.float64)
    for p in module64.parameters():
        if p.is_floating_point() and p.dtype != torch.float64:
            raise case.fail("moves", f"a parameter stayed {p.dtype} after .to(float64)")
    out64 = case.run(module64, dtype=torch.float64)
    if not isinstance(module, (Encoder, Evaluator)) and _first_tensor(out64).dtype != torch.float64:
        raise case.fail("moves", f"float64 module gave {_first_tensor(out64).dtype} outputs")
    # 1e-2: iterative samplers (diffusion) accumulate float32 rounding over many steps
    deviation = float((_first_tensor(out64).double() - _first_tensor(reference).double()).abs().max())
    if deviation > 1e-2:
        raise case.fail("moves", f"float64 outputs differ from float32 by {deviation:.3g} (> 1e-2)")
    if torch.cuda.is_available():  # pragma: no cover - exercised on GPU machines only
        moved = copy.deepcopy(module).to("cuda")
        out_cuda = case.run(moved)
        if not torch.allclose(_first_tensor(out_cuda).cpu().double(), _first_tensor(reference).double(), rtol=1e-2, atol=1e-2):
            raise case.fail("moves", "CUDA outputs differ from CPU beyond 1e-2")


def _yaml_dump(cfg: ComponentConfig) -> str:
    import yaml

    return yaml.safe_dump(cfg.model_dump(mode="json"))


def _yaml_loader(cls: type[ComponentConfig]) -> Callable[[str], ComponentConfig]:
    import yaml

    return lambda text: cls.model_validate(yaml.safe_load(text))


def conformance_cases() -> list[tuple[str, str]]:
    """Every registered (kind, name), for ``pytest.mark.parametrize``.

    Example:
        >>> ("generator", "tiny-conv") in conformance_cases()
        True
    """
    reg = _loaded_registry()
    return [(e.kind, e.name) for e in reg.entries()]
