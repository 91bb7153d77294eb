"""``radpipe run --nproc N``: torchrun on this machine, and one clear line when a rank fails.

When one rank failed (a GPU out of memory, a bug), the others lost their peer in the next
collective ("Connection closed by peer") and every rank printed its raw traceback, then
torchrun its own ``ChildFailedError`` report: about 120 lines in which the cause was the
first of two tracebacks. Now each rank that fails leaves a record (what it said, in one
line, and its traceback) in the folder ``RADPIPE_DDP_FAILURES`` names and prints nothing;
:func:`launch` runs torchrun in this process (its ranks keep this terminal) with its agent's
report caught, and says which rank failed first and why, naming the file that keeps the
traceback; ranks that only lost their peers are counted, not shown.

Rank 0 also records the failure in the run directory, ``RUN/failed.json``
(:mod:`workflows.run.failure`), as ``radpipe run`` does; the launcher's last lines name it
(relative to the working directory) and the resume command, as the single-process run's do
(they named neither). When another rank failed first, rank 0 saw only its lost peer: the
record is restated with the cause the launcher found (the rank and what it said), not
"Connection closed by peer".
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.words import counted
from workflows.run.failure import RUN_DIR_ENV

#: Where ``launch`` asks rank 0 to leave the exit code of a run that ended normally (1 when
#: source files failed to convert): torchrun reads any non-zero rank exit as a crash and
#: prints a ``ChildFailedError`` traceback, so the ranks exit 0 and the code travels here.
EXIT_CODE_ENV = "RADPIPE_EXIT_CODE_FILE"
#: The folder where a failing rank leaves ``rank<N>.json`` (see :func:`record_rank_failure`).
FAILURES_ENV = "RADPIPE_DDP_FAILURES"

#: What a rank says when it is another rank that failed (gloo, NCCL, the TCP store).
_LOST_PEER = ("closed by peer", "remote worker", "Connection reset by peer", "Broken pipe",
              "NCCL communicator was aborted", "collective operation timeout")  # fmt: skip


def record_rank_failure(rank: int, world_size: int, err: BaseException) -> bool:
    """Leave rank ``rank``'s failure for :func:`launch`: ``rank<N>.json`` with ``said`` (one
    line: a radpipe error's message, else the exception's class and message), ``lost_peer``
    (a consequence of another rank's failure) and ``traceback``. Returns False (nothing
    written) outside ``radpipe run --nproc``, where the caller says it itself."""
    folder = os.environ.get(FAILURES_ENV)
    if not folder:
        return False
    text = " ".join(str(err).split()) or "no message"
    said = text if isinstance(err, RadpipeError) else f"{type(err).__name__}: {text}"
    import torch.distributed as dist

    from workflows.run.failure import failure_path

    lost = isinstance(err, dist.DistError) or any(s in text for s in _LOST_PEER)
    record = {"rank": rank, "world_size": world_size, "said": said, "lost_peer": lost,
              "error": type(err).__name__, "message": text,
              "traceback": "".join(traceback.format_exception(err))}  # fmt: skip
    run_record = failure_path(err)  # rank 0's RUN/failed.json, when the runner wrote one
    if run_record is not None:
        record["failed_json"] = str(run_record.resolve())
    path = Path(folder) / f"rank{rank}.json"
    atomic_write_text(path, json.dumps(record))  # the launcher reads it whole or not at all
    return True


def check_nproc(nproc: int) -> None:
    """Refuse, before torchrun starts, more processes than this machine can train with: on
    GPUs (NCCL) one process per GPU, on CPU (gloo) at most :data:`MAX_NPROC`; more processes
    than the CPU cores this process may use are warned about (they share the cores: slower,
    not wrong; CI and test machines run 2 processes on fewer cores). ``--nproc 100000``
    started torchrun, which spawned processes until the machine ran out of them or of memory.

    Raises
    ------
    ConfigError
        Naming ``--nproc``, the value and the limit (a usage error: exit code 2).
    """
    from pipeline.errors import ConfigError
    from workflows.run.threads import available_cores

    cores = available_cores()
    import torch  # as torchrun imports it

    if torch.cuda.is_available():
        gpus = torch.cuda.device_count()
        if nproc > gpus:
            raise ConfigError(f"--nproc {nproc}: this machine has {counted(gpus, 'GPU')}, and "
                              "DDP on GPUs (NCCL) trains one process per GPU; give --nproc "
                              f"{gpus} or fewer.")  # fmt: skip
        return
    if nproc > MAX_NPROC:
        raise ConfigError(f"--nproc {nproc}: without a GPU, DDP on CPU (gloo) starts at most "
                          f"{MAX_NPROC} processes; give --nproc {min(cores, MAX_NPROC)} (the "
                          "CPU cores this process may use) or fewer.")  # fmt: skip
    if nproc > cores:
        logging.getLogger("radpipe").warning(
            "--nproc %d: %d processes share %s and no GPU: training is slower than with "
            "--nproc %d, not wrong.",
            nproc,
            nproc,
            counted(cores, "CPU core"),
            cores,
        )


#: The most local DDP processes ``radpipe run --nproc`` starts without GPUs.
MAX_NPROC = 64


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``torchrun --standalone --nproc-per-node NPROC -m workflows.commands.train_ddp
    ARGV`` on this machine; returns the run's exit code: 1 when a rank failed (said in one
    line on standard error), else the one rank 0 left in the file ``RADPIPE_EXIT_CODE_FILE``
    names (0 when none)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    args = parse_args(["--standalone", f"--nproc-per-node={nproc}", "-m",
                       "workflows.commands.train_ddp", *argv])  # fmt: skip
    failures = Path(tempfile.mkdtemp(prefix="radpipe-ddp-"))
    exit_file = failures / "exit_code"
    saved = {k: os.environ.get(k) for k in (EXIT_CODE_ENV, FAILURES_ENV, RUN_DIR_ENV)}
    os.environ[EXIT_CODE_ENV], os.environ[FAILURES_ENV] = str(exit_file), str(failures)
    os.environ[RUN_DIR_ENV] = str(failures / "run_dir")  # rank 0 names its run directory
    # the agent's 'failed (exitcode: 1)' and 'closing signal' lines, and its OMP banner
    quiet = [logging.getLogger(n) for n in ("torch.distributed.elastic", "torch.distributed.run")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.CRITICAL)
    try:
        run(args)
        text = exit_file.read_text().strip() if exit_file.is_file() else "0"
    except ChildFailedError as err:
        records = [json.loads(p.read_text()) for p in sorted(failures.glob("rank*.json"))]
        said, cause = _failed(err, records, failures)
        print(f"radpipe run: error: {said}", file=sys.stderr)
        for line in _run_record(records, cause, nproc, failures / "run_dir"):
            print(line, file=sys.stderr)
        return 1
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        discard_scratch(failures)  # also on Ctrl-C or SIGTERM (torchrun's SignalException)
    return int(text) if text.isdigit() else 1


def discard_scratch(failures: Path) -> None:
    """Remove the launch's folder ``failures`` (rank records, exit code), unless the error
    line points to a rank's traceback written there. An interrupted or killed run left one
    ``radpipe-ddp-*`` folder in the temporary directory each time until 2026-12-03."""
    if not any(failures.glob("rank*.traceback.txt")):
        shutil.rmtree(failures, ignore_errors=True)


def _failed(
    err: BaseException, records: list[dict[str, Any]], failures: Path
) -> tuple[str, dict[str, Any]]:
    """Which rank failed first and what it said (one line; the traceback stays in
    ``failures``), and that cause as ``failed.json`` states one (``error``, ``message``, and
    ``rank``)."""
    first = sorted(records, key=lambda r: (r["lost_peer"], r["rank"]))
    if first and not first[0]["lost_peer"]:
        cause = first[0]
        trace = failures / f"rank{cause['rank']}.traceback.txt"
        atomic_write_text(trace, cause["traceback"])
        lost = sum(r["lost_peer"] for r in records)
        others = f"; {counted(lost, 'other rank')} stopped with it" if lost else ""
        said = (f"DDP rank {cause['rank']} of {cause['world_size']} failed: {cause['said']}"
                f"{others} (its traceback: {trace})")  # fmt: skip
        text = cause.get("message", cause["said"])
        return said, {"rank": cause["rank"], "error": cause.get("error", "Exception"),
                      "message": f"DDP rank {cause['rank']}: {text}"}  # fmt: skip
    rank, failure = err.get_first_failure()  # type: ignore[attr-defined]
    how = (f"signal {failure.signal_name()}" if failure.exitcode < 0
           else f"exit code {failure.exitcode}")  # fmt: skip
    said = (
        f"DDP rank {rank} ended with {how} before it could say why (killed: out of "
        "memory, or by a signal?); the other ranks stopped with it"
    )
    return said, {"rank": rank, "error": type(err).__name__, "message": said}


def _run_record(
    records: list[dict[str, Any]], cause: dict[str, Any], nproc: int, announced: Path
) -> list[str]:
    """The closing lines that name the run's ``failed.json`` (relative to the working
    directory) and the command that resumes it, as ``radpipe run`` ends.

    Rank 0 wrote the record (``failed_json`` in its rank record): it is restated with
    ``cause`` when another rank failed first (rank 0 then saw only its lost peer), and its
    ``resume`` gets ``--nproc``. Rank 0 left no rank record at all (killed: out of memory,
    or stopped by torchrun once another rank failed) while its run directory, which it named
    in ``announced``, exists: the record is written here. ``[]`` otherwise (no run directory,
    or rank 0 chose not to record: a refused resume)."""
    from workflows.run.failure import restate_failure, write_failure
    from workflows.run.paths import resume_command, said

    resume = f"radpipe run --nproc {nproc} --resume"
    by_rank = {r["rank"]: r for r in records}
    first = by_rank.get(0, {}).get("failed_json")
    if first and Path(first).is_file():
        path = Path(first)
        changes = {"resume": f"{resume} {path.parent.name}"}
        if cause["rank"] != 0:  # rank 0 saw its peer go: the cause is another's
            changes |= {"error": cause["error"], "message": cause["message"],
                        "rank": cause["rank"]}  # fmt: skip
        restate_failure(path, changes)
    elif 0 not in by_rank and announced.is_file() and Path(announced.read_text()).is_dir():
        run_dir = Path(announced.read_text())
        path = write_failure(run_dir, cause["error"], cause["message"],
                             resume=f"{resume} {run_dir.name}", rank=cause["rank"])  # fmt: skip
    else:
        return []
    return [
        f"radpipe run: the run stopped; {said(path)} records what happened. Once the cause "
        "is fixed, continue it with:",
        f"  {resume_command(path.parent, nproc)}",
    ]


__all__ = ["EXIT_CODE_ENV", "FAILURES_ENV", "discard_scratch", "launch", "record_rank_failure"]
