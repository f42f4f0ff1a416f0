"""Layers shared by several plugins (GAN blocks, word attention, DAMSM).

Small, generic modules only; a model's own architecture lives in its plugin.

Example:
    >>> import torch
    >>> from t2izoo.nn import WordAttention, up_block
    >>> h = up_block(32, 16)(torch.zeros(1, 32, 4, 4))
    >>> ctx, att = WordAttention(16, 8)(h, torch.zeros(1, 3, 8))
    >>> ctx.shape, att.shape
    (torch.Size([1, 16, 8, 8]), torch.Size([1, 3, 8, 8]))
"""

from . import (
    diffusion,  # diffusion plumbing: samplers by name, loss, sampling loop
    stackgan,  # the StackGAN/AttnGAN generator skeleton: CA, initial stage, refine stage
)
from .attention import MaskMode, WordAttention, expand_word_mask, word_attention
from .blocks import (
    GLU,
    ResBlock,
    conv1x1,
    conv3x3,
    down_block,
    encode_image_by_16,
    leaky_block3x3,
    same_block,
    up_block,
)
from .damsm import (
    INCEPTION_TRUNK,
    DAMSMImageEncoder,
    class_mask,
    damsm_loss,
    matching_losses,
    pair_accuracy,
    region_attention,
    sentence_loss,
    words_loss,
)
from .damsm_batched import word_similarity, words_loss_batched
from .discriminators import LogitsHead, StackedDiscriminator
from .minimal_pairs import coarse_pair_difference

__all__ = [
    "diffusion",
    "stackgan",
    "GLU",
    "ResBlock",
    "conv1x1",
    "conv3x3",
    "down_block",
    "encode_image_by_16",
    "leaky_block3x3",
    "same_block",
    "up_block",
    "MaskMode",
    "WordAttention",
    "expand_word_mask",
    "word_attention",
    "INCEPTION_TRUNK",
    "DAMSMImageEncoder",
    "class_mask",
    "damsm_loss",
    "matching_losses",
    "pair_accuracy",
    "region_attention",
    "sentence_loss",
    "words_loss",
    "word_similarity",
    "words_loss_batched",
    "coarse_pair_difference",
    "LogitsHead",
    "StackedDiscriminator",
]
