"""``radpipe run`` with DDP training: ``torchrun --nproc-per-node N -m workflows.train_ddp CONFIG``.

The same pipeline as :func:`workflows.runner.run_study`, with the work split this way:

- rank 0 alone creates the run directory, converts (or reuses the cached conversion; with
  ``compute.scheduler`` on Dask), writes ``split.csv`` and fits the preprocessing on the
  training split; the other ranks wait at a barrier, then read all of it from the run
  directory (the file system is the channel, so nodes need a shared file system);
- every rank trains its shard of each epoch (:mod:`workflows.distributed.ddp`); validation
  metrics are reduced by summing confusion counts; only rank 0 writes checkpoints and the log;
- rank 0 evaluates on the test split and writes ``metrics.json`` and the report.

``train.batch_size`` stays the *global* batch, so the outputs do not depend on the number of
processes. Resume with ``--resume RUN``, as with ``radpipe run``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.stage import Pipeline
from workflows.config import RunConfig, dump_config
from workflows.distributed.ddp import DistributedContext, destroy_distributed, init_distributed
from workflows.rundir import new_run_dir, write_provenance
from workflows.runner import (
    RunOutcome,
    build_model,
    fitted_preprocessing,
    fold_dir,
    headline,
    split_keys,
    train_config,
)
from workflows.study import Study, make_dataset, prepare_study


def run_study_ddp(
    config: RunConfig, ctx: DistributedContext, *, run_dir: Path | None = None,
    progress: bool = True,
) -> RunOutcome | None:  # fmt: skip
    """Run (or resume) the study on every rank; rank 0 returns the outcome, others ``None``."""
    resume = run_dir is not None
    if ctx.is_main:
        if run_dir is None:
            run_dir = new_run_dir(config.output, config.name)
            atomic_write_text(run_dir / "config.yaml", dump_config(config))
        study = prepare_study(config, run_dir, progress=progress)
        write_provenance(
            run_dir,
            seed=config.seed,
            fingerprint=study.fingerprint,
            extra={
                "reused_conversion": study.reused_conversion,
                "conversion": str(study.root),
                "failed_files": len(study.failures),
                "world_size": ctx.world_size,
                "backend": ctx.backend,
            },
        )
    run_dir = Path(ctx.broadcast(None if run_dir is None else str(run_dir)))
    ctx.barrier()  # rank 0 has converted and split: the others read its results
    if not ctx.is_main:
        study = prepare_study(config, run_dir, progress=False)
    resolved = json.loads(config.model_dump_json())
    folds = range(config.split.folds) if config.split.folds else [None]
    checkpoints = [_train_fold(config, study, run_dir, fold, resolved, resume, progress, ctx)
                   for fold in folds]  # fmt: skip
    outcome = None
    if ctx.is_main:
        from workflows.evaluate import evaluate_run

        metrics = evaluate_run(config, study, run_dir, checkpoints)
        if config.report.enabled:
            from workflows.report import write_report

            write_report(run_dir, title=config.name)
        outcome = RunOutcome(run_dir=run_dir, metrics=metrics, headline=headline(metrics),
                             reused_conversion=study.reused_conversion)  # fmt: skip
    ctx.barrier()
    return outcome


def _train_fold(
    config: RunConfig, study: Study, run_dir: Path, fold: int | None, resolved: dict[str, Any],
    resume: bool, progress: bool, ctx: DistributedContext,
) -> Path:  # fmt: skip
    """:func:`workflows.runner._train_fold` with rank 0 fitting and writing, all ranks training."""
    from workflows.checkpoint import seed_everything
    from workflows.infer import init_from_checkpoint
    from workflows.train import train

    folder = fold_dir(run_dir, fold)
    keys = split_keys(study, fold)
    best = folder / "checkpoints" / "best.pt"
    if resume and (folder / "train_done.json").exists():
        return best
    if ctx.is_main:
        fitted_preprocessing(config, study, folder, keys["train"])
    ctx.barrier()
    prep, info = fitted_preprocessing(config, study, folder, keys["train"])  # loads rank 0's
    augment = Pipeline.from_config(config.augment)
    cache = config.output / ".cache" / "samples"
    train_ds = make_dataset(study, config, keys["train"], Pipeline(prep.steps + augment.steps),
                            cache=cache, folder=folder)  # fmt: skip
    val_ds = (make_dataset(study, config, keys["val"], prep, cache=cache, folder=folder)
              if keys["val"] else None)  # fmt: skip
    seed_everything(config.seed)  # the same initial weights on every rank
    model = build_model(config.model, info["shape"], info["num_classes"])
    if config.train.init_from:
        init_from_checkpoint(model, config.train.init_from, freeze=config.train.freeze)
    tc = dataclasses.replace(train_config(config), progress=progress and ctx.is_main)
    if tc.device == "auto" or (tc.device == "cuda") != (ctx.device.type == "cuda"):
        tc = dataclasses.replace(tc, device=ctx.device.type)
    result = train(model, train_ds, val_ds, tc, folder, {**resolved, "fold": fold},
                   resume=resume and (folder / "checkpoints" / "last.pt").exists(),
                   distributed=ctx)  # fmt: skip
    if not best.exists():
        best = folder / "checkpoints" / "last.pt"
    if ctx.is_main:
        atomic_write_text(folder / "train_done.json",
                          json.dumps({"best_epoch": result.best_epoch, "epochs": result.epochs_run,
                                      "stopped_early": result.stopped_early,
                                      "world_size": ctx.world_size}))  # fmt: skip
    ctx.barrier()
    return best


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``torchrun --standalone --nproc-per-node NPROC -m workflows.train_ddp ARGV`` on this
    machine (``radpipe run --nproc N``); returns its exit code."""
    import subprocess

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={nproc}", "-m", "workflows.train_ddp", *argv]  # fmt: skip
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun ... -m workflows.train_ddp",
        description="radpipe run with DDP training; launch with torchrun (one process per "
        "device). Rank 0 converts, splits, fits, evaluates and writes; all ranks train.",
    )
    p.add_argument("config", nargs="?", help="YAML config (see configs/)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value (repeatable)",
    )
    p.add_argument("--resume", metavar="RUN", type=Path, help="resume an interrupted run")
    p.add_argument(
        "--backend",
        choices=["auto", "gloo", "nccl"],
        default="auto",
        help="auto: nccl with CUDA, else gloo",
    )
    p.add_argument(
        "--timeout-s",
        type=float,
        default=1800.0,
        help="how long ranks wait for each other, e.g. while rank 0 converts (1800)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _load(args: argparse.Namespace) -> RunConfig:
    from workflows.config import load_config
    from workflows.runner import load_run_config

    if bool(args.config) == bool(args.resume):
        raise ConfigError("give either a CONFIG or --resume RUN")
    if args.resume:
        if args.overrides:
            raise ConfigError("--set cannot change a run being resumed")
        return load_run_config(args.resume)
    return load_config(args.config, args.overrides)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m workflows.train_ddp`` under torchrun; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = _load(args)  # every rank validates: a bad config fails before joining
        ctx = init_distributed(args.backend, timeout_s=args.timeout_s)
    except ConfigError as err:
        print(f"workflows.train_ddp: config error: {err}", file=sys.stderr)
        return 2
    try:
        from workflows.logs import setup_logging

        if ctx.is_main:
            setup_logging()
        outcome = run_study_ddp(config, ctx, run_dir=args.resume, progress=not args.quiet)
        if outcome is not None:
            from workflows.commands.run import print_outcome

            print_outcome(outcome)
        return 0
    except RadpipeError as err:
        print(f"workflows.train_ddp (rank {ctx.rank}): error: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1
    finally:
        destroy_distributed()


if __name__ == "__main__":
    sys.exit(main())
