"""PALETTE COLOR indices with bits set above BitsStored: masked, as grey values are, and said.

PS3.5 8.1.1: bits above HighBit are undefined, so pydicom and dcmtk mask them; grey values
that masking changes were noted (cornerstone3D #781, dcm2niix #343), palette indices were not:
index 300 of a 512-entry palette under BitsStored 8 took entry 44's colour, unsaid (the header
understating its indices, or junk above them). The colours: entry i is 100 i, so 0, 1, 44 and
300 masked to 44 are 0, 100, 4400, 4400, as pydicom's ``apply_color_lut`` gives them.

Indices in a JPEG-LS or JPEG 2000 stream are the stream's samples: a stream of 9-bit indices
under BitsStored 8 is kept whole, as its grey samples are, and said; until 2026-12-04 they
were masked unsaid. Indices through lossy compression (each moved a little, and neighbouring
entries need not hold neighbouring colours) are refused: a JPEG baseline stream of indices
came out in colours its pixels never had, unsaid.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main


def _palette(syntax: str, rows: int = 1, cols: int = 4) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", rows, cols, bits=16, stored=8,
                       photometric="PALETTE COLOR")  # fmt: skip
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [512, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData",
                (np.arange(512) * 100).astype("<u2").tobytes())  # fmt: skip
    indices = np.resize(np.array([0, 1, 44, 300], "<u2"), (rows, cols))
    ds.PixelData = indices.tobytes()
    if syntax != ExplicitVRLittleEndian:  # encoders refuse 300 under 8 bits: encoded as 16
        ds.BitsStored, ds.HighBit = 16, 15
        ds.compress(syntax, indices)
        ds.BitsStored, ds.HighBit = 8, 7
    return ds


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless], ids=["native", "rle"])
def test_masked_palette_indices_are_said(tmp_path: Path, syntax: str) -> None:
    src = write_folder(tmp_path / "src", pal=_palette(syntax))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    got = np.load(out / row["output"])
    assert got[0, :, 0].tolist() == [0, 100, 4400, 4400]
    assert row["problems"] == (
        "stored values use bits above BitsStored (0028,0101) 8: 1 of 4 values have bits 8-15 "
        "set (read whole: 300), so bits 8-15 were cleared (masked to 8 bits), as PS3.5 8.1.1 "
        "has it (bits above HighBit are undefined) and as pydicom and dcmtk read them (300 read "
        "as 44): right if those bits are junk, wrong if BitsStored understates the data"
    )


@pytest.mark.parametrize(
    ("syntax", "codec"),
    [(JPEGLSLossless, "JPEG-LS"), (JPEG2000Lossless, "JPEG 2000")],
    ids=["jpeg-ls", "j2k"],
)
def test_wider_indices_of_a_stream_are_kept_and_said(
    tmp_path: Path, syntax: str, codec: str
) -> None:
    src = write_folder(tmp_path / "src", pal=_palette(syntax, 32, 32))  # openjpeg's least
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    got = np.load(out / row["output"])
    assert got.shape == (32, 32, 3)
    assert got[0, :4, 0].tolist() == [0, 100, 4400, 30000]  # entry 300, not 44
    assert (got[..., 0] == np.resize([0, 100, 4400, 30000], (32, 32))).all()
    assert row["problems"] == (
        f"{codec} samples need 9 bits (up to 300) but BitsStored (0028,0101) says 8: kept as "
        "decoded, as pydicom reads them, not masked to 8 bits (the palette has entries for them)"
    )


def _lossy(kind: str) -> Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 32, 32, bits=8,
                       photometric="PALETTE COLOR")  # fmt: skip
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes(range(256)))
    indices = np.resize(np.arange(0, 256, 8, dtype=np.uint8), (32, 32))
    if kind == "baseline":
        buffer = io.BytesIO()
        Image.fromarray(indices).save(buffer, "JPEG", quality=75)
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.PixelData = encapsulate([buffer.getvalue()])
        ds["PixelData"].VR = "OB"
        return ds
    ds.PhotometricInterpretation = "MONOCHROME2"  # pydicom encodes PALETTE COLOR lossless only
    if kind == "jpeg-ls-near-2":
        ds.compress(JPEGLSNearLossless, indices, jls_error=2)
    else:
        ds.compress(JPEG2000, indices, j2k_cr=[5])  # openjpeg's lossy path: the 9/7 wavelet
    ds.PhotometricInterpretation = "PALETTE COLOR"
    return ds


_LOSSY = {"baseline": "JPEG Baseline (Process 1)",
          "jpeg-ls-near-2": "JPEG-LS Lossy (Near-Lossless) Image Compression",
          "j2k-9-7": "JPEG 2000 Image Compression"}  # fmt: skip


@pytest.mark.parametrize("kind", _LOSSY)
def test_indices_through_lossy_compression_are_refused(tmp_path: Path, kind: str) -> None:
    src = write_folder(tmp_path / "src", lossy=_lossy(kind), good=_palette(RLELossless))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 1
    reason = (
        f"PhotometricInterpretation (0028,0004) is PALETTE COLOR but the indices are stored as "
        f"{_LOSSY[kind]}, a lossy compression: it changes indices by small amounts and a "
        "palette's neighbouring entries need not hold neighbouring colours, so the pixels' "
        "colours are unknown."
    )
    with (out / "errors.csv").open() as fh:
        assert [(e["source"], e["reason"]) for e in csv.DictReader(fh)] == [("lossy.dcm", reason)]
    with (out / "manifest.csv").open() as fh:
        assert [row["source"] for row in csv.DictReader(fh)] == ["good.dcm"]  # the batch went on
    refused = [p for p in index_folder(src).all_problems() if p.where == "lossy.dcm"]
    assert [p.reason for p in refused] == [reason]
