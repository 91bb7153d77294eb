"""Header-only index: series grouping, order along the normal, problems, geometry."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom import geometry, index_folder
from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index_study")
    write_study(out, StudySpec(patients=2, modality="CT", size=16, slices=6, seed=3))
    return out / "dicom"


def _copy(src: Path, dst: Path, **changes: object) -> None:
    ds = pydicom.dcmread(src)
    ds.SOPInstanceUID = generate_uid()
    for key, value in changes.items():
        setattr(ds, key, value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dst)


def test_shuffled_names_come_out_in_anatomical_order(study: Path) -> None:
    index = index_folder(study)
    assert len(index.series) == 4 and index.problems == []
    for series in index.series:
        assert series.problems == []
        d = np.array(series.distances)
        assert np.all(np.diff(d) > 0)
        numbers = [i.instance_number for i in series.instances]
        # synth numbers slices either along or against the normal: either way monotonic.
        assert numbers in (list(range(1, 7)), list(range(6, 0, -1)))
        names = [i.path for i in series.instances]
        assert names != sorted(names) or len(set(names)) == 6  # names carry no order
        z = [i.position[2] for i in series.instances]  # type: ignore[index]
        assert z == sorted(z)  # axial CT: the normal is +z


def test_missing_slice_and_unusable_files_reported(study: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scan"
    folder.mkdir()
    series = index_folder(study).series[0]
    for inst in series.instances:
        if inst is not series.instances[3]:
            _copy(study / inst.path, folder / Path(inst.path).name)
    (folder / "empty.dcm").write_bytes(b"")
    (folder / "notes.txt").write_text("not a DICOM file\n")
    index = index_folder(folder)
    (only,) = index.series
    assert len(only.instances) == 5
    assert any("missing slices: 1 gap " in p for p in only.problems), only.problems
    assert any(p.startswith("resampled: ") for p in only.problems), only.problems
    reasons = {p.where: p.reason for p in index.problems}
    assert reasons["empty.dcm"] == "empty file (0 bytes)"
    assert reasons["notes.txt"].startswith("not a DICOM file")


def test_duplicates_tilt_sizes_and_stacks(study: Path, tmp_path: Path) -> None:
    series = index_folder(study).series
    first, second = series[0], series[1]
    dup, tilt, time = tmp_path / "dup", tmp_path / "tilt", tmp_path / "time"
    for k, inst in enumerate(first.instances):
        _copy(study / inst.path, dup / f"{k}.dcm")
        pos = [float(v) for v in inst.position]  # type: ignore[union-attr]
        pos[1] += 0.3 * k * (second.spacing or 1.0)  # y drifts with z: sheared, ~17 degrees
        _copy(study / inst.path, tilt / f"{k}.dcm", ImagePositionPatient=pos)
        for t in (1, 2):
            _copy(study / inst.path, time / f"t{t}_{k}.dcm", TemporalPositionIdentifier=t)
    _copy(study / first.instances[2].path, dup / "again.dcm")
    _copy(study / second.instances[0].path, dup / "other.dcm", SeriesInstanceUID=first.uid,
          Rows=8, Columns=8, ImagePositionPatient=[0, 0, -500])  # fmt: skip
    problems = index_folder(dup).series[0].problems
    # a copy under a new SOPInstanceUID: headers alone cannot tell it from a second time point
    assert any(p.startswith("split: 2 images at one position") for p in problems), problems
    assert any(p.startswith("mixed image sizes: 8x8, 16x16") for p in problems), problems
    # other.dcm comes from a series with another SeriesNumber: kept apart as such
    assert any(p.startswith("split: 2 SeriesNumber values") for p in problems), problems
    tilted = index_folder(tilt).series[0].problems
    assert any(p.startswith("tilt corrected: ") for p in tilted), tilted
    stacked = index_folder(time).series[0]
    assert stacked.problems == [] and stacked.num_stacks == 2
    assert stacked.stacks == [0] * 6 + [1] * 6  # kept apart, not interleaved
    assert np.all(np.diff(stacked.distances[:6]) > 0)  # type: ignore[index]


def test_a_dropped_duplicate_goes_last_and_is_no_stack(study: Path, tmp_path: Path) -> None:
    """A copy of slice 2 under its own SOPInstanceUID is dropped: it is listed after the six
    slices of the one volume (stack 1, past the last), and the series is still one stack
    (the summary said 2)."""
    import shutil

    first = index_folder(study).series[0]
    for k, inst in enumerate(first.instances):
        shutil.copy(study / inst.path, tmp_path / f"{k}.dcm")
    shutil.copy(study / first.instances[2].path, tmp_path / "again.dcm")
    (series,) = index_folder(tmp_path).series
    assert [i.path for i in series.instances][-1] == "again.dcm"
    assert series.stacks == [0] * 6 + [1]
    assert series.problems[0].startswith("duplicates dropped: 1 image repeated")
    summary = series.summary()
    assert (summary["files"], summary["slices"], summary["stacks"]) == (7, 6, 1)


def test_index_csv_and_dict_hold_hashed_keys_only(study: Path, tmp_path: Path) -> None:
    index = index_folder(study)
    path = index.write_csv(tmp_path / "index.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 24 and rows[0]["slice_index"] == "0" and rows[5]["slice_index"] == "5"
    text = path.read_text() + str(index.to_dict())
    first = index.series[0].first
    assert first.patient_id not in text and first.series_uid not in text
    assert rows[0]["series_key"] == hash_key(first.series_uid)


def test_affine_maps_voxels_to_each_slice_position(study: Path) -> None:
    series = index_folder(study).series[0]
    inst = series.instances
    step = series.distances[1] - series.distances[0]  # type: ignore[index]
    affine = geometry.affine_lps(inst[0].orientation, inst[0].position, inst[0].pixel_spacing, step)  # type: ignore[arg-type]
    ras = geometry.lps_to_ras(affine)
    iop = np.array(inst[0].orientation)
    row_mm, col_mm = inst[0].pixel_spacing  # type: ignore[misc]
    for k in (0, 5):
        for i, j in ((0, 0), (3, 7)):  # column i, row j (PS3.3 Equation C.7.6.2.1-1)
            lps = np.array(inst[k].position) + i * col_mm * iop[:3] + j * row_mm * iop[3:]
            assert np.allclose(affine @ [i, j, k, 1], [*lps, 1], atol=1e-3)
            assert np.allclose(ras @ [i, j, k, 1], [-lps[0], -lps[1], lps[2], 1], atol=1e-3)


def test_geometry_helpers_by_hand() -> None:
    assert geometry.slice_normal([1, 0, 0, 0, 0, -1]).tolist() == [0.0, 1.0, 0.0]
    assert geometry.tilt_cosine(np.array([0, 0, 1.0]), [[0, 0, 0], [0, 1, 1]]) == pytest.approx(
        1 / np.sqrt(2)
    )
    with pytest.raises(ValueError, match="parallel"):
        geometry.slice_normal([1, 0, 0, 1, 0, 0])


def test_instance_number_fallback_without_geometry(study: Path, tmp_path: Path) -> None:
    series = index_folder(study).series[0]
    for k, inst in enumerate(series.instances):
        ds = pydicom.dcmread(study / inst.path)
        del ds.ImagePositionPatient, ds.ImageOrientationPatient
        ds.InstanceNumber = [3, 10, 1, 2, 100, 11][k]  # I10, I100, I11 sort wrongly as text
        ds.save_as(tmp_path / f"I{ds.InstanceNumber}.dcm")
    (only,) = index_folder(tmp_path).series
    assert [i.instance_number for i in only.instances] == [1, 2, 3, 10, 11, 100]
    assert only.problems == [
        "no geometry: images without ImagePositionPatient/ImageOrientationPatient, affine "
        "unknown, stacked in acquisition order (AcquisitionTime or ContentTime, then "
        "InstanceNumber)"
    ]


def test_summary_counts_the_slices_convert_stacks(tmp_path: Path) -> None:
    """A 6-frame enhanced file is 6 slices in 1 file; a byte copy of a slice is no slice."""

    from tests.pipeline.dicom import geometry_cases as G

    mf = G.enhanced([(0.0, 0.0, 5.0 * k) for k in range(6)])
    series = generate_uid()
    planes = [G.plane((0.0, 0.0, 2.0 * k), series=series) for k in range(3)]
    src = G.save(tmp_path / "in", [mf, *planes, planes[1]], ["mf", "p0", "p1", "p2", "copy"])
    found = {s["files"]: s for s in (x.summary() for x in index_folder(src).series)}
    assert (found[1]["slices"], found[1]["frames"]) == (6, 6)
    assert (found[4]["slices"], found[4]["frames"]) == (3, 4)


def test_scan_headers_keeps_the_order_found_whatever_the_mapper_reads_ahead(
    study: Path, tmp_path: Path
) -> None:
    """Files that cannot even be opened (a dangling link, a hidden file) come out in the
    place the walk found them, between the headers read, also when the mapper reads every
    file before returning the first result (as a process pool reads chunks ahead)."""
    from pipeline.dicom.index import Instance, Problem, scan_headers

    src = tmp_path / "src"
    first, second = sorted(study.rglob("*.dcm"))[:2]
    _copy(first, src / "a.dcm")
    (src / "b_dangling").symlink_to(tmp_path / "nowhere")
    _copy(second, src / "c.dcm")
    (src / ".d_hidden").write_bytes(b"x")
    (src / "e_dangling").symlink_to(tmp_path / "nowhere")

    def eager(fn: object, items: object) -> object:
        return iter([fn(i) for i in list(items)])  # type: ignore[operator, call-overload]

    def names(found: list[Instance | Problem]) -> list[tuple[str, str]]:
        return [(f.path, "instance") if isinstance(f, Instance) else (f.where, "problem")
                for f in found]  # fmt: skip

    expected = [(".d_hidden", "problem"), ("a.dcm", "instance"), ("b_dangling", "problem"),
                ("c.dcm", "instance"), ("e_dangling", "problem")]  # fmt: skip
    assert names(list(scan_headers(src))) == expected
    assert names(list(scan_headers(src, mapper=eager))) == expected  # type: ignore[arg-type]


def test_find_files_order_and_problems_by_hand(tmp_path: Path) -> None:
    """In each folder: skipped subfolders, then files, then each subfolder's contents, by
    name; a link to a file is read (and the file it points to, found after it, is skipped as
    a second path to it), a FIFO and a dangling link are problems, nothing missed."""
    import os

    from pipeline.dicom.walk import find_files

    src = tmp_path / "src"
    (src / "b" / "c").mkdir(parents=True)
    (src / ".h").mkdir()
    (src / "a").mkdir()
    for rel in ("z.dcm", "b/y.dcm", "b/c/x.dcm", "a/w.dcm", ".h/v.dcm"):
        (src / rel).write_bytes(b"x")
    (src / "link.dcm").symlink_to(src / "z.dcm")
    (src / "b" / "gone").symlink_to(src / "nowhere")
    (src / "b" / "again").symlink_to(src / "a", target_is_directory=True)
    os.mkfifo(src / "fifo")
    found = [(f.rel, (f.problem or "")[:12], f.skipped) for f in find_files(src)]
    assert found == [
        (".h", "hidden folde", True),
        ("fifo", "not a regula", False),
        ("link.dcm", "", False),
        ("z.dcm", "a second pat", True),
        ("a/w.dcm", "", False),
        ("b/again", "a second pat", True),
        ("b/gone", "dangling sym", False),
        ("b/y.dcm", "", False),
        ("b/c/x.dcm", "", False),
    ]


def test_a_file_gone_or_unreadable_since_listing_says_so(tmp_path: Path) -> None:
    """The OS error's text is the path (never shown); the reason says what happened."""
    from unittest import mock

    from pipeline.dicom.files import read_dataset

    gone = read_dataset(tmp_path / "removed.dcm", "removed.dcm")
    assert gone.reason == "file not found: removed or moved after the folder was listed"
    with mock.patch("os.stat", side_effect=PermissionError(13, "denied", "x.dcm")):
        locked = read_dataset(tmp_path / "x.dcm", "x.dcm")
    assert locked.reason == "permission denied: the file cannot be read"
