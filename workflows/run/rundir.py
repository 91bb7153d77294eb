"""The run directory: where one ``radpipe run`` keeps everything it made.

``runs/NAME-TIMESTAMP/``: ``config.yaml`` (resolved), ``provenance.json`` (versions, seed,
git commit, input fingerprint), ``index.csv``, ``split.csv``, ``stages/``, ``checkpoints/``,
``log.jsonl``, ``metrics.json``, ``report.html``, ``plots/``.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipeline.errors import ConfigError
from pipeline.keys import SECRET_ENV

if TYPE_CHECKING:
    from workflows.run.config import RunConfig

log = logging.getLogger("radpipe")

#: Held while a run prepares, trains and evaluates (:func:`hold_run`); its holder is recorded
#: in ``RUN/.radpipe-run.holder.json`` (:mod:`pipeline.lock_holder`).
RUN_LOCK = ".radpipe-run.lock"


def new_run_dir(output: Path, name: str) -> Path:
    """A fresh ``output/NAME-YYYYmmdd-HHMMSS`` folder (a suffix keeps it unique)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = output / f"{name}-{stamp}"
    output.mkdir(parents=True, exist_ok=True)
    path, n = base, 1
    while True:  # mkdir is atomic: of two runs started in the same second, one gets "-2"
        try:
            path.mkdir()
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")
            continue
        from pipeline.dicom.walk import mark_results

        mark_results(path)  # never read as input, should `output` lie inside data.source
        return path


def fingerprint_files(root: Path, paths: Iterable[Path]) -> str:
    """A hash of the relative names and the stat facts git's index uses to see a rewrite.

    Size, modification time, status-change time and inode of each file: a file rewritten
    with its size and mtime restored (``cp -p``, ``rsync -a`` over a changed file) still gets
    a new ctime (which no user call can set back), and a replaced file a new inode. Cheap (no
    file contents are read) and stable across runs on unchanged input.
    """
    from workflows.convert.changes import stat_facts

    digest = hashlib.sha256()
    for p in sorted(paths):
        facts = "\0".join(map(str, stat_facts(p)))
        digest.update(
            f"{p.relative_to(root).as_posix()}\0{facts}\n".encode(
                errors="surrogateescape"  # a name that is not UTF-8 still has its bytes
            )
        )
    return digest.hexdigest()[:20]


def truth_fingerprint(paths: Iterable[Path | None]) -> str:
    """A hash of the contents of the ground-truth CSVs (``data.labels``, ``data.masks``;
    ``None`` for one not set): small files, so read whole."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(b"-" if p is None else hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()[:20]


def mask_files_fingerprint(
    masks_csv: Path | None, image_rows: Mapping[str, list[dict[str, str]]], root: Path
) -> str:
    """A hash of the names and contents of every mask file a run reads.

    The files a DICOM run's masks CSV names (``masks_csv``: the run's resolved one, keyed by
    instance, whatever keys the user's CSV used), or the ``mask`` cells of an images run's list
    CSV: ``truth_fingerprint`` sees a CSV's text only, not a mask corrected behind it. The
    bytes are hashed (masks are small, and training reads them anyway), so a copied or
    chmod-ed mask folder with the same contents is the same.
    """
    from pipeline.data.io import csv_path, read_masks_csv

    if masks_csv is not None:
        files = sorted(set(read_masks_csv(masks_csv).values()))
    else:
        cells = {r["mask"] for rows in image_rows.values() for r in rows if r.get("mask")}
        files = [csv_path(root, cell) for cell in sorted(cells)]
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.fsencode(path) + b"\0")
        try:
            with path.open("rb") as fh:
                digest.update(hashlib.file_digest(fh, "sha256").digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:20]


def check_resume_inputs(
    run_dir: Path,
    fingerprint: str,
    truth: str,
    conversion: Path | None = None,
    mask_files: str | None = None,
) -> None:
    """Refuse to resume ``run_dir`` when its source files or ground-truth CSVs differ from
    those it started with (``provenance.json``): the split, the fitted stages and the
    checkpoints belong to the old data, and going on would mix two versions of it.

    The source fingerprint is of stat facts (names, sizes, times, inodes: no file is read),
    so a folder copied again or chmod-ed has another one with the same contents. Then the
    conversion made now (``conversion``) is compared with the run's own, byte for byte: the
    same outputs (and manifest, index and errors) mean the same data, and the run resumes,
    saying why its data were converted again.

    Raises
    ------
    RadpipeError
        What changed, and that a new run is the way on.
    """
    from pipeline.errors import RadpipeError
    from workflows.run.provenance import read_provenance
    from workflows.run.seen import key_problem

    old = read_provenance(run_dir)  # read once
    if old is None:
        return  # stopped before its provenance was written: nothing was made from the data
    secret = key_problem(old.keys)
    if secret is not None:
        raise RadpipeError(
            f"Cannot resume {run_dir.name}: {secret}. Set {SECRET_ENV} to the secret file the "
            "run was made with, and resume again."
        )
    changed = []
    if old.input_fingerprint not in (None, fingerprint):
        before = run_dir / (old.conversion or "")
        differs = (same_conversion(before, conversion) if conversion and old.conversion
                   else "the run's conversion is not recorded")  # fmt: skip
        if differs is None:
            log.warning(
                "resuming %s: the files of data.source have new times or inodes since it started "
                "(copied, restored or chmod-ed; fingerprint %s, now %s), so they were converted "
                "again; the conversion is the same as the run's, byte for byte",
                run_dir.name, old.input_fingerprint, fingerprint,
            )  # fmt: skip
        else:
            changed.append("the files of data.source were added, removed or rewritten "
                           f"(fingerprint {old.input_fingerprint}, now {fingerprint}; "
                           f"converted again: {differs})")  # fmt: skip
    if old.truth_fingerprint not in (None, truth):
        changed.append("the data.labels or data.masks CSV changed")
    if old.mask_files_fingerprint not in (None, mask_files):
        changed.append("mask files its masks CSV names were added, removed or rewritten")
    if changed:
        raise RadpipeError(
            f"Cannot resume {run_dir.name}: since it started, {'; '.join(changed)}. Its split, "
            "fitted preprocessing and checkpoints were made from the old data; start a new "
            "run (radpipe run CONFIG), or restore the data as it was."
        )


def same_conversion(old: Path, new: Path) -> str | None:
    """``None`` when two conversion folders hold the same files (hidden ones aside: stat
    facts, marks, locks) with the same bytes; else the first difference, in words."""
    import filecmp

    if not (old / "manifest.csv").is_file():
        return "the run's conversion is gone, so the data cannot be compared"
    if old.resolve() == new.resolve():
        return None
    names = [_visible(root) for root in (old, new)]
    if names[0] != names[1]:
        odd = sorted(names[0] ^ names[1])[0]
        return f"{odd} is in one conversion only"
    for name in sorted(names[0]):
        if not filecmp.cmp(old / name, new / name, shallow=False):
            return f"{name} differs"
    return None


def _visible(root: Path) -> set[str]:
    """The files under ``root`` (relative), those whose path has a part starting with '.'
    aside."""
    found = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return {p.as_posix() for p in found if not any(part.startswith(".") for part in p.parts)}


@contextmanager
def hold_run(run_dir: Path | None) -> Iterator[None]:
    """Hold ``RUN/.radpipe-run.lock`` (the ``filelock`` package) while a run prepares,
    trains and evaluates; ``None`` (a DDP rank other than 0) holds nothing.

    Raises
    ------
    RadpipeError
        Another process holds it: a second ``radpipe run --resume RUN`` while the run (or
        another resume of it) still goes on would train the same run twice at once, both
        writing its checkpoints, ``log.jsonl`` and ``metrics.json``.
    """
    from pipeline.lock_holder import holding

    if run_dir is None:
        yield
        return
    name = run_dir.name

    def busy(holder: str) -> str:
        return (f"{name} is in use by another radpipe run ({holder}; it holds "
                f"{RUN_LOCK}): wait for it to finish or stop it (Ctrl-C), then resume; two "
                "processes on one run would write the same checkpoints and log.")  # fmt: skip

    with holding(run_dir / RUN_LOCK, busy):
        yield


#: Held while ``radpipe predict`` or ``evaluate`` writes into its ``--out`` (:func:`hold_output`).
OUT_LOCK = ".radpipe-out.lock"
_WAIT = (f"{OUT_LOCK}): wait for it to end, or give another --out (a process stopped "
         "holds the lock no longer: run this again).")  # fmt: skip


@contextmanager
def hold_output(out: Path, own: str) -> Iterator[None]:
    """Claim ``out`` (:func:`claim_output`) and hold ``OUT/.radpipe-out.lock`` while
    ``radpipe predict`` or ``evaluate`` writes there (``own``: its own file there); first
    remove the temporaries a killed writer left.

    Held, no other predict or evaluate writes into ``out``, so a hidden
    ``.NAME.PID-N-HEX.tmp*`` file there whose process has ended is a dead writer's (a ``kill
    -9`` or a crash while a mask or ``predictions.csv`` was written) and is removed, not left
    for good (``converted/`` and ``.cache/`` aside: a conversion's lock guards them).

    Raises
    ------
    RadpipeError
        At once, naming the holder, when another process writes into ``out``: two
        predictions into one folder would mix their masks, and ``predictions.csv`` would be
        the last one's while the masks are of both.
    """
    from pipeline.lock_holder import holding
    from workflows.run.paths import shown

    claim_output(out, own)
    out.mkdir(parents=True, exist_ok=True)

    said = f"another radpipe predict or evaluate is writing into {shown(out)} ("
    with holding(out / OUT_LOCK, lambda holder: f"{said}{holder}; it holds {_WAIT}"):
        _remove_dead_temporaries(out)
        yield


def _remove_dead_temporaries(out: Path) -> None:
    """Remove the hidden temporaries under ``out`` (``converted/``, ``.cache/`` aside) whose
    writer has ended (:func:`pipeline.io_atomic.remove_orphaned_temporaries`): with ``out``
    held, a dead predict's or evaluate's; a live process's (an ``--out`` inside a run that a
    resume writes into) is kept."""
    from pipeline.io_atomic import remove_orphaned_temporaries

    for folder, dirs, _ in os.walk(out):
        if Path(folder) == out:
            dirs[:] = [d for d in dirs if d not in ("converted", ".cache")]
        remove_orphaned_temporaries(folder)


def claim_output(out: Path, own: str) -> None:
    """Mark ``out`` (``--out`` of ``predict``/``evaluate``) as radpipe's results, never read as
    input (``--out SRC/predictions``), when radpipe makes it, finds it empty or finds its own
    file ``own`` there; a folder holding other files of the user is left unmarked."""
    from pipeline.dicom.walk import mark_results

    if not out.exists() or not any(out.iterdir()) or (out / own).exists():
        mark_results(out)


def source_dir(run_dir: Path, prefix: str, src: Path) -> Path:
    """``RUN/<prefix>-<key>``, the key a hash of SRC's absolute path: the default output of
    ``radpipe predict`` and ``evaluate``, one folder per SRC (the same SRC again reuses it)."""
    from pipeline.keys import hash_key

    return run_dir / f"{prefix}-{hash_key(str(src.resolve()), length=8)}"


def fold_dir(run_dir: Path, fold: int | None) -> Path:
    return run_dir if fold is None else run_dir / "folds" / f"fold-{fold}"


def split_index_values(run_dir: Path, column: str) -> set[str]:
    """The non-empty values of ``index.csv``'s ``column`` over the series the run split
    (``split.csv``: trained, validated and tested on); empty when the run has no index
    (image folders) or the column is not in it (an older run)."""
    index, split = run_dir / "index.csv", run_dir / "split.csv"
    if not index.is_file() or not split.is_file():
        return set()
    from pipeline.split import read_split_csv  # a split.csv saved from Excel has a BOM

    keys = {r["series_key"] for r in read_split_csv(split)}
    with index.open(newline="") as fh:
        return {r[column] for r in csv.DictReader(fh)
                if r.get("series_key") in keys and r.get(column)}  # fmt: skip


def load_run_config(run_dir: Path) -> RunConfig:
    """The resolved config saved in a run directory (``--resume``, ``predict``, ``evaluate``);
    imports no torch, so a mistyped run directory is said at once.

    Raises
    ------
    ConfigError
        ``run_dir`` is missing, a file, or holds no ``config.yaml``; or the saved config is
        invalid, or was edited since the run started in a setting its results were made with
        (:mod:`workflows.run.config_edits`).
    """
    from workflows.run.config import load_saved_config
    from workflows.run.config_edits import check_config_unedited
    from workflows.run.paths import not_a_run

    path = run_dir / "config.yaml"
    if not path.exists():
        raise ConfigError(not_a_run(run_dir))
    config = load_saved_config(path)  # valid first: its errors name the file and key
    check_config_unedited(run_dir, yaml.safe_load(path.read_text()))
    return config
