"""The `Recipe` interface: the training logic of one pipeline (or one of its components).

A recipe owns everything training needs beyond the pipeline itself (discriminators, EMA copies,
noise schedules), its optimizers and its losses. The `Trainer` owns everything else (devices,
mixed precision, gradient accumulation, processes, data order, checkpoints, logging), so a
recipe reads like the paper's training loop and nothing more.

Contract, in the order the trainer calls it:

1. ``Recipe(pipeline, **options)``: build extra modules and optimizers (on CPU, unprepared).
2. `Recipe.setup` (``accelerator``): the default prepares every module of `modules` that has
   trainable parameters and every optimizer of `optimizers` with Accelerate. Use
   ``self.model(name)`` (the prepared module: DDP-wrapped, autocast) for forward passes whose
   gradients must be synchronised, and ``self.unwrap(name)`` for the plain module.
3. `Recipe.training_step` (``batch, step``) once per micro-batch, inside
   ``accelerator.accumulate(...)`` and ``accelerator.autocast()``. It does its own backward
   passes and optimizer steps through `Recipe.optimize`, which honours accumulation (steps only
   on the last micro-batch) and gradient clipping. It returns plain floats to log.
4. `Recipe.sample` (``batch, generator``) now and then, under ``torch.no_grad()`` and in eval
   mode, for the sample grids and attention pictures. The default runs the pipeline.
5. `Recipe.export` at the end: the pipeline to save (an EMA recipe swaps in its averaged weights).

Checkpoints hold ``modules()``' and ``optimizers()``' state dicts plus `Recipe.state_dict`
(anything else: counters, a private `torch.Generator`).

Example:
    >>> import torch
    >>> from t2izoo.training import Recipe
    >>> class RegressToZero(Recipe):
    ...     '''Toy recipe: push generated images towards black.'''
    ...     def __init__(self, pipeline, lr=1e-3):
    ...         super().__init__(pipeline, lr=lr)
    ...         self.opt = torch.optim.Adam(pipeline.generator.parameters(), lr=lr)
    ...     def modules(self):
    ...         return {"generator": self.pipeline.generator, "encoder": self.pipeline.encoder}
    ...     def optimizers(self):
    ...         return {"generator": self.opt}
    ...     def training_step(self, batch, step):
    ...         text = self.model("encoder")(self.tokens(batch))
    ...         images = self.model("generator")(text).image
    ...         loss = (images + 1).pow(2).mean()
    ...         self.optimize("generator", loss)
    ...         return {"loss": loss.item()}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from pathlib import Path

    from accelerate import Accelerator

    from ..data import Batch
    from ..types import TextFeatures, TokenBatch

__all__ = ["Recipe", "SequentialRecipe", "frozen", "has_trainable_parameters"]


def has_trainable_parameters(module: nn.Module) -> bool:
    """True when at least one parameter of ``module`` requires a gradient."""
    return any(p.requires_grad for p in module.parameters())


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``modules`` (restoring each parameter's own flag after).

    The generator step of a GAN runs the discriminator under ``frozen(D)``: gradients reach the
    fake images but not D's parameters, so D's gradients accumulated over micro-batches survive.

    Example:
        >>> d = torch.nn.Linear(2, 1)
        >>> with frozen(d):
        ...     d.weight.requires_grad
        False
        >>> d.weight.requires_grad
        True
    """
    saved = [(p, p.requires_grad) for m in modules for p in m.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


class Recipe(ABC):
    """Training logic for one pipeline (or one component of it).

    Subclasses implement `optimizers` and `training_step`; most also override `modules` (to add
    a discriminator) and keep the default `setup`, `sample` and `export`.

    Args:
        pipeline: the `t2izoo.Text2ImagePipeline` being trained (its ``encoder``,
            ``generator`` and ``refiner`` are ordinary ``nn.Module`` attributes).
        **options: recipe options (``lr``, ``stage``, loss weights...), kept in ``self.options``
            and written into the run directory.
    """

    #: pass ``find_unused_parameters=True`` to DDP (a recipe whose forward skips some weights)
    find_unused_parameters: bool = False

    def __init__(self, pipeline: Any, **options: Any) -> None:
        self.pipeline = pipeline
        self.options: dict[str, Any] = dict(options)
        self.accelerator: Accelerator | None = None
        self._prepared: dict[str, nn.Module] = {}
        self._prepared_optimizers: dict[str, torch.optim.Optimizer] = {}

    # -- what the trainer checkpoints --------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        """Every module whose state is checkpointed, by a stable name.

        The default is the pipeline's components (``encoder``, ``generator``, ``refiner`` when
        present). A GAN recipe adds its discriminator(s).
        """
        out: dict[str, nn.Module] = {}
        for slot in ("encoder", "generator", "refiner"):
            module = getattr(self.pipeline, slot, None)
            if module is not None:
                out[slot] = module
        return out

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers, by a stable name (their state is checkpointed)."""

    def schedulers(self) -> dict[str, Any]:
        """Learning-rate schedulers by name (stepped by the recipe itself; checkpointed)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Extra state that is neither a module nor an optimizer (counters, private RNGs)."""
        return {}

    def data_resolutions(self) -> list[int] | None:
        """Image resolutions the batches must carry (``None``: whatever the data set has)."""
        return None

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""

    def after_resume(self, checkpoint: Path) -> None:
        """Called once `checkpoint` is fully restored (modules, optimizers, state, RNG).

        The place to replace a frozen part on purpose, e.g. continue a GAN with a better
        pretrained text encoder than the one its checkpoint holds. The default does nothing.
        """

    # -- lifecycle ---------------------------------------------------------------------------
    def setup(self, accelerator: Accelerator) -> None:
        """Prepare modules with trainable parameters and all optimizers with Accelerate.

        Modules without trainable parameters (a frozen pretrained encoder) are only moved to
        the device: DDP refuses modules with nothing to synchronise. A module listed under two
        names (a recipe reusing the pipeline's generator) is prepared once.
        """
        self.accelerator = accelerator
        by_id: dict[int, nn.Module] = {}
        for name, module in self.modules().items():
            if id(module) not in by_id:
                if has_trainable_parameters(module):
                    by_id[id(module)] = accelerator.prepare_model(module)
                else:
                    by_id[id(module)] = module.to(accelerator.device)
            self._prepared[name] = by_id[id(module)]
        for name, opt in self.optimizers().items():
            self._prepared_optimizers[name] = accelerator.prepare_optimizer(opt)

    def prepared_modules(self) -> list[nn.Module]:
        """The modules `setup` prepared, each once (the trainer accumulates gradients over them)."""
        out: dict[int, nn.Module] = {}
        for module in self._prepared.values():
            out.setdefault(id(module), module)
        return list(out.values())

    def train(self, mode: bool = True) -> None:
        """Put modules with trainable parameters in train mode, the others in eval mode."""
        for module in self.modules().values():
            module.train(mode and has_trainable_parameters(module))

    @abstractmethod
    def training_step(self, batch: Batch, step: int) -> dict[str, float]:
        """One micro-batch: forward, losses, `optimize` calls. Returns values to log.

        ``step`` is the optimizer step being accumulated (0-based), the same for every
        micro-batch of one step.
        """

    @torch.no_grad()
    def sample(self, batch: Batch, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Images (and attention maps) for logging, from the batch's captions.

        Returns ``{"stage<i>_<res>": [B,C,H,W] in [-1,1], ..., "attention<i>": [B,L,h,w]}``
        with the final image under ``"final"``. Noise comes from ``generator`` so the logged
        samples never disturb the training RNG.
        """
        device = self.device
        encoder = self.unwrap("encoder") if "encoder" in self._prepared else self.pipeline.encoder
        gen = self.unwrap("generator") if "generator" in self._prepared else self.pipeline.generator
        text = encoder(self.tokens(batch).to(device))
        noise = gen.sample_noise(len(batch.captions), generator=generator)
        out = gen(text, noise=noise, generator=generator)
        result: dict[str, torch.Tensor] = {}
        for i, img in enumerate(out.images):
            result[f"stage{i}_{img.shape[-1]}"] = img.float()
        for i, att in enumerate(out.attention or []):
            if att is not None:
                result[f"attention{i}"] = att.float()
        final = out.images[-1]
        refiner = getattr(self.pipeline, "refiner", None)
        if refiner is not None:
            final = refiner(final, text, generator=generator)
            result[f"refined_{final.shape[-1]}"] = final.float()
        result["final"] = final.float()
        return result

    def export(self) -> Any:
        """The pipeline to save at the end (an EMA recipe returns one with averaged weights)."""
        return self.pipeline

    # -- helpers for subclasses --------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.accelerator.device if self.accelerator is not None else torch.device("cpu")

    def model(self, name: str) -> nn.Module:
        """The prepared module (DDP-wrapped under several processes): call it for forward passes
        whose gradients must be synchronised across processes."""
        if name not in self._prepared:
            modules = self.modules()
            if name not in modules:
                raise KeyError(f"recipe {type(self).__name__} has no module {name!r}; it has {sorted(modules)}")
            return modules[name]  # before setup(): the plain module
        return self._prepared[name]

    def unwrap(self, name: str) -> nn.Module:
        """The plain module (no DDP wrapper): for no-grad passes and frozen uses."""
        module = self.model(name)
        if self.accelerator is not None:
            return self.accelerator.unwrap_model(module, keep_torch_compile=False)
        return module

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        """The prepared optimizer (skips its step on micro-batches that only accumulate)."""
        if name in self._prepared_optimizers:
            return self._prepared_optimizers[name]
        return self.optimizers()[name]

    def tokens(self, batch: Batch) -> TokenBatch:
        """The batch's tokens, tokenising its captions with the pipeline encoder's tokenizer if
        the loader did not."""
        if batch.tokens is not None:
            return batch.tokens.to(self.device)
        return self.pipeline.encoder.tokenize(batch.captions).to(self.device)

    def encode(self, batch: Batch) -> TextFeatures:
        """Encode the batch's captions with the (prepared) encoder."""
        return self.model("encoder")(self.tokens(batch))

    def optimize(
        self,
        name: str,
        loss: torch.Tensor,
        *,
        parameters: Iterable[nn.Parameter] | None = None,
        max_grad_norm: float | None = None,
        retain_graph: bool = False,
    ) -> None:
        """Backward ``loss`` and step optimizer ``name`` (on the last micro-batch of a step).

        Accelerate scales the loss for mixed precision and divides it by the accumulation
        count; the optimizer and ``zero_grad`` are no-ops until the gradients are synchronised.
        ``max_grad_norm`` (default: the ``max_grad_norm`` option) clips ``parameters`` (default:
        the optimizer's own parameters).
        """
        opt = self.optimizer(name)
        if self.accelerator is None:
            loss.backward(retain_graph=retain_graph)
        else:
            self.accelerator.backward(loss, retain_graph=retain_graph)
        clip = self.options.get("max_grad_norm") if max_grad_norm is None else max_grad_norm
        syncing = self.accelerator is None or self.accelerator.sync_gradients
        if clip and syncing:
            params = list(parameters) if parameters is not None else [
                p for g in opt.param_groups for p in g["params"]
            ]
            if self.accelerator is None:
                torch.nn.utils.clip_grad_norm_(params, clip)
            else:
                self.accelerator.clip_grad_norm_(params, clip)
        opt.step()
        opt.zero_grad(set_to_none=True)


class SequentialRecipe(Recipe):
    """Stages trained one after the other: stage 1 for ``n1`` steps, then stage 2 with stage 1's
    modules frozen (no gradients, eval mode), and so on.

    Two-stage models (a GAN+CLIP generator, then a diffusion refiner on its frozen outputs) are
    one `SequentialRecipe` of the two stage recipes.

    Args:
        pipeline: the pipeline all stages train.
        stages: ``[(name, recipe, steps), ...]``; the last stage's ``steps`` may be ``None``
            (runs until the trainer stops).

    Example:
        >>> seq = SequentialRecipe(pipe, [("gan", gan_recipe, 1000), ("sr", sr_recipe, None)])  # doctest: +SKIP
    """

    def __init__(self, pipeline: Any, stages: list[tuple[str, Recipe, int | None]], **options: Any) -> None:
        super().__init__(pipeline, **options)
        if not stages:
            raise ValueError("SequentialRecipe needs at least one stage")
        for name, _, steps in stages[:-1]:
            if steps is None or steps < 1:
                raise ValueError(f"SequentialRecipe stage {name!r}: only the last stage may have steps=None")
        self.stages = stages

    def _stage_index(self, step: int) -> int:
        start = 0
        for i, (_, _, steps) in enumerate(self.stages):
            if steps is None or step < start + steps:
                return i
            start += steps
        return len(self.stages) - 1

    def _stage_start(self, index: int) -> int:
        return sum(s for _, _, s in self.stages[:index])  # type: ignore[misc]

    def modules(self) -> dict[str, nn.Module]:
        out: dict[str, nn.Module] = {}
        seen: set[int] = set()
        for name, recipe, _ in self.stages:
            for key, module in recipe.modules().items():
                if id(module) in seen:  # shared with an earlier stage: checkpoint it once
                    continue
                seen.add(id(module))
                out[f"{name}.{key}"] = module
        return out

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {f"{name}.{k}": o for name, recipe, _ in self.stages for k, o in recipe.optimizers().items()}

    def schedulers(self) -> dict[str, Any]:
        return {f"{name}.{k}": s for name, recipe, _ in self.stages for k, s in recipe.schedulers().items()}

    def state_dict(self) -> dict[str, Any]:
        return {name: recipe.state_dict() for name, recipe, _ in self.stages}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, recipe, _ in self.stages:
            if name in state:
                recipe.load_state_dict(state[name])

    def after_resume(self, checkpoint: Path) -> None:
        for _, recipe, _ in self.stages:
            recipe.after_resume(checkpoint)

    def setup(self, accelerator: Accelerator) -> None:
        """Run every stage's own `setup`, preparing a module shared by several stages once."""
        self.accelerator = accelerator
        shared = _SharedPreparation(accelerator)
        for _, recipe, _ in self.stages:
            recipe.setup(shared)  # type: ignore[arg-type]
        self._active: int | None = None

    def prepared_modules(self) -> list[nn.Module]:
        out: dict[int, nn.Module] = {}
        for _, recipe, _ in self.stages:
            for module in recipe.prepared_modules():
                out.setdefault(id(module), module)
        return list(out.values())

    def _activate(self, index: int) -> None:
        """Freeze every earlier stage's modules that the active stage does not train itself."""
        if getattr(self, "_active", None) == index:
            return
        active = {id(m) for m in self.stages[index][1].modules().values()}
        for _, recipe, _ in self.stages[:index]:
            for module in recipe.modules().values():
                if id(module) not in active:
                    module.requires_grad_(False)
                    module.eval()
        self._active = index

    def train(self, mode: bool = True) -> None:
        index = getattr(self, "_active", None)
        if index is None:
            index = 0
        self.stages[index][1].train(mode)

    def training_step(self, batch: Batch, step: int) -> dict[str, float]:
        index = self._stage_index(step)
        self._activate(index)
        name, recipe, _ = self.stages[index]
        logs = recipe.training_step(batch, step - self._stage_start(index))
        return {f"{name}/{k}": v for k, v in logs.items()}

    def sample(self, batch: Batch, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        index = getattr(self, "_active", None) or 0
        return self.stages[index][1].sample(batch, generator)

    def export(self) -> Any:
        return self.stages[-1][1].export()


class _SharedPreparation:
    """An Accelerator stand-in that prepares each module and optimizer once.

    Stages of a `SequentialRecipe` often share a module (stage 2 reuses stage 1's generator);
    wrapping one module in two DDP instances would break gradient synchronisation.
    """

    def __init__(self, accelerator: Accelerator) -> None:
        self._accelerator = accelerator
        self._models: dict[int, nn.Module] = {}
        self._optimizers: dict[int, Any] = {}

    def prepare_model(self, model: nn.Module, *args: Any, **kwargs: Any) -> nn.Module:
        if id(model) not in self._models:
            self._models[id(model)] = self._accelerator.prepare_model(model, *args, **kwargs)
        return self._models[id(model)]

    def prepare_optimizer(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        if id(optimizer) not in self._optimizers:
            self._optimizers[id(optimizer)] = self._accelerator.prepare_optimizer(optimizer, *args, **kwargs)
        return self._optimizers[id(optimizer)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._accelerator, name)
