"""The models a finished run predicts and scores with: one checkpoint per fold.

``radpipe predict``, ``radpipe evaluate`` and the run's own evaluation take a fold's model from
:func:`fold_checkpoint`, and every fold of a cross-validated run from
:func:`run_checkpoints`, before anything is converted. A fold folder that is gone, a fold
whose ``best.pt`` is gone (``last.pt`` is another epoch's model) or whose fitted
preprocessing is gone is refused by name: until 2026-12-02 a missing fold folder ended in a
traceback (``FileNotFoundError: .../fold-1/stages/data.json``) and a missing ``best.pt`` was
replaced by ``last.pt`` without a word, the predictions those of another model than the run's.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import RadpipeError
from workflows.run.paths import resume_command


def _where(folder: Path) -> str:
    """``fold 1`` for ``RUN/folds/fold-1``, else the run directory's name."""
    if folder.parent.name == "folds":
        return f"fold {folder.name.removeprefix('fold-')}"
    return folder.name


def fold_checkpoint(folder: Path) -> Path:
    """The checkpoint a fold is evaluated with: ``best.pt``, else ``last.pt`` when the run
    wrote no ``best.pt`` (its monitor never was a number: ``train_done.json`` records no
    ``best_epoch``).

    Raises
    ------
    RadpipeError
        The fold's folder is missing; its training has not finished (no
        ``train_done.json``): its checkpoints are those of an interrupted run, not the model
        the run makes; or the checkpoint that is the run's model is missing.
    """
    where = _where(folder)
    run_dir = folder.parent.parent if folder.parent.name == "folds" else folder
    resume = resume_command(run_dir)
    if not (folder / "train_done.json").is_file():
        _refuse_while_training(run_dir, where)
    if not folder.is_dir():
        raise RadpipeError(
            f"{where}: its folder {folder.parent.name}/{folder.name} is missing, so the run's "
            "model (the ensemble of every fold) is incomplete; restore the folder, or train "
            f"that fold again with `{resume}`."
        )
    done = folder / "train_done.json"
    if not done.is_file():
        raise RadpipeError(
            f"{where}: training has not finished (no "
            "train_done.json), so its checkpoints are not the run's model; finish it with "
            f"`{resume}`."
        )
    best, last = folder / "checkpoints" / "best.pt", folder / "checkpoints" / "last.pt"
    if best.exists():
        return best
    try:
        best_epoch = json.loads(done.read_text()).get("best_epoch")
    except (ValueError, AttributeError):
        best_epoch = None
    if best_epoch:
        raise RadpipeError(
            f"{where}: checkpoints/best.pt is missing; train_done.json says it holds epoch "
            f"{best_epoch}, the model the run chose, and last.pt is another epoch's model: "
            "restore best.pt (from a copy of the run), or start a new run."
        )
    if not last.exists():
        raise RadpipeError(f"{where}: not trained (last.pt missing in a fold).")
    return last


def _refuse_while_training(run_dir: Path, where: str) -> None:
    """Raise when another process is training the run now: ``radpipe run --resume``, the
    advice for an unfinished run, would be refused by its lock (until 2026-12-03 it was
    given)."""
    from pipeline.lock_holder import held_by
    from workflows.run.rundir import RUN_LOCK

    holder = held_by(run_dir / RUN_LOCK)
    if holder is not None:
        raise RadpipeError(
            f"{where}: training is still in progress ({holder}), so the run has no finished "
            "model yet; wait for that run to end, then run this again."
        )


def run_checkpoints(run_dir: Path, folds: int) -> list[Path]:
    """Every fold's checkpoint (``folds`` 0: the run's own), each fold's fitted preprocessing
    checked to be there too.

    Raises
    ------
    RadpipeError
        As :func:`fold_checkpoint`; or a fold's ``stages/`` (its fitted preprocessing and
        ``data.json``, what its model was built for) is missing.
    CheckpointError
        A fold's checkpoint is cut short, damaged or not a radpipe checkpoint (each is loaded
        once here, so that this is said before any conversion, naming the fold).
    """
    from workflows.train.checkpoint import load_checkpoint

    folders = [run_dir / "folds" / f"fold-{k}" for k in range(folds)] if folds else [run_dir]
    found = []
    for folder in folders:
        found.append(fold_checkpoint(folder))
        load_checkpoint(found[-1], name=f"{_where(folder)}: checkpoints/{found[-1].name}")
        lost = [n for n in ("pipeline.json", "data.json") if not (folder / "stages" / n).is_file()]
        if lost:
            raise RadpipeError(
                f"{_where(folder)}: stages/{lost[0]} (of its fitted preprocessing) is missing, "
                "so its model cannot be applied; restore it, or start a new run."
            )
    return found
