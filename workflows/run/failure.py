"""A run that stopped on an error keeps a record of it: ``RUN/failed.json``.

A run refused while its data were prepared leaves no run directory (nothing was made in it).
Any later error (a bug's traceback, a disk that filled, a refusal during training or
evaluation) left the run directory with its checkpoints but no word of what happened: it
looked like a run still going on, or one killed. :func:`record_failure` writes
``failed.json``: ``{"status": "failed", "error": "RuntimeError", "message": ..., "time": ...,
"resume": "radpipe run --resume RUN"}``, the message without absolute paths (each becomes the
path below the working directory, or its last part). ``radpipe run`` then ends by naming the
file. ``radpipe run --resume RUN`` says that the run had failed (and why) when it continues,
and removes the record once the run has finished: the run no longer stands failed (a new
failure writes a new one). Nothing else in the run directory is touched.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from pipeline.io_atomic import atomic_write_text

__all__ = [
    "FAILED",
    "RUN_DIR_ENV",
    "announce_run_dir",
    "clear_failure",
    "drop_untrained",
    "failure_path",
    "failure_run_dir",
    "note_earlier_failure",
    "record_failure",
    "restate_failure",
    "write_failure",
]

log = logging.getLogger("radpipe")

FAILED = "failed.json"
#: Set by ``radpipe run --nproc``: the file where rank 0 names its run directory
#: (:func:`announce_run_dir`).
RUN_DIR_ENV = "RADPIPE_RUN_DIR_FILE"
_ATTRIBUTE = "radpipe_failure_record"  # set on the exception: where its record is
_RUN_ATTRIBUTE = "radpipe_failure_run"  # and the run directory it stopped
_ABSOLUTE = re.compile(r"(?<![\w.~])/[^\s,;:'\"()<>]+")


def record_failure(run_dir: Path, err: BaseException) -> Path | None:
    """Write ``run_dir/failed.json`` for ``err`` and return its path (also kept on ``err``,
    :func:`failure_path`). The message has no absolute path (see the module).

    On a full disk or a read-only run directory the record cannot be written: ``None``, and
    ``err`` (the full disk itself, as a rule) is what the run reports, with the run directory
    kept on it (:func:`failure_run_dir`); until 2026-12-03 the record's own ``OSError``
    replaced it, naming ``failed.json`` instead of the checkpoint or report that failed.
    """
    try:
        path = write_failure(run_dir, type(err).__name__, str(err))
    except OSError:
        setattr(err, _RUN_ATTRIBUTE, run_dir)
        return None
    setattr(err, _ATTRIBUTE, path)
    setattr(err, _RUN_ATTRIBUTE, run_dir)
    return path


def failure_run_dir(err: BaseException) -> Path | None:
    """The run directory :func:`record_failure` was given for ``err`` (recorded or not)."""
    found = getattr(err, _RUN_ATTRIBUTE, None)
    return found if isinstance(found, Path) else None


def write_failure(run_dir: Path, error: str, message: str, **extra: Any) -> Path:
    """Write ``run_dir/failed.json``: the ``error`` (a type name), the ``message`` without
    absolute paths, the time and the resume command (``extra`` keys replace or add to
    them); return its path."""
    path = run_dir / FAILED
    record = {
        "status": "failed",
        "error": error,
        "message": _without_absolute_paths(message),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "resume": f"radpipe run --resume {run_dir.name}",
        **extra,
    }
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path


def announce_run_dir(run_dir: Path) -> None:
    """Under ``radpipe run --nproc``, name the run directory in the file ``RUN_DIR_ENV``
    names, as soon as rank 0 has one: if rank 0 is killed before it can record a failure,
    the launcher records it (:mod:`workflows.commands.ddp_launch`). Nothing otherwise."""
    target = os.environ.get(RUN_DIR_ENV)
    if target:
        atomic_write_text(Path(target), str(run_dir.resolve()))


def failure_path(err: BaseException) -> Path | None:
    """The ``failed.json`` that :func:`record_failure` wrote for ``err``, or ``None``."""
    found = getattr(err, _ATTRIBUTE, None)
    return found if isinstance(found, Path) else None


def restate_failure(path: Path, changes: dict[str, Any]) -> None:
    """Rewrite the ``failed.json`` at ``path`` with ``changes`` (its ``message`` without
    absolute paths): what ``radpipe run --nproc`` learnt of the failure after rank 0 wrote
    it (the rank that failed first, the resume command with ``--nproc``). A record that
    cannot be read is left as it is."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(record, dict):
        return
    if "message" in changes:
        changes = {**changes, "message": _without_absolute_paths(str(changes["message"]))}
    atomic_write_text(path, json.dumps({**record, **changes}, indent=2) + "\n")


def note_earlier_failure(run_dir: Path) -> None:
    """Say, when a run is resumed, that it had stopped on an error (its ``failed.json``)."""
    path = run_dir / FAILED
    if not path.is_file():
        return
    try:
        record = json.loads(path.read_text())
        why = f"{record['error']}: {record['message']}"
    except (ValueError, KeyError, TypeError):
        why = "its record cannot be read"
    log.warning("%s had stopped on an error (%s, %s); continuing it", run_dir.name, why, FAILED)


def drop_untrained(run_dir: Path | None) -> bool:
    """Remove a new run directory that a configuration error stopped before any model was
    trained (no checkpoint in it), saying so, and return whether it was removed. Such a run
    (training images of several shapes, a model that cannot take them) was kept with advice
    to fix the cause and resume, which could not work: a resumed run keeps its config."""
    if run_dir is None or not run_dir.is_dir() or any(run_dir.rglob("*.pt")):
        return False
    import shutil

    from workflows.run.paths import shown

    shutil.rmtree(run_dir, ignore_errors=True)
    log.warning("nothing was trained: %s was removed; change the config and run it again",
                shown(run_dir))  # fmt: skip
    return True


def clear_failure(run_dir: Path) -> None:
    """Remove ``failed.json`` once the run has finished (the run no longer stands failed)."""
    (run_dir / FAILED).unlink(missing_ok=True)


def _without_absolute_paths(text: str) -> str:
    """``text`` with each absolute path relative to the working directory when below it,
    else its last part (``.../name``)."""

    def short(match: re.Match[str]) -> str:
        path = Path(match.group(0))
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return f".../{path.name}" if path.name else "..."

    return _ABSOLUTE.sub(short, text)


_PREPARED = {"config.yaml", "truth", "split.csv", "classes.json", "labels_indexed.csv"}


def remove_unstarted(run_dir: Path) -> None:
    """Remove a new run directory whose data preparation failed (nothing else is in it)."""
    if {p.name for p in run_dir.iterdir() if p.name[0] != "."} <= _PREPARED:  # lock aside
        import shutil

        from workflows.run.paths import shown

        shutil.rmtree(run_dir, ignore_errors=True)  # said: its name was printed, unresumable
        log.warning("%s was removed: the run stopped while its data were prepared; once the "
                    "cause is fixed, run it again (nothing to resume)", shown(run_dir))  # fmt: skip
