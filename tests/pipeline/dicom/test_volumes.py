"""Series assembly and NIfTI geometry: every voxel where the DICOM headers put it, or the
volume was resampled (and says so), or the series is refused with the reason."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G

C15, S15 = np.cos(np.radians(15)), np.sin(np.radians(15))
TILTED = (1.0, 0.0, 0.0, 0.0, C15, -S15)  # rows tilted 15 degrees about x (a gantry tilt)
OBLIQUE = (0.866025, 0.5, 0.0, -0.12941, 0.224144, -0.965926)  # rotated about z, then x


def test_oblique_stack_shuffled_files_every_voxel_on_its_dicom_pixel(tmp_path: Path) -> None:
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    series = generate_uid()
    slices = [G.plane(np.array([3.0, -7.0, 11.0]) + 2.5 * k * normal, OBLIQUE, series=series,
                      spacing=0.8) for k in range(5)]  # fmt: skip
    src = G.save(tmp_path / "in", slices[::-1])
    rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors and len(rows) == 1
    assert rows[0]["problems"] == "" and rows[0]["spacing"] == "2.5x0.8x0.8"
    G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / rows[0]["output"], G.dicom_frames(src))


def _fmri(folder: Path, tr: float | None) -> Path:
    """GE-style: 3 positions x 4 time points, single-slice files, one AcquisitionNumber; only
    InstanceNumber tells the time points apart. Slice (t, z) holds 10 t + z + 1."""
    series = generate_uid()
    extra = {"RepetitionTime": tr} if tr else {}
    return G.save(folder, [G.plane((0.0, 0.0, 5.0 * z), value=10 * t + z + 1, series=series,
                                   InstanceNumber=3 * t + z + 1, AcquisitionNumber=1, **extra)
                           for t in range(4) for z in range(3)])  # fmt: skip


def test_colocated_time_points_without_tr_become_separate_volumes(tmp_path: Path) -> None:
    src = _fmri(tmp_path / "in", tr=None)
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and len(rows) == 4
    frames = G.dicom_frames(src)
    for t, row in enumerate(sorted(rows, key=lambda r: r["output"])):
        img = nib.load(tmp_path / "out" / row["output"])
        assert np.asarray(img.dataobj)[0, 0, :].tolist() == [10 * t + 1, 10 * t + 2, 10 * t + 3]
        assert np.allclose(img.affine[:3, 2], [0, 0, 5])
        same_time = [f for f in frames if f[0][0, 0] // 10 == t]
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], same_time)
        assert "told apart by acquisition order" in row["problems"]


@pytest.mark.parametrize("split", [False, True], ids=["4d", "split-4d"])
def test_time_points_with_tr_one_4d_nifti_or_split(tmp_path: Path, split: bool) -> None:
    src = _fmri(tmp_path / "in", tr=2000.0)
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out", split_4d=split)
    assert code == 0
    if split:
        assert len(rows) == 4 and {r["shape"] for r in rows} == {"3x8x8"}
        return
    (row,) = rows
    img = nib.load(tmp_path / "out" / row["output"])
    assert img.shape == (8, 8, 3, 4) and row["shape"] == "4x3x8x8"
    assert img.header.get_zooms() == pytest.approx((1.0, 1.0, 5.0, 2.0))  # TR 2000 ms -> 2 s
    assert img.header.get_xyzt_units() == ("mm", "sec")
    data = np.asarray(img.dataobj)
    assert data[0, 0].tolist() == [[10 * t + z + 1 for t in range(4)] for z in range(3)]
    frames = G.dicom_frames(src)
    for t in range(4):
        same_time = [f for f in frames if f[0][0, 0] // 10 == t]
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], same_time, t)


def test_three_plane_localizer_one_volume_per_orientation(tmp_path: Path) -> None:
    series = generate_uid()
    planes = {(1, 0, 0, 0, 1, 0): lambda j: (-6.0, -6.0, -5.0 + 5 * j),
              (1, 0, 0, 0, 0, -1): lambda j: (-6.0, -5.0 + 5 * j, 6.0),
              (0, 1, 0, 0, 0, -1): lambda j: (-5.0 + 5 * j, -6.0, 6.0)}  # fmt: skip
    src = G.save(tmp_path / "in", [G.plane(pos(j), iop, series=series)
                                   for iop, pos in planes.items() for j in range(3)])  # fmt: skip
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and len(rows) == 3 and {r["shape"] for r in rows} == {"3x8x8"}
    assert all(r["problems"].startswith("split: 3 orientations") for r in rows)
    frames = G.dicom_frames(src)
    codes = set()
    for row in rows:
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], frames)
        codes.add(nib.aff2axcodes(nib.load(tmp_path / "out" / row["output"]).affine))
    assert len(codes) == 3  # axial, coronal, sagittal


def test_duplicates_dropped_same_uid_and_same_pixels(tmp_path: Path) -> None:
    series = generate_uid()
    slices = [G.plane((0.0, 0.0, 2.5 * k), series=series, sop_class=G.CT)
              for k in range(6)]  # fmt: skip
    copy = G.plane((0.0, 0.0, 5.0), series=series, sop_class=G.CT)  # new UID, same pixels
    src = G.save(tmp_path / "in", [*slices, slices[0], copy])  # slices[0] twice: same UID
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["shape"] == "6x8x8" and row["spacing"] == "2.5x1x1"
    # G.save names image k IM{7919 k mod 10007}: the second slices[0] (6) is IM07486, the
    # copy (7) IM05398 and slice 2 IM05831; the first by file name is kept
    assert row["problems"] == (
        "duplicates dropped: 2 images repeated at the same position (IM05831.dcm as "
        "IM05398.dcm, IM07486.dcm as IM00000.dcm)"
    )
    G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], G.dicom_frames(src))


def _gap(folder: Path) -> Path:
    series = generate_uid()
    return G.save(folder, [G.plane((0.0, 0.0, z), series=series, size=12)
                           for z in (0.0, 1.0, 2.0, 4.0, 5.0)])  # fmt: skip


def test_missing_slice_resampled_by_default(tmp_path: Path) -> None:
    src = _gap(tmp_path / "in")
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["shape"] == "6x12x12" and row["spacing"].startswith("1x")
    assert row["problems"].startswith("resampled: missing slices: 1 gap of up to 2 mm")
    path = tmp_path / "out" / row["output"]
    assert G.assert_linear_in_world(path, margin=0) == 6 * 144  # interpolated z = 3 included
    data = np.asarray(nib.load(path).dataobj)
    kept = [0, 1, 2, 4, 5]  # slices the grid meets exactly hold the DICOM values
    frames = G.dicom_frames(src)
    for k, z in zip(kept, (0.0, 1.0, 2.0, 4.0, 5.0)):
        values = next(v for v, ipp, *_ in frames if ipp[2] == z)
        assert np.array_equal(data[:, :, k], values.T)  # the frame's pixels, not a blend
    # sources.csv names the output slice each file became where the grid meets it exactly
    import pydicom

    with (tmp_path / "out" / "sources.csv").open() as fh:
        placed = {float(pydicom.dcmread(src / r["source"]).ImagePositionPatient[2]): r["slice"]
                  for r in csv.DictReader(fh)}  # fmt: skip
    assert placed == {0.0: "0", 1.0: "1", 2.0: "2", 4.0: "4", 5.0: "5"}


def test_resampled_slices_at_a_file_position_are_that_files_pixels_exactly(
    tmp_path: Path,
) -> None:
    """Positions whose differences are not exact in binary (10.3 + 1.1 k) put the grid a
    rounding error off the files: those output slices are still the files' pixels, bit for
    bit, and sources.csv names them; the slice in the gap is the mean of its neighbours."""
    series = generate_uid()
    zs = (10.3, 11.4, 12.5, 14.7, 15.8)
    src = G.save(tmp_path / "in", [G.plane((0.0, 0.0, z), series=series, size=6, value=100 * k)
                                   for k, z in enumerate(zs)])  # fmt: skip
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["shape"] == "6x6x6" and row["problems"].startswith("resampled: ")
    data = np.asarray(nib.load(tmp_path / "out" / row["output"]).dataobj)
    by_z = {ipp[2]: v for v, ipp, *_ in G.dicom_frames(src)}
    for j, z in zip((0, 1, 2, 4, 5), zs):
        assert np.array_equal(data[:, :, j], by_z[z].T), j
    assert np.array_equal(data[:, :, 3], (by_z[12.5].T + by_z[14.7].T) / 2)
    import pydicom

    with (tmp_path / "out" / "sources.csv").open() as fh:
        placed = {float(pydicom.dcmread(src / r["source"]).ImagePositionPatient[2]): r["slice"]
                  for r in csv.DictReader(fh)}  # fmt: skip
    assert placed == {10.3: "0", 11.4: "1", 12.5: "2", 14.7: "4", 15.8: "5"}


def test_missing_slice_split_or_refused(tmp_path: Path) -> None:
    src = _gap(tmp_path / "in")
    rows, errors, code = G.convert_nifti(src, tmp_path / "split", uneven="split")
    assert code == 0 and [r["shape"] for r in rows] == ["3x12x12", "2x12x12"]
    for row in rows:
        assert row["problems"].startswith("split: missing slices")
        G.assert_every_voxel_on_a_dicom_pixel(
            tmp_path / "split" / row["output"], G.dicom_frames(src)
        )
    rows, errors, code = G.convert_nifti(src, tmp_path / "refuse", uneven="refuse")
    assert code == 1 and rows == []
    (reason,) = [r for r in errors.values() if not r.startswith("not converted: its series")]
    assert "refused: missing slices: 1 gap " in reason and "(--uneven refuse)" in reason
    assert len(errors) == 5  # every file of the refused series is named


def _tilt(folder: Path) -> Path:
    series = generate_uid()
    return G.save(folder, [G.plane((0.0, 0.0, 5.0 * k), TILTED, size=24, series=series,
                                   sop_class=G.CT) for k in range(4)])  # fmt: skip


def test_tilt_resampled_by_default_values_follow_world_positions(tmp_path: Path) -> None:
    src = _tilt(tmp_path / "in")
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["problems"].startswith("tilt corrected: 15.0 degrees")
    path = tmp_path / "out" / row["output"]
    affine = nib.load(path).affine
    assert abs(affine[:3, 2] @ affine[:3, 1]) < 1e-5  # orthogonal grid, step 5 cos 15 mm
    assert np.linalg.norm(affine[:3, 2]) == pytest.approx(5 * C15)
    assert G.assert_linear_in_world(path, margin=5) > 0  # in-plane shift up to 3.9 mm


def test_tilt_kept_sheared_sform_or_refused(tmp_path: Path) -> None:
    src = _tilt(tmp_path / "in")
    rows, errors, code = G.convert_nifti(src, tmp_path / "keep", tilt="keep")
    (row,) = rows
    assert code == 0 and row["problems"].startswith("tilt kept: 15.0 degrees")
    img = nib.load(tmp_path / "keep" / row["output"])
    assert int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 1
    G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "keep" / row["output"], G.dicom_frames(src))
    rows, errors, code = G.convert_nifti(src, tmp_path / "refuse", tilt="refuse")
    assert code == 1 and rows == []
    assert "gantry tilt / sheared slices: 15.0 degrees (--tilt refuse)" in next(
        iter(errors.values())
    )


@pytest.mark.parametrize("stray", [True, False], ids=["stray-top-level-ipp", "clean"])
def test_enhanced_per_frame_positions_win(tmp_path: Path, stray: bool) -> None:
    ds = G.enhanced([(0.0, 0.0, 5.0 * k) for k in (2, 0, 3, 1)], (0.0, 0.0, 0.0) if stray else None)
    src = G.save(tmp_path / "in", [ds])
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    (row,) = rows
    assert code == 0 and row["spacing"] == "5x1x1" and row["problems"] == ""
    data = np.asarray(nib.load(tmp_path / "out" / row["output"]).dataobj)
    assert data[0, 0].tolist() == [101, 103, 100, 102]  # frames sorted along the normal
    G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / row["output"], G.dicom_frames(src))


def _dcm2niix(src: Path, out: Path) -> list[Path]:
    import shutil
    import subprocess

    try:
        import dcm2niix
    except ImportError:
        pytest.skip("the dcm2niix package (dev extra) is not installed")
    binary = getattr(dcm2niix, "bin", None) or shutil.which("dcm2niix")
    if not binary or not Path(binary).exists():
        pytest.skip("the dcm2niix binary is missing")
    out.mkdir()
    subprocess.run([str(binary), "-z", "n", "-b", "n", "-f", "%s_%j", "-o", str(out), str(src)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return sorted(out.glob("*.nii"))


def _same_volume(mine: Path, theirs: Path) -> None:
    a, b = (nib.as_closest_canonical(nib.load(p)) for p in (mine, theirs))
    assert a.shape == b.shape
    assert np.allclose(np.asarray(a.dataobj), np.asarray(b.dataobj), atol=0.01)
    assert np.allclose(a.affine, b.affine, atol=1e-3)


@pytest.mark.parametrize("kind", ["oblique", "enhanced"])
def test_volumes_match_dcm2niix(tmp_path: Path, kind: str) -> None:
    if kind == "oblique":
        normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
        series = generate_uid()
        files = [G.plane(np.array([3.0, -7.0, 11.0]) + 2.5 * k * normal, OBLIQUE, series=series,
                         spacing=0.8, size=10) for k in range(5)]  # fmt: skip
    else:
        # frames in order: without DimensionIndexValues dcm2niix takes the step from the first
        # and last frames
        files = [G.enhanced([(0.0, 0.0, 5.0 * k) for k in range(4)])]
    src = G.save(tmp_path / "in", files)
    rows, _, code = G.convert_nifti(src, tmp_path / "out")
    (theirs,) = _dcm2niix(src, tmp_path / "dcm2niix")
    assert code == 0
    _same_volume(tmp_path / "out" / rows[0]["output"], theirs)


def test_read_series_one_checked_volume_or_an_error(tmp_path: Path) -> None:
    from pipeline.dicom import read_series
    from pipeline.errors import DicomError, RadpipeWarning

    src = _gap(tmp_path / "gap")
    with pytest.warns(RadpipeWarning, match="resampled: missing slices"):
        volume = read_series(sorted(src.iterdir()))
    assert volume.image.shape == (6, 12, 12) and volume.spacing == (1.0, 1.0, 1.0)
    with pytest.raises(DicomError, match="not one volume: 4 volumes"):
        read_series(sorted(_fmri(tmp_path / "fmri", tr=None).iterdir()))


def test_enhanced_frames_per_instance_carry_their_rank_along_the_normal(tmp_path: Path) -> None:
    # `--per instance` writes one output per frame; `slice_index` is the frame's place along
    # the slice normal (per-frame PlanePositionSequence), not its place in the file.
    ds = G.enhanced([(0.0, 0.0, 5.0 * k) for k in (2, 0, 3, 1)])
    src = G.save(tmp_path / "in", [ds])
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out", format="npy")
    ranks = {int(r["frame"]): int(r["slice_index"]) for r in rows}
    assert code == 0 and ranks == {0: 2, 1: 0, 2: 3, 3: 1}
    by_rank = sorted(rows, key=lambda r: int(r["slice_index"]))
    values = [int(np.load(tmp_path / "out" / r["output"]).max()) for r in by_rank]
    assert values == [101, 103, 100, 102]  # frame k holds 100 + k


def test_edited_copies_sharing_uids_are_kept_apart_like_dcm2niix(qa_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """dcm_qa_12bit: two Siemens mosaics with the same SeriesInstanceUID and SOPInstanceUID
    but different pixels and SeriesNumbers (3 and 4). Neither is a duplicate of the other:
    each is its own volume, equal voxel for voxel (in canonical orientation) to dcm2niix's
    reference conversion shipped with the data."""
    src = tmp_path / "in"
    src.mkdir()
    refs = {}
    for name, ref in (("12bitSigned_0x0F0F.dcm.gz", "12bit_ref_4.nii.gz"),
                      ("12bitUnsigned_0x0F0F.dcm.gz", "12bit_ref_3.nii.gz")):  # fmt: skip
        shutil.move(qa_file(name), src / name.removesuffix(".gz"))
        refs[name.removesuffix(".gz")] = qa_file(ref)
    _rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and errors == {}
    with (tmp_path / "out" / "sources.csv").open() as fh:
        sources = list(csv.DictReader(fh))
    assert sorted({r["source"] for r in sources}) == sorted(refs)
    assert len({r["output"] for r in sources}) == 2 and len(sources) == 2 * 35  # 35 tiles
    for r in {r["source"]: r for r in sources}.values():
        mine = nib.as_closest_canonical(nib.load(tmp_path / "out" / r["output"]))
        theirs = nib.as_closest_canonical(nib.load(refs[r["source"]]))
        np.testing.assert_allclose(mine.affine, theirs.affine, atol=1e-3)
        assert np.array_equal(np.asarray(mine.dataobj), np.asarray(theirs.dataobj))
    assert "split: 2 SeriesNumber values" in _rows[0]["problems"]


def test_same_sop_uid_and_position_with_other_pixels_is_no_duplicate(tmp_path: Path) -> None:
    series = generate_uid()
    first = G.plane((0.0, 0.0, 0.0), value=5, series=series)
    edited = G.plane((0.0, 0.0, 0.0), value=7, series=series, SOPInstanceUID=first.SOPInstanceUID)
    src = G.save(tmp_path / "in", [first, edited], ["a", "b"])
    rows, errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and errors == {}  # nothing dropped as a "duplicate"
    values = sorted(float(np.asarray(nib.load(tmp_path / "out" / r["output"]).dataobj).max())
                    for r in rows)  # fmt: skip
    assert values == [5.0, 7.0]


def test_a_time_point_missing_a_slice_is_a_problem_not_silent(tmp_path: Path) -> None:
    series = generate_uid()
    files = [
        G.plane((0.0, 0.0, 5.0 * z), value=10 * t + z, series=series, RepetitionTime=2000,
                TemporalPositionIdentifier=t + 1)
        for t in range(2)
        for z in range(3)
    ]  # fmt: skip
    src = G.save(tmp_path / "in", files[:-1])  # time point 2 lacks its last slice
    rows, _errors, code = G.convert_nifti(src, tmp_path / "out")
    assert code == 0 and sorted(r["shape"] for r in rows) == ["2x8x8", "3x8x8"]
    # time point 2's files: images 3 and 4, IM03743 and IM01655 (G.save's names)
    said = (
        "(their positions differ: 1 volume of 2 images where the largest has 3: IM01655.dcm, "
        "IM03743.dcm)"
    )
    assert all(said in r["problems"] for r in rows), rows
