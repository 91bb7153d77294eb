"""A slice without the rescale its series' other slices have (pydicom #818, #1615).

CT (and PET) images require RescaleSlope and RescaleIntercept (PS3.3 C.8.2.1, Type 1), but an
editing or de-identification tool can drop them from one file. Read as slope 1 and intercept 0
(every reader's default), that slice is in stored values while its neighbours are in HU: the
NIfTI volume held it 1024 above them, unsaid. Which rescale it had is unknown, so the series
is refused per series, naming the file; per instance each file is written as it reads.

Expected values: pydicom's ``apply_modality_lut`` of each file (stored 1064 is 40 HU with
intercept -1024, and stays 1064 without a rescale).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import CT, image, plane, save
from workflows.cli import main

STORED = 1064


def _series(rescales: list[tuple[float, float] | None]) -> list[Dataset]:
    """Axial CT slices 2 mm apart, each with its (slope, intercept), ``None``: neither."""
    series = "1.2.826.0.1.3680043.8.498.2203"
    slices = []
    for k, rescale in enumerate(rescales):
        ds = plane((0.0, 0.0, 2.0 * k), value=STORED, series=series, sop_class=CT,
                   InstanceNumber=k + 1, ImageType=["ORIGINAL", "PRIMARY", "AXIAL"])  # fmt: skip
        if rescale is None:  # neither (the builder gives a CT an identity rescale)
            del ds.RescaleSlope, ds.RescaleIntercept
        else:
            ds.RescaleSlope, ds.RescaleIntercept = rescale
        slices.append(ds)
    return slices


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / name, newline="") as f:
        return list(csv.DictReader(f))


def _names(n: int) -> list[str]:
    return [f"s{k}" for k in range(n)]


def test_a_slice_without_the_series_rescale_refuses_the_volume_naming_it(tmp_path: Path) -> None:
    src = save(tmp_path / "src", _series([(1, -1024), (1, -1024), None, (1, -1024)]), _names(4))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    assert not list(out.rglob("*.nii.gz"))
    errors = {row["source"]: row["reason"] for row in _rows(out, "errors.csv")}
    assert "missing on 1 of 4 images" in errors["s2.dcm"]
    assert "(slope 1, intercept -1024)" in errors["s2.dcm"]
    assert errors["s0.dcm"] == "not converted: its series failed on s2.dcm"


def test_per_instance_each_file_is_written_as_it_reads(tmp_path: Path) -> None:
    src = save(tmp_path / "src", _series([(1, -1024), (1, -1024), None, (1, -1024)]), _names(4))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    for row in _rows(out, "manifest.csv"):
        ds = pydicom.dcmread(src / row["source"])
        expected = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
        assert np.array_equal(np.load(out / row["output"]), expected)
        assert "missing on 1 of 4 images" in row["problems"]
    assert {float(np.load(out / r["output"]).flat[0]) for r in _rows(out, "manifest.csv")} == {
        40.0,
        1064.0,
    }


def test_inspect_refuses_the_series_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = save(tmp_path / "src", _series([(1, -1024), None, (1, -1024)]), _names(3))
    assert main(["inspect", str(src), "--json"]) == 1
    (series,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert any(p.startswith("refused: RescaleSlope/RescaleIntercept") for p in series["problems"])


@pytest.mark.parametrize(
    "rescales",
    [[None, None, None], [(1, 0), None, (1, 0)], [(1, -1024), (1, -1000), (1, -1024)]],
    ids=["none-has-one", "others-identity", "intercepts-differ"],
)
def test_a_series_whose_rescales_agree_in_kind_is_one_volume(
    tmp_path: Path, rescales: list[tuple[float, float] | None]
) -> None:
    slices = _series(rescales)
    src = save(tmp_path / "src", slices, _names(len(slices)))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = _rows(out, "manifest.csv")
    values = np.asarray(nib.load(out / row["output"]).dataobj)[0, 0, :].tolist()
    assert values == [
        float(apply_modality_lut(np.array([STORED]), ds)[0]) for ds in slices
    ]  # each slice its own rescale (ITK-Wasm #1248: intercepts that differ per slice)
    assert "whose others have them" not in row["problems"]  # not the mixed-rescale refusal
    # all without one: said as stored values, not HU (test_unrescaled_units)
    assert row["problems"].startswith("no rescale: ") == (None in rescales)


def test_a_dose_page_without_rescale_filed_with_the_slices_is_its_own_kind(tmp_path: Path) -> None:
    slices = _series([(1, -1024), (1, -1024), (1, -1024)])
    page = image(np.full((8, 8), 7, np.uint16), CT, slices[0].SeriesInstanceUID,
                 ImageType=["DERIVED", "SECONDARY", "OTHER"])  # fmt: skip
    src = save(tmp_path / "src", [*slices, page], _names(4))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = _rows(out, "manifest.csv")
    assert len(rows) == 2
    assert np.asarray(nib.load(out / rows[0]["output"]).dataobj)[0, 0, :].tolist() == [40] * 3
    assert float(np.asarray(nib.load(out / rows[1]["output"]).dataobj).max()) == 7


def test_magnitude_without_rescale_beside_rescaled_phase_is_not_refused(tmp_path: Path) -> None:
    """Siemens writes phase images with slope 2 and intercept -4096, magnitude ones without."""
    series, images = "1.2.826.0.1.3680043.8.498.2204", []
    phase = {"RescaleSlope": 2, "RescaleIntercept": -4096}
    for k in range(3):
        for part, extra in (("M", {}), ("P", phase)):
            kind = ["ORIGINAL", "PRIMARY", part, "ND"]
            images.append(plane((0.0, 0.0, 2.0 * k), value=STORED, series=series,
                                ImageType=kind, **extra))  # fmt: skip
    src = save(tmp_path / "src", images)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = _rows(out, "manifest.csv")
    first = [float(np.asarray(nib.load(out / r["output"]).dataobj)[0, 0, 0]) for r in rows]
    assert first == [STORED, 2 * STORED - 4096]  # magnitude first, as dcm2niix writes them


def test_a_modality_lut_counts_as_a_rescale(tmp_path: Path) -> None:
    slices = _series([None, None, None])
    lut = item(LUTDescriptor=[4096, 0, 16], ModalityLUTType="HU")
    lut.add_new(0x00283006, "OW", (np.arange(4096, dtype=np.uint16) // 2).tobytes())
    for ds in slices[:2]:
        ds.ModalityLUTSequence = Sequence([lut])
    src = save(tmp_path / "src", slices, _names(3))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    errors = {row["source"]: row["reason"] for row in _rows(out, "errors.csv")}
    assert "missing on 1 of 3 images" in errors["s2.dcm"]
    assert "a Modality LUT Sequence" in errors["s2.dcm"]


def test_strict_says_the_series_mates_of_a_refused_file_were_refused_not_failed(
    tmp_path: Path,
) -> None:
    """A CT series none of whose files has a rescale (not called HU, a note) under
    ``--strict``: the file it names is refused, and its series-mates are said to be refused
    with it (they were "not converted: its series failed on ...", as if a file were broken)."""
    src = save(tmp_path / "src", _series([None, None, None]), _names(3))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet", "--strict"]) == 1
    errors = {row["source"]: row["reason"] for row in _rows(out, "errors.csv")}
    (first,) = [s for s, r in errors.items() if r.startswith("refused under --strict: no rescale")]
    assert first == "s0.dcm"
    assert errors == {
        "s0.dcm": errors["s0.dcm"],
        "s1.dcm": "not converted: its series was refused under --strict on s0.dcm",
        "s2.dcm": "not converted: its series was refused under --strict on s0.dcm",
    }


def test_strict_summary_counts_the_series_mates_it_did_not_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary counted the file at fault (1) while 3 were not converted: it now says the
    other 2 files of its series too."""
    src = save(tmp_path / "src", _series([None, None, None]), _names(3))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--strict"]) == 1
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("strict: ")]
    assert line.startswith("strict: 1 file refused for the problems noted, and 2 files of their "
                           "series with them (errors.csv; without --strict")  # fmt: skip


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("RescaleIntercept", ""), ("RescaleIntercept", None), ("RescaleSlope", "")],
    ids=["intercept-empty", "intercept-absent", "slope-empty"],
)
def test_half_a_rescale_is_no_rescale_refused_and_noted_naming_the_file(
    tmp_path: Path, keyword: str, value: str | None
) -> None:
    """One slice whose RescaleIntercept (or RescaleSlope) was emptied or dropped, the other of
    the pair kept (found by ``benchmarks/fuzz_header_bytes.py``): read with intercept 0 it
    sat 1024 above its neighbours (1064 stored: 40 HU beside, 1064 there), unsaid."""
    slices = _series([(1, -1024), (1, -1024), (1, -1024)])
    if value is None:
        delattr(slices[1], keyword)
    else:
        setattr(slices[1], keyword, value)
    src = save(tmp_path / "src", slices, _names(3))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    assert not list(out.rglob("*.nii.gz"))
    errors = {row["source"]: row["reason"] for row in _rows(out, "errors.csv")}
    assert "missing on 1 of 3 images" in errors["s1.dcm"]
    npy = tmp_path / "npy"
    assert main(["convert", str(src), str(npy), "--format", "npy", "--quiet"]) == 0
    (row,) = [r for r in _rows(npy, "manifest.csv") if r["source"] == "s1.dcm"]
    state = "absent" if value is None else "empty"
    assert f"{keyword} (0028,105{2 if 'Intercept' in keyword else 3}) is {state}" in row["problems"]
