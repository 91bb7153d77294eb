"""``radpipe run`` with DDP training.

``torchrun --nproc-per-node N -m workflows.commands.train_ddp CONFIG``.

The same pipeline, :func:`workflows.run.runner.run_study` with a distributed context; the work
is split this way:

- rank 0 alone creates the run directory, converts (or reuses the cached conversion; with
  ``compute.scheduler`` on Dask), writes ``split.csv`` and fits the preprocessing on the
  training split; the other ranks wait at a barrier, then read all of it from the run
  directory (the file system is the channel, so nodes need a shared file system);
- every rank trains its shard of each epoch (:mod:`workflows.train.ddp`); validation
  metrics are reduced by summing confusion counts; only rank 0 writes checkpoints and the log;
- rank 0 evaluates on the test split and writes ``metrics.json`` and the report.

``train.batch_size`` stays the *global* batch, so the outputs do not depend on the number of
processes. Resume with ``--resume RUN``, as with ``radpipe run``.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import ConfigError, RadpipeError
from workflows.commands.ddp_launch import record_rank_failure
from workflows.commands.run import add_study_arguments, load_study_config
from workflows.run.runner import run_study
from workflows.train.ddp import destroy_distributed, init_distributed
from workflows.train.epoch import TrainingDiverged


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun ... -m workflows.commands.train_ddp",
        description="radpipe run with DDP training; launch with torchrun (one process per "
        "device). Rank 0 converts, splits, fits, evaluates and writes; all ranks train.",
    )
    add_study_arguments(p)
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
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m workflows.commands.train_ddp`` under torchrun.

    Returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = load_study_config(args)  # every rank validates: a bad config fails before joining
        ctx = init_distributed(args.backend, timeout_s=args.timeout_s)
    except ConfigError as err:
        print(f"workflows.commands.train_ddp: config error: {err}", file=sys.stderr)
        return 2
    try:
        from workflows.commands.logs import setup_logging

        if ctx.is_main:
            setup_logging()
        outcome = run_study(config, run_dir=args.resume, progress=not args.quiet, ctx=ctx)
        if outcome is not None:
            from workflows.commands.run import print_outcome

            print_outcome(outcome)
            return _normal_end(1 if outcome.failed_files else 0)
        return 0
    except TrainingDiverged as err:  # every rank at the same epoch: weights and losses shared
        if ctx.is_main:
            print(f"workflows.commands.train_ddp: error: {err}", file=sys.stderr)
        return _normal_end(1, main=ctx.is_main)
    except RadpipeError as err:
        if not record_rank_failure(ctx.rank, ctx.world_size, err):  # else radpipe run says it once
            print(f"workflows.commands.train_ddp (rank {ctx.rank}): error: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1
    except Exception as err:  # one rank's failure: said once by radpipe run, no tracebacks
        if not record_rank_failure(ctx.rank, ctx.world_size, err):
            raise
        return 1
    finally:
        destroy_distributed()


def _normal_end(code: int, *, main: bool = True) -> int:
    """A rank's exit code when every rank ended together (the run's end; training stopped
    on a divergence); under ``radpipe run --nproc`` rank 0 writes it to the file ``launch``
    named and every rank exits 0, so torchrun does not report the run's intended exit code
    (1: files failed to convert, or training diverged) as a crashed process."""
    import os

    from workflows.commands.ddp_launch import EXIT_CODE_ENV

    target = os.environ.get(EXIT_CODE_ENV)
    if not target:
        return code
    if not main or code == 0:
        return 0
    from pipeline.io_atomic import atomic_write_text

    atomic_write_text(target, f"{code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
