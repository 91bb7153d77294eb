"""A slice repeated with its ImagePositionPatient written to other decimals is one position;
repeats and short stacks are named by file (and frames).

"-0.125" and "-0.125000001" (or 5.125 and 5.125000001 mm along the normal) are the same
place, but radpipe binned positions by rounding to 0.01 mm and the two straddled a bin's
edge: an identical repeat was kept as a second "time point" of one slice, and a repeat with
other pixels was a slice 1e-9 mm from its twin, the series refused ("steps from 1e-09 to
5 mm"). Now a repeat with identical pixels is dropped and one with other pixels is a volume
of its own; either way the note names its file by relative path. Expected affines by hand
(LPS -> RAS: x and y negated).
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G

X, Y, Z0 = -0.125, -100.0, 0.125  # round(-0.125, 2) is -0.12; round(-0.125000001, 2) -0.13


def _series(folder: Path, repeat: tuple[float, float, float], value: int) -> Path:
    """Slices k = 0..3 at z = Z0 + 5 k holding k, and ``sub/dup.dcm`` at ``repeat``."""
    series = generate_uid()
    slices = [G.plane((X, Y, Z0 + 5.0 * k), value=k, series=series, InstanceNumber=k + 1)
              for k in range(4)]  # fmt: skip
    slices.append(G.plane(repeat, value=value, series=series, InstanceNumber=9))
    (folder / "sub").mkdir(parents=True)
    return G.save(folder, slices, [f"s{k}" for k in range(4)] + ["sub/dup"])


def _outputs(out: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    with (out / "errors.csv").open() as fh:
        errors = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh)), errors


AFFINE = np.array([[-1.0, 0, 0, -X], [0, -1.0, 0, -Y], [0, 0, 5.0, Z0], [0, 0, 0, 1]])


@pytest.mark.parametrize(
    "repeat",
    [(X - 1e-9, Y, Z0 + 5.0), (X, Y, Z0 + 5.0 + 1e-9)],
    ids=["in-plane", "along-normal"],
)
def test_an_identical_repeat_written_with_other_decimals_is_dropped(
    tmp_path: Path, repeat: tuple[float, float, float]
) -> None:
    G.convert_cli(_series(tmp_path / "in", repeat, value=1), tmp_path / "out")
    rows, errors = _outputs(tmp_path / "out")
    (row,) = rows  # was two volumes: 4 slices, and the repeat as a second 'time point'
    assert row["problems"] == (
        "duplicates dropped: 1 image repeated at the same position (sub/dup.dcm as s1.dcm)"
    )
    assert errors == {"sub/dup.dcm": "duplicate: every frame repeats an image at the same "
                      "position; dropped"}  # fmt: skip
    img = nib.load(str(tmp_path / "out" / row["output"]))
    assert np.asarray(img.dataobj)[0, 0].tolist() == [0, 1, 2, 3]
    assert np.allclose(img.affine, AFFINE, atol=1e-6)


def test_a_repeat_with_other_pixels_is_its_own_volume_and_named(tmp_path: Path) -> None:
    # along the normal 5.125 and 5.125000001 mm binned as 512 and 513: refused before
    G.convert_cli(_series(tmp_path / "in", (X, Y, Z0 + 5.0 + 1e-9), value=77), tmp_path / "out")
    rows, errors = _outputs(tmp_path / "out")
    assert errors == {}
    by_source = {r["source"]: r for r in rows}
    assert sorted(by_source) == ["s0.dcm", "sub/dup.dcm"]
    for row in rows:
        assert "their positions differ: 1 volume of 1 image where the largest has 4: " \
            "sub/dup.dcm" in row["problems"]  # fmt: skip
    main = nib.load(str(tmp_path / "out" / by_source["s0.dcm"]["output"]))
    assert np.asarray(main.dataobj)[0, 0].tolist() == [0, 1, 2, 3]
    assert np.allclose(main.affine, AFFINE, atol=1e-6)
    repeat = nib.load(str(tmp_path / "out" / by_source["sub/dup.dcm"]["output"]))
    assert repeat.shape == (8, 8, 1) and int(np.asarray(repeat.dataobj).max()) == 77
    assert np.allclose(repeat.affine[:3, 3], [-X, -Y, Z0 + 5.0], atol=1e-6)


def test_a_short_time_point_of_an_enhanced_file_is_named_with_its_frames(tmp_path: Path) -> None:
    """One Enhanced MR file, 3 positions x 3 time points (TemporalPositionIndex), the last
    time point without its third slice: its volume is named by file and frames (7 and 8,
    numbered from 1), not by the file alone, which holds every frame."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    places = [(t, z) for t in range(3) for z in range(3) if (t, z) != (2, 2)]
    ds = G.enhanced([(0.0, 0.0, 4.0 * z) for _, z in places])
    ds.RepetitionTime = 2000.0
    for item, (t, _) in zip(ds.PerFrameFunctionalGroupsSequence, places, strict=True):
        item.FrameContentSequence = Sequence([Dataset()])
        item.FrameContentSequence[0].TemporalPositionIndex = t + 1
    G.convert_cli(G.save(tmp_path / "in", [ds], ["mf"]), tmp_path / "out")
    rows, _ = _outputs(tmp_path / "out")
    assert len({r["output"] for r in rows}) == 2  # the whole time points one 4-D volume
    assert all("the others written apart (1 volume of 2 images where the largest has 3: mf.dcm "
               "frames 7, 8)" in r["problems"] for r in rows)  # fmt: skip
