"""``radpipe run``: a configured pipeline end to end, from DICOM to report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows.commands import positive_int, thread_count

if TYPE_CHECKING:
    from workflows.run.config import RunConfig


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a configured pipeline: convert, split, preprocess, train, evaluate, report",
        description="Run the study a YAML config describes, from a DICOM folder (or converted "
        "images) to a trained model, metrics.json and report.html in a new run directory. "
        "The conversion is cached and reused by runs with the same data and options.",
    )
    add_study_arguments(p)
    p.add_argument(
        "--nproc",
        type=positive_int,
        default=1,
        metavar="N",
        help="train with DDP on N local processes (launches torchrun): at most one per GPU, "
        "or without GPUs one per CPU core (at most 64)",
    )
    p.set_defaults(func=run)


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """CONFIG, ``--set``, ``--resume`` and ``--quiet``; shared with
    :mod:`workflows.commands.train_ddp`."""
    p.add_argument("config", nargs="?", help="YAML config (see configs/)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value (repeatable)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN",
        type=Path,
        help="resume an interrupted run directory (uses its saved config)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--threads",
        type=thread_count,
        metavar="N",
        help="torch threads per training process (compute.threads; also with --resume); "
        "default: the cores divided among the ranks and their DataLoader workers",
    )


def load_study_config(args: argparse.Namespace) -> RunConfig:
    """The validated config: from CONFIG and ``--set``, or the one saved in ``--resume RUN``."""
    from pipeline.errors import ConfigError
    from workflows.run.config import load_config

    if bool(args.config) == bool(args.resume):
        raise ConfigError("give either a CONFIG or --resume RUN")
    if not args.resume:
        config = load_config(args.config, args.overrides)
    elif args.overrides:
        from pathlib import Path

        from workflows.run.config_edits import TOLD

        raise ConfigError(
            f"--set cannot change a run being resumed ({', '.join(args.overrides)}): --resume "
            f"takes the run's own {Path(args.resume).name}/config.yaml, where an edit of "
            f"{', '.join(TOLD)} is used; the other settings made its split, fitted stages and "
            "checkpoints: start a new run to change them (--threads is taken with --resume)"
        )
    else:
        from workflows.run.rundir import load_run_config

        config = load_run_config(args.resume)
    if args.threads is not None:  # speed only: allowed on resume too
        config.compute.threads = args.threads
    return config


def run(args: argparse.Namespace) -> int:
    if args.nproc > 1:  # the same run, DDP training under torchrun (workflows.commands.train_ddp)
        argv = [args.config] if args.config else ["--resume", str(args.resume)]
        argv += [f"--set={o}" for o in args.overrides] + (["--quiet"] if args.quiet else [])
        argv += [f"--threads={args.threads}"] if args.threads else []
        from workflows.commands.ddp_launch import check_nproc, launch

        check_nproc(args.nproc)  # before torchrun starts a process
        return launch(args.nproc, argv)
    config = load_study_config(args)
    from workflows.run.checks import check_before_run

    check_before_run(config, args.resume)  # a refusal before torch and the runner are imported
    from workflows.run.runner import RunInterrupted, run_study

    try:
        with _stop_on_sigterm() as terminated:
            outcome = run_study(config, run_dir=args.resume, progress=not args.quiet,
                                inputs_checked=True)  # fmt: skip
    except RunInterrupted as stop:
        from workflows.run.paths import resume_command  # no absolute local path

        resume = resume_command(stop.run_dir)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        print(f"\n{what}; continue with:\n  {resume}", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as err:
        return _stopped(err)
    print_outcome(outcome)
    return 1 if outcome is not None and outcome.failed_files else 0


def _stopped(err: Exception) -> int:
    """The end of a run that stopped on ``err`` with its run directory kept: the error (a
    traceback for a bug; one line for a full disk or an output that cannot be written), then,
    last, the ``failed.json`` that records it and how to go on. Re-raises ``err`` when the
    runner kept no run directory (``main`` reports it)."""
    import traceback

    from pipeline.errors import ConfigError, RadpipeError
    from workflows.commands.os_errors import os_error_words
    from workflows.run.failure import failure_path, failure_run_dir
    from workflows.run.paths import resume_command, said

    record, run_dir = failure_path(err), failure_run_dir(err)
    if run_dir is None:
        raise err
    words = os_error_words(err)
    if words is not None:  # a full disk: the file and the reason, not a traceback
        print(f"radpipe run: error: {words}", file=sys.stderr)
    elif isinstance(err, RadpipeError):
        what = "config error" if isinstance(err, ConfigError) else "error"
        print(f"radpipe run: {what}: {err}", file=sys.stderr)
    else:
        traceback.print_exception(err)
    resume = resume_command(run_dir)
    told = f"{said(record)} records what happened" if record is not None else (
        "its failed.json could not be written either")  # fmt: skip
    print(f"radpipe run: the run stopped; {told}. Once the cause is fixed, continue it "
          f"with:\n  {resume}", file=sys.stderr)  # fmt: skip
    return 2 if isinstance(err, ConfigError) else 1


@contextmanager
def _stop_on_sigterm() -> Iterator[list[int]]:
    """While the run lasts, SIGTERM (a batch scheduler's preemption, ``kill``) stops it as
    Ctrl-C does: the last finished epoch's checkpoint is written and the resume command
    printed. Yields a list that gets the signal number once one arrived."""
    import signal
    import threading

    got: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        got.append(signum)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_outcome(outcome: Any) -> None:
    """The run directory, its report and test figures (or why there are none), and the
    files that could not be converted (the run then exits 1)."""
    from pipeline.words import counted
    from workflows.run.paths import shown
    from workflows.run.summary import headline_text, positive_class_of, printed_notes

    positive = positive_class_of(outcome.metrics) if outcome.metrics else None
    figures = headline_text(outcome.headline, positive)

    cached = " (reused the cached conversion)" if outcome.reused_conversion else ""
    run_dir = shown(outcome.run_dir)
    print(f"run directory: {run_dir}{cached}")
    if outcome.metrics:
        written = (outcome.run_dir / "report.html").is_file()
        print(f"report:        {run_dir / 'report.html' if written else 'off (report.enabled)'}")
        print(f"test metrics:  {figures}")
        for why in printed_notes(outcome.metrics):
            print(f"               {why}")
    else:
        how = (
            "evaluate and predict read DICOM only: to score images, run again with them "
            "marked 'test' in split.column"
            if outcome.kind == "images"
            else f"score the run on a labelled folder with `radpipe evaluate {run_dir} SRC "
            "--labels CSV`"
        )
        print(f"test metrics:  none: {outcome.no_test} (no internal test set); {how}")
    if outcome.failed_files:
        errors = shown(outcome.conversion / "errors.csv") if outcome.conversion else "errors.csv"
        n = outcome.failed_files
        print(f"{counted(n, 'source file')} could not be converted and "
              f"{'was' if n == 1 else 'were'} left out; "
              f"see {errors}", file=sys.stderr)  # fmt: skip
    sys.stdout.flush()
