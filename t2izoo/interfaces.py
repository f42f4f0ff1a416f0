"""The five kinds of component as abstract `torch.nn.Module` classes.

Every component is built from its config (``Component(config, **context)``), keeps it as
``self.config``, and declares its ports through ``config.ports()``. Randomness is always an
argument (``generator=`` a `torch.Generator`, or explicit noise) so that runs are reproducible.

Example:
    >>> import t2izoo
    >>> enc = t2izoo.create_component("encoder", "hashed-embedding")
    >>> feats = enc.encode(["a red circle"])
    >>> feats.sentence.shape[1] == enc.config.ports().outputs["sentence_dim"]
    True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ._config import ComponentConfig
from ._ports import Ports
from .types import FusionOutput, GeneratorOutput, MetricResult, TextFeatures, TokenBatch

__all__ = ["module_device", "Component", "Encoder", "Fusion", "Generator", "Refiner", "Evaluator", "Tokenizer"]


def module_device(module: nn.Module) -> torch.device:
    """The device of a module's first parameter (or buffer); CPU for a module with neither."""
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return torch.device("cpu")


class Component(nn.Module):
    """Base of every component: holds its config and exposes its ports."""

    kind: ClassVar[str] = ""
    #: the component loops over its own network many times per image (diffusion sampling, CLIP-guided
    #: optimisation): the fast path's default leaves channels_last off for it (see
    #: `t2izoo.nn.fastpath.InferenceOptions.auto`), as float reordering compounds over the loop
    iterative_inference: ClassVar[bool] = False

    def __init__(self, config: ComponentConfig) -> None:
        super().__init__()
        self.config = config

    @property
    def ports(self) -> Ports:
        return self.config.ports()

    @property
    def device(self) -> torch.device:
        return module_device(self)

    def extra_repr(self) -> str:
        return f"name={self.config.name!r}"

    # Non-tensor state (a vocabulary, a tokenizer model) that save_pretrained must keep beside
    # the weights. Tensors belong in the state_dict, never here.
    def save_assets(self, directory: Path) -> None:
        """Write non-tensor assets into ``directory`` (called by ``save_pretrained``)."""

    def load_assets(self, directory: Path) -> None:
        """Read what `save_assets` wrote (called by ``from_pretrained`` before the weights)."""

    def external_weights(self) -> tuple[str, ...]:
        """State-dict key prefixes that ``save_pretrained`` leaves out: weights this component loads by
        itself when it is built (e.g. a frozen tower from a pinned, bundled checkpoint), so a saved
        model does not carry a second copy. Loading fills them from the freshly built component.

        Example:
            >>> enc.external_weights()  # a lstm+clip encoder with a frozen, pretrained CLIP  # doctest: +SKIP
            ('clip.',)
        """
        return ()

    # -- one component as a folder / Hub repository (config.json + model.safetensors + README.md)
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write this component's config, safetensors weights, assets and a README.md.

        Example:
            >>> enc = t2izoo.create_component("encoder", "hashed-embedding")  # doctest: +SKIP
            >>> enc.save_pretrained("out/encoder")  # doctest: +SKIP
        """
        from ._persist import save_component

        return save_component(self, directory)

    @classmethod
    def from_pretrained(cls, repo_or_dir: str | Path, *, revision: str | None = None,
                        local_files_only: bool | None = None, allow_pickle: bool = False,
                        device: Any = None, **context: Any) -> Component:
        """Rebuild a component from a folder or a Hub repo written by `save_pretrained`.

        Called on a kind (``t2izoo.Encoder.from_pretrained``) or on `Component` (the kind is read
        from the weights' metadata). ``context`` is what the owner normally passes (a fusion's
        ``channels``).

        Example:
            >>> enc = t2izoo.Encoder.from_pretrained("out/encoder")  # doctest: +SKIP
        """
        from ._persist import load_component

        module = load_component(repo_or_dir, kind=cls.kind or None, revision=revision,
                                local_files_only=local_files_only, allow_pickle=allow_pickle, device=device,
                                **context)
        if not isinstance(module, cls):
            raise TypeError(f"{repo_or_dir} holds a {type(module).__name__}, not a {cls.__name__}")
        return module

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Commit this component (as `save_pretrained` writes it) to a Hub repository.

        Keyword arguments as `t2izoo.Text2ImagePipeline.push_to_hub` (``revision``, ``private``,
        ``token``, ``commit_message``, ``create_pr``). Returns huggingface_hub's ``CommitInfo``.

        Example:
            >>> enc.push_to_hub("me/shapes-encoder")  # doctest: +SKIP
        """
        from ._persist import push_component

        return push_component(self, repo_id, **kwargs)


class Tokenizer(ABC):
    """Turns captions into a `TokenBatch`. Implementations live in `t2izoo.data.tokenizers`."""

    pad_id: int = 0

    @abstractmethod
    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch: ...


class Encoder(Component):
    """prompts -> `TextFeatures` (words ``[B,L,Dw]`` + mask ``[B,L]``, sentence ``[B,Ds]``)."""

    kind = "encoder"
    tokenizer: Tokenizer

    def tokenize(self, prompts: Sequence[str]) -> TokenBatch:
        return self.tokenizer(list(prompts))

    @abstractmethod
    def forward(self, tokens: TokenBatch) -> TextFeatures: ...

    def encode(self, prompts: Sequence[str]) -> TextFeatures:
        """Tokenise and encode in one call, on this encoder's device."""
        return self(self.tokenize(prompts).to(self.device))


class Fusion(Component):
    """visual ``[B,C,H,W]`` + `TextFeatures` -> `FusionOutput` (``[B,C',H,W]`` + attention).

    Built by its generator with ``channels`` (C) and the text widths as context, so the same
    fusion config works at every stage.
    """

    kind = "fusion"
    out_channels: int
    #: True for a fusion that also looks at the image of the previous stage (CD-AttnGAN's
    #: ``clip-attention``): a generator then calls ``fusion(visual, text, image=stage_image)``.
    needs_stage_image: ClassVar[bool] = False

    @abstractmethod
    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput: ...


class Generator(Component):
    """`TextFeatures` (+ noise) -> `GeneratorOutput` with one image tensor per stage."""

    kind = "generator"

    @abstractmethod
    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw the latent noise for ``batch_size`` samples on this module's device."""

    @abstractmethod
    def forward(
        self,
        text: TextFeatures,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> GeneratorOutput: ...


class Refiner(Component):
    """low-resolution images ``[B,C,h,w]`` + `TextFeatures` -> images ``[B,C,H,W]``."""

    kind = "refiner"

    @abstractmethod
    def forward(
        self, images: torch.Tensor, text: TextFeatures, generator: torch.Generator | None = None
    ) -> torch.Tensor: ...


class Evaluator(Component):
    """Streams batches and computes one `MetricResult` with its protocol.

    ``update`` may be called many times (memory must stay flat in the number of samples);
    ``compute`` returns the metric; ``reset`` starts over.
    """

    kind = "evaluator"
    requires_real: ClassVar[bool] = False

    @abstractmethod
    def update(
        self,
        images: torch.Tensor,
        prompts: Sequence[str] | None = None,
        real_images: torch.Tensor | None = None,
    ) -> None: ...

    @abstractmethod
    def compute(self) -> MetricResult: ...

    @abstractmethod
    def reset(self) -> None: ...

    def forward(self, *args: Any, **kwargs: Any) -> None:  # evaluators are driven by update()
        return self.update(*args, **kwargs)
