"""Time points whose positions are written to 0.1 mm and differ in the last digit are 4-D.

Positions written ``%.1f`` (GE float32, exporters): one true position near x.x5 is written
one way in one time point and the other way in the next (float noise either side of the
half), 0.1 mm apart. radpipe took such time points for stacks at other positions: split
into 3-D volumes ("their positions differ"), or, where no time point shared a written
position with another, stacked as one volume, the time points interleaved as slices 0.1 mm
apart. The expected volume is the true one, worked out by hand: one 4-D NIfTI, each time
point's own slices, TR apart.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom.rounding import rounded_places
from tests.pipeline.dicom import geometry_cases as G


def _series(folder: Path, z0: float, step: float, slices: int, points: int, key: str) -> Path:
    """Axial time points at the true z0 + step k, written %.1f with +-1e-4 of float noise.

    Slice k of time point t holds 10 t + k; TR 2000 ms.
    """
    series = generate_uid()
    found = []
    for t in range(points):
        for k in range(slices):
            z = z0 + step * k + (1e-4 if t % 2 else -1e-4)
            ds = G.plane([0.0, 0.0, 0.0], value=10 * t + k, series=series, RepetitionTime=2000.0,
                         InstanceNumber=t * slices + k + 1, **{key: t + 1})  # fmt: skip
            ds.ImagePositionPatient = ["10.0", "-20.0", f"{z:.1f}"]
            found.append(ds)
    return G.save(folder, found)


_convert = G.convert_cli


@pytest.mark.parametrize(
    ("z0", "step", "slices", "points", "key"),
    [
        # -99.975 + 0.625 k: slices 0, 2, 4 at x.x75, written -100.0 / -99.9 by time point
        (-99.975, 0.625, 6, 3, "TemporalPositionIdentifier"),
        # -100.05 + k: every slice at the half, the two time points 0.1 mm apart throughout
        (-100.05, 1.0, 5, 2, "AcquisitionNumber"),
    ],
    ids=["some-slices-differ", "every-slice-differs"],
)
def test_time_points_a_digit_apart_are_one_4d_volume(
    tmp_path: Path, z0: float, step: float, slices: int, points: int, key: str
) -> None:
    rows = _convert(_series(tmp_path / "in", z0, step, slices, points, key), tmp_path / "out")
    assert {r["problems"] for r in rows} == {""}  # was 'split: 3 stacks by ... (their
    (name,) = {r["output"] for r in rows}  # positions differ)', or one stack interleaved
    img = nib.load(str(tmp_path / "out" / name))
    assert img.shape == (8, 8, slices, points)
    data = np.asarray(img.dataobj)[0, 0]  # (slices, points)
    assert data.T.tolist() == [[10 * t + k for k in range(slices)] for t in range(points)]
    assert np.allclose(img.header.get_zooms(), (1.0, 1.0, step, 2.0), atol=0.005)
    # RAS: x, y negated; the first slice at the true z0 within the rounding (0.05 mm)
    expected = np.array([[-1.0, 0, 0, -10.0], [0, -1.0, 0, 20.0], [0, 0, step, z0], [0, 0, 0, 1]])
    assert np.allclose(img.affine, expected, atol=0.05 + 1e-4)


def test_time_points_truly_apart_stay_apart(tmp_path: Path) -> None:
    # written to 0.1 mm, but the second time point's first slice 0.3 mm off (more than the
    # rounding): positions that differ, as before
    series = generate_uid()
    found = []
    for t in range(2):
        for k in range(4):
            z = -100.0 + 2.0 * k + (0.3 if (t, k) == (1, 0) else 0.0)
            tags = {"RepetitionTime": 2000.0, "TemporalPositionIdentifier": t + 1}
            found.append(G.plane([10.0, -20.0, z], value=10 * t + k, series=series, **tags))
    rows = _convert(G.save(tmp_path / "in", found), tmp_path / "out")
    assert len({r["output"] for r in rows}) == 2
    assert all("their positions differ" in r["problems"] for r in rows)


@pytest.mark.parametrize(
    ("z", "places"),
    [
        ([0.0, 0.1, 5.0, 5.1], [0, 0, 1, 1]),
        ([0.0, 0.1, 0.2, 5.0, 5.1], None),
        ([0.0, 0.003, 5.125, 5.128], None),
        ([10.0, 10.1], None),  # one position: no place apart from another
        ([0.0, 5.0], [0, 1]),  # two images, two places
        ([0.0, 0.1, 0.3, 0.4], None),  # 0.2 mm apart is under 5x the 0.1 mm rounding
    ],
    ids=[
        "two-positions",
        "a-chain-first",
        "written-finely",
        "one-position",
        "two-images",
        "not-clearly-apart",
    ],
)
def test_images_within_the_rounding_of_their_first_are_one_place(
    z: list[float], places: list[int] | None
) -> None:
    """Written to 0.1 mm along z, two images may differ by 0.1 mm (the rounding) and be one
    place; 0, 0.1 and 0.2 are a chain, 0.2 mm from its first, not one position (by hand).
    Positions written finer than 0.1 mm have no rounding to tell places by: ``None``."""
    positions = np.c_[np.full(len(z), 10.0), np.full(len(z), -20.0), z]
    found = rounded_places(positions, np.array(z), np.array([0.0, 0.0, 1.0]))
    assert (found if found is None else found.tolist()) == places
