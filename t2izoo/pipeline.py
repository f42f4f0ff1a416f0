"""`Text2ImagePipeline`: encoder -> generator (with its fusion) -> optional refiner.

On disk (``save_pretrained``)::

    DIR/pipeline.json              the PipelineConfig
    DIR/<slot>/config.json         that component's config
    DIR/<slot>/model.safetensors   its state_dict
    DIR/<slot>/...                 non-tensor assets (a vocabulary, a tokenizer model)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._build import check_ports, create_component
from ._config import PipelineConfig
from ._fs import replace_directory
from .interfaces import Component, Encoder, Generator, Refiner
from .types import PipelineOutput

__all__ = ["Text2ImagePipeline", "tensor_to_pil", "WEIGHTS_NAME", "CONFIG_NAME", "PIPELINE_CONFIG_NAME"]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
PIPELINE_CONFIG_NAME = "pipeline.json"
SLOTS = ("encoder", "generator", "refiner")


def tensor_to_pil(images: torch.Tensor) -> list[Any]:
    """``[B,C,H,W]`` in ``[-1,1]`` -> list of PIL images (RGB or L)."""
    from PIL import Image

    arr = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    out = []
    for img in arr:
        hwc = img.permute(1, 2, 0).numpy()
        out.append(Image.fromarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc))
    return out


class Text2ImagePipeline(nn.Module):
    """A composed text-to-image model. Build it with `t2izoo.build`.

    Example:
        >>> import t2izoo
        >>> pipe = t2izoo.build("shapes-tiny")
        >>> out = pipe(["a small red circle left of a blue square"], seed=0)
        >>> len(out.images), len(out.stages)
        (1, 3)
    """

    def __init__(
        self,
        config: PipelineConfig,
        encoder: Encoder,
        generator: Generator,
        refiner: Refiner | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.generator = generator
        self.refiner = refiner

    @classmethod
    def from_config(cls, config: PipelineConfig) -> Text2ImagePipeline:
        """Construct fresh (randomly initialised) components for a checked config."""
        check_ports(config)
        enc_out = config.encoder.ports().outputs
        encoder = create_component("encoder", config.encoder)
        generator = create_component("generator", config.generator)
        refiner = None if config.refiner is None else create_component(
            "refiner", config.refiner, word_dim=enc_out.get("word_dim"), sentence_dim=enc_out.get("sentence_dim")
        )
        return cls(config, encoder, generator, refiner)  # type: ignore[arg-type]

    def components(self) -> dict[str, Component]:
        return {slot: getattr(self, slot) for slot in SLOTS if getattr(self, slot) is not None}

    @property
    def device(self) -> torch.device:
        return self.generator.device

    # -- generation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def forward(
        self,
        prompts: str | Sequence[str],
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
        refine: bool = True,
        generator_kwargs: dict[str, Any] | None = None,
        **refiner_kwargs: Any,
    ) -> PipelineOutput:
        """Generate one image per prompt.

        Args:
            prompts: a caption or a list of captions.
            seed: seeds a fresh `torch.Generator` on the pipeline's device (reproducible).
            generator: use this `torch.Generator` instead of ``seed``.
            noise: explicit latent noise for the generator (overrides both).
            refine: run the refiner (if the pipeline has one).
            generator_kwargs: passed to the generator (e.g. ``{"guidance_scale": 3.0}`` for
                ``clip-diffusion``).
            **refiner_kwargs: passed to the refiner (e.g. ``sampler="ddim", num_inference_steps=50``).
        """
        if isinstance(prompts, str):
            prompts = [prompts]
        prompts = list(prompts)
        if not prompts:
            raise ValueError("prompts is empty: give at least one caption")
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(int(seed))
        text = self.encoder.encode(prompts)
        out = self.generator(text, noise=noise, generator=generator, **(generator_kwargs or {}))
        stages = list(out.images)
        final = stages[-1]
        if refine and self.refiner is not None:
            final = self.refiner(final, text, generator=generator, **refiner_kwargs)
            stages.append(final)
        return PipelineOutput(
            images=tensor_to_pil(final),
            tensors=final,
            stages=stages,
            attention=list(out.attention),
            prompts=prompts,
        )

    # -- persistence --------------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write config, safetensors weights and assets per component.

        The directory is written next to its final place and renamed into it, so an interrupted
        save never leaves a half-written model behind.
        """
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            (tmp / PIPELINE_CONFIG_NAME).write_text(self.config.to_json(), encoding="utf-8")
            for slot, module in self.components().items():
                sub = tmp / slot
                sub.mkdir()
                (sub / CONFIG_NAME).write_text(json.dumps(module.config.model_dump(mode="json"), indent=2))
                state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
                save_file(_untie(state), str(sub / WEIGHTS_NAME), metadata={"format": "pt", "t2izoo": slot})
                module.save_assets(sub)
            replace_directory(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return directory

    def load_pretrained_weights(self, directory: str | Path, *, strict: bool = True) -> None:
        """Load weights and assets written by `save_pretrained` into this pipeline."""
        from safetensors.torch import load_file

        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"model directory {directory} does not exist")
        for slot, module in self.components().items():
            sub = directory / slot
            weights = sub / WEIGHTS_NAME
            if not weights.is_file():
                raise FileNotFoundError(
                    f"{weights} is missing: the directory has no weights for the {slot} "
                    f"'{module.config.name}' (was it written by save_pretrained for this config?)"
                )
            module.load_assets(sub)
            state = load_file(str(weights), device=str(self.device))
            result = module.load_state_dict(state, strict=strict)
            if strict and (result.missing_keys or result.unexpected_keys):  # pragma: no cover
                raise RuntimeError(f"{weights}: {result}")

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs: Any) -> Text2ImagePipeline:
        """Load a pipeline written by `save_pretrained` (strict key matching).

        Example:
            >>> pipe = Text2ImagePipeline.from_pretrained("runs/shapes/final")  # doctest: +SKIP
        """
        from ._build import build

        return build(str(directory), pretrained=directory, **kwargs)


def _untie(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses shared storage: give tied tensors their own copy."""
    seen: dict[tuple[int, int], str] = {}
    out = {}
    for key, value in state.items():
        ident = (value.untyped_storage().data_ptr(), value.storage_offset())
        out[key] = value.clone() if ident in seen and value.numel() > 0 else value
        seen.setdefault(ident, key)
    return out
