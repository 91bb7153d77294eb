"""The manifest's ``lossy`` column: pixels that went through lossy compression.

A file decompressed by a PACS keeps LossyImageCompression (0028,2110) "01" (PS3.3
C.7.6.1.1.5), with its ratio and method; a JPEG baseline or an irreversible JPEG 2000 file
is lossy by its syntax or its stream. radpipe said nothing of either. It is information
(the values written are the file's), so it is said in ``lossy``, not in ``problems``, and
``--strict`` converts such files. Expected cells are the headers' own values.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from pipeline.dicom.lossy import lossy_history
from tests.pipeline.dicom.builders import ct_series
from tests.pipeline.dicom.geometry_cases import convert_nifti

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("JPEG-lossy.dcm", "stored as JPEG Extended (Process 2 and 4), "
         "LossyImageCompression (0028,2110) 01, ratio 76:1"),
        ("JPEG2000.dcm", "stored as JPEG 2000 Image Compression, "
         "LossyImageCompression (0028,2110) 01, ratio 2097:1"),
        # no LossyImageCompression: the JPEG-LS stream's NEAR 3 says it
        ("JPEGLSNearLossless_08.dcm", "stored as JPEG-LS Lossy (Near-Lossless) Image Compression"),
        ("MR_small_jp2klossless.dcm", ""),
        ("CT_small.dcm", ""),
    ],
    ids=["jpeg-extended", "j2k-lossy", "jpegls-near", "j2k-lossless", "native"],
)  # fmt: skip
@pytest.mark.parametrize("deferred", [False, True], ids=["read", "header-read"])
def test_lossy_history_of_pydicom_files(name: str, said: str, deferred: bool) -> None:
    path = get_testdata_file(name)
    ds = pydicom.dcmread(path, defer_size=256 if deferred else None)
    assert lossy_history(ds) == said


def _ct(folder: Path, count: int, **extra: object) -> Path:
    return ct_series(folder, [[1000 + k] * 16 for k in range(count)], **extra)


@pytest.mark.parametrize(
    ("fmt", "per"), [("nifti", "series"), ("png", "instance")], ids=["series", "instance"]
)
def test_a_decompressed_file_says_its_lossy_history_and_strict_converts_it(
    tmp_path: Path, fmt: str, per: str
) -> None:
    history = {
        "LossyImageCompressionRatio": [10, 12.5],
        "LossyImageCompressionMethod": "ISO_10918_1",
    }
    src = _ct(tmp_path / "src", 2, LossyImageCompression="01", **history)
    rows, errors, code = convert_nifti(src, tmp_path / "out", format=fmt, per=per, strict=True)
    assert code == 0 and not errors and rows
    said = "LossyImageCompression (0028,2110) 01, ratio 10:1/12.5:1, method ISO_10918_1"
    assert {r["lossy"] for r in rows} == {said}
    assert {r["problems"] for r in rows} == {""}


def test_an_uncompressed_file_has_no_lossy_history(tmp_path: Path) -> None:
    rows, _, code = convert_nifti(_ct(tmp_path / "src", 2, LossyImageCompression="00"),
                                  tmp_path / "out")  # fmt: skip
    assert code == 0 and [r["lossy"] for r in rows] == [""]


def test_a_volume_of_some_lossy_slices_says_how_many(tmp_path: Path) -> None:
    """One slice of three decompressed after lossy compression: the volume's cell said the
    history alone, which read as every slice's."""
    src = _ct(tmp_path / "src", 3)
    one = pydicom.dcmread(src / "s1.dcm")
    one.LossyImageCompression = "01"
    one.save_as(src / "s1.dcm")
    rows, _, code = convert_nifti(src, tmp_path / "out")
    assert code == 0
    assert [r["lossy"] for r in rows] == ["1 of 3 frames: LossyImageCompression (0028,2110) 01"]


def test_inspect_says_the_lossy_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from workflows.cli import main

    history = {"LossyImageCompressionRatio": 10, "LossyImageCompressionMethod": "ISO_15444_1"}
    src = _ct(tmp_path / "src", 2, LossyImageCompression="01", **history)
    assert main(["inspect", str(src), "--index", str(tmp_path / "index.csv")]) == 0
    with (tmp_path / "index.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    said = "LossyImageCompression (0028,2110) 01, ratio 10:1, method ISO_15444_1"
    assert [r["lossy"] for r in rows] == [said, said]
    assert f"Explicit VR Little Endian; lossy: {said}\n" in capsys.readouterr().out  # series line


JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"


@pytest.mark.parametrize(
    ("name", "stream"),
    [("SC_rgb_jpeg_dcmtk.dcm", "JPEG Baseline (Process 1)"),
     ("JPEG-lossy.dcm", "JPEG Extended (Process 2 and 4)"),
     ("JPEGLSNearLossless_08.dcm", "JPEG-LS Lossy (Near-Lossless) Image Compression")],
    ids=["baseline", "extended", "jpegls-near"],
)  # fmt: skip
@pytest.mark.parametrize("deferred", [False, True], ids=["read", "header-read"])
def test_a_lossy_stream_under_a_lossless_syntax_is_said_lossy(
    tmp_path: Path, name: str, stream: str, deferred: bool
) -> None:
    """A lossy stream re-filed as JPEG Lossless (its LossyImageCompression dropped): only a
    problem note said it, and the ``lossy`` cell was empty. The stream's kind is its SOF/SOS
    marker's (T.81 SOF0 baseline, SOF1 extended; T.87 NEAR 3), from pydicom's own syntax."""
    ds = pydicom.dcmread(get_testdata_file(name))
    ds.file_meta.TransferSyntaxUID = JPEG_LOSSLESS
    for keyword in ("LossyImageCompression", "LossyImageCompressionRatio",
                    "LossyImageCompressionMethod"):  # fmt: skip
        if keyword in ds:
            delattr(ds, keyword)
    ds.save_as(tmp_path / "x.dcm")
    said = lossy_history(pydicom.dcmread(tmp_path / "x.dcm", defer_size=256 if deferred else None))
    assert said == (
        f"stored as {stream} (its own markers; TransferSyntaxUID (0002,0010) says JPEG Lossless, "
        "Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1]))"
    )


def test_inspect_and_convert_say_a_relabelled_lossy_stream_lossy(tmp_path: Path) -> None:
    import csv

    from workflows.cli import main

    ds = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))
    ds.file_meta.TransferSyntaxUID = JPEG_LOSSLESS
    del ds.LossyImageCompression
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "x.dcm")
    main(["inspect", str(tmp_path / "src"), "--index", str(tmp_path / "i.csv")])  # 1: a problem
    with (tmp_path / "i.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["lossy"].startswith("stored as JPEG Baseline (Process 1) (its own markers")
    rows, _, _ = convert_nifti(tmp_path / "src", tmp_path / "out", format="npy", per="instance")
    assert [r["lossy"] for r in rows] == [row["lossy"]]
