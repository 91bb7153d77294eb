"""An fMRI run interrupted in its last time point: the whole time points are one 4-D volume.

The last time point of an interrupted run holds fewer slices (dcm2niix #515, #742, #987).
As the time points' positions then differ, every time point was written as a 3-D volume
of its own (hundreds of files for one run, no 4-D volume at all). The time points holding
every position are one 4-D NIfTI, and the partial one is written apart and named, as
dcm2niix writes a 4-D image and a 3-D one.

Expected by construction: time point t's slice z holds 100 t + z + 1 at z = 2 z mm, TR 2 s.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.8603"


def _run(times: int, last: int, **options: object) -> tuple[list[dict], list[np.ndarray], Path]:
    slices = [plane((0.0, 0.0, 2.0 * z), value=100 * t + z + 1, series=SERIES,
                    TemporalPositionIdentifier=t + 1, RepetitionTime=2000.0)
              for t in range(times) for z in range(4 if t < times - 1 else last)]  # fmt: skip
    out = Path(options.pop("out"))  # type: ignore[arg-type]
    rows, errors, code = convert_nifti(save(out / "src", slices), out / "out", **options)
    assert code == 0 and not errors
    names = sorted({r["output"] for r in rows})
    return rows, [np.asarray(nib.load(out / "out" / n).dataobj) for n in names], out / "out"


def test_whole_time_points_are_one_4d_volume_and_the_partial_one_apart(tmp_path: Path) -> None:
    rows, (run, partial), out = _run(4, 2, out=tmp_path)
    assert run.shape == (8, 8, 4, 3)  # was four 3-D volumes
    assert run[0, 0].T.tolist() == [[100 * t + z + 1 for z in range(4)] for t in range(3)]
    assert partial.shape == (8, 8, 2) and partial[0, 0].tolist() == [301, 302]
    name = sorted({r["output"] for r in rows})[0]
    assert float(nib.load(out / name).header.get_zooms()[3]) == 2.0  # the TR, in s
    assert rows[0]["problems"].startswith(
        "split: 4 stacks by TemporalPositionIdentifier: the 3 holding every position one 4-D "
        "volume, the others written apart (1 volume of 2 images where the largest has 4: "
    )


def test_split_4d_still_writes_each_time_point_apart(tmp_path: Path) -> None:
    _, volumes, _ = _run(3, 2, out=tmp_path, split_4d=True)
    assert [v.shape for v in volumes] == [(8, 8, 4), (8, 8, 4), (8, 8, 2)]
