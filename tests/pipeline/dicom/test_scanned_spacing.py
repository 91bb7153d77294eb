"""A Secondary Capture whose only spacing is NominalScannedPixelSpacing (0018,2010).

PS3.3 C.8.6.1: it is the "physical distance on the media being digitized or scanned", a
film's or a document's, not the patient's (a film can be a print of several images at any
scale). radpipe left the manifest's ``spacing`` empty without a word, so the attribute looked
lost. Expected: the spacing stays empty (no PixelSpacing is made from it) and the row and
``inspect`` say why, naming the attribute and its value (0.2 x 0.25 mm, as written); a
PixelSpacing beside it is used as it is, and nothing is said.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

SC = "1.2.840.10008.5.1.4.1.1.7"
NOTE = (
    "spacing unknown: NominalScannedPixelSpacing (0018,2010) 0.2x0.25 mm is the spacing on the "
    "scanned film or document (PS3.3 C.8.6.1), not in the patient"
)


def _film(src: Path, *, scanned: bool = True, **extra: object) -> Path:
    src.mkdir()
    ds = image_dataset(SC, "OT", 4, 4)
    ds.ConversionType = "DF"
    if scanned:
        ds.NominalScannedPixelSpacing = [0.2, 0.25]
    for key, value in extra.items():
        setattr(ds, key, value)
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    ds.save_as(src / "film.dcm", enforce_file_format=True)
    return src


def test_a_scanned_film_spacing_is_not_taken_for_the_patients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _film(tmp_path / "src")
    assert main(["inspect", str(src)]) == 1
    assert f"film.dcm: note: {NOTE}" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "png", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["spacing"] == ()  # empty
    assert NOTE in row["problems"]


@pytest.mark.parametrize(
    ("scanned", "extra", "spacing"),
    [(True, {"PixelSpacing": [0.5, 0.5]}, (0.5, 0.5)), (False, {}, ())],
    ids=["pixel-spacing-beside", "none"],
)
def test_otherwise_nothing_is_said(
    tmp_path: Path, scanned: bool, extra: dict[str, object], spacing: tuple[float, ...]
) -> None:
    src = _film(tmp_path / "src", scanned=scanned, **extra)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "png", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["spacing"] == spacing
    assert "NominalScannedPixelSpacing" not in row["problems"]
