"""The FF-GAN generator (Sun et al., §3.1-3.2): AttnGAN's skeleton with FF-Block + GSR stages.

Module names follow the release's ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``); the
fusion of each refinement stage is the swappable component under ``h_net<k>.att`` (the release
keeps its ``w_att`` / ``affine`` / ``s_att`` directly in ``h_net<k>``: the converter inserts
``att.``). The release's unused DM-GAN memory layers are not built.
"""

from __future__ import annotations

from typing import Any

from t2izoo.nn.stackgan import StackGANGenerator

__all__ = ["FFGANGenerator"]


class FFGANGenerator(StackGANGenerator):
    """Text features (+ noise, + CA noise) -> images at 64, 128, 256 px (``branch_num`` stages).

    Stage 0 uses the augmented sentence only (eq. 2-3); each later stage fuses the words into
    the features with its fusion (default: FF-Block + GSR, eq. 4-7). ``extras`` carry ``mu``,
    ``logvar`` (for the KL term, eq. 9) and ``c_code``.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo.testing import make_text_features
        >>> g = t2izoo.create_component("generator", {"name": "ffgan", "ngf": 4, "branch_num": 2,
        ...                             "word_dim": 8, "sentence_dim": 8}).eval()
        >>> out = g(make_text_features(2, 8, 8), generator=torch.Generator().manual_seed(0))
        >>> [tuple(x.shape) for x in out.images], tuple(out.attention[1].shape)
        ([(2, 3, 64, 64), (2, 3, 128, 128)], (2, 6, 64, 64))
    """

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The FF-GAN training recipe (spectral-norm discriminators, eq. 8-12) for ``pipeline``."""
        from .recipes import FFGANRecipe

        return FFGANRecipe(pipeline, **options)
