"""`t2izoo train PRESET --data shapes --steps N --out DIR [...] [key=value ...]`.

Trains a preset (or a config file, or a saved model directory) with its recipe on a data set
and writes checkpoints, samples, TensorBoard logs and the final model into DIR. Runs on one CPU,
one GPU, or several processes (GPUs: ``accelerate launch --multi_gpu --num_processes 4 -m t2izoo
train ...``; CPU: ``torchrun --nproc_per_node 2 -m t2izoo train ... --cpu``).

Example:
    $ t2izoo train shapes-tiny --data shapes --steps 200 --out runs/tiny --batch-size 16
    $ t2izoo train shapes-tiny --data shapes --steps 400 --out runs/tiny --resume
    $ t2izoo train shapes-tiny --out runs/tiny2 --steps 100 generator.ngf=16 --option ndf=16
    $ t2izoo train shapes-cd-attngan --stage 2 --from runs/scd-1/final --steps 2000 --out runs/scd-2
    $ t2izoo train shapes-attngan --recipe damsm --steps 3000 --out runs/damsm --data-opt minimal_pairs=shape
    $ t2izoo train shapes-accuracy --steps 2000 --batch-size 32 --lr 2e-3 --out runs/shapes-clf

A component card that names a ``trainer`` (``shapes-accuracy``, ``shapes-fid``: the shapes
classifier) is trained by that function with --out, --steps, --batch-size, --lr, --seed and the
-O options; ``t2izoo publish DIR --preset NAME`` then pins the result.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a preset with its recipe (Accelerate: CPU, GPU, mixed precision, several processes)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help="preset name, config file (.json/.yaml) or model directory to start from")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the pipeline config (generator.ngf=16)")
    p.add_argument("--data", default="shapes", help="data set name or path (default: shapes)")
    p.add_argument("--data-size", type=int, default=None, help="items of a procedural data set (shapes)")
    p.add_argument("--data-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="data set option (repeatable), e.g. --data-opt minimal_pairs=shape (shapes)")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps to reach")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--batch-size", type=int, default=16, help="samples per micro-batch per process")
    p.add_argument("--lr", type=float, default=None, help="learning rate (recipe option 'lr')")
    p.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default="no")
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    p.add_argument("--sample-every", type=int, default=0, help="write sample grids every K steps (0: at the end)")
    p.add_argument("--save-every", type=int, default=0, help="checkpoint every K steps (0: at the end)")
    p.add_argument("--keep-last", type=int, default=3, help="checkpoints to keep")
    p.add_argument("--log-every", type=int, default=10, help="log losses every K steps")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recipe", default=None, help="a registered recipe name (default: the generator's own)")
    p.add_argument("--stage", default=None, help="stage of a multi-stage recipe (passed as option 'stage')")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="start from the weights of a model directory (e.g. a trained stage 1): every "
                   "component found in DIR is loaded (strict keys), the others stay fresh")
    p.add_argument("--from-partial", action="store_true",
                   help="with --from: DIR's components may lack some of this pipeline's parameters (a model "
                   "grown by a stage, e.g. a 64 px AttnGAN trained on as 64/128 px); those stay fresh and are "
                   "listed. Parameters DIR holds that this pipeline lacks, or of another shape, still fail")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="recipe option (repeatable), e.g. -O ndf=16 -O mismatch_weight=0.5")
    p.add_argument("--num-workers", type=int, default=0, help="data loader worker processes")
    p.add_argument("--num-samples", type=int, default=8, help="captions in each sample grid")
    p.add_argument("--max-length", type=int, default=None, help="cap on caption tokens")
    p.add_argument("--cpu", action="store_true", help="train on CPU even when a GPU is present")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _load_data(name: str, resolutions: list[int] | None, size: int | None, options: dict | None = None):
    from t2izoo.data import check_data_options, load_dataset

    options = dict(options or {})
    try:
        check_data_options(name, options)
    except ValueError as err:
        raise SystemExit(f"--data-opt: {err}") from None
    kwargs = {"split": "train", **options}
    if resolutions:
        kwargs["resolutions"] = tuple(resolutions)
    if size is not None:
        kwargs["size"] = size
    return load_dataset(name, **kwargs)


def _stage_resolutions(pipe) -> list[int] | None:
    """Image sides the generator emits, found by one tiny no-grad forward pass."""
    import torch

    with torch.no_grad():
        text = pipe.encoder.encode(["a"] * 2)
        out = pipe.generator(text, generator=torch.Generator(device=pipe.device).manual_seed(0))
    return sorted({int(img.shape[-1]) for img in out.images})


def _load_from(pipe, directory, *, partial: bool = False) -> list[str]:
    """Load every component of ``pipe`` whose weights ``directory`` holds (strict keys per component).

    With ``partial``, a component's parameters that ``directory`` lacks stay as built (a grown
    model's new stage); each such component is named with its count of fresh tensors and their
    top-level modules. Extra or mis-shaped tensors fail either way.
    """
    from safetensors.torch import load_file

    from t2izoo._persist import load_weights, with_external_weights
    from t2izoo.pipeline import WEIGHTS_NAME
    from t2izoo.training import GrowError, load_grown_state

    if not directory.is_dir():
        raise SystemExit(f"--from {directory}: no such directory (give a model directory, e.g. RUN/final)")
    loaded = []
    for slot, module in pipe.components().items():
        weights = directory / slot / WEIGHTS_NAME
        if not weights.is_file():
            continue
        module.load_assets(directory / slot)
        state = load_file(str(weights), device=str(pipe.device))
        fresh: list[str] = []
        if partial:
            try:
                fresh = load_grown_state(module, with_external_weights(module, state), target=f"this pipeline's {slot}",
                                         source=f"--from {directory}: {slot}/{WEIGHTS_NAME}")
            except GrowError as err:
                raise SystemExit(str(err)) from None
        else:
            try:
                load_weights(module, state, strict=True)
            except RuntimeError as err:  # torch names the mismatched keys and shapes
                hint = ("; if this pipeline grows DIR's model by a stage, add --from-partial"
                        if "Missing key" in str(err) else "")
                raise SystemExit(f"--from {directory}: {slot}/{WEIGHTS_NAME} does not fit this pipeline's "
                                 f"{slot}{hint}: {err}") from None
        tops = sorted({k.split(".")[0] for k in fresh})
        loaded.append(f"{slot} ({len(fresh)} tensors fresh: {', '.join(tops)})" if fresh else slot)
    if not loaded:
        raise SystemExit(f"--from {directory}: it holds no <slot>/{WEIGHTS_NAME} for this pipeline's components")
    return loaded


def _component_trainer(name: str) -> str | None:
    """The ``trainer: module:function`` of a component card, if ``name`` is one."""
    from t2izoo._build import component_card

    card = component_card(name)
    return str(card.extra["trainer"]) if card is not None and card.extra.get("trainer") else None


def _run_component_trainer(spec: str, args: argparse.Namespace) -> int:
    import importlib
    import json

    from t2izoo._config import parse_cli_overrides

    if args.overrides or args.resume or args.from_dir or args.recipe or args.stage:
        raise ValueError(f"{args.name} is trained by {spec}: it takes --out, --steps, --batch-size, --lr, --seed "
                         "and -O KEY=VALUE options, not overrides, --resume, --from, --recipe or --stage")
    module, _, function = spec.partition(":")
    train = getattr(importlib.import_module(module), function)
    options = parse_cli_overrides(args.option)
    if args.lr is not None:
        options["lr"] = args.lr
    record = train(args.out, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                   progress=not args.no_progress, **options)
    print(json.dumps(record, indent=2, default=str))
    print(f"publish it with: t2izoo publish {args.out} --preset {args.name}")
    return 0


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from t2izoo._build import build, build_config
    from t2izoo._config import parse_cli_overrides
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    out = Path(args.out)
    trainer = _component_trainer(args.name)
    if trainer is not None:
        return _run_component_trainer(trainer, args)
    if args.from_partial and args.from_dir is None:
        raise SystemExit("--from-partial needs --from DIR")
    overrides = parse_cli_overrides(args.overrides)
    source = args.name
    if args.resume and (out / "config.json").is_file():
        source = out / "config.json"  # the run's own architecture, whatever the preset says now
    config = build_config(source, overrides)
    options = parse_cli_overrides(args.option)
    if args.lr is not None:
        options["lr"] = args.lr
    if args.stage is not None:
        options["stage"] = args.stage

    torch.manual_seed(args.seed)  # the same initial weights in every process and every run
    pipe = build(config)
    if args.from_dir is not None:
        loaded = _load_from(pipe, Path(args.from_dir), partial=args.from_partial)
        print(f"--from {args.from_dir}: loaded {', '.join(loaded)}")
    recipe = make_recipe(pipe, args.recipe, **options)
    resolutions = recipe.data_resolutions() or _stage_resolutions(pipe)
    dataset = _load_data(args.data, resolutions, args.data_size, parse_cli_overrides(args.data_opt))
    train_cfg = TrainConfig(
        out=out,
        steps=args.steps,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        mixed_precision=args.mixed_precision,
        seed=args.seed,
        sample_every=args.sample_every,
        save_every=args.save_every,
        keep_last=args.keep_last,
        log_every=args.log_every,
        num_samples=args.num_samples,
        num_workers=args.num_workers,
        resume=args.resume,
        cpu=args.cpu,
        progress=not args.no_progress,
    )
    trainer = Trainer(
        pipe, recipe, dataset, train_cfg,
        resolutions=resolutions, max_length=args.max_length,
        run_info={"preset": args.name, "data": args.data, "data_options": args.data_opt,
                  "overrides": args.overrides},
    )
    result = trainer.fit()
    if trainer.is_main:
        print(
            f"trained steps {result.start_step}->{result.start_step + result.steps} in {result.seconds:.1f}s "
            f"({result.steps_per_second:.2f} steps/s); "
            + " ".join(f"{k}={v:.4g}" for k, v in result.last_logs.items())
        )
        if result.final_dir is not None:
            print(f"final model: {result.final_dir}  (t2izoo.build({args.name!r}, pretrained={str(result.final_dir)!r}))")
    return 0
