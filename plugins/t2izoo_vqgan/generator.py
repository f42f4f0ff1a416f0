"""The ``vqgan-clip`` generator: optimise a VQGAN latent until CLIP agrees it shows the prompt.

Per image, with ``z`` the latent ``[E, h, w]``:

1. ``z_q = quantize(z)`` with the straight-through estimator (forward: nearest codes;
   backward: identity), ``x = decoder(post_quant_conv(z_q))``;
2. ``cutn`` augmented cutouts of ``x`` go through CLIP's image tower;
3. loss = ``-sum_p w_p cos(cutout, text_p)`` averaged over cutouts (``similarity="cosine"``, the
   seed report) or ``sum_p w_p * 2 arcsin(|a - b| / 2)^2`` (``"spherical"``); negative ``w_p``
   push the image away from a text;
4. one AdamW step on ``z`` (lr 0.5, weight decay 0.1), then ``z`` is clamped to the codebook's
   per-channel range.

The guidance CLIP is the generator's own ``clip`` sub-component (config field ``clip``): text and
image embeddings then always come from the same model. The pipeline's encoder supplies the
prompt's embedding when only `TextFeatures` are given; when the raw prompts arrive (the pipeline
passes them, see ``wants_prompts``) they are parsed for weights and encoded by the guide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

import t2izoo
from t2izoo.types import GeneratorOutput, TextFeatures

from .configs import VQGANClipConfig
from .cutouts import CutoutSpec, make_cutouts
from .prompts import parse_prompt, parse_prompts
from .vqmodel import build_vqmodel, load_vqmodel_dir, quantize

__all__ = ["VQGANClipGenerator", "VQGANWeightsMissingError"]


class VQGANWeightsMissingError(t2izoo.WeightsError):
    """Generation was asked of a VQGAN that was neither converted nor trained."""


class VQGANClipGenerator(t2izoo.Generator):
    """VQGAN (diffusers ``VQModel``) + CLIP-guided optimisation of its latent.

    Example:
        >>> import t2izoo
        >>> gen = t2izoo.create_component("generator", {"name": "vqgan-clip", **VQGANClipConfig.tiny()})
        >>> text = TextFeatures(None, None, gen.encode_prompts(["a red circle"]))
        >>> out = gen(text, generator=torch.Generator().manual_seed(0), iterations=3)
        >>> out.image.shape, len(out.extras["losses"])
        (torch.Size([1, 3, 16, 16]), 3)
        >>> out = gen(text, prompts=["a red circle:1 | blue:-0.5"], iterations=2)
    """

    iterative_inference = True  # many network calls per image: see InferenceOptions.auto

    #: the pipeline passes the raw prompts as ``prompts=`` (weighted prompts need the text)
    wants_prompts = True

    def __init__(self, config: VQGANClipConfig, **_context: Any) -> None:
        super().__init__(config)
        self.vq = build_vqmodel(config)
        self.guide = t2izoo.create_component("encoder", config.clip)
        if not hasattr(self.guide, "image_features"):
            raise TypeError(f"vqgan-clip.clip '{config.clip.name}' has no image side (image_features)")
        self.guide.requires_grad_(False)  # guidance only: CLIP never learns here
        # 1 once the VQGAN holds real weights (converted, trained, or loaded from a state dict)
        self.register_buffer("vq_ready", torch.zeros((), dtype=torch.uint8))
        if config.vqgan_weights:
            load_vqmodel_dir(self.vq, config.vqgan_weights, config)
            self.vq_ready.fill_(1)

    def train(self, mode: bool = True) -> VQGANClipGenerator:
        super().train(mode)
        self.guide.eval()  # frozen guide: no dropout, ever
        return self

    # -- the VQGAN ------------------------------------------------------------------------------
    @property
    def codebook(self) -> torch.Tensor:
        return self.vq.quantize.embedding.weight

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """``[-1, 1]`` images -> continuous latents ``[B, embed_dim, h, w]`` (before quantisation)."""
        return self.vq.quant_conv(self.vq.encoder(images))

    def decode_latents(self, z: torch.Tensor, quantize_first: bool | None = None) -> torch.Tensor:
        """Latents -> images in ``[-1, 1]`` (straight-through quantised unless told otherwise)."""
        if self.config.quantize if quantize_first is None else quantize_first:
            z = quantize(z, self.codebook).z_q
        x = self.vq.decoder(self.vq.post_quant_conv(z))
        return x.clamp(-1, 1)

    def reconstruct(self, images: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Encode, quantise and decode: ``(reconstruction, Quantized)`` (training and measuring)."""
        q = quantize(self.encode_images(images), self.codebook)
        return self.vq.decoder(self.vq.post_quant_conv(q.z_q)), q

    def autoencoder_loss(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """VQGAN stage-1 losses without the GAN/perceptual terms: L1 reconstruction, codebook and
        ``beta``-weighted commitment; ``total`` is their sum."""
        rec, q = self.reconstruct(images)
        rec_loss = (rec - images).abs().mean()
        total = rec_loss + q.codebook_loss + self.config.beta * q.commitment_loss
        return {"total": total, "rec": rec_loss, "codebook": q.codebook_loss, "commit": q.commitment_loss,
                "indices": q.indices, "latents": q.z_q.detach()}

    # -- CLIP side -----------------------------------------------------------------------------
    def encode_prompts(self, texts: Sequence[str]) -> torch.Tensor:
        """Guide-CLIP text embeddings ``[N, E]``, L2-normalised."""
        with torch.no_grad():
            return self.guide.text_features(list(texts), normalize=True)

    def _targets(
        self, text: TextFeatures, prompts: Sequence[str] | None, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``([B, P, E] unit text embeddings, [B, P] weights)``; missing parts have weight 0."""
        extra = self.config.extra_prompts
        if prompts is None:
            base = F.normalize(text.sentence.detach().clone().to(self.device, dtype), dim=-1)
            extras = [part for e in extra for part in parse_prompt(e, require_positive=False)]
            extra_emb = self._encode_parts(extras, dtype)
            embs = [torch.cat([base[b:b + 1], extra_emb]) for b in range(text.batch_size)]
            weights = [[1.0] + [w for _, w in extras] for _ in range(text.batch_size)]
        else:
            if len(prompts) != text.batch_size:
                raise ValueError(f"vqgan-clip: {len(prompts)} prompts for a batch of {text.batch_size} text features")
            parsed = parse_prompts(prompts, extra=extra)
            embs = [self._encode_parts(p, dtype) for p in parsed]
            weights = [[w for _, w in p] for p in parsed]
        width = max(len(w) for w in weights)
        dim = embs[0].shape[-1]
        targets = torch.zeros(len(embs), width, dim, device=self.device, dtype=dtype)
        wts = torch.zeros(len(embs), width, device=self.device, dtype=dtype)
        for b, (e, w) in enumerate(zip(embs, weights)):
            targets[b, : len(w)] = e
            wts[b, : len(w)] = torch.tensor(w, dtype=dtype)
        return targets, wts

    def _encode_parts(self, parts: Sequence[tuple[str, float]], dtype: torch.dtype) -> torch.Tensor:
        if not parts:
            return torch.zeros(0, self.config.ports().inputs["sentence_dim"] or 0, device=self.device, dtype=dtype)
        return self.encode_prompts([t for t, _ in parts]).to(dtype)

    def prompt_loss(self, image_emb: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``[B, n, E]`` cutout embeddings vs ``[B, P, E]`` targets -> ``[B]`` losses (lower: closer).

        Example:
            >>> t = torch.tensor([[[1.0, 0.0]]]); w = torch.ones(1, 1)
            >>> gen.prompt_loss(torch.tensor([[[1.0, 0.0]]]), t, w).item()  # doctest: +SKIP
            -1.0
        """
        a = F.normalize(image_emb, dim=-1)
        cos = torch.einsum("bne,bpe->bnp", a, targets)  # [B, n, P]
        if self.config.similarity == "spherical":
            # |a - b| = sqrt(2 - 2cos) for unit vectors; squared geodesic distance, 0 when equal
            d = (2 - 2 * cos).clamp_min(0).sqrt().div(2).clamp(max=1).asin().pow(2).mul(2)
            per = (d * weights[:, None]).sum(-1)
        else:
            per = -(cos * weights[:, None]).sum(-1)
        return per.mean(1)

    def image_similarity(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cosine between whole images ``[B,...]`` and unit text embeddings ``[B, E]`` -> ``[B]``."""
        with torch.no_grad():
            emb = F.normalize(self.guide.image_features(images), dim=-1)
        return (emb * targets.to(emb.dtype)).sum(-1)

    # -- generation ----------------------------------------------------------------------------
    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """The starting latent ``[B, embed_dim, h, w]``: random codebook vectors (``init="codes"``)
        or ``sin(0.5 * N(0, 1))`` (``init="noise"``, the seed report's start)."""
        h = self.config.latent_size
        g_device = generator.device if generator is not None else self.device
        cb = self.codebook
        if self.config.init == "codes":
            idx = torch.randint(cb.shape[0], (batch_size, h, h), generator=generator, device=g_device).to(cb.device)
            return cb.detach()[idx].permute(0, 3, 1, 2).contiguous()
        noise = torch.randn(batch_size, cb.shape[1], h, h, generator=generator, device=g_device)
        return torch.sin(0.5 * noise).to(cb.device, cb.dtype)

    def _check_ready(self) -> None:
        if self.config.require_weights and not bool(self.vq_ready):
            raise VQGANWeightsMissingError(
                "vqgan-clip: this preset's VQGAN has no weights (they are not redistributed). Download the "
                "taming-transformers checkpoint (vqgan_imagenet_f16_16384: last.ckpt + model.yaml, "
                "https://heibox.uni-heidelberg.de/d/a7530b09fed84f80a887/ as linked from the taming-transformers "
                "README), convert it with `t2izoo convert vqgan --checkpoint last.ckpt --out models/vqgan-f16-16384` "
                "and build with `generator.vqgan_weights=models/vqgan-f16-16384`"
            )

    def forward(
        self,
        text: TextFeatures,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        *,
        prompts: Sequence[str] | None = None,
        iterations: int | None = None,
        frame_every: int | None = None,
        callback: Callable[[int, torch.Tensor, float], None] | None = None,
    ) -> GeneratorOutput:
        """Optimise one latent per caption and decode it.

        Args:
            text: the prompts' features (``sentence`` is the target when ``prompts`` is None).
            noise: the starting latent (default: `sample_noise` with ``generator``).
            generator: all randomness (start, cutouts, noise).
            prompts: raw prompts, ``"a red circle:1 | blue:-0.5"`` (weights parsed, encoded by
                the guide CLIP); the pipeline passes them.
            iterations, frame_every: override the config for this call.
            callback: ``callback(step, images, loss)`` after every step.

        Returns:
            `GeneratorOutput` with the final image; ``extras``: ``latents`` (final ``z``),
            ``codes`` ``[B, h, w]``, ``losses`` per step, ``frames`` ``[(step, images)]``,
            ``similarity_start``/``similarity_end`` (whole-image cosine to the first prompt part).
        """
        self._check_ready()
        cfg = self.config
        steps = cfg.iterations if iterations is None else int(iterations)
        every = cfg.frame_every if frame_every is None else int(frame_every)
        spec = CutoutSpec(cfg.cutn, cfg.cut_pow, cfg.min_cut, cfg.flip, cfg.noise_fac)
        dtype = self.codebook.dtype
        size = self.guide.image_size
        # the pipeline runs under inference_mode; the optimisation needs autograd back
        with torch.inference_mode(False), torch.enable_grad():
            targets, weights = self._targets(text, prompts, dtype)
            start = noise if noise is not None else self.sample_noise(text.batch_size, generator)
            z = start.detach().clone().to(self.device, dtype).requires_grad_(True)
            opt = torch.optim.AdamW([z], lr=cfg.lr, weight_decay=cfg.weight_decay)
            cb = self.codebook.detach()
            z_min = cb.min(0).values.view(1, -1, 1, 1)
            z_max = cb.max(0).values.view(1, -1, 1, 1)
            losses: list[float] = []
            frames: list[tuple[int, torch.Tensor]] = []
            first = targets[:, 0]
            sim_start = self.image_similarity(self.decode_latents(z.detach()), first)
            for step in _progress(range(steps), cfg.progress and steps > 0, "vqgan-clip"):
                images = self.decode_latents(z)
                cut = make_cutouts(images, size, spec, generator)
                emb = self.guide.image_features(cut).view(text.batch_size, spec.cutn, -1)
                loss = self.prompt_loss(emb, targets, weights).sum()
                (grad,) = torch.autograd.grad(loss, [z])  # only z: the VQGAN's .grad stays untouched
                z.grad = grad
                opt.step()
                opt.zero_grad(set_to_none=True)
                if cfg.clamp:
                    with torch.no_grad():
                        z.copy_(torch.maximum(torch.minimum(z, z_max), z_min))
                losses.append(float(loss.detach()))
                if every and (step + 1) % every == 0:
                    frames.append((step + 1, self._frame(z, step + 1)))
                if callback is not None:
                    callback(step, images.detach(), losses[-1])
            with torch.no_grad():
                q = quantize(z.detach(), self.codebook) if cfg.quantize else None
                final = self.decode_latents(z.detach())
            sim_end = self.image_similarity(final, first)
        return GeneratorOutput(
            images=[final],
            attention=[None],
            extras={
                "latents": z.detach(), "codes": None if q is None else q.indices, "losses": losses,
                "frames": frames, "similarity_start": sim_start, "similarity_end": sim_end,
            },
        )

    def _frame(self, z: torch.Tensor, step: int) -> torch.Tensor:
        with torch.no_grad():
            images = self.decode_latents(z.detach()).cpu()
        if self.config.frames_dir:
            from t2izoo.pipeline import tensor_to_pil

            out = Path(self.config.frames_dir)
            out.mkdir(parents=True, exist_ok=True)
            for b, pil in enumerate(tensor_to_pil(images)):
                pil.save(out / f"frame_{step:05d}_{b}.png")
        return images

    def export_vqmodel(self, directory: str | Path) -> Path:
        """Write the VQGAN as a diffusers ``VQModel`` directory (the converter's format), usable as
        ``generator.vqgan_weights=DIR`` or with ``diffusers.VQModel.from_pretrained(DIR)``.

        Example:
            >>> pipe.generator.export_vqmodel("runs/shapes-vqgan/vqmodel")  # doctest: +SKIP
        """
        directory = Path(directory)
        self.vq.save_pretrained(str(directory), safe_serialization=True)
        return directory

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The default recipe of a vqgan-clip pipeline: train the VQGAN (``vqgan``)."""
        from .recipes import VQGANRecipe

        return VQGANRecipe(pipeline, **options)


def _progress(it: range, enabled: bool, desc: str) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, leave=False)
