"""The geometry leg of ``benchmarks/fuzz_oracle.py --group N``: NIfTI affines by hand.

For each volume written without a note (``--format nifti``, per series), the affine is worked
out from the header of the files ``sources.csv`` maps to its first and last slice (PS3.3
C.7.6.2.1.1): columns along ImageOrientationPatient's first triplet times the column spacing
(PixelSpacing's second value), rows along the second triplet times the row spacing, slices
from the first ImagePositionPatient to the last in (slices - 1) steps, the origin at the
first; then LPS to RAS (the first two rows negated), as nibabel and dcm2niix write it.
"""

from __future__ import annotations

import csv
import warnings
from collections import Counter
from pathlib import Path

import numpy as np


def _header_vectors(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    from pydicom import dcmread

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, stop_before_pixels=True, force=True)
        try:
            iop = np.array([float(v) for v in ds.ImageOrientationPatient])
            spacing = np.array([float(v) for v in ds.PixelSpacing])
            ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        except (AttributeError, TypeError, ValueError):
            return None
    if iop.size != 6 or spacing.size != 2 or ipp.size != 3:
        return None
    return iop, spacing, ipp


def expected_affine(first: Path, last: Path, slices: int) -> np.ndarray | None:
    """The RAS affine of a volume from its first and last slices' files, else ``None``."""
    head, tail = _header_vectors(first), _header_vectors(last)
    if head is None or tail is None or slices < 2:
        return None
    iop, spacing, origin = head
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * spacing[1]  # along a row: column index i
    affine[:3, 1] = iop[3:] * spacing[0]  # down a column: row index j
    affine[:3, 2] = (tail[2] - origin) / (slices - 1)
    affine[:3, 3] = origin
    affine[:2] *= -1  # LPS to RAS
    return affine


def compare_affines(out: Path, src: Path) -> tuple[Counter[str], list[str]]:
    """Counts and findings of NIfTI volumes' affines against :func:`expected_affine`."""
    import nibabel as nib

    with (out / "manifest.csv").open(newline="") as fh:
        volumes = list(csv.DictReader(fh))
    with (out / "sources.csv").open(newline="") as fh:
        sources = [r for r in csv.DictReader(fh) if r["slice"] and r["frame"] in ("", "0")]
    counts: Counter[str] = Counter()
    findings = []
    for row in volumes:
        if row["problems"]:
            counts["affine noted"] += 1
            continue
        refs = sorted(
            (int(r["slice"]), r["source"]) for r in sources if r["output"] == row["output"]
        )
        if len(refs) < 2 or len({s for s, _ in refs}) != len(refs):
            counts["affine left out"] += 1
            continue
        want = expected_affine(src / refs[0][1], src / refs[-1][1], refs[-1][0] + 1)
        have = nib.load(out / row["output"]).affine
        if want is None:
            verdict = "the header gives no affine"
        elif not np.allclose(have, want, atol=1e-4):
            verdict = f"by hand {np.round(want, 4).tolist()}, radpipe {np.round(have, 4).tolist()}"
        else:
            verdict = "same"
        counts[f"affine silent {verdict.split(' ')[0]}"] += 1
        if verdict != "same":
            findings.append(f"{row['source']}: affine {verdict}")
    return counts, findings


__all__ = ["compare_affines", "expected_affine"]
