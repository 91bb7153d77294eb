"""One acquisition whose slice positions each have a SeriesInstanceUID of their own.

Canon MR consoles' classic exports give each slice of a 4-D series (fMRI, DTI) its own
SeriesInstanceUID, with one SeriesNumber for all (dcm2niix #495, "technically not valid
DICOM"); a de-identification rewriting UIDs per file does the same to any series (medInria
PR #156). radpipe groups by SeriesInstanceUID, as the standard says, so each became a series of
one slice position: ``inspect`` listed them with exit 0 and ``convert`` wrote one-slice
volumes, unsaid. radpipe does not guess which of them belong together (dcm2niix does not merge
them either): each is converted as before (values by hand: slice k holds 100 + k, time point
t adds 10 t) and says why, in ``inspect`` and in every manifest row.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

NOTE = "split across SeriesInstanceUIDs: one of 3 series of SeriesNumber 7 in this study (MR"


def _write(src: Path, slices: list[tuple[float, int, int]], times: int = 1) -> None:
    """Slice k at z (mm) with its (SeriesInstanceUID suffix, SeriesNumber), ``times`` time
    points each (TemporalPositionIdentifier), value 100 + k + 10 t."""
    src.mkdir()
    for k, (z, uid, number) in enumerate(slices):
        for t in range(times):
            ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
            ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", f"1.2.392.9.10001.0.0.1.{uid}"
            ds.SeriesNumber, ds.InstanceNumber = number, t + 1
            ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, z]
            ds.PixelSpacing, ds.RepetitionTime, ds.TemporalPositionIdentifier = [1, 1], 2000, t + 1
            ds.SliceThickness = 3
            ds.PixelData = np.full((4, 4), 100 + k + 10 * t, "<u2").tobytes()
            ds.save_as(src / f"{k}_{t}.dcm", enforce_file_format=True)


@pytest.mark.parametrize("times", [1, 3], ids=["3-d", "4-d"])
def test_slices_under_uids_of_their_own_are_said(tmp_path: Path, times: int, capsys) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "src", [(0.0, 1, 7), (3.0, 2, 7), (6.0, 3, 7)], times)
    assert main(["inspect", str(tmp_path / "src")]) == 1
    said = capsys.readouterr().out
    assert said.count(f"! {NOTE}") == 3 and "6 mm from first to last" in said
    out = tmp_path / "nii"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["source"])
    assert len(rows) == 3 and all(r["problems"].startswith(NOTE) for r in rows)
    for k, row in enumerate(rows):  # each written as before: one position, its time points
        data = np.asarray(nib.load(out / row["output"]).dataobj)
        assert data.reshape(16, -1)[0].tolist() == [100 + k + 10 * t for t in range(times)]
    out = tmp_path / "png"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "png", "--quiet"]) == 0
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 3 * times and all(r["problems"].startswith(NOTE) for r in rows)


@pytest.mark.parametrize(
    "slices",
    [
        [(0.0, 1, 7), (3.0, 2, 8), (6.0, 3, 9)],  # their own SeriesNumbers: separate series
        [(0.0, 1, 7), (0.0, 2, 7)],  # one position: repeats, not slices of one stack
        [(0.0, 1, 7), (3.0, 1, 7), (6.0, 2, 7)],  # one UID holds two positions: a stack
    ],
    ids=["own-numbers", "one-position", "a-stack-beside"],
)
def test_other_series_say_nothing(tmp_path: Path, slices: list[tuple[float, int, int]]) -> None:
    _write(tmp_path / "src", slices)
    out = tmp_path / "nii"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    assert all(
        "SeriesInstanceUIDs" not in r["problems"] for r in read_manifest(out / "manifest.csv")
    )


@pytest.mark.parametrize("per", ["series", "instance"])
def test_strict_refuses_them(tmp_path: Path, per: str) -> None:
    # --strict refuses every file with a note: per series before anything is written
    _write(tmp_path / "src", [(0.0, 1, 7), (3.0, 2, 7), (6.0, 3, 7)])
    out = tmp_path / "out"
    fmt = "nifti" if per == "series" else "png"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", fmt, "--per", per]
    assert main([*args, "--strict", "--quiet"]) == 1
    errors = (out / "errors.csv").read_text()
    assert errors.count("refused under --strict: split across SeriesInstanceUIDs") == 3
    assert not list(out.rglob("*.nii.gz")) and not list(out.rglob("*.png"))


def _with_an_undecodable_file(src: Path) -> None:
    """The 3 slices of :func:`_write` and a second image of slice 0 (under its UID, another
    SOPInstanceUID) whose JPEG stream does not decode."""
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit, generate_uid

    _write(src, [(0.0, 1, 7), (3.0, 2, 7), (6.0, 3, 7)])
    ds = pydicom.dcmread(src / "0_0.dcm")
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + bytes(64) + b"\xff\xd9"])
    ds.save_as(src / "0_repeat.dcm", enforce_file_format=True)


def test_inspect_decode_says_the_note_beside_a_failed_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``inspect --decode`` says the note on all 3 series, as plain ``inspect`` does, beside
    a file that fails to decode."""
    src = tmp_path / "src"
    _with_an_undecodable_file(src)
    for decode in ([], ["--decode"]):
        assert main(["inspect", str(src), *decode]) == 1
        said = capsys.readouterr().out
        assert said.count(f"! {NOTE}") == 3, decode
    assert "incomplete: 0_repeat.dcm of this series failed" in said


def test_a_series_assembled_again_by_inspect_decode_keeps_its_note(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """``inspect --decode`` assembles a series again without a failed file it leaves out (a
    repeat); the series lost the note the first assembly gave it. A one-position series has
    no such repeat today, so the failed file is taken for one here."""
    from workflows.commands import inspect_decode

    def all_repeats(failed: list, _: object) -> tuple[dict[str, str], None]:  # type: ignore[type-arg]
        return {p.where: "a repeat" for p in failed}, None

    _with_an_undecodable_file(tmp_path / "src")
    monkeypatch.setattr(inspect_decode, "repeated_slices", all_repeats)
    assert main(["inspect", str(tmp_path / "src"), "--decode"]) == 1
    assert capsys.readouterr().out.count(f"! {NOTE}") == 3
