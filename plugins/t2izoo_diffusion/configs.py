"""Configs of the diffusion components (pydantic only: importing this does not import torch)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

import t2izoo

# Kept in step with t2izoo.nn.diffusion.SAMPLERS (that module imports torch; configs must not).
SAMPLER_NAMES = ("ddpm", "ddim", "dpm-solver++", "sde-dpm-solver++", "euler")


class DiffusionFields(BaseModel):
    """Noise schedule and sampler fields shared by every diffusion component."""

    num_train_timesteps: int = Field(1000, ge=2, description="T, forward diffusion steps")
    beta_start: float = Field(1e-4, gt=0, description="first beta of the schedule")
    beta_end: float = Field(0.02, gt=0, lt=1, description="last beta of the schedule")
    beta_schedule: str = Field("linear", description="diffusers beta schedule name")
    sampler: str = Field("ddpm", description=f"reverse-process sampler: one of {', '.join(SAMPLER_NAMES)}")
    num_inference_steps: int | None = Field(
        None, ge=1, description="sampling steps; None = the sampler's default (ddpm: T, others: 20-50)"
    )

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, value: str) -> str:
        if value not in SAMPLER_NAMES:
            raise ValueError(f"unknown sampler {value!r}; samplers: {', '.join(SAMPLER_NAMES)}")
        return value

    @model_validator(mode="after")
    def _betas_increase(self):
        if self.beta_end <= self.beta_start:
            raise ValueError(f"beta_end ({self.beta_end}) must be greater than beta_start ({self.beta_start})")
        return self


class UNetFields(BaseModel):
    """Size of the denoising U-Net (diffusers UNet2DConditionModel)."""

    block_out_channels: tuple[int, ...] = Field((64, 128, 256), min_length=1, description="channels per level")
    layers_per_block: int = Field(2, ge=1)
    attention_levels: tuple[bool, ...] | None = Field(
        None, description="cross-attention per level; None = every level but the first"
    )
    attention_head_dim: int = Field(8, ge=1)
    norm_num_groups: int = Field(32, ge=1)
    cond_dim: int = Field(256, ge=1, description="width of the cross-attention condition tokens")

    @model_validator(mode="after")
    def _check_unet(self):
        bad = [c for c in self.block_out_channels if c % self.norm_num_groups]
        if bad:
            raise ValueError(
                f"block_out_channels {self.block_out_channels}: {bad} not divisible by norm_num_groups={self.norm_num_groups}"
            )
        if self.attention_levels is not None and len(self.attention_levels) != len(self.block_out_channels):
            raise ValueError(
                f"attention_levels has {len(self.attention_levels)} entries, block_out_channels has "
                f"{len(self.block_out_channels)}"
            )
        return self

    def _check_divisible(self, size: int, field: str) -> None:
        factor = 2 ** (len(self.block_out_channels) - 1)
        if size % factor:
            raise ValueError(
                f"{field}={size} must be divisible by {factor} (the U-Net halves it "
                f"{len(self.block_out_channels) - 1} times)"
            )


class DiffusionSRConfig(t2izoo.ComponentConfig, UNetFields, DiffusionFields):
    """Conditional diffusion super-resolution (CD-AttnGAN stage 2, SR3-style conditioning).

    The denoiser sees ``[x_t ; upsample(low-res)]`` (2 x channels in) and cross-attends to
    ``[CNN(low-res) tokens ; Linear(sentence) ; Linear(words)]``.
    """

    name: str = "diffusion-sr"
    lr_size: int = Field(64, ge=4, description="side of the low-resolution input (the generator's output)")
    image_size: int = Field(128, ge=8, description="side of the high-resolution output")
    image_channels: int = Field(3, ge=1)
    word_dim: int | None = Field(None, description="encoder word width; None = taken from the encoder when built")
    sentence_dim: int | None = Field(None, description="encoder sentence width; None = taken from the encoder")
    use_words: bool = Field(True, description="add per-word tokens to the condition (else sentence only)")
    lr_encoder: str = Field(
        "conv", description="'conv' (3-layer conv net) or any timm model name (features_only=True)"
    )
    lr_encoder_pretrained: bool = Field(False, description="load timm's ImageNet weights (needs them cached)")
    lr_encoder_channels: int = Field(64, ge=1, description="width of the 'conv' encoder")
    lr_feature_index: int = Field(-1, description="which timm feature level to use (features_only index)")
    upsample_mode: str = Field("bicubic", description="how the low-res image is resized to concatenate to x_t")
    sampler: str = "ddpm"
    strength: float = Field(
        1.0, gt=0.0, le=1.0,
        description="1.0: sample from pure noise (the paper); < 1: start from the noised upsampled input "
                    "and run only that fraction of the steps (SDEdit / CCDF)",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> DiffusionSRConfig:
        if self.image_size < self.lr_size:
            raise ValueError(f"image_size ({self.image_size}) must be >= lr_size ({self.lr_size})")
        self._check_divisible(self.image_size, "image_size")
        return self

    def ports(self) -> t2izoo.Ports:
        inputs = {"image_size": self.lr_size, "image_channels": self.image_channels, "sentence_dim": self.sentence_dim}
        if self.use_words:
            inputs["word_dim"] = self.word_dim
        return t2izoo.Ports(
            inputs=inputs, outputs={"image_size": self.image_size, "image_channels": self.image_channels}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {
            "lr_size": 16, "image_size": 32, "block_out_channels": (32, 64), "layers_per_block": 1,
            "norm_num_groups": 8, "cond_dim": 32, "lr_encoder_channels": 16,
            "sampler": "dpm-solver++", "num_inference_steps": 4,
        }


class ClipDiffusionConfig(t2izoo.ComponentConfig, UNetFields, DiffusionFields):
    """Pixel-space text-to-image diffusion conditioned on (CLIP) text features.

    Words enter by cross-attention, the sentence through the time embedding (projection class
    embedding) and as one more cross-attention token. Classifier-free guidance is trained by
    dropping the condition with ``cond_drop_prob`` and used with ``guidance_scale > 1``.
    """

    name: str = "clip-diffusion"
    image_size: int = Field(64, ge=8, description="side of the generated image")
    image_channels: int = Field(3, ge=1)
    word_dim: int = Field(512, ge=1, description="encoder word width (ViT-B-32 text width: 512)")
    sentence_dim: int = Field(512, ge=1, description="encoder sentence width (ViT-B-32 embed_dim: 512)")
    use_words: bool = True
    sentence_embedding: bool = Field(True, description="add the projected sentence to the time embedding")
    guidance_scale: float = Field(1.0, ge=0, description="classifier-free guidance; 1 = off")
    cond_drop_prob: float = Field(0.1, ge=0, le=1, description="condition dropout while training (for guidance)")
    sampler: str = "dpm-solver++"
    num_inference_steps: int | None = 25

    @model_validator(mode="after")
    def _check_sizes(self) -> ClipDiffusionConfig:
        self._check_divisible(self.image_size, "image_size")
        return self

    def ports(self) -> t2izoo.Ports:
        inputs: dict[str, int] = {"sentence_dim": self.sentence_dim}
        if self.use_words:
            inputs["word_dim"] = self.word_dim
        return t2izoo.Ports(
            inputs=inputs, outputs={"image_size": self.image_size, "image_channels": self.image_channels}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {
            "image_size": 16, "word_dim": 8, "sentence_dim": 8, "block_out_channels": (16, 32),
            "layers_per_block": 1, "norm_num_groups": 8, "cond_dim": 16, "attention_head_dim": 4,
            "num_inference_steps": 3,
        }
