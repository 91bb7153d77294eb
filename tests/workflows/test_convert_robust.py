"""One bad file never stops a batch: every file found ends in manifest.csv or errors.csv,
failures leave no outputs, names are escaped, UIDs never printed, one run per OUT."""

from __future__ import annotations

import csv
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from workflows.cli import main
from workflows.convert import batch, tasks
from workflows.convert.batch import ConvertOptions, convert_folder

PANIC = Path(__file__).parents[1] / "data" / "fuzz" / "rle_panic.dcm"


def _ct(path: Path, value: int = 0, *, sop: str | None = None, series: str | None = None,
        z: float = 0.0, frames: int = 1) -> Path:  # fmt: skip
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop or generate_uid()
    ds.PatientID, ds.StudyInstanceUID = "P1", "1.2.3"
    ds.SeriesInstanceUID = series or generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "CT", 4, 4
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, z]
    ds.PixelSpacing, ds.SliceThickness = [1, 1], 1.0  # a CT has it (Type 2)
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # and these (Type 1)
    ds.PixelData = np.full((frames, 4, 4), value, dtype="<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _outputs_on_disk(out: Path) -> set[str]:
    names = {"manifest.csv", "errors.csv", "convert.json", batch.LOCK_NAME, ".source-stat.csv"}
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - names


def test_every_found_file_is_listed_once_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    _ct(src / "good.dcm", 7)
    shutil.copy(PANIC, src / "panic.dcm")  # pyo3 PanicException: a BaseException
    (src / "dangling.dcm").symlink_to(src / "nowhere.dcm")
    weird = os.fsdecode(b"caf\xe9\x1b[2J.dcm")  # not UTF-8, with an ANSI escape
    _ct(src / weird, 3)
    _ct(src / "locked" / "x.dcm", 1)
    from pydicom.data import get_testdata_file

    shutil.copy(str(get_testdata_file("DICOMDIR", download=False)), src / "DICOMDIR")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)  # root reads everything; fake a 0700 folder
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    manifest = _rows(out / "manifest.csv")
    errors = {r["source"]: r for r in _rows(out / "errors.csv")}
    assert sorted(r["source"] for r in manifest) == ["caf\\xe9\\x1b[2J.dcm", "good.dcm"]
    assert errors["panic.dcm"]["reason"].startswith(
        "RLE Lossless pixel data could not be decoded: the decoder plugin crashed on malformed"
    )
    assert errors["dangling.dcm"]["reason"].startswith("dangling symbolic link")
    assert errors["locked"]["reason"].startswith("unreadable folder")
    assert errors["DICOMDIR"]["kind"] == "skipped"
    assert {k for k, r in errors.items() if r["kind"] == "error"} == {
        "panic.dcm", "dangling.dcm", "locked"}  # fmt: skip
    assert result.exit_code == 1 and len(result.not_images) == 1
    assert _outputs_on_disk(out) == {r["output"] for r in manifest}


def test_panic_result_is_plain_and_pickles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Panic(BaseException):
        def __reduce__(self) -> object:
            raise TypeError("cannot pickle a panic")

    def explode(*args: object, **kwargs: object) -> object:
        raise Panic("index out of bounds")

    _ct(tmp_path / "src" / "a.dcm")
    monkeypatch.setattr("pipeline.dicom.read.image_from_dataset", explode)
    task = tasks.ConvertTask(str(tmp_path / "src"), str(tmp_path / "out"), ("a.dcm",))
    result = tasks.run_task(task, ConvertOptions(format="npy").resolved())
    assert result.error == "a library crashed reading it (index out of bounds): a damaged file?"
    assert pickle.loads(pickle.dumps(result)).error == result.error


def test_panics_in_pool_workers_are_recorded(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for k in range(3):
        _ct(src / f"ok{k}.dcm", k)
        shutil.copy(PANIC, src / f"panic{k}.dcm")
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy", workers=2),
                            progress=False)  # fmt: skip
    assert result.converted == 3 and result.failed == 3


def test_colliding_sop_instance_uids_never_overwrite(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    series, sop = generate_uid(), generate_uid()
    _ct(src / "a.dcm", 10, sop=sop, series=series, z=0)
    _ct(src / "b.dcm", 20, sop=sop, series=series, z=1)
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    rows = _rows(out / "manifest.csv")
    assert len({r["output"] for r in rows}) == 2
    values = {r["source"]: float(np.load(out / r["output"]).max()) for r in rows}
    assert values == {"a.dcm": 10.0, "b.dcm": 20.0}
    assert all("SOPInstanceUID shared" in r["problems"] for r in rows)
    again = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    # files named by UID and file are converted again on a rerun (so that a removed copy
    # frees the UID's own name), under the same names while the UID is still shared
    assert again.skipped == 0 and {r["output"] for r in _rows(out / "manifest.csv")} == {
        r["output"] for r in rows}  # fmt: skip


def test_multiframe_failing_midway_leaves_no_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.dicom import read

    _ct(tmp_path / "src" / "mf.dcm", 5, frames=4)
    real = read.render

    def render(image: object, frame: int, *args: object) -> object:
        if frame == 2:
            raise MemoryError("out of memory at frame 2")
        return real(image, frame, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(read, "render", render)
    out = tmp_path / "out"
    result = convert_folder(tmp_path / "src", out, ConvertOptions(format="npy"), progress=False)
    assert result.failures == [("mf.dcm", "out of memory while converting it (out of memory at "
                                "frame 2): too little memory for the image, or a header that "
                                "asks for too much (try fewer --workers)")]  # fmt: skip
    assert _outputs_on_disk(out) == set()


def test_series_errors_name_the_file_at_fault_and_resume_per_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    good, bad = generate_uid(), generate_uid()
    for k in range(3):
        _ct(src / f"g{k}.dcm", k, series=good, z=k)
        _ct(src / f"b{k}.dcm", k, series=bad, z=k)
    path = src / "b1.dcm"
    from pydicom import dcmread
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    ds = dcmread(path)
    ds.compress(RLELossless)
    ds.PixelData = encapsulate([bytes(64)])  # an RLE header with 0 segments: undecodable
    ds.save_as(path)
    result = convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    assert errors["b1.dcm"].startswith(
        "RLE Lossless pixel data could not be decoded: every installed decoder failed"
    ), errors
    assert errors["b0.dcm"] == errors["b2.dcm"] == "not converted: its series failed on b1.dcm"
    assert result.converted == 1 and len(_rows(out / "manifest.csv")) == 1
    # every file of the good series is listed, each with the slice it became
    assert sorted((r["source"], r["slice"]) for r in _rows(out / "sources.csv")) == [
        ("g0.dcm", "0"),
        ("g1.dcm", "1"),
        ("g2.dcm", "2"),
    ]
    # A kill after the first series: the partial manifest lets the rerun skip it.
    (out / "manifest.csv").unlink()
    _ct(path, 1, series=bad, z=1)  # fixed
    monkeypatch.setattr(batch, "_FLUSH_SECONDS", 0.0)
    calls: list[str] = []
    real = tasks.run_task

    def run_task(task: tasks.ConvertTask, options: ConvertOptions) -> tasks.TaskResult:
        calls.append(task.task_id)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(task, options)

    monkeypatch.setattr(batch, "run_task", run_task)
    with pytest.raises(KeyboardInterrupt):
        convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    monkeypatch.setattr(batch, "run_task", real)
    again = convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    assert again.skipped == 1


def test_second_run_into_the_same_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from filelock import FileLock

    _ct(tmp_path / "src" / "a.dcm")
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / batch.LOCK_NAME)):
        code = main(["convert", str(tmp_path / "src"), str(out), "--quiet"])
    assert code == 1
    assert "another radpipe conversion is writing into" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "src"), str(out), "--quiet"]) == 0


def test_problems_column_and_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _ct(tmp_path / "src" / "long.dcm", 9)
    from pydicom import dcmread

    ds = dcmread(path)
    ds.PixelData = ds.PixelData + bytes(64)
    with pytest.warns(UserWarning, match="Invalid value for VR UI"):
        ds.StudyInstanceUID = "05fa52f0e599f17b8186ff18fcdf2b5570a52206a75c4d03afebf5c475dc8758"
    ds.save_as(path)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--quiet", "--format", "npy"]) == 0
    (row,) = _rows(out / "manifest.csv")
    notes = row["problems"].split("; ")  # one item per note: no note holds the separator
    assert any(
        "64 more than the header needs (32): the extra bytes are ignored, enough for "
        "exactly 3 frames" in n
        for n in notes
    ), notes  # 96 bytes: 3 whole frames
    said = "StudyInstanceUID (0020,000D) holds letters and has a component with a leading zero"
    assert f"{said}, not allowed in a UID (PS3.5 9.1): kept as written" in row["problems"]
    assert "05fa52f0" not in row["problems"]
    strict = tmp_path / "strict"
    assert main(["convert", str(tmp_path / "src"), str(strict), "--quiet", "--strict"]) == 1
    (error,) = _rows(strict / "errors.csv")
    assert error["reason"].startswith(f"refused under --strict: {said}")  # the header's first
    assert "; PixelData (7FE0,0010) holds" in error["reason"]
    captured = capsys.readouterr()
    assert "05fa52f0" not in captured.out + captured.err
    assert _outputs_on_disk(strict) == set()


def test_inspect_escapes_names_and_refuses_what_convert_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    _ct(src / "a\x1b[2J.dcm", 1)
    assert main(["inspect", str(src)]) == 0
    assert "\x1b" not in capsys.readouterr().out
    _ct(src / "big.dcm", 2)
    path = src / "big.dcm"
    path.write_bytes(path.read_bytes()[:-4])
    assert main(["inspect", str(src), "--max-pixels", "8"]) == 1
    text = capsys.readouterr().out
    assert "over the limit of 8" in text and "a\\x1b[2J.dcm" in text
    assert main(["inspect", str(src)]) == 1
    assert "big.dcm: truncated file: PixelData (7FE0,0010) holds 28 of its 32 bytes" in (
        capsys.readouterr().out
    )


def test_a_dying_worker_costs_one_task_not_the_batch() -> None:
    from tests.workflows.crash_task import die_on_three
    from workflows.convert.pool import map_tasks

    results = list(map_tasks(die_on_three, list(range(8)), workers=2,
                             on_crash=lambda task, why: -task))  # fmt: skip
    assert sorted(results) == sorted([0, 10, 20, -3, 40, 50, 60, 70])


def test_multiframe_copy_sharing_a_uid_with_a_different_image_is_listed_once(
    tmp_path: Path,
) -> None:
    # Found by benchmarks/fuzz.py at 10,000 files: a byte-identical copy of a 2-frame file,
    # and a third file with the same SOPInstanceUID but one frame of other pixels, made the
    # copy appear twice in errors.csv (once per frame's output name).
    src, out = tmp_path / "src", tmp_path / "out"
    series, sop = generate_uid(), generate_uid()
    _ct(src / "a.dcm", 10, sop=sop, series=series, frames=2)
    shutil.copyfile(src / "a.dcm", src / "b.dcm")
    _ct(src / "c.dcm", 30, sop=sop, series=series, frames=1)
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    rows, errors = _rows(out / "manifest.csv"), _rows(out / "errors.csv")
    assert [(e["source"], e["kind"]) for e in errors] == [("b.dcm", "skipped")]
    assert "duplicate of a.dcm" in errors[0]["reason"]
    assert sorted(r["source"] for r in rows) == ["a.dcm", "a.dcm", "c.dcm"]  # 2 frames + 1
    values = sorted(float(np.load(out / r["output"]).max()) for r in rows)
    assert values == [10.0, 10.0, 30.0] and len({r["output"] for r in rows}) == 3
    assert _outputs_on_disk(out) == {r["output"] for r in rows}


def test_partial_flushes_append_only_new_rows_and_stale_ones_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each flush writes the rows since the last one as a new file (a rewrite of everything
    per flush would cost the square of the number of files); partial rows of a run with other
    options are removed, not resumed from."""
    from workflows.convert import resume
    from workflows.convert.tasks import MANIFEST_COLUMNS

    rows = [dict.fromkeys(MANIFEST_COLUMNS, f"r{k}") for k in range(3)]
    flushed = resume.flush(tmp_path, rows[:2], [], [0, 0])
    assert flushed == [2, 0]
    flushed = resume.flush(tmp_path, rows, [], flushed)
    first, second = resume.parts(tmp_path, resume.PARTIAL)
    assert [r["output"] for r in _rows(first)] == ["r0", "r1"]
    assert [r["output"] for r in _rows(second)] == ["r2"]
    assert resume.flush(tmp_path, rows, [], flushed) == [3, 0]  # nothing new: no file
    assert len(resume.parts(tmp_path, resume.PARTIAL)) == 2
    src = tmp_path / "src"
    _ct(src / "a.dcm", 0, series=generate_uid(), z=0)

    def killed(task: tasks.ConvertTask, options: ConvertOptions) -> tasks.TaskResult:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_task", killed)
    with pytest.raises(KeyboardInterrupt):  # a run with other options, killed at once
        convert_folder(src, tmp_path, ConvertOptions(format="npy"), progress=False)
    assert resume.parts(tmp_path, resume.PARTIAL) == []  # stale rows removed at its start


def test_hidden_files_linked_folders_and_out_inside_src_are_accounted(tmp_path: Path) -> None:
    """Nothing found is passed over silently: a hidden file is listed as skipped, a symbolic
    link to a folder is followed (once: a loop is skipped with the reason), and an OUT
    inside SRC is not read back as input on a rerun."""
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    series = generate_uid()
    _ct(src / "a.dcm", 0, series=series, z=0)
    _ct(src / ".hidden.dcm", 1, series=series, z=1)
    _ct(elsewhere / "b.dcm", 2, series=series, z=2)
    (src / "linked").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(elsewhere, target_is_directory=True)
    out = src / "out"
    for _ in range(2):  # the second run must not read src/out
        result = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
        manifest = {r["source"] for r in _rows(out / "manifest.csv")}
        errors = {r["source"]: (r["kind"], r["reason"]) for r in _rows(out / "errors.csv")}
        assert manifest == {"a.dcm", "linked/b.dcm"}
        assert errors[".hidden.dcm"][0] == "skipped" and "hidden" in errors[".hidden.dcm"][1]
        assert errors["linked/loop"][0] == "skipped" and "already read" in errors["linked/loop"][1]
        assert errors["out"][0] == "skipped" and "output folder" in errors["out"][1]
        assert result.exit_code == 0  # skipped is no failure


def test_another_folder_into_the_same_out_never_reuses_its_rows(tmp_path: Path) -> None:
    """Folder B has a file named like one of folder A's, holding another image: converting B
    into A's OUT must convert it (never resume from A's row of that name); A's outputs are
    kept and counted, not deleted and not listed."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    _ct(a / "IM1.dcm", 100, series=generate_uid(), z=0)
    _ct(b / "IM1.dcm", 200, series=generate_uid(), z=0)
    first = convert_folder(a, out, ConvertOptions(format="npy"), progress=False)
    (row_a,) = _rows(out / "manifest.csv")
    second = convert_folder(b, out, ConvertOptions(format="npy"), progress=False)
    (row_b,) = _rows(out / "manifest.csv")
    assert first.converted == second.converted == 1 and second.skipped == 0
    assert row_b["output"] != row_a["output"] and row_b["series_key"] != row_a["series_key"]
    assert (out / row_a["output"]).exists() and second.other_source == 1 and second.removed == 0
    again = convert_folder(b, out, ConvertOptions(format="npy"), progress=False)
    assert (again.skipped, again.other_source) == (1, 0)  # B's own rerun resumes as usual
