"""A series split into several volumes: the per-series warning of ``radpipe convert`` says
each volume's problems, not only the first volume's (and the manifest keeps each's)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main


def test_each_volumes_problems_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uid = generate_uid()
    # one series, two planes (a localizer): axial slices with a gap (0, 1, 3 mm: resampled
    # onto 1 mm steps), coronal ones evenly 3 mm apart (nothing to resample)
    files = [G.plane((0.0, 0.0, z), series=uid) for z in (0.0, 1.0, 3.0)]
    files += [G.plane((0.0, 3.0 * k, 0.0), (1, 0, 0, 0, 0, -1), series=uid) for k in range(3)]
    src = G.save(tmp_path / "scans", files)
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        rows = {r["volume"]: r["problems"] for r in csv.DictReader(fh)}
    assert sorted(rows) == ["0", "1"]
    resampled = [v for v, p in rows.items() if "resampled" in p]
    assert len(resampled) == 1  # the axial volume only
    warning = next(line for line in capsys.readouterr().err.splitlines()
                   if line.startswith(f"warning: series {hash_key(uid)}: "))  # fmt: skip
    said = warning.removeprefix(f"warning: series {hash_key(uid)}: ")
    first = min(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    volumes = " | ".join(f"volume {v}: {rows[v]}" for v in ("0", "1"))
    assert said == f"{volumes} (series of {first})", said  # a file of it too, not only its key


def test_a_caught_warning_keeps_each_volumes_own_problems() -> None:
    """A warning caught while a series converts is added to each volume's row; it used to
    replace each row's problems with the series' (a volume's own resampling note lost)."""
    from workflows.convert.tasks import ConvertOptions, TaskResult, _with_problems

    rows = ({"volume": "0", "problems": "split: 2; resampled: 1 gap"},
            {"volume": "1", "problems": "split: 2"})  # fmt: skip
    result = TaskResult("s", rows=rows, problems=("split: 2",))
    got = _with_problems(result, ["odd header"], ConvertOptions(), [])
    assert [r["problems"] for r in got.rows] == [
        "split: 2; resampled: 1 gap; odd header",
        "split: 2; odd header",
    ]


def test_images_in_no_volume_are_not_called_volume_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows of a series' images in no volume (``volume`` empty: a copy of a slice with
    other pixels, written per file) were said as ``volume 0``, so the line read ``volume 0:
    ... | volume 0: ...``, two different sets of problems under one name."""
    import copy

    uid = generate_uid()
    files = [G.plane((0.0, 0.0, z), series=uid) for z in (0.0, 1.0, 2.0)]
    stray = copy.deepcopy(files[1])  # the middle slice again, its UID too, other pixels:
    stray.PixelData = bytes(len(stray.PixelData))  # written per file, in no volume
    src = G.save(tmp_path / "scans", [*files, stray])
    out = tmp_path / "npy"
    main(["convert", str(src), str(out), "--format", "npy", "--quiet"])
    rows: dict[str, list[str]] = {}  # each volume's problems over its rows, once each
    with (out / "manifest.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            said = rows.setdefault(r["volume"], [])
            said += [p for p in r["problems"].split("; ") if p not in said]
    assert sorted(rows) == ["", "0"], rows  # three slices stacked, the copy in no volume
    warning = next(line for line in capsys.readouterr().err.splitlines()
                   if line.startswith(f"warning: series {hash_key(uid)}: "))  # fmt: skip
    said = warning.removeprefix(f"warning: series {hash_key(uid)}: ").rsplit(" (series of", 1)[0]
    parts = [part.split(": ", 1) for part in said.split(" | ")]  # each part's problems in
    got = [(name, set(problems.split("; "))) for name, problems in parts]  # the rows' order
    assert got == [("volume 0", set(rows["0"])), ("images in no volume", set(rows[""]))], said


def test_nothing_converted_is_said_and_exits_1(tmp_path: Path) -> None:
    """``radpipe convert`` of an empty folder, or of one without images, printed ``0 outputs
    from 0 tasks`` and exited 0, as if done (a mistyped folder went unnoticed in a script);
    dcm2niix exits non-zero when it finds no DICOM image. Through the CLI as a user runs it."""
    import subprocess
    import sys

    from pydicom.data import get_testdata_file

    empty, plans = tmp_path / "empty", tmp_path / "plans"
    empty.mkdir()
    plans.mkdir()
    (plans / "rtplan.dcm").write_bytes(Path(str(get_testdata_file("rtplan.dcm"))).read_bytes())
    said = {}
    for src in (empty, plans):
        done = subprocess.run(
            [sys.executable, "-m", "workflows.cli", "convert", src.name, f"out-{src.name}",
             "--format", "npy", "--quiet"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        said[src.name] = done.stderr.strip().splitlines()[-1]
    assert said == {
        "empty": "radpipe convert: no file found in empty (an empty folder? hidden files and "
        "radpipe's output folders are not read); nothing was written",
        "plans": "radpipe convert: No image in plans: its 1 file is not an image (reports, "
        "plans, DICOMDIR...); see out-plans/errors.csv.",
    }
    assert not (tmp_path / "out-empty").exists()  # it held a manifest, errors.csv, a lock
