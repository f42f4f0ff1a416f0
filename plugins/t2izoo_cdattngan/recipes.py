"""CD-AttnGAN training: stage 1 (AttnGAN + L_clip), then stage 2 (diffusion-sr), sec. III.

* `CDAttnGANStage1Recipe` is the ``attngan`` recipe (per-stage discriminators, DAMSM term, KL,
  EMA), taken from the recipe registry and extended through its hooks: the text is the
  ``lstm+clip`` join, whose FC layer learns with the generator while both towers stay frozen,
  the DAMSM term reads the LSTM's own words, and ``lambda_clip * L_clip`` (eq. 4, 5) is added to
  the generator loss, with CLIP's image tower frozen (gradients reach the fakes, not CLIP).
* `CDAttnGANRecipe` (``cd-attngan``, named by the presets' cards) chains stage 1 and the
  ``diffusion-sr`` recipe (the refiner on pairs made by downsampling real images, encoder and
  generator frozen) in one `t2izoo.training.SequentialRecipe`.

Example:
    $ t2izoo train shapes-cd-attngan --steps 3000 -O stage1_steps=2000 --out runs/scd  # both stages
    $ t2izoo train shapes-cd-attngan --stage 1 --steps 2000 --out runs/scd-1
    $ t2izoo train shapes-cd-attngan --stage 2 --from runs/scd-1/final --steps 1000 --out runs/scd-2
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from t2izoo.training import SequentialRecipe, get_recipe

from .losses import clip_contrastive_loss

__all__ = ["CDAttnGANStage1Recipe", "CDAttnGANRecipe", "load_lstm_weights"]

# the attngan plugin's recipe, by name: plugins share code through the registry, not imports
_AttnGANRecipe = get_recipe("attngan")
_STAGE1_OPTIONS = ("lambda_clip", "tau")


def load_lstm_weights(lstm: nn.Module, directory: str | Path) -> None:
    """Load a model directory's ``encoder/`` (a DAMSM-trained ``lstm``: weights + vocabulary) into ``lstm``."""
    from safetensors.torch import load_file

    directory = Path(directory)
    sub = directory / "encoder" if (directory / "encoder").is_dir() else directory
    weights = sub / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(
            f"pretrained_encoder: {weights} is missing (give the model directory of a DAMSM run, e.g. "
            "runs/shapes-damsm/final)"
        )
    lstm.load_assets(sub)
    lstm.load_state_dict(load_file(str(weights)), strict=True)


class CDAttnGANStage1Recipe(_AttnGANRecipe):
    """Stage 1: ``L_total = L_gan + lambda_clip * L_clip`` (eq. 5) for an ``attngan`` generator.

    Options (besides the ``attngan`` recipe's: ``lr``, ``ndf``, ``lam``, ``image_encoder``, ``ema``...):
        lambda_clip: weight of L_clip (1.0; the paper leaves it to tuning). 0 turns it off.
        tau: temperature of L_clip (0.07).
        pretrained_encoder: a DAMSM run's model directory; its LSTM goes into the ``lstm+clip``
            encoder's LSTM tower.

    With a text-only encoder (the "no CLIP" ablation, ``encoder=lstm``) it is the plain
    ``attngan`` recipe: L_clip needs CLIP and is switched off with a warning.
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        own = {k: options.pop(k) for k in _STAGE1_OPTIONS if k in options}
        encoder = pipeline.encoder
        self.dual = hasattr(encoder, "forward_parts")
        if self.dual and options.get("pretrained_encoder"):
            load_lstm_weights(encoder.lstm, options.pop("pretrained_encoder"))
            encoder.tokenizer = encoder._make_tokenizer()  # the loaded vocabulary
        super().__init__(pipeline, **options)
        self.options.update(own)
        self.lambda_clip = float(own.get("lambda_clip", 1.0))
        self.tau = float(own.get("tau", 0.07))
        if not self.dual and self.lambda_clip > 0:
            warnings.warn(
                f"cd-attngan stage 1: encoder '{encoder.config.name}' has no CLIP side, so L_clip is off "
                "(this is the 'no CLIP' ablation); use encoder 'lstm+clip' for CD-AttnGAN",
                RuntimeWarning, stacklevel=2,
            )
            self.lambda_clip = 0.0
        if self.dual:
            # the FC that joins the towers learns with the generator (both towers stay frozen)
            self.opt_g.add_param_group({"params": list(encoder.proj.parameters())})
        self.make_trainable()
        self._parts: Any = None

    def make_trainable(self) -> None:
        """Gradients on for what stage 1 trains (another stage's recipe may have frozen them)."""
        self.pipeline.generator.requires_grad_(True)
        if self.dual:
            self.pipeline.encoder.proj.requires_grad_(True)

    # -- the attngan recipe's hooks ------------------------------------------------------------
    def encode_text(self, tokens: Any) -> Any:
        if not self.dual:
            return super().encode_text(tokens)
        with torch.no_grad():  # the frozen towers' own features, for DAMSM and L_clip
            self._parts = self.unwrap("encoder").forward_parts(tokens)
        return self.model("encoder")(tokens)  # the join, with gradients into its FC

    def damsm_text(self, text: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.dual:
            return super().damsm_text(text)
        return self._parts.lstm.words, self._parts.lstm.sentence  # DAMSM's space is the LSTM's

    def extra_generator_loss(self, batch: Any, text: Any, out: Any) -> tuple[torch.Tensor | None, dict[str, float]]:
        if not self.dual or self.lambda_clip <= 0:
            return None, {}
        image = self.unwrap("encoder").image_features(out.images[-1])  # frozen CLIP; grads reach the fakes
        loss = clip_contrastive_loss(image, self._parts.clip.sentence, self.tau)
        return self.lambda_clip * loss, {"loss/clip": float(loss.detach())}

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The generator's stages only: the refiner is not trained in stage 1."""
        refiner = self.pipeline.refiner
        self.pipeline.refiner = None  # the base sample refines when the pipeline has a refiner
        try:
            return super().sample(batch, generator)
        finally:
            self.pipeline.refiner = refiner


class CDAttnGANRecipe(SequentialRecipe):
    """CD-AttnGAN's two-stage training as one recipe (``t2izoo train cd-attngan``).

    Options:
        stage: ``"all"`` (default: stage 1 then stage 2), ``"1"`` or ``"2"`` (``--stage``).
        stage1_steps: optimizer steps of stage 1 when both run; the rest of ``--steps`` is stage 2.
        sr_<option>: an option of the stage-2 ``diffusion-sr`` recipe (``sr_lr``, ``sr_lr_source``).
            With ``stage=2`` plain options go to it too.
        Every other option goes to stage 1 (`CDAttnGANStage1Recipe`).

    Between the stages the generator takes its averaged (EMA) weights, which stage 2 then keeps
    frozen, as stage 1 alone would have exported. A pipeline without a refiner (``refiner=null``,
    the "no diffusion" ablation) trains stage 1 only.

    Example:
        >>> recipe = make_recipe(t2izoo.build("shapes-cd-attngan"), stage1_steps=2000)  # doctest: +SKIP
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        recorded = dict(options)
        stage = str(options.pop("stage", "all")).lower()
        if stage not in ("all", "1", "2"):
            raise ValueError(f"cd-attngan recipe: stage must be 1, 2 or all, got {stage!r}")
        gan_steps = options.pop("stage1_steps", None)
        sr_options = {k[3:]: options.pop(k) for k in list(options) if k.startswith("sr_")}
        if stage == "2":
            sr_options, options = {**options, **sr_options}, {}
        if stage in ("all", "2") and pipeline.refiner is None:
            if stage == "2":
                raise ValueError("cd-attngan recipe: --stage 2 trains the refiner, but this pipeline has none (refiner=null)")
            stage = "1"  # the "no diffusion" ablation: there is no stage 2
        stages: list[tuple[str, Any, int | None]] = []
        self.gan: CDAttnGANStage1Recipe | None = None
        if stage in ("all", "1"):
            self.gan = CDAttnGANStage1Recipe(pipeline, **options)
        if stage in ("all", "2"):
            sr = get_recipe("diffusion-sr")(pipeline, **sr_options)  # freezes encoder and generator
            if self.gan is not None:
                if gan_steps is None or int(gan_steps) < 1:
                    raise ValueError(
                        "cd-attngan recipe: training both stages needs -O stage1_steps=N (steps of stage 1; "
                        "the rest of --steps trains stage 2), or choose one stage with --stage 1 / --stage 2"
                    )
                self.gan.make_trainable()  # stage 1 runs first: undo stage 2's freezing for now
                stages.append(("gan", self.gan, int(gan_steps)))
            stages.append(("sr", sr, None))
        else:
            stages.append(("gan", self.gan, None))
        super().__init__(pipeline, stages)
        self.options = recorded
        self._stage2_started = False

    def data_resolutions(self) -> list[int] | None:
        sides: set[int] = set()
        for _, recipe, _ in self.stages:
            sides.update(recipe.data_resolutions() or [])
        return sorted(sides) or None

    def _start_stage2(self) -> None:
        """Freeze stage 1 with its averaged weights before the refiner starts learning."""
        gen = self.pipeline.generator
        ema = getattr(self.gan, "ema", None)
        if ema is not None:
            with torch.no_grad():
                for p, avg in zip(gen.parameters(), ema):
                    p.copy_(avg.to(p.device))
        gen.requires_grad_(False)
        gen.eval()
        self.pipeline.encoder.requires_grad_(False)
        self._stage2_started = True

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        if len(self.stages) == 2 and not self._stage2_started and step >= self.stages[0][2]:
            self._start_stage2()
        return super().training_step(batch, step)
