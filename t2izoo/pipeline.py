"""`Text2ImagePipeline`: encoder -> generator (with its fusion) -> optional refiner.

On disk (``save_pretrained``)::

    DIR/pipeline.json              the PipelineConfig
    DIR/<slot>/config.json         that component's config
    DIR/<slot>/model.safetensors   its state_dict
    DIR/<slot>/...                 non-tensor assets (a vocabulary, a tokenizer model)
    DIR/README.md                  the model card (the preset's card when there is one)

The same folder is a Hugging Face Hub model repository: `push_to_hub` commits it and
`from_pretrained("org/name", revision=...)` downloads it (safetensors only by default).
"""

from __future__ import annotations

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
from ._persist import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    load_state,
    load_weights,
    resolve_model_dir,
    untie,
    write_component,
)
from .interfaces import Component, Encoder, Generator, Refiner
from .types import PipelineOutput

__all__ = ["Text2ImagePipeline", "tensor_to_pil", "WEIGHTS_NAME", "CONFIG_NAME", "PIPELINE_CONFIG_NAME"]

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
        # the fast-path switches generation uses (t2izoo.nn.fastpath); plain attribute, not config
        self.inference_options: Any = None

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
    def optimize_for_inference(self, options: Any = None, **switches: Any) -> Text2ImagePipeline:
        """Use the inference fast path (`t2izoo.nn.fastpath.InferenceOptions`) from now on.

        Without arguments: the measured default for the pipeline's device
        (``InferenceOptions.auto``). Keyword switches (``channels_last=True``,
        ``autocast="bf16"``, ``compile=True``) change that default. Move the pipeline to its
        device first: the default depends on it. Returns ``self``.

        Example:
            >>> import t2izoo
            >>> pipe = t2izoo.build("shapes-tiny").optimize_for_inference(autocast="bf16")
            >>> pipe.inference_options.label()
            'inference_mode+channels_last+bf16'
        """
        from .nn.fastpath import InferenceOptions, apply_inference_options

        base = options if options is not None else InferenceOptions.auto(self.device, self.components())
        self.inference_options = apply_inference_options(self.components(), base.replace(**switches))
        return self

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
                ``clip-diffusion``). A generator with ``wants_prompts = True`` (``vqgan-clip``)
                also gets the raw ``prompts=`` unless given here.
            **refiner_kwargs: passed to the refiner (e.g. ``sampler="ddim", num_inference_steps=50``).
        """
        if isinstance(prompts, str):
            prompts = [prompts]
        prompts = list(prompts)
        if not prompts:
            raise ValueError("prompts is empty: give at least one caption")
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(int(seed))
        from .nn.fastpath import InferenceOptions, inference_context

        options = self.inference_options or InferenceOptions()
        with inference_context(options, self.device):
            text = self.encoder.encode(prompts)
            gen_kwargs = dict(generator_kwargs or {})
            if getattr(self.generator, "wants_prompts", False):  # weighted prompts ("a:1 | b:-0.5")
                gen_kwargs.setdefault("prompts", prompts)
            out = self.generator(text, noise=noise, generator=generator, **gen_kwargs)
            stages = list(out.images)
            final = stages[-1]
            if refine and self.refiner is not None:
                final = self.refiner(final, text, generator=generator, **refiner_kwargs)
                stages.append(final)
        if options.autocast is not None:  # callers always get fp32 images
            stages = [s.float() for s in stages]
            final = stages[-1]
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
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            (tmp / PIPELINE_CONFIG_NAME).write_text(self.config.to_json(), encoding="utf-8")
            for slot, module in self.components().items():
                sub = tmp / slot
                sub.mkdir()
                write_component(module, sub, slot)
            (tmp / "README.md").write_text(self.model_card(), encoding="utf-8")
            replace_directory(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return directory

    def model_card(self) -> str:
        """README.md for the saved folder: the preset's card if it has one, else a short generated card."""
        if self.config.preset:
            from ._cards import CardError, load_card

            try:
                return load_card(self.config.preset).render()
            except CardError:
                pass
        slots = ", ".join(f"{slot} `{m.config.name}`" for slot, m in self.components().items())
        return (
            "---\nlibrary_name: t2izoo\ntags: [t2izoo, text-to-image]\npipeline_tag: text-to-image\n---\n\n"
            f"# {self.config.preset or 't2izoo pipeline'}\n\nA t2izoo text-to-image pipeline: {slots}.\n\n"
            "```python\nimport t2izoo\npipe = t2izoo.Text2ImagePipeline.from_pretrained(\"THIS_REPO_OR_FOLDER\")\n"
            'out = pipe(["a small red circle left of a blue square"], seed=0)\n```\n'
        )

    def load_pretrained_weights(self, directory: str | Path, *, strict: bool = True, allow_pickle: bool = False) -> None:
        """Load weights and assets written by `save_pretrained` into this pipeline.

        ``allow_pickle`` lets a slot without ``model.safetensors`` use a legacy
        ``pytorch_model.bin``/``model.pth``, read with ``torch.load(weights_only=True)``.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"model directory {directory} does not exist")
        for slot, module in self.components().items():
            sub = directory / slot
            weights = sub / WEIGHTS_NAME
            if not weights.is_file() and not sub.is_dir() and not module.state_dict():
                continue  # a parameter-free component (e.g. the interpolate refiner) needs no folder
            try:
                state = load_state(sub, device=self.device, allow_pickle=allow_pickle)
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"{weights} is missing: the directory has no weights for the {slot} "
                    f"'{module.config.name}' (was it written by save_pretrained for this config?)"
                ) from None
            module.load_assets(sub)
            result = load_weights(module, state, strict=strict)
            if strict and (result.missing_keys or result.unexpected_keys):  # pragma: no cover
                raise RuntimeError(f"{weights}: {result}")

    @classmethod
    def from_pretrained(
        cls,
        repo_or_dir: str | Path,
        *,
        revision: str | None = None,
        local_files_only: bool | None = None,
        allow_pickle: bool = False,
        **kwargs: Any,
    ) -> Text2ImagePipeline:
        """Load a pipeline written by `save_pretrained`, from a folder or a Hub repository.

        Args:
            repo_or_dir: a local folder, or a Hub repo id (``"org/name"``) downloaded through
                huggingface_hub (its cache, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` apply).
            revision: branch, tag or commit of the Hub repository (default ``main``).
            local_files_only: use the cache only.
            allow_pickle: also fetch/read legacy ``.bin``/``.pth`` weights (``weights_only=True``).
            **kwargs: passed to `t2izoo.build` (``device=``, overrides).

        Example:
            >>> pipe = Text2ImagePipeline.from_pretrained("runs/shapes/final")  # doctest: +SKIP
            >>> pipe = Text2ImagePipeline.from_pretrained("t2izoo/shapes-tiny", revision="v1")  # doctest: +SKIP
        """
        from ._build import build

        directory = resolve_model_dir(repo_or_dir, revision=revision, local_files_only=local_files_only,
                                      allow_pickle=allow_pickle)
        return build(str(directory), pretrained=directory, allow_pickle=allow_pickle, **kwargs)

    def push_to_hub(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        commit_message: str = "Upload t2izoo pipeline",
        private: bool | None = None,
        token: str | bool | None = None,
        create_pr: bool = False,
        api: Any = None,
    ) -> Any:
        """Save this pipeline (configs, safetensors, README.md card) and commit it to a Hub repo.

        Creates the repository if needed and uploads everything in one commit; returns
        huggingface_hub's ``CommitInfo`` (``.oid`` is the commit to pin in a card).

        Example:
            >>> info = pipe.push_to_hub("me/shapes-tiny")  # doctest: +SKIP
            >>> info.oid  # doctest: +SKIP
        """
        from ._hub import push_folder

        with tempfile.TemporaryDirectory(prefix="t2izoo-push-") as tmp:
            folder = self.save_pretrained(Path(tmp) / "model")
            return push_folder(folder, repo_id, revision=revision, commit_message=commit_message,
                               private=private, token=token, create_pr=create_pr, api=api)


_untie = untie  # kept for callers of the old private name
