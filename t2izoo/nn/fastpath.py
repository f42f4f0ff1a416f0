"""The inference fast path: which speed-ups a pipeline's generation uses, and applying them.

Four switches, each measured by ``t2izoo bench`` against plain eager execution (``no_grad``, fp32,
contiguous tensors) and kept as a default only where the benchmark shows a gain:

* ``inference_mode``: ``torch.inference_mode`` instead of ``no_grad`` (no version counters or
  view tracking). Exact: outputs are bit-identical.
* ``channels_last``: convolution weights (and so activations) in NHWC memory format. Same maths,
  another summation order: outputs agree with fp32 eager to ``FP32_TOLERANCE``.
* ``autocast``: ``"bf16"`` / ``"fp16"`` mixed precision (``torch.autocast``). Lower precision:
  outputs agree with fp32 eager only to ``AUTOCAST_TOLERANCE`` (mean absolute difference on
  images in ``[-1, 1]``). fp16 is refused on CPU (no fp16 kernels for most CPU ops).
* ``compile``: ``nn.Module.compile`` on the generator and refiner (in place: state-dict keys do not
  change). Pays a compilation on the first call of each input shape.

``InferenceOptions.auto(device)`` is the measured default per device type (see
``docs/performance.md`` for the figures behind it).

Example:
    >>> import t2izoo
    >>> from t2izoo.nn.fastpath import InferenceOptions
    >>> pipe = t2izoo.build("shapes-tiny")
    >>> pipe = pipe.optimize_for_inference(InferenceOptions(channels_last=True))
    >>> pipe.inference_options.channels_last
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import torch
from torch import nn

__all__ = [
    "AUTOCAST_TOLERANCE",
    "FP32_TOLERANCE",
    "InferenceOptions",
    "apply_inference_options",
    "inference_context",
]

AutocastName = Literal["bf16", "fp16"]

#: max |difference| allowed between an fp32 fast path (channels_last, compile) and fp32 eager
FP32_TOLERANCE = 1e-4
#: mean |difference| allowed between an autocast (bf16/fp16) path and fp32 eager, images in [-1, 1]
AUTOCAST_TOLERANCE = 3e-2

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class InferenceOptions:
    """Which fast-path switches generation uses (see the module docstring).

    Attributes:
        inference_mode: ``torch.inference_mode`` (else ``torch.no_grad``).
        channels_last: NHWC memory format for the components' 4-d weights.
        autocast: ``None`` (fp32), ``"bf16"`` or ``"fp16"``.
        compile: ``nn.Module.compile`` the generator and the refiner.
        compile_backend: the ``torch.compile`` backend (``"inductor"``; ``"eager"`` for tests).
    """

    inference_mode: bool = True
    channels_last: bool = False
    autocast: AutocastName | None = None
    compile: bool = False
    compile_backend: str = "inductor"

    @classmethod
    def plain(cls) -> InferenceOptions:
        """Plain eager execution: ``no_grad``, fp32, contiguous, not compiled (the baseline)."""
        return cls(inference_mode=False)

    @classmethod
    def auto(cls, device: str | torch.device, components: Any = None) -> InferenceOptions:
        """The measured default for a device type (and, given them, the pipeline's components).

        CPU: inference mode + channels_last (1.25-1.6x over eager at batch 32 on the shapes
        GAN and CVAE presets, within ``FP32_TOLERANCE``; docs/performance.md). bf16 autocast was
        faster still on a CPU with AVX512-BF16, but it changes the images (within
        ``AUTOCAST_TOLERANCE``) and is slow on CPUs without bf16 instructions, so on CPU it is
        opt-in. CUDA: channels_last and bf16 autocast (fp16 where bf16 is missing).

        ``components`` (a name -> component mapping or a sequence): when any of them declares
        ``iterative_inference`` (diffusion sampling, VQGAN-CLIP optimisation), channels_last stays
        off: measured on the shapes presets it gave no gain there (x0.97-x1.2) and its reordered
        sums compound over the loop beyond ``FP32_TOLERANCE`` (1.0e-3 max on shapes-cd-attngan,
        0.105 on shapes-vqgan-clip).
        """
        kind = torch.device(device).type
        if components is not None:
            parts = components.values() if hasattr(components, "values") else components
            iterative = any(getattr(c, "iterative_inference", False) for c in parts if c is not None)
        else:
            iterative = False
        if kind == "cuda":
            autocast: AutocastName = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            return cls(channels_last=not iterative, autocast=autocast)
        return cls(channels_last=not iterative)

    def replace(self, **changes: Any) -> InferenceOptions:
        """A copy with some switches changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """Short name such as ``inference_mode+channels_last+bf16`` (``eager`` for `plain`)."""
        parts = [name for name, on in (("inference_mode", self.inference_mode),
                                       ("channels_last", self.channels_last)) if on]
        if self.autocast:
            parts.append(self.autocast)
        if self.compile:
            parts.append(f"compile[{self.compile_backend}]")
        return "+".join(parts) or "eager"


def _check(options: InferenceOptions, device: torch.device) -> None:
    if options.autocast is not None and options.autocast not in _DTYPES:
        raise ValueError(f"InferenceOptions.autocast must be None, 'bf16' or 'fp16', got {options.autocast!r}")
    if options.autocast == "fp16" and device.type == "cpu":
        raise ValueError("InferenceOptions.autocast='fp16' needs a GPU; on CPU use 'bf16' or None")


def _device_of(module: nn.Module) -> torch.device:
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


def apply_inference_options(components: dict[str, nn.Module], options: InferenceOptions) -> InferenceOptions:
    """Change ``components`` in place for ``options`` (memory format, compilation).

    ``components`` maps a slot name (``encoder``, ``generator``, ``refiner``) to its module. Only
    the generator and the refiner are compiled: encoders run once per call on short token batches
    and their tokenisers are Python.

    Returns ``options`` (checked), for the caller to keep.
    """
    device = next((_device_of(m) for m in components.values()), torch.device("cpu"))
    _check(options, device)
    for module in components.values():
        # nn.Module.to(memory_format=...) converts 4-d parameters and buffers only, so text
        # layers are untouched; converting back restores the plain layout.
        module.to(memory_format=torch.channels_last if options.channels_last else torch.contiguous_format)
    if options.compile:
        for slot in ("generator", "refiner"):
            if slot in components:
                components[slot].compile(backend=options.compile_backend, dynamic=False)
    return options


@contextlib.contextmanager
def inference_context(options: InferenceOptions, device: str | torch.device) -> Iterator[None]:
    """Grad mode and autocast for one generation call on ``device``.

    Example:
        >>> with inference_context(InferenceOptions(), "cpu"):
        ...     torch.is_inference_mode_enabled()
        True
    """
    device = torch.device(device)
    _check(options, device)
    grad = torch.inference_mode() if options.inference_mode else torch.no_grad()
    cast = (
        torch.autocast(device.type, dtype=_DTYPES[options.autocast])
        if options.autocast is not None
        else contextlib.nullcontext()
    )
    with grad, cast:
        yield
