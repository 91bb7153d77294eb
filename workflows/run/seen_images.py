"""Which new images a ``data.kind: images`` run has already seen (``predict`` and ``evaluate``).

An image's key is the hash of its path as its list writes it, so a new set whose files share
their names with the run's own (``img/0001.png`` in both) had every such image called one the
run trained on ("NOT an external test set ... the same SeriesInstanceUID"), and the run's own
images under other names went unsaid. An image is now the run's own when its bytes are those of
a training or validation image of the run (SHA-256; only files of a size found among the new
ones are read), and a patient is the run's when the lists' ``patient_id`` agree (an image
without one is its own patient, never matched by name).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import RadpipeError
from workflows.run.seen import Seen

log = logging.getLogger("radpipe")

__all__ = ["fitted_images", "seen_images", "seen_in_study"]


def seen_images(
    own: tuple[dict[str, str], list[Path]], new: Mapping[str, tuple[Path, str]]
) -> Seen:
    """Count the new images (``{key: (file, patient_key)}``, the patient key ``""`` when
    unknown) that are training/validation images of the run, or of their patients.

    ``own``: the run's :func:`fitted_images` (its files read from its ``data.labels`` list
    under ``data.source``); when they are gone nothing can be told, and nothing is counted
    (said at info level).
    """
    fitted, files = own
    patients = {p for k, p in fitted.items() if p != k}  # a patient_id, not the image's own key
    if not files:
        log.info("the run's own images are gone: whether SRC holds some of them is not known")
    sizes = {_size(f) for f, _ in new.values()} - {-1}
    digests = {_digest(own) for own in files if _size(own) in sizes} - {""}
    same = {k for k, (f, _) in new.items() if _size(f) in sizes and _digest(f) in digests}
    kin = sum(p != k and p in patients for k, (_, p) in new.items() if k not in same and p)
    return Seen(series=len(same), patients=kin, total=len(new), unit="images",
                same="the same file contents", patient="patient_id")  # fmt: skip


def fitted_images(run_dir: Path, config: Any) -> tuple[dict[str, str], list[Path]]:
    """The run's training and validation images: ``{image key: patient key}`` from its
    ``split.csv``, and their files (its ``data.labels`` list under ``data.source``; none when
    the list is gone)."""
    from pipeline.data.io import csv_path
    from pipeline.keys import hash_key
    from pipeline.split import read_split_csv
    from workflows.run.image_list import read_image_list

    fitted = {r["series_key"]: r["patient_key"] for r in read_split_csv(run_dir / "split.csv")
              if r["split"] != "test"}  # fmt: skip
    source, listed = Path(config.data.source), config.data.labels
    try:
        rows = read_image_list(Path(listed), source, ()) if listed else []
    except (OSError, RadpipeError):
        rows = []
    files = [csv_path(source, str(r["image"])) for r in rows if hash_key(r["image"]) in fitted]
    return fitted, files


def seen_in_study(own: tuple[dict[str, str], list[Path]], study: Any) -> Seen:
    """:func:`seen_images` of the images of an external ``study`` (``radpipe evaluate``)."""
    from pipeline.data.io import csv_path

    new = {r["series_key"]: (csv_path(study.root, study.image_rows[r["series_key"]][0]["image"]),
                             r["patient_key"]) for r in study.split}  # fmt: skip
    return seen_images(own, new)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
