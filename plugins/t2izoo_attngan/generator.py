"""The AttnGAN generator (Xu et al. 2018, §3.1-3.2).

Module names follow the original ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``, and
inside them ``fc``, ``upsample1..4``, ``att``, ``residual``, ``upsample``, ``img``), so released
checkpoints load key for key; only the fusion of each stage (``h_net<k>.att``) is a separate,
swappable component.
"""

from __future__ import annotations

from typing import Any

import t2izoo
from t2izoo.nn.stackgan import CANet, ImageHead, InitStage, RefineStage, StackGANGenerator

from .config import AttnGANConfig

__all__ = ["CANet", "InitStage", "AttnStage", "ImageHead", "AttnGANGenerator"]


# the StackGAN skeleton (CA, initial stage, refinement stage around a fusion, image head) is
# shared with FF-GAN and lives in the core; AttnGAN's stage is the generic refinement stage
AttnStage = RefineStage


class AttnGANGenerator(StackGANGenerator):
    """Text features (+ noise, + CA noise) -> images at 64, 128, 256 px (``branch_num`` stages).

    ``extras`` of the output carry ``mu``, ``logvar`` (for the KL term) and ``c_code``.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo.testing import make_text_features
        >>> g = t2izoo.create_component("generator", {"name": "attngan", "ngf": 4, "branch_num": 2,
        ...                             "word_dim": 8, "sentence_dim": 8}).eval()
        >>> out = g(make_text_features(2, 8, 8), generator=torch.Generator().manual_seed(0))
        >>> [tuple(x.shape) for x in out.images], tuple(out.attention[1].shape)
        ([(2, 3, 64, 64), (2, 3, 128, 128)], (2, 6, 64, 64))
    """

    def make_fusion(self, config: AttnGANConfig, ngf: int) -> t2izoo.Fusion:
        """The stage fusion; ``mask_mode='legacy'`` is pushed into it for checkpoint parity."""
        fusion_cfg = config.fusion
        if config.mask_mode == "legacy":
            if "mask_mode" not in type(fusion_cfg).model_fields:
                raise ValueError(
                    f"generator 'attngan': mask_mode='legacy' needs a fusion with a mask_mode field "
                    f"(concat-attention); fusion '{fusion_cfg.name}' has none"
                )
            fusion_cfg = fusion_cfg.model_copy(update={"mask_mode": "legacy"})
        return super().make_fusion(config.model_copy(update={"fusion": fusion_cfg}), ngf)

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The AttnGAN training recipe (discriminators, DAMSM term, KL) for ``pipeline``."""
        from .recipes import AttnGANRecipe

        return AttnGANRecipe(pipeline, **options)
