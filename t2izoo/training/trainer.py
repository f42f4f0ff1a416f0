"""`Trainer`: runs a `Recipe` with Accelerate (CPU, CUDA, mixed precision, accumulation, DDP).

The trainer owns the loop and everything around it, identical for every model:

* devices and processes (Accelerate), mixed precision (``no``/``fp16``/``bf16``), gradient
  accumulation (``grad_accum`` micro-batches per optimizer step);
* the data stream (`BatchStream`: seeded order, sharded per process, resumable);
* checkpoints every ``save_every`` steps, written atomically, the last ``keep_last`` kept;
  ``resume=True`` continues bit-for-bit (modules, optimizers, RNGs, data position);
* a progress bar with the losses, TensorBoard scalars in ``OUT/logs``, ``OUT/metrics.jsonl``,
  sample grids and attention pictures in ``OUT/samples`` every ``sample_every`` steps;
* at the end, ``recipe.export().save_pretrained(OUT/final)``, loadable with
  ``t2izoo.build(PRESET, pretrained=OUT/final)``.

Example:
    >>> import t2izoo
    >>> from t2izoo.data import load_dataset
    >>> from t2izoo.training import Trainer, TrainConfig, make_recipe
    >>> pipe = t2izoo.build("shapes-tiny")                                    # doctest: +SKIP
    >>> data = load_dataset("shapes", split="train", resolutions=(32, 64))    # doctest: +SKIP
    >>> result = Trainer(pipe, make_recipe(pipe), data,
    ...                  TrainConfig(out="runs/tiny", steps=100, batch_size=16)).fit()  # doctest: +SKIP
    >>> result.final_dir                                                      # doctest: +SKIP
    PosixPath('runs/tiny/final')
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from . import checkpoint as ckpt
from .data import BatchStream
from .recipe import Recipe

__all__ = ["TrainConfig", "TrainResult", "Trainer"]


class TrainConfig(BaseModel):
    """How to train (not what): steps, batch, precision, schedule of saves/samples/logs."""

    model_config = ConfigDict(extra="forbid")

    out: Path = Field(description="run directory (checkpoints/, samples/, logs/, final/)")
    steps: int = Field(ge=1, description="optimizer steps to reach (a resumed run continues to it)")
    batch_size: int = Field(16, ge=1, description="samples per micro-batch per process")
    grad_accum: int = Field(1, ge=1, description="micro-batches per optimizer step")
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    seed: int = 0
    sample_every: int = Field(0, ge=0, description="0: only at the end")
    save_every: int = Field(0, ge=0, description="0: only at the end")
    keep_last: int = Field(3, ge=1, description="checkpoints kept")
    log_every: int = Field(10, ge=1)
    num_samples: int = Field(8, ge=1, description="captions in each sample grid")
    num_workers: int = Field(0, ge=0)
    resume: bool = False
    cpu: bool = Field(False, description="force CPU even when CUDA is available")
    progress: bool = True
    tensorboard: bool = True
    save_final: bool = True


@dataclass
class TrainResult:
    """What `Trainer.fit` did."""

    out: Path
    start_step: int
    steps: int
    seconds: float
    steps_per_second: float
    last_logs: dict[str, float] = field(default_factory=dict)
    final_dir: Path | None = None
    checkpoint: Path | None = None


class Trainer:
    """Drive ``recipe`` on ``dataset`` with Accelerate.

    Args:
        pipeline: the pipeline being trained (the recipe's ``pipeline``).
        recipe: its `Recipe` (modules and optimizers built, not yet prepared).
        dataset: a t2izoo data set (items are `t2izoo.data.Sample`).
        config: a `TrainConfig`.
        accelerator: an existing ``accelerate.Accelerator`` (default: one made from ``config``).
        tokenizer: fills ``Batch.tokens`` in the loader (default: the pipeline encoder's).
        resolutions: image resolutions the batches carry (default: all the data set has).
        max_length: caption length cap passed to the tokenizer.
        run_info: extra JSON-able facts written into ``OUT/run.json`` (the command line...).
    """

    def __init__(
        self,
        pipeline: Any,
        recipe: Recipe,
        dataset: Any,
        config: TrainConfig,
        *,
        accelerator: Any = None,
        tokenizer: Any = None,
        resolutions: Sequence[int] | None = None,
        max_length: int | None = None,
        run_info: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.recipe = recipe
        self.dataset = dataset
        self.config = config
        self.out = Path(config.out)
        self.tokenizer = tokenizer if tokenizer is not None else getattr(pipeline.encoder, "tokenizer", None)
        self.resolutions = resolutions
        self.max_length = max_length
        self.run_info = dict(run_info or {})
        self.accelerator = accelerator if accelerator is not None else self._make_accelerator()
        self.step = 0
        self._writer: Any = None

    # -- setup ---------------------------------------------------------------------------------
    def _make_accelerator(self) -> Any:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        ddp = DistributedDataParallelKwargs(find_unused_parameters=self.recipe.find_unused_parameters)
        return Accelerator(
            mixed_precision=self.config.mixed_precision,
            gradient_accumulation_steps=self.config.grad_accum,
            cpu=self.config.cpu,
            kwargs_handlers=[ddp],
        )

    @property
    def is_main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    def _make_stream(self) -> BatchStream:
        from ..data import make_dataloader

        loader = make_dataloader(
            self.dataset,
            self.config.batch_size,
            shuffle=True,
            seed=self.config.seed,
            num_workers=self.config.num_workers,
            tokenizer=self.tokenizer,
            resolutions=self.resolutions,
            max_length=self.max_length,
        )
        self._collate = loader.collate_fn
        self._wrapped_dataset = loader.dataset
        return BatchStream(loader, self.accelerator.num_processes, self.accelerator.process_index)

    def _write_run_files(self) -> None:
        if not self.is_main:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        config = getattr(self.pipeline, "config", None)
        if config is not None and hasattr(config, "to_json"):
            (self.out / "config.json").write_text(config.to_json(), encoding="utf-8")
        import t2izoo

        info = {
            "command": " ".join(sys.argv),
            "train": self.config.model_dump(mode="json"),
            "recipe": type(self.recipe).__module__ + ":" + type(self.recipe).__qualname__,
            "recipe_options": _jsonable(self.recipe.options),
            "num_processes": self.accelerator.num_processes,
            "device": str(self.accelerator.device),
            "versions": {"t2izoo": t2izoo.__version__, "torch": torch.__version__},
            **self.run_info,
        }
        name = "run.json" if not (self.config.resume and (self.out / "run.json").exists()) else "run-resumed.json"
        (self.out / name).write_text(json.dumps(info, indent=2), encoding="utf-8")

    # -- checkpoints ---------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the current step (every process must call this)."""
        acc = self.accelerator
        root = self.out / ckpt.CHECKPOINT_DIR
        final = root / ckpt.checkpoint_name(self.step)
        tmp = ckpt.temp_dir_for(final)
        if self.is_main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        acc.wait_for_everyone()
        ckpt.write_rng(tmp, acc.process_index)
        acc.wait_for_everyone()
        if self.is_main:
            try:
                payload = {
                    "modules": {n: _cpu_state(acc.unwrap_model(m).state_dict()) for n, m in self.recipe.modules().items()},
                    "optimizers": {n: o.state_dict() for n, o in self.recipe.optimizers().items()},
                    "schedulers": {n: s.state_dict() for n, s in self.recipe.schedulers().items()},
                    "scaler": acc.scaler.state_dict() if getattr(acc, "scaler", None) is not None else None,
                    "recipe": self.recipe.state_dict(),
                    "trainer": {
                        "step": self.step,
                        "data": self.stream.position,
                        "num_processes": acc.num_processes,
                        "batch_size": self.config.batch_size,
                        "grad_accum": self.config.grad_accum,
                        "seed": self.config.seed,
                        "mixed_precision": self.config.mixed_precision,
                    },
                }
                ckpt.write_checkpoint_files(tmp, payload)
                ckpt.commit_checkpoint(tmp, final)
                ckpt.prune_checkpoints(self.out, self.config.keep_last)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        acc.wait_for_everyone()
        return final

    def load_checkpoint(self, path: Path) -> None:
        """Restore modules, optimizers, recipe state, data position and this process's RNG."""
        acc = self.accelerator
        state = ckpt.read_trainer_state(path)
        if state.get("num_processes") != acc.num_processes or state.get("batch_size") != self.config.batch_size:
            acc.print(
                f"warning: {path} was written with {state.get('num_processes')} process(es) x batch "
                f"{state.get('batch_size')}; resuming with {acc.num_processes} x {self.config.batch_size}: "
                "the run continues but is not bitwise identical to an uninterrupted one"
            )
        for name, module in self.recipe.modules().items():
            weights = ckpt.load_file(path, f"modules/{name}.pt")
            acc.unwrap_model(module).load_state_dict(weights, strict=True)
        optimizers = ckpt.load_file(path, "optimizers.pt") if self.recipe.optimizers() else {}
        for name in self.recipe.optimizers():
            if name not in optimizers:
                raise KeyError(f"checkpoint {path} has no state for optimizer {name!r}")
            self.recipe.optimizer(name).load_state_dict(optimizers[name])
        if self.recipe.schedulers():
            schedulers = ckpt.load_file(path, "schedulers.pt")
            for name, sched in self.recipe.schedulers().items():
                sched.load_state_dict(schedulers[name])
        if getattr(acc, "scaler", None) is not None and (path / "scaler.pt").is_file():
            acc.scaler.load_state_dict(ckpt.load_file(path, "scaler.pt"))
        if (path / "recipe.pt").is_file():
            self.recipe.load_state_dict(ckpt.load_file(path, "recipe.pt"))
        self.step = int(state["step"])
        data = state.get("data", {"epoch": 0, "batch": 0})
        if state.get("num_processes") == acc.num_processes and state.get("batch_size") == self.config.batch_size:
            self.stream.seek(int(data["epoch"]), int(data["batch"]))
        else:  # continue after the same number of samples, as near as the new batch shape allows
            samples = self.step * int(state.get("grad_accum", 1)) * int(state.get("num_processes", 1)) * int(
                state.get("batch_size", self.config.batch_size)
            )
            batches = samples // (acc.num_processes * self.config.batch_size)
            self.stream.seek(batches // self.stream.batches_per_epoch, batches % self.stream.batches_per_epoch)
        rng_file = path / "rng" / f"rank-{acc.process_index}.pt"
        if rng_file.is_file():
            ckpt.restore_rng(ckpt.load_file(path, f"rng/rank-{acc.process_index}.pt"))
        else:
            acc.print(f"warning: {path} has no RNG state for process {acc.process_index}; RNG not restored")
        self.recipe.after_resume(path)

    # -- logging -------------------------------------------------------------------------------
    def _log(self, logs: dict[str, float]) -> None:
        if not self.is_main:
            return
        if self.config.tensorboard:
            if self._writer is None:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(log_dir=str(self.out / "logs"))
            for key, value in logs.items():
                self._writer.add_scalar(key, value, self.step)
        with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"step": self.step, **logs}) + "\n")

    def _sample_batch(self) -> Any:
        n = min(self.config.num_samples, len(self._wrapped_dataset))
        return self._collate([self._wrapped_dataset[i] for i in range(n)])

    def write_samples(self) -> list[Path]:
        """Sample grid (and attention pictures) for the fixed caption set, on the main process.

        Runs under a forked RNG so logging never changes the training trajectory.
        """
        if not self.is_main:
            return []
        from .visualize import save_attention_maps, save_sample_grid

        batch = self._sample_batch().to(self.accelerator.device)
        devices = [self.accelerator.device] if self.accelerator.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            self.recipe.train(False)
            try:
                gen = torch.Generator(device=self.accelerator.device).manual_seed(self.config.seed)
                with self.accelerator.autocast():
                    out = self.recipe.sample(batch, generator=gen)
            finally:
                self.recipe.train(True)
        if batch.images:  # the real images beside the generated ones, for comparison
            out = {"real": batch.images[max(batch.images)], **out}
        folder = self.out / "samples"
        written = [save_sample_grid(out, batch.captions, folder / f"step-{self.step:08d}.png")]
        final = out.get("final")
        for key, att in out.items():
            if key.startswith("attention") and att is not None and final is not None:
                written.append(
                    save_attention_maps(final, att, batch.captions, folder / f"step-{self.step:08d}-{key}.png")
                )
        if self.config.tensorboard and self._writer is not None:
            import numpy as np
            from PIL import Image

            self._writer.add_image("samples", np.asarray(Image.open(written[0]).convert("RGB")), self.step, dataformats="HWC")
        return written

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train until ``config.steps`` optimizer steps; returns a `TrainResult`."""
        acc = self.accelerator
        cfg = self.config
        from accelerate.utils import set_seed

        # each process its own noise; DDP broadcasts rank 0's initial weights anyway
        set_seed(cfg.seed + acc.process_index)
        self.pipeline.to(acc.device)  # components no recipe module covers (a fixed refiner) too
        if acc.mixed_precision == "fp16" and acc.device.type == "cpu":
            acc.print("warning: fp16 on CPU runs without a gradient scaler and may underflow; prefer bf16")
        self.recipe.setup(acc)
        self.stream = self._make_stream()
        resumed_from = None
        if cfg.resume:
            resumed_from = ckpt.latest_checkpoint(self.out)
            if resumed_from is None:
                acc.print(f"--resume: no checkpoint in {self.out / ckpt.CHECKPOINT_DIR}; starting from step 0")
            else:
                self.load_checkpoint(resumed_from)
                acc.print(f"resumed from {resumed_from} (step {self.step})")
        self._write_run_files()
        acc.wait_for_everyone()
        acc.step = 0  # we always stop and resume on optimizer-step boundaries

        start = self.step
        models = self.recipe.prepared_modules() or [self.pipeline]
        bar = None
        if cfg.progress and self.is_main:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, initial=start, desc="train", dynamic_ncols=True)
        self.recipe.train(True)
        logs: dict[str, float] = {}
        last_ckpt = resumed_from
        t0 = time.perf_counter()
        while self.step < cfg.steps:
            sums: dict[str, float] = {}
            for _ in range(cfg.grad_accum):
                batch = next(self.stream).to(acc.device)
                with acc.accumulate(*models), acc.autocast():
                    out = self.recipe.training_step(batch, self.step)
                for key, value in out.items():
                    sums[key] = sums.get(key, 0.0) + float(value) / cfg.grad_accum
            for key, value in sums.items():
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"step {self.step}: loss {key!r} is {value}; lower the learning rate, or "
                        "use bf16 instead of fp16"
                    )
            self.step += 1
            logs = sums
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                logs = self._reduce(sums)
                self._log(logs)
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k.split("/")[-1]: f"{v:.3g}" for k, v in list(sums.items())[:6]})
            if cfg.sample_every and self.step % cfg.sample_every == 0:
                self.write_samples()
            if cfg.save_every and self.step % cfg.save_every == 0:
                last_ckpt = self.save_checkpoint()
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        if self.step != start or last_ckpt is None:
            if last_ckpt is None or ckpt.read_trainer_state(last_ckpt).get("step") != self.step:
                last_ckpt = self.save_checkpoint()
        if not cfg.sample_every or self.step % cfg.sample_every:
            self.write_samples()
        final_dir = None
        if cfg.save_final:
            final_dir = self.out / "final"
            if self.is_main:
                self.recipe.export().save_pretrained(final_dir)
            acc.wait_for_everyone()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        done = self.step - start
        return TrainResult(
            out=self.out,
            start_step=start,
            steps=done,
            seconds=seconds,
            steps_per_second=done / seconds if seconds > 0 and done else 0.0,
            last_logs=logs,
            final_dir=final_dir,
            checkpoint=last_ckpt,
        )

    def _reduce(self, logs: dict[str, float]) -> dict[str, float]:
        """Mean of each logged value over processes (every process calls this)."""
        if self.accelerator.num_processes == 1 or not logs:
            return logs
        keys = sorted(logs)
        values = torch.tensor([logs[k] for k in keys], device=self.accelerator.device, dtype=torch.float64)
        values = self.accelerator.reduce(values, reduction="mean")
        return dict(zip(keys, values.tolist(), strict=True))


def _cpu_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach().cpu().clone() if torch.is_tensor(v) else v for k, v in state.items()}


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj)
        return obj
    except TypeError:
        if isinstance(obj, dict):
            return {str(k): _jsonable(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [_jsonable(v) for v in obj]
        return repr(obj)
