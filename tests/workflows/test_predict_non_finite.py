"""An image whose probabilities are NaN is left out of a prediction, and the others keep
their own probabilities (mutation sweep mut88: keeping the full list of probabilities, so
that each image after the dropped one got its predecessor's, and writing the source of a
de-identified run survived the covering tests). By hand on three images."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from workflows.run.skipped import drop_non_finite


def test_the_images_after_a_nan_one_keep_their_own_probabilities(tmp_path: Path) -> None:
    """Images 0, 1, 2 with p = (.9, .1), NaN, (.2, .8): kept 0 and 2 with (.9, .1) and
    (.2, .8); image 1 in skipped.csv, 2 of its 2 values not finite, its source left out."""
    items = [[{"output": f"o{i}.npy", "source": f"p/s{i}.dcm"}] for i in range(3)]
    probs = [np.array([0.9, 0.1]), np.array([np.nan, np.nan]), np.array([0.2, 0.8])]
    skipped: list[tuple[str, str, str]] = []
    path = tmp_path / "skipped.csv"
    keep, kept = drop_non_finite(SimpleNamespace(items=items), [0, 1, 2], probs, skipped, path,
                                 hide_source=True)  # fmt: skip
    assert keep == [0, 2]
    assert [p.tolist() for p in kept] == [[0.9, 0.1], [0.2, 0.8]]
    assert [s[:2] for s in skipped] == [("o1.npy", "p/s1.dcm")]
    rows = list(csv.DictReader(path.open()))
    assert [(r["output"], r["source"]) for r in rows] == [("o1.npy", "")]
    assert rows[0]["reason"].startswith("the model's probabilities are NaN or infinite (2 of 2")
