"""``--uneven split`` of a stack whose positions are written to 0.1 mm, with a slice missing.

The stack's even grid is found once, from all its slices (:mod:`pipeline.dicom.rounding`),
and each evenly spaced run takes its part of it. A run found again on its own has too few
slices for a grid (two after the gap): it took the step of its two rounded positions, 0.6
mm for a 0.625 mm CT. The expected affines are the true positions the written ones were
rounded from, worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G

STEP = 0.625  # mm


def _series(folder: Path, slots: list[int]) -> Path:
    """Axial slices at z = -100 + 0.625 k for k in ``slots``, written ``%.1f``; value = k."""
    series = generate_uid()
    slices = []
    for k in slots:
        ds = G.plane([0.0, 0.0, 0.0], value=k, series=series, sop_class=G.CT,
                     RescaleSlope=1, RescaleIntercept=0, InstanceNumber=k + 1)  # fmt: skip
        ds.ImagePositionPatient = ["10.0", "-20.0", f"{-100.0 + STEP * k:.1f}"]
        slices.append(ds)
    return G.save(folder, slices)


_convert = G.convert_cli


def test_split_runs_take_the_stacks_grid(tmp_path: Path) -> None:
    # slots 0-9 and 11-12 (slot 10 missing): written -100.0 -99.4 ... -94.4 | -93.1 -92.5
    src = _series(tmp_path / "in", [*range(10), 11, 12])
    rows = _convert(src, tmp_path / "out", "--uneven", "split")
    (problem,) = {r["problems"] for r in rows}
    # the grid's step is any within the rounding of every slice (here 0.629 mm, the minimax
    # line's), so the note's figures are checked by the affines below
    assert problem.startswith("split: missing slices: 1 gap of up to 1.2")
    assert problem.endswith("(about 1 slice missing), 2 evenly spaced volumes")
    first, second = (nib.load(str(tmp_path / "out" / name))
                     for name in sorted({r["output"] for r in rows}))  # fmt: skip
    assert first.shape == (8, 8, 10) and second.shape == (8, 8, 2)
    assert np.asarray(first.dataobj)[0, 0].tolist() == list(range(10))
    assert np.asarray(second.dataobj)[0, 0].tolist() == [11, 12]
    # RAS: x, y negated; slices 0.625 mm up from the true -100 and -100 + 11 x 0.625
    for img, z0 in ((first, -100.0), (second, -100.0 + 11 * STEP)):
        expected = np.array([[-1.0, 0, 0, -10.0], [0, -1.0, 0, 20.0], [0, 0, STEP, z0],
                             [0, 0, 0, 1]])  # fmt: skip
        assert np.allclose(img.affine, expected, atol=0.05)
    assert abs(second.affine[2, 2] - STEP) < 0.005  # was 0.6: -93.1 to -92.5 as written
    assert abs(first.affine[2, 2] - STEP) < 0.005


def test_split_runs_of_three_or_more_keep_the_grid_step(tmp_path: Path) -> None:
    # slots 0-5 and 9-14: two runs of six; each volume's step the grid's, 0.625 mm
    src = _series(tmp_path / "in", [*range(6), *range(9, 15)])
    rows = _convert(src, tmp_path / "out", "--uneven", "split")
    names = sorted({r["output"] for r in rows})
    assert len(names) == 2
    for name, z0 in zip(names, (-100.0, -100.0 + 9 * STEP), strict=True):
        img = nib.load(str(tmp_path / "out" / name))
        assert img.shape == (8, 8, 6)
        assert abs(img.affine[2, 2] - STEP) < 0.005 and abs(img.affine[2, 3] - z0) <= 0.05
