"""``radpipe inspect``: text and JSON output, problems, exit codes, index.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inspect_study")
    write_study(out, StudySpec(patients=2, modality="MR", size=16, slices=5, seed=2))
    return out / "dicom"


def test_clean_folder_lists_series_exit_0(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(study)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("20 files, 20 images in 4 series of 2 patients")
    assert "MR  'COR T2'" in out and "16x16  5 slices" in out and "SYNMR" not in out


def test_missing_slice_and_junk_reported_exit_1(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = tmp_path / "scan"
    shutil.copytree(study, folder)
    assert main(["inspect", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    series = summary["patients"][0]["studies"][0]["series"][0]
    # Remove the middle slice of the first series (found by hashed key via index.csv).
    assert main(["inspect", str(folder), "--index", str(tmp_path / "index.csv")]) == 0
    capsys.readouterr()
    rows = (tmp_path / "index.csv").read_text().splitlines()[1:]
    middle = next(r for r in rows if series["series_key"] in r and ",2,5," in r)
    (folder / middle.split(",")[0]).unlink()
    (folder / "notes.txt").write_text("hello")
    assert main(["inspect", str(folder), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    reasons = [p["reason"] for p in summary["problems"]]
    assert any(r.startswith("resampled: missing slices: 1 gap ") for r in reasons), reasons
    assert {"where": "notes.txt", "reason": reasons[0], "kind": "error"} in summary["problems"]
    assert main(["inspect", str(folder)]) == 1
    text = capsys.readouterr().out
    assert "! resampled: missing slices" in text and "notes.txt: not a DICOM file" in text


def test_not_a_folder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_workers_read_headers_in_parallel_with_the_same_result(study: Path, tmp_path: Path) -> None:
    """``--workers 2`` (headers read in a process pool) prints what one process prints, bad
    and non-DICOM files included, in the same order; run as a user runs it."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "scan"
    shutil.copytree(study, folder)
    (folder / "junk.dcm").write_bytes(b"not dicom at all")
    (folder / "empty.dcm").write_bytes(b"")
    runs = {}
    for workers in ("1", "2"):
        cmd = [sys.executable, "-m", "workflows.cli", "inspect", str(folder), "--json",
               "--workers", workers, "--index", str(tmp_path / f"index{workers}.csv")]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stderr  # the junk files are problems
        runs[workers] = json.loads(done.stdout)
    assert runs["1"] == runs["2"]
    assert (tmp_path / "index1.csv").read_text() == (tmp_path / "index2.csv").read_text()
    reasons = {p["where"]: p["reason"] for p in runs["2"]["problems"]}
    assert reasons["empty.dcm"] == "empty file (0 bytes)"
    assert len(reasons) == 2 and (runs["2"]["files"], runs["2"]["instances"]) == (22, 20)


def test_a_file_name_that_is_not_utf8_is_indexed_escaped(study: Path, tmp_path: Path) -> None:
    import os
    import shutil

    from workflows.run.rundir import fingerprint_files

    folder = tmp_path / "scan"
    shutil.copytree(study, folder)
    first = sorted(folder.rglob("*.dcm"))[0]
    odd = os.fsencode(first.parent) + b"/lat\xe9ral.dcm"  # Latin-1 name, not UTF-8
    os.rename(first, odd)
    assert main(["inspect", str(folder), "--index", str(tmp_path / "index.csv")]) == 0
    names = (tmp_path / "index.csv").read_text(encoding="utf-8")
    assert "lat\\xe9ral.dcm" in names  # escaped, not a crash
    one = fingerprint_files(folder, list(folder.rglob("*.dcm")))
    os.rename(odd, os.fsencode(first.parent) + b"/lat\xe8ral.dcm")
    assert fingerprint_files(folder, list(folder.rglob("*.dcm"))) != one  # the bytes count


def test_output_piped_into_head_ends_quietly(study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``radpipe inspect DIR | head``: the reader has gone, so writing fails with EPIPE; the
    command ends with 141 (128 + SIGPIPE, as a shell reports it), not a traceback."""
    import io
    import os

    read, write = os.pipe()
    os.close(read)  # the reader left before anything was written
    stream = io.TextIOWrapper(os.fdopen(write, "wb", buffering=0), write_through=True)
    monkeypatch.setattr("sys.stdout", stream)
    assert main(["inspect", str(study), "--json"]) == 141
    stream.write("after")  # stdout now goes nowhere instead of failing again at exit


def test_a_series_of_several_volumes_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two echoes at the same 3 positions: one series of 6 slices in 2 volumes of 2 mm (the
    line said '6 slices' as if one volume held them all)."""
    import numpy as np
    from pydicom.uid import generate_uid

    from tests.pipeline.dicom import geometry_cases as G

    series, images = generate_uid(), []
    for echo, te in enumerate((10.0, 30.0)):
        for z in range(3):
            ds = G.plane((0.0, 0.0, 2.0 * z), series=series, sop_class=G.MR)
            ds.EchoTime, ds.EchoNumbers = te, echo + 1
            ds.PixelData = np.full((8, 8), 10 * echo + z, np.uint16).tobytes()
            images.append(ds)
    assert main(["inspect", str(G.save(tmp_path / "src", images))]) == 0
    assert "8x8  6 slices in 2 volumes, 2 mm, 6 files" in capsys.readouterr().out


def test_a_4d_series_gives_its_slices_and_time_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 time points (TR 2 s) at the same 5 positions: one 4-D volume of 5 slices x 3 time
    points (the line said '15 slices', as if one 3-D volume held them)."""
    import numpy as np
    from pydicom.uid import generate_uid

    from tests.pipeline.dicom import geometry_cases as G

    series, images = generate_uid(), []
    for t in range(3):
        for z in range(5):
            ds = G.plane((0.0, 0.0, 2.0 * z), series=series, sop_class=G.MR)
            ds.RepetitionTime, ds.AcquisitionTime = 2000.0, f"1200{2 * t:02d}"
            ds.TemporalPositionIdentifier = t + 1
            ds.PixelData = np.full((8, 8), 10 * t + z, np.uint16).tobytes()
            images.append(ds)
    assert main(["inspect", str(G.save(tmp_path / "src", images)), "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert (found["slices"], found["time_points"], found["volumes"]) == (15, 3, 1)
    assert main(["inspect", str(tmp_path / "src")]) == 0
    assert "8x8  5 slices x 3 time points, 2 mm, 15 files" in capsys.readouterr().out


def test_transfer_syntaxes_are_named_not_given_as_uids(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A series with one file re-saved as Implicit VR Little Endian showed
    ``1.2.840.10008.1.2.1/1.2.840.10008.1.2``; the names are those of DICOM PS3.6 Table A-1.
    ``--json`` keeps the UIDs."""
    import shutil

    import pydicom
    from pydicom.uid import ImplicitVRLittleEndian

    folder = tmp_path / "one"
    files = sorted(study.rglob("*.dcm"))[:2]
    folder.mkdir()
    for k, path in enumerate(files):
        shutil.copy(path, folder / f"{k}.dcm")
    ds = pydicom.dcmread(folder / "1.dcm")
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(folder / "1.dcm", enforce_file_format=True, implicit_vr=True)
    assert main(["inspect", str(folder)]) in (0, 1)
    out = capsys.readouterr().out
    assert "Implicit VR Little Endian / Explicit VR Little Endian" in out
    assert "1.2.840.10008" not in out
    main(["inspect", str(folder), "--json"])
    assert "1.2.840.10008.1.2.1" in capsys.readouterr().out


def test_volumes_of_other_slice_steps_give_the_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two blocks of 4 slices apart in-plane (one volume each), 1 mm and 5 mm apart: the line
    said '1 mm', the first volume's step, as if both had it."""
    from pydicom.uid import generate_uid

    from tests.pipeline.dicom import geometry_cases as G

    series = generate_uid()
    blocks = ((0.0, 0.0, 1.0), (60.0, 100.0, 5.0))  # x, first z, step (mm)
    images = [G.plane((x, 0.0, z0 + step * k), series=series)
              for x, z0, step in blocks for k in range(4)]  # fmt: skip
    # exit 0: the split is said ('split: 2 blocks of slices placed apart'), convert makes it
    assert main(["inspect", str(G.save(tmp_path / "src", images)), "--json"]) == 0
    (series_summary,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert series_summary["spacing_mm_range"] == [1.0, 5.0]
    assert main(["inspect", str(tmp_path / "src")]) == 0
    assert "8x8  8 slices in 2 volumes, 1 to 5 mm, 8 files" in capsys.readouterr().out


def test_a_one_slice_localizer_filed_first_leaves_the_step_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sagittal localizer and 4 axial slices 2 mm apart: the localizer is volume 0, of one
    slice and no step, and the line gave no spacing at all."""
    from pydicom.uid import generate_uid

    from tests.pipeline.dicom import geometry_cases as G

    series = generate_uid()
    images = [G.plane((0.0, 0.0, 2.0 * k), series=series) for k in range(4)]
    images.append(G.plane((0.0, -20.0, 0.0), (0, 1, 0, 0, 0, -1), series=series,
                          ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]))  # fmt: skip
    assert main(["inspect", str(G.save(tmp_path / "src", images))]) == 0  # a split: said
    assert "8x8  5 slices in 2 volumes, 2 mm, 5 files" in capsys.readouterr().out
