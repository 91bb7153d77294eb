"""A lossy T.81 JPEG (baseline, 8-bit samples) whose decoded values are wider than BitsStored.

pydicom masks T.81 samples to BitsStored, as it does native words whose bits above HighBit
are undefined; but a JPEG sample has no unused bits: it is the value the decoder made. A
6-bit image's lossy stream that overshoots its top (63 decoded as 64) read 0, a bright
pixel turned black, and 200 read 8, without a word. Unsigned lossy JPEG samples are now kept
as decoded and noted, as JPEG 2000 and JPEG-LS samples wider than BitsStored already were.
Signed ones keep their sign from BitsStored (T.81 streams carry no sign: PS3.5 8.2.1), and
lossless T.81 stays masked (high bits coded losslessly are the native words', undefined).
Expected values: the same stream decoded by Pillow, independently of pydicom and radpipe."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from pipeline.data.io import read_manifest
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

#: 8x8 blocks (flat: quality 100 decodes them exactly): 10, the 6-bit top 63, just past it, 200.
BLOCKS = np.kron(np.array([[10, 63], [64, 200]], np.uint8), np.ones((8, 8), np.uint8))


def _jpeg_file(path: Path, stored: int, *, signed: bool = False) -> np.ndarray:
    """A baseline JPEG file of :data:`BLOCKS` under BitsAllocated 8 and ``stored`` bits;
    returns the samples Pillow decodes from its stream."""
    buf = io.BytesIO()
    Image.fromarray(BLOCKS).save(buf, "JPEG", quality=100)
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 16, 16, bits=8, stored=stored,
                       signed=signed, syntax=JPEGBaseline8Bit)  # fmt: skip
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())))


def test_wider_samples_are_kept_as_decoded_and_said(tmp_path: Path) -> None:
    decoded = _jpeg_file(tmp_path / "j6.dcm", 6)
    assert decoded[::8, ::8].tolist() == [[10, 63], [64, 200]]  # Pillow: the stream's values
    masked = pydicom.dcmread(tmp_path / "j6.dcm").pixel_array  # pydicom masks to 6 bits
    assert masked[::8, ::8].tolist() == [[10, 63], [0, 8]]
    image = read_instance(tmp_path / "j6.dcm", "j6.dcm")
    assert np.array_equal(image.stored[0], decoded)  # not [[10, 63], [0, 8]]
    assert image.bits_stored == 8  # the range the values need (a PNG's scale)
    assert image.problems == (
        "JPEG baseline samples need 8 bits (up to 200) but BitsStored (0028,0101) says 6: "
        "kept as decoded, not masked to 6 bits (masked, 64 would read 0)",
    )


def test_samples_within_bits_stored_are_as_before(tmp_path: Path) -> None:
    decoded = _jpeg_file(tmp_path / "j8.dcm", 8)
    image = read_instance(tmp_path / "j8.dcm", "j8.dcm")
    assert np.array_equal(image.stored[0], decoded) and image.problems == ()


def test_signed_samples_take_their_sign_from_bits_stored(tmp_path: Path) -> None:
    """A T.81 stream has no sign: PixelRepresentation 1 with BitsStored 6 reads the low 6 bits
    as two's complement (63 is -1, 64 is 0, 200 = 0b11001000 is 8), as pydicom does; the
    two blocks (128 samples) that lost bits above BitsStored are said (it was unsaid)."""
    _jpeg_file(tmp_path / "s6.dcm", 6, signed=True)
    image = read_instance(tmp_path / "s6.dcm", "s6.dcm")
    assert image.stored[0][::8, ::8].tolist() == [[10, -1], [0, 8]]
    assert image.problems == (
        "JPEG baseline samples need 8 bits (up to 200) but BitsStored (0028,0101) says 6: "
        "masked to 6 bits, the sign taken from its top bit (a T.81 stream carries none, "
        "PS3.5 8.2.1), 128 of 256 values changed",
    )


@pytest.mark.parametrize("fmt", ["npy", "png16"])
def test_convert_writes_the_decoded_values(tmp_path: Path, fmt: str) -> None:
    decoded = _jpeg_file(tmp_path / "src" / "j6.dcm", 6)
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", fmt, "--window", "none"]
    assert main([*args, "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert "kept as decoded, not masked to 6 bits" in row["problems"]
    if fmt == "npy":  # modality values: the samples themselves
        assert np.array_equal(np.load(out / row["output"]), decoded.astype(np.float32))
    else:  # no window: the range 8 bits allow, 0..255 onto 0..65535 (x 257)
        got = np.asarray(Image.open(out / row["output"]))
        assert np.array_equal(got, decoded.astype(np.uint32) * 257)


def test_lossless_samples_past_bits_stored_are_masked_and_said(qa_file) -> None:  # type: ignore[no-untyped-def]
    """A real JPEG Lossless SV1 file (12-bit MR, values up to 2362) whose header is edited to
    say BitsStored 8: its samples are masked to 8 bits as before (values as pydicom gives,
    numpy's ``& 255`` of the true decode), and now said, with how many changed."""
    ds = pydicom.dcmread(qa_file("ts_5_jpeg_lossless.dcm.gz"))
    true = ds.pixel_array.astype(np.int64)
    ds.BitsStored, ds.HighBit = 8, 7
    from pipeline.dicom.read import image_from_dataset

    image = image_from_dataset(ds, "ll.dcm")
    assert np.array_equal(image.stored[0], true & 255)
    changed = int(np.count_nonzero(true > 255))
    assert image.problems == (
        f"JPEG lossless samples need 12 bits (up to {int(true.max())}) but BitsStored "
        "(0028,0101) says 8: masked to 8 bits, as native words' bits above HighBit are "
        f"(undefined, PS3.5 8.1.1), {changed:,} of {true.size:,} values changed",
    )
    ds.BitsStored, ds.HighBit = 12, 11  # as the file says: nothing to mask, nothing said
    image = image_from_dataset(ds, "ll.dcm")
    assert np.array_equal(image.stored[0], true) and image.problems == ()


def test_signed_words_sign_extended_to_the_full_width_are_not_counted() -> None:
    """-1000 coded as 0xFC18 (sign-extended to 16 bits) keeps its value under BitsStored 12;
    5000 (0x1388) does not: only it is counted. 3000 is read as -1096 (sign from bit 11)."""
    from pipeline.dicom.codestream import codestream_bits

    notes: list[str] = []
    arr = np.array([[[-1000, 100, 3000, 5000]]], np.int16)
    assert codestream_bits(arr, 12, "1.2.840.10008.1.2.4.70", notes) == 12
    assert notes == [
        "JPEG lossless samples need 13 bits (up to 5000) but BitsStored (0028,0101) says 12: "
        "masked to 12 bits, as native words' bits above HighBit are (undefined, PS3.5 8.1.1), "
        "1 of 4 values changed"
    ]
