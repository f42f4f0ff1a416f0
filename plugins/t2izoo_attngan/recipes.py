"""Training recipes: AttnGAN's GAN training and DAMSM pretraining (the original ``trainer.py``
and ``pretrain_DAMSM.py`` loops, restated against `t2izoo.training.Recipe`).

AttnGAN (``attngan``, the generator's own recipe):

* one discriminator per stage (64/128/256 px), each stepped on
  ``(real_u + real_c)/2 + (fake_u + fake_c + mismatched_c)/3`` (BCE);
* the generator on the adversarial terms of every stage, plus ``lam`` x the DAMSM word and
  sentence losses of its last-stage images (needs a pretrained DAMSM image encoder), plus the
  KL of the conditioning augmentation;
* the text encoder frozen (pretrained by ``damsm``), Adam(2e-4, betas 0.5/0.999) for G and D,
  and an exponential moving average of G's parameters (0.999), which is what gets exported, as
  the released models are the averaged weights.

DAMSM (``damsm``): the ``lstm`` encoder and a `t2izoo.nn.DAMSMImageEncoder` trained together on
``w_loss0 + w_loss1 + s_loss0 + s_loss1``, Adam(2e-3, betas 0.5/0.999), gradient norm of the
text encoder clipped at 0.25. The model directory it exports holds the trained encoder and the
image encoder under ``damsm_image_encoder/``.

Example:
    $ t2izoo train shapes-attngan --recipe damsm --steps 2000 --out runs/damsm
    $ t2izoo train shapes-attngan --steps 5000 --out runs/attngan \\
          -O pretrained_encoder=runs/damsm/final -O image_encoder=runs/damsm/final/damsm_image_encoder
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.nn import DAMSMImageEncoder, coarse_pair_difference, sentence_loss, words_loss_batched
from t2izoo.training import GrowError, Recipe, frozen, load_grown_state

from .attribute_head import AttributeHead
from .cell_head import CellAttributeHead
from .convert import DAMSM_DIR
from .discriminator import build_discriminators
from .losses import (
    check_mismatch,
    damsm_generator_loss,
    damsm_refresh_loss,
    discriminator_loss,
    generator_adversarial_loss,
    kl_loss,
)

__all__ = ["AttnGANDiscriminators", "AttnGANRecipe", "DAMSMRecipe", "load_discriminator_weights", "load_encoder_weights"]


def load_encoder_weights(encoder: nn.Module, directory: str | Path) -> None:
    """Load a pipeline directory's ``encoder/`` (weights and vocabulary) into ``encoder``."""
    from safetensors.torch import load_file

    directory = Path(directory)
    sub = directory / "encoder" if (directory / "encoder").is_dir() else directory
    weights = sub / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"pretrained_encoder: {weights} is missing (give a model directory from save_pretrained)")
    encoder.load_assets(sub)
    encoder.load_state_dict(load_file(str(weights)), strict=True)


def load_discriminator_weights(discriminators: nn.Module, source: str | Path) -> list[str]:
    """Load a training checkpoint's discriminators into ``discriminators``; returns the names of
    the tensors the checkpoint lacks, which stay fresh.

    ``source`` is a checkpoint directory (``RUN/checkpoints/step-N``) or its
    ``modules/discriminators.pt``. Made for growing a model by a stage: a 64 px run's
    discriminator is the 64/128 px model's first one, the 128 px one is new. A tensor the
    checkpoint holds that ``discriminators`` lacks, or of another shape, is an error.
    """
    source = Path(source)
    path = source / "modules" / "discriminators.pt" if source.is_dir() else source
    if not path.is_file():
        raise FileNotFoundError(f"discriminators_from: {path} is missing (give a checkpoint directory "
                                "RUN/checkpoints/step-N or its modules/discriminators.pt)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        return load_grown_state(discriminators, state, source=f"discriminators_from: {path}",
                                target="these discriminators")
    except GrowError as err:
        raise ValueError(f"{err} (another ndf, cell head or stage count?)") from None


_GENERIC_OPTIONS = {"lr", "max_grad_norm", "betas"}


def _warn_unknown(recipe: str, options: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(options) - known - _GENERIC_OPTIONS)
    if unknown:
        warnings.warn(
            f"{recipe} recipe: unknown option(s) {unknown} are ignored; known: {sorted(known | _GENERIC_OPTIONS)}",
            RuntimeWarning, stacklevel=3,
        )


def _real_images(batch: Any, resolutions: list[int]) -> list[torch.Tensor]:
    out = []
    for r in resolutions:
        if r in batch.images:
            out.append(batch.images[r])
        else:  # resize from the largest available (area filter when going down)
            src = batch.images[max(batch.images)]
            mode = "area" if src.shape[-1] > r else "bilinear"
            out.append(F.interpolate(src, size=(r, r), mode=mode, **({} if mode == "area" else {"align_corners": False})))
    return out


class AttnGANDiscriminators(nn.Module):
    """The per-stage discriminators as one module whose ``forward`` is the D loss (so DDP wraps it)."""

    def __init__(
        self, branch_num: int, ndf: int, sentence_dim: int, image_channels: int = 3, mismatch: str = "next",
        cell_head: CellAttributeHead | None = None,
    ) -> None:
        super().__init__()
        self.netsD = build_discriminators(branch_num, ndf, sentence_dim, image_channels)  # noqa: N815
        self.mismatch = check_mismatch(mismatch)  # refused here, not at the first step
        self.cell_head = cell_head  # on the 64 px discriminator's code; trained with D's optimizer
        self.last_cell_loss: float | None = None

    def forward(
        self, real: list[torch.Tensor], fake: list[torch.Tensor], sentence: torch.Tensor,
        attributes: list[dict[str, Any]] | None = None,
    ) -> torch.Tensor:
        """Sum over stages of `discriminator_loss` (fakes detached inside), plus the cell head's
        cross-entropy on the real 64 px images when there is one (inside ``forward``, so DDP syncs it)."""
        codes = [d(r) for d, r in zip(self.netsD, real)]  # each real image encoded once, for every head
        loss = torch.stack([
            discriminator_loss(d, r, f, sentence, self.mismatch, real_features=c)
            for d, r, f, c in zip(self.netsD, real, fake, codes)
        ]).sum()
        if self.cell_head is not None:
            cell = self.cell_head.loss(codes[0], attributes)
            self.last_cell_loss = float(cell.detach())
            loss = loss + cell
        return loss

    def generator_loss(
        self, fake: list[torch.Tensor], sentence: torch.Tensor, attributes: list[dict[str, Any]] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor | None]:
        """(adversarial loss, per stage, the cell head's cross-entropy of the 64 px fakes against
        their captions' scenes, or None without a head), from one encoding of each fake."""
        codes = [d(f) for d, f in zip(self.netsD, fake)]
        adv, per_stage = generator_adversarial_loss(list(self.netsD), fake, sentence, features=codes)
        cell = self.cell_head.loss(codes[0], attributes) if self.cell_head is not None else None
        return adv, per_stage, cell


class AttnGANRecipe(Recipe):
    """AttnGAN GAN training for a pipeline with an ``attngan`` generator.

    Options:
        lr: learning rate of G and D (2e-4); ``lr_g`` / ``lr_d`` override it.
        betas: Adam betas ((0.5, 0.999)).
        ndf: discriminator width (default 2 * ngf: 64 for birds, 96 for COCO).
        lam: weight of the DAMSM term (5 birds, 50 COCO); 0 disables it.
        gamma1, gamma2, gamma3: DAMSM smoothing (4, 5, 10).
        kl_weight: weight of the CA KL term (1).
        image_encoder: directory of a DAMSM image encoder (``damsm_image_encoder/`` written by
            the converter or by the ``damsm`` recipe). Without it the DAMSM term is off.
        pretrained_encoder: model directory whose ``encoder/`` (the DAMSM-trained text encoder)
            is loaded before training; the text encoder is frozen either way.
        encoder_on_resume: ``checkpoint`` (default): ``--resume`` restores the text encoder the
            checkpoint holds; ``pretrained``: it loads ``pretrained_encoder`` over it, to continue
            a GAN with a better DAMSM (the image encoder always comes from ``image_encoder``).
        ema: decay of the generator's parameter average (0.999); 0 exports the live weights. The
            decay warms up as min(ema, (1 + n) / (10 + n)) after n updates, so a short run's
            average is not dominated by the initial weights (the original's fixed 0.999 over
            ~100k steps reaches the same average; at 1000 steps it kept 37% of the init).
        use_class_ids: mask same-class pairs in the DAMSM term (True).
        mismatch: the discriminators' wrong caption for real image ``i``: ``next`` (the
            original, caption ``i+1``) or ``partner`` (caption ``i xor 1``: with
            ``--data-opt minimal_pairs=...`` the other scene of the pair, so every wrong pair
            differs in that attribute only).
        d_warmup: the first N steps update only the discriminators (the generator and its
            average stay as they are): for continuing a published generator with ``--from``,
            whose discriminators a pipeline does not ship (0).
        discriminators_from: a training checkpoint (``RUN/checkpoints/step-N``) whose
            discriminators are loaded at the start (not in the original). With ``t2izoo train
            --from RUN/final --from-partial`` it grows a trained model by a stage: a 64 px run's
            generator and discriminator carry over, the 128 px stage and its discriminator start
            fresh (a fresh discriminator against a trained generator costs image quality).
        pair_noise: give items ``2k`` and ``2k+1`` of a batch the same noise and CA noise
            (False). With ``--data-opt minimal_pairs=...`` the two fakes of a pair then differ
            only through their captions, as in ``probe_word_pairs``, so the DAMSM term and the
            discriminators judge exactly the difference the changed words make.
        refresh_image_encoder: keep training the DAMSM image encoder during GAN training (False;
            the original keeps it frozen). Each step, after the discriminators, it takes one Adam
            step on `damsm_refresh_loss`: the DAMSM loss of the real images, plus the fakes as
            extra negatives for their own captions. A frozen encoder can be met by a cue other
            than the named object; a refreshed one learns to reject that cue. It is checkpointed,
            stays in eval mode (batch norm keeps the real images' statistics), and is exported
            beside the model as ``damsm_image_encoder/``. refresh_lr: its learning rate (2e-4);
            refresh_fake: the weight of the fake-negative term (1; 0 refreshes on real images only).
        cell_attribute: give the 64 px discriminator a per-cell classifier of this scene attribute
            (``shape``, ``colour``, ``size`` or ``texture``; off by default; not in the original;
            needs the shapes data's scene attributes). `CellAttributeHead` learns on the real
            images in the discriminator step; the generator adds cell_weight (1) x its
            cross-entropy on the 64 px fakes against the scene each caption describes.
            cell_grid: the board's side (3).
        pair_consistency: weight of `t2izoo.nn.coarse_pair_difference` on the generator's last-stage fakes
            (0, off; not in the original). Needs ``pair_noise`` and minimal-pair data: the two
            fakes of a pair should differ as a real pair does, in the named object only, not in
            background or layout. pair_grid: the side of the coarse grid they are compared on (8).
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        gen = pipeline.generator
        cfg = gen.config
        if not hasattr(gen, "ca_net"):
            raise TypeError(f"the attngan recipe trains an 'attngan' generator, not '{cfg.name}'")
        _warn_unknown("attngan", options, {
            "lr_g", "lr_d", "ndf", "lam", "gamma1", "gamma2", "gamma3", "kl_weight", "image_encoder",
            "pretrained_encoder", "ema", "use_class_ids", "encoder_on_resume", "mismatch", "d_warmup",
            "pair_noise", "refresh_image_encoder", "refresh_lr", "refresh_fake", "pair_consistency", "pair_grid",
            "cell_attribute", "cell_weight", "cell_grid", "discriminators_from",
        })
        lr = float(options.get("lr", 2e-4))
        betas = tuple(float(b) for b in options.get("betas", (0.5, 0.999)))
        self.lam = float(options.get("lam", 5.0))
        self.gammas = tuple(float(options.get(k, d)) for k, d in (("gamma1", 4.0), ("gamma2", 5.0), ("gamma3", 10.0)))
        self.kl_weight = float(options.get("kl_weight", 1.0))
        self.d_warmup = int(options.get("d_warmup", 0))
        if self.d_warmup < 0:
            raise ValueError(f"attngan recipe: d_warmup must be >= 0, got {self.d_warmup}")
        self.pair_noise = bool(options.get("pair_noise", False))
        self.pair_consistency = float(options.get("pair_consistency", 0.0))
        self.pair_grid = int(options.get("pair_grid", 8))
        if self.pair_consistency > 0 and not self.pair_noise:
            raise ValueError("attngan recipe: pair_consistency needs -O pair_noise=true (the two fakes of a pair must "
                             "share their noise) and minimal-pair data (--data-opt minimal_pairs=...)")
        if self.pair_grid < 1:
            raise ValueError(f"attngan recipe: pair_grid must be >= 1, got {self.pair_grid}")
        self.ema_decay = float(options.get("ema", 0.999))
        self.use_class_ids = bool(options.get("use_class_ids", True))
        self.resolutions = [64 * 2**i for i in range(cfg.branch_num)]
        if options.get("pretrained_encoder"):
            load_encoder_weights(pipeline.encoder, options["pretrained_encoder"])
        self.encoder_on_resume = str(options.get("encoder_on_resume", "checkpoint"))
        if self.encoder_on_resume not in ("checkpoint", "pretrained"):
            raise ValueError(f"attngan recipe: encoder_on_resume must be 'checkpoint' or 'pretrained', "
                             f"got {self.encoder_on_resume!r}")
        if self.encoder_on_resume == "pretrained" and not options.get("pretrained_encoder"):
            raise ValueError("attngan recipe: encoder_on_resume=pretrained needs -O pretrained_encoder=DIR")
        pipeline.encoder.requires_grad_(False)
        ndf = int(options.get("ndf", 2 * cfg.ngf))
        self.cell_weight = float(options.get("cell_weight", 1.0))
        cell_head = None
        if options.get("cell_attribute"):
            cell_head = CellAttributeHead(str(options["cell_attribute"]), 8 * ndf, int(options.get("cell_grid", 3)))
        self.discriminators = AttnGANDiscriminators(
            cfg.branch_num, ndf, cfg.sentence_dim, cfg.image_channels, str(options.get("mismatch", "next")), cell_head,
        )
        if options.get("discriminators_from"):  # a --resume restores the checkpoint's own over these
            fresh = load_discriminator_weights(self.discriminators, options["discriminators_from"])
            parts = sorted({".".join(k.split(".")[:2]) for k in fresh})
            print(f"discriminators_from {options['discriminators_from']}: loaded"
                  + (f"; {len(fresh)} tensors fresh ({', '.join(parts)})" if fresh else ""))
        self.image_encoder: DAMSMImageEncoder | None = None
        self.refresh = bool(options.get("refresh_image_encoder", False))
        self.refresh_fake = float(options.get("refresh_fake", 1.0))
        if self.refresh and not options.get("image_encoder"):
            raise ValueError("attngan recipe: refresh_image_encoder=true needs -O image_encoder=DIR (the DAMSM "
                             "image encoder to keep training)")
        if options.get("image_encoder"):
            self.image_encoder = DAMSMImageEncoder.from_pretrained(options["image_encoder"]).eval()
            if not self.refresh:  # refreshed: the constructor's flags decide (a frozen trunk stays frozen)
                self.image_encoder.requires_grad_(False)
        elif self.lam > 0:
            warnings.warn(
                "attngan recipe: no image_encoder option, so the DAMSM term (lam) is off; train one with "
                "`--recipe damsm` and pass -O image_encoder=RUN/final/damsm_image_encoder",
                RuntimeWarning, stacklevel=2,
            )
        self.opt_g = torch.optim.Adam(gen.parameters(), lr=float(options.get("lr_g", lr)), betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=float(options.get("lr_d", lr)), betas=betas)
        self.opt_e: torch.optim.Optimizer | None = None
        if self.refresh:
            assert self.image_encoder is not None
            trainable = [p for p in self.image_encoder.parameters() if p.requires_grad]
            self.opt_e = torch.optim.Adam(trainable, lr=float(options.get("refresh_lr", 2e-4)), betas=betas)
        self.ema = [p.detach().clone() for p in gen.parameters()] if self.ema_decay > 0 else None
        self.ema_updates = 0

    # -- what the trainer needs -----------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        modules = {
            "encoder": self.pipeline.encoder,
            "generator": self.pipeline.generator,
            "discriminators": self.discriminators,
        }
        if self.refresh:  # trained, so checkpointed (refresh requires an image encoder)
            modules["image_encoder"] = self.image_encoder
        return modules

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        optimizers = {"generator": self.opt_g, "discriminators": self.opt_d}
        if self.opt_e is not None:
            optimizers["image_encoder"] = self.opt_e
        return optimizers

    def data_resolutions(self) -> list[int]:
        return list(self.resolutions)

    def setup(self, accelerator: Any) -> None:
        super().setup(accelerator)
        if self.image_encoder is not None and not self.refresh:  # frozen, reloadable from its path
            self.image_encoder.to(accelerator.device)
        if self.ema is not None:
            self.ema = [t.to(accelerator.device) for t in self.ema]

    def train(self, mode: bool = True) -> None:
        super().train(mode)
        if self.image_encoder is not None:
            self.image_encoder.eval()

    def state_dict(self) -> dict[str, Any]:
        return {"ema": [t.cpu() for t in self.ema] if self.ema is not None else None,
                "ema_updates": self.ema_updates}

    def load_state_dict(self, state: Any) -> None:
        if state.get("ema") is not None and self.ema is not None:
            self.ema = [t.to(e.device) for t, e in zip(state["ema"], self.ema)]
        # checkpoints from before the warm-up kept a fixed decay: no warm-up for them
        self.ema_updates = int(state.get("ema_updates", 10**9))

    def after_resume(self, checkpoint: Path) -> None:
        if self.encoder_on_resume == "pretrained":  # frozen, so no optimizer state to reconcile
            load_encoder_weights(self.pipeline.encoder, self.options["pretrained_encoder"])

    # -- hooks for recipes built on this one (CD-AttnGAN adds L_clip) -------------------------
    def encode_text(self, tokens: Any) -> Any:
        """The step's `TextFeatures`; the text encoder is frozen here, so no gradients."""
        with torch.no_grad():
            return self.unwrap("encoder")(tokens)

    def damsm_text(self, text: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(words, sentence) in the DAMSM space, compared with the fakes' DAMSM image features."""
        return text.words, text.sentence.detach()

    def extra_generator_loss(self, batch: Any, text: Any, out: Any) -> tuple[torch.Tensor | None, dict[str, float]]:
        """A further term added to the generator loss (none here), and what to log about it."""
        return None, {}

    def paired_noise(self, batch_size: int) -> dict[str, torch.Tensor]:
        """``noise`` and ``ca_eps`` drawn once per pair: rows ``2k + 1`` repeat rows ``2k``."""
        gen = self.unwrap("generator")
        drawn = {"noise": gen.sample_noise(batch_size), "ca_eps": gen.sample_ca_eps(batch_size)}
        even = batch_size - batch_size % 2  # an odd batch's last item keeps its own draw
        for t in drawn.values():
            t[1:even:2] = t[0:even:2]
        return drawn

    # -- one step -----------------------------------------------------------------------------
    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        real = _real_images(batch, self.resolutions)
        tokens = self.tokens(batch)
        text = self.encode_text(tokens)
        sentence = text.sentence.detach()
        warming_up = step < self.d_warmup
        noise = self.paired_noise(len(sentence)) if self.pair_noise else {}
        with torch.no_grad() if warming_up else contextlib.nullcontext():
            out = self.model("generator")(text, **noise)
        fakes = out.images

        discriminators = self.unwrap("discriminators")
        cell_head = discriminators.cell_head is not None
        d_loss = self.model("discriminators")(real, fakes, sentence, batch.attributes if cell_head else None)
        self.optimize("discriminators", d_loss)
        d_logs = {"loss/d": float(d_loss.detach())}
        if cell_head:  # the real images' part of loss/d
            d_logs["loss/cell_real"] = discriminators.last_cell_loss
        if warming_up:
            return d_logs

        if self.refresh:
            words, damsm_sentence = self.damsm_text(text)
            e_loss, e_logs = damsm_refresh_loss(
                self.model("image_encoder"), real[-1], fakes[-1], words.detach(), damsm_sentence, tokens.lengths,
                batch.class_ids if self.use_class_ids else None, self.refresh_fake, *self.gammas,
            )
            self.optimize("image_encoder", e_loss)
        with frozen(discriminators):
            adv, per_stage, cell = discriminators.generator_loss(fakes, sentence, batch.attributes if cell_head else None)
        logs = {**d_logs, "loss/g_adv": float(adv.detach())}
        g_loss = adv
        if cell is not None:
            g_loss = g_loss + self.cell_weight * cell
            logs["loss/cell_fake"] = float(cell.detach())
        if self.refresh:
            logs.update({f"loss/{k}": v for k, v in e_logs.items()})
        if self.image_encoder is not None and self.lam > 0:
            class_ids = batch.class_ids if self.use_class_ids else None
            words, damsm_sentence = self.damsm_text(text)
            with frozen(self.image_encoder):  # a refreshed encoder gets no gradient from G's loss
                damsm, parts = damsm_generator_loss(
                    self.image_encoder, fakes[-1], words, damsm_sentence, tokens.lengths, class_ids, self.lam,
                    *self.gammas,
                )
            g_loss = g_loss + damsm
            logs.update({"loss/w": parts["w_loss"], "loss/s": parts["s_loss"]})
        if self.pair_consistency > 0:
            pair = coarse_pair_difference(fakes[-1], self.pair_grid)
            g_loss = g_loss + self.pair_consistency * pair
            with torch.no_grad():  # what a real pair scores: the level the fakes' term can aim at
                logs.update({"loss/pair": float(pair.detach()),
                             "loss/pair_real": float(coarse_pair_difference(real[-1], self.pair_grid))})
        kl = kl_loss(out.extras["mu"], out.extras["logvar"]) * self.kl_weight
        g_loss = g_loss + kl
        extra, extra_logs = self.extra_generator_loss(batch, text, out)
        if extra is not None:
            g_loss = g_loss + extra
            logs.update(extra_logs)
        self.optimize("generator", g_loss)
        if self.ema is not None and (self.accelerator is None or self.accelerator.sync_gradients):
            decay = min(self.ema_decay, (1 + self.ema_updates) / (10 + self.ema_updates))
            self.ema_updates += 1
            with torch.no_grad():
                for avg, p in zip(self.ema, self.unwrap("generator").parameters()):
                    avg.mul_(decay).add_(p.detach(), alpha=1 - decay)
        logs.update({"loss/kl": float(kl.detach()), "loss/g": float(g_loss.detach())})
        return logs

    def export(self) -> Any:
        """The pipeline with the averaged generator weights (as the original saved netG); with
        ``refresh_image_encoder``, wrapped so that saving it writes the refreshed encoder beside it."""
        exported = self.pipeline
        if self.ema is not None:
            exported = copy.deepcopy(self.pipeline)
            with torch.no_grad():
                for p, avg in zip(exported.generator.parameters(), self.ema):
                    p.copy_(avg.to(p.device))
        if self.refresh:  # the encoder the last steps were judged by
            return _PipelineWithImageEncoder(exported, self.image_encoder)
        return exported


class _PipelineWithImageEncoder:
    """What `DAMSMRecipe.export` returns: saves the pipeline, then the image encoder beside it."""

    def __init__(self, pipeline: Any, image_encoder: DAMSMImageEncoder) -> None:
        self.pipeline, self.image_encoder = pipeline, image_encoder

    def save_pretrained(self, directory: str | Path) -> Path:
        out = self.pipeline.save_pretrained(directory)
        self.image_encoder.save_pretrained(Path(out) / DAMSM_DIR)
        return Path(out)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipeline, name)


class DAMSMRecipe(Recipe):
    """DAMSM pretraining of the pipeline's ``lstm`` encoder with an image encoder.

    Options:
        lr: Adam learning rate (2e-3), betas (0.5, 0.999).
        rnn_grad_clip: gradient-norm clip of the text encoder (0.25).
        backbone: ``"tiny"`` (default; trained from scratch, for shapes) or ``"inception_v3"``
            (the paper's; needs ``inception_weights``, a local ImageNet Inception-v3 state dict,
            unless ``train_trunk=True``).
        image_size: resolution of the training images (default 64 tiny, 299 Inception).
        embed_dim: joint width (default: the encoder's sentence width).
        tiny_width: channels of the tiny backbone's first stage (32).
        gamma1, gamma2, gamma3: 4, 5, 10. use_class_ids: True.
        image_encoder: start from this saved image encoder directory instead.
        train_text_encoder: True (default) trains the text encoder with the image encoder. False
            keeps it frozen (eval mode, no dropout) and fits only a new image encoder to it: with
            ``--from`` a published pipeline this rebuilds the image encoder its DAMSM term needs
            (the image encoder is not part of a published pipeline), without changing the text
            features its generator was trained on.
        text_attribute: also make the text side predict which values of this scene attribute
            (``shape``, ``colour``, ``size``, ``texture``) the scene holds, from the sentence
            vector and from its best word (`AttributeHead`; needs the shapes data): for
            distinctions the image encoder alone does not teach, such as circle / hexagon.
            Off by default. attribute_weight: its weight (1.0).
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        encoder = pipeline.encoder
        if not hasattr(encoder, "rnn"):
            raise TypeError(f"the damsm recipe trains an 'lstm' encoder, not '{encoder.config.name}'")
        _warn_unknown("damsm", options, {
            "rnn_grad_clip", "backbone", "image_size", "embed_dim", "gamma1", "gamma2", "gamma3",
            "use_class_ids", "image_encoder", "inception_weights", "train_trunk", "tiny_width",
            "train_text_encoder", "text_attribute", "attribute_weight",
        })
        embed_dim = int(options.get("embed_dim", encoder.config.ports().outputs["sentence_dim"]))
        backbone = str(options.get("backbone", "tiny"))
        self.gammas = tuple(float(options.get(k, d)) for k, d in (("gamma1", 4.0), ("gamma2", 5.0), ("gamma3", 10.0)))
        self.use_class_ids = bool(options.get("use_class_ids", True))
        self.rnn_grad_clip = float(options.get("rnn_grad_clip", 0.25))
        if options.get("image_encoder"):
            self.image_encoder = DAMSMImageEncoder.from_pretrained(options["image_encoder"])
        else:
            weights = options.get("inception_weights")
            train_trunk = bool(options.get("train_trunk", backbone == "tiny"))
            if backbone == "inception_v3" and not weights and not train_trunk:
                raise ValueError(
                    "damsm recipe: backbone=inception_v3 needs ImageNet weights (-O inception_weights=PATH to an "
                    "inception_v3 state dict; nothing is downloaded here) or -O train_trunk=true; "
                    "or use -O backbone=tiny"
                )
            self.image_encoder = DAMSMImageEncoder(
                embed_dim=embed_dim, backbone=backbone, input_size=options.get("image_size"),
                freeze_trunk=not train_trunk, tiny_width=int(options.get("tiny_width", 32)),
            )
            if weights:
                state = torch.load(weights, map_location="cpu", weights_only=True)
                result = self.image_encoder.load_state_dict(state, strict=False)
                trunk_missing = [k for k in result.missing_keys if not k.startswith(("emb_features", "emb_cnn_code"))]
                if trunk_missing:
                    raise ValueError(f"damsm recipe: {weights} lacks Inception-v3 keys such as {trunk_missing[:4]}")
        self.image_size = int(options.get("image_size", self.image_encoder.input_size))
        self.train_text_encoder = bool(options.get("train_text_encoder", True))
        encoder.requires_grad_(self.train_text_encoder)  # frozen: the recipe puts it in eval mode
        params = [p for p in self.image_encoder.parameters() if p.requires_grad]
        if self.train_text_encoder:
            params = list(encoder.parameters()) + params
        self.attribute_head: AttributeHead | None = None
        self.attribute_weight = float(options.get("attribute_weight", 1.0))
        if options.get("text_attribute"):
            if not self.train_text_encoder:
                raise ValueError("damsm recipe: text_attribute trains the text encoder; it cannot be used with "
                                 "train_text_encoder=false")
            ports = encoder.config.ports().outputs
            self.attribute_head = AttributeHead(str(options["text_attribute"]), ports["word_dim"], ports["sentence_dim"])
            params = params + list(self.attribute_head.parameters())
        betas = tuple(float(b) for b in options.get("betas", (0.5, 0.999)))
        self.opt = torch.optim.Adam(params, lr=float(options.get("lr", 2e-3)), betas=betas)

    def modules(self) -> dict[str, nn.Module]:
        modules = {"encoder": self.pipeline.encoder, "image_encoder": self.image_encoder}
        if self.attribute_head is not None:
            modules["attribute_head"] = self.attribute_head
        return modules

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"damsm": self.opt}

    def data_resolutions(self) -> list[int]:
        return [self.image_size]

    def _losses(self, batch: Any, encoder: nn.Module, image_encoder: nn.Module) -> tuple[dict[str, torch.Tensor], list]:
        tokens = self.tokens(batch)
        text = encoder(tokens)
        images = _real_images(batch, [self.image_size])[0]
        regions, code = image_encoder(images)
        class_ids = batch.class_ids if self.use_class_ids else None
        g1, g2, g3 = self.gammas
        # all caption-image pairs at once: equal to the per-caption loop (tests/bench), ~2.5x faster
        w0, w1, maps = words_loss_batched(regions, text.words, tokens.lengths, class_ids, g1, g2, g3)
        s0, s1 = sentence_loss(code, text.sentence, class_ids, g3)
        losses = {"w_loss0": w0, "w_loss1": w1, "s_loss0": s0, "s_loss1": s1}
        if self.attribute_head is not None:  # logged weighted, as they enter the total
            head = self.model("attribute_head")
            losses.update({k: v * self.attribute_weight for k, v in head(text, batch.attributes).items()})
        return losses, maps

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        losses, _ = self._losses(batch, self.model("encoder"), self.model("image_encoder"))
        total = sum(losses.values())
        self.optimize(
            "damsm", total, parameters=self.unwrap("encoder").parameters(), max_grad_norm=self.rnn_grad_clip
        )
        return {"loss/damsm": float(total.detach()), **{f"loss/{k}": float(v.detach()) for k, v in losses.items()}}

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Real images with each caption's word-to-region attention (what DAMSM learned to match)."""
        _, maps = self._losses(batch, self.unwrap("encoder"), self.unwrap("image_encoder"))
        length = max(m.shape[1] for m in maps)
        att = torch.zeros(len(maps), length, *maps[0].shape[-2:], device=maps[0].device)
        for i, m in enumerate(maps):
            att[i, : m.shape[1]] = m[0]
        return {"final": _real_images(batch, [self.image_size])[0].float(), "attention0": att.float()}

    def export(self) -> Any:
        return _PipelineWithImageEncoder(self.pipeline, self.image_encoder)
