"""``skipped.csv`` of ``radpipe predict``: converted images the run's model gave no prediction for.

An image is skipped before the model sees it (a shape, channel count or window the model was
not trained on) or after, when the model's probabilities for it are NaN or infinite: argmax
of a NaN map is class 0 everywhere (a background mask, a class-0 prediction), so such a map
was written as if it were the model's answer. It is no answer (scikit-learn refuses NaN
scores, scikit-learn #5735), so no mask or prediction row is written from it.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.words import counted

log = logging.getLogger("radpipe")

NON_FINITE = (
    "the model's probabilities are NaN or infinite ({n} of {m} values): no prediction is made "
    "from them (check the image's values against the training images' range)"
)


def write_skipped(path: Path, skipped: list[tuple[str, str, str]]) -> None:
    """``skipped.csv``: converted output (hashed name), its source file (relative to SRC)
    and why the model cannot take it."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["output", "source", "reason"])
        writer.writerows(skipped)
    if skipped:
        log.warning(
            "%s not predicted; why, for each: %s", counted(len(skipped), "image"), path,
        )  # fmt: skip


def drop_non_finite(
    dataset: Any,
    keep: list[int],
    probs: list[np.ndarray],
    skipped: list[tuple[str, str, str]],
    path: Path,
    hide_source: bool,
) -> tuple[list[int], list[np.ndarray]]:
    """``keep`` and ``probs`` without the items whose probabilities are not all finite.

    Those are added to ``skipped`` (output, source, reason) and ``path`` (``skipped.csv``)
    is written again, with empty sources when ``hide_source``.

    Raises
    ------
    RadpipeError
        When no item is left.
    """
    bad = {i for i, p in zip(keep, probs) if not np.isfinite(p).all()}
    if not bad:
        return keep, probs
    for i, p in zip(keep, probs):
        if i in bad:
            row = dataset.items[i][0]
            why = NON_FINITE.format(n=int((~np.isfinite(p)).sum()), m=p.size)
            skipped.append((row["output"], row.get("source", ""), why))
    write_skipped(path, [(o, "" if hide_source else src, why) for o, src, why in skipped])
    if len(bad) == len(keep):
        raise RadpipeError(f"The model's probabilities are NaN or infinite for every image; "
                           f"see {path}.")  # fmt: skip
    return [i for i in keep if i not in bad], [p for i, p in zip(keep, probs) if i not in bad]
