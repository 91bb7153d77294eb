"""A lossy JPEG whose header says RGB but whose stream holds YCbCr (pydicom PR #2280).

Nearly every JPEG encoder converts RGB to YCbCr; a header that still says RGB, over a stream
without a JFIF marker, had its YCbCr samples taken as RGB: red (200, 30, 30) came out
(81, 99, 213), unsaid (pylibjpeg-libjpeg #29, 3D Slicer PR #7656). The stream's colour space
is read as libjpeg reads it. Expected values: the RGB image encoded, within JPEG's loss.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from pipeline.dicom import read_instance
from pipeline.dicom.jpeg_colour import stream_colour
from tests.pipeline.dicom.builders import image_dataset

RGB = np.zeros((16, 16, 3), np.uint8)
RGB[:8, :8], RGB[:8, 8:] = (200, 30, 30), (30, 200, 30)
RGB[8:, :8], RGB[8:, 8:] = (30, 30, 200), (220, 220, 40)


def _jpeg(*, app0: bool) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, "JPEG", quality=95, subsampling=0)
    data = buffer.getvalue()  # SOI, APP0 JFIF, ...; component IDs 1, 2, 3
    if not app0:
        assert data[2:4] == b"\xff\xe0"
        data = data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]
    return data


def _read(tmp_path: Path, stream: bytes, photometric: str = "RGB"):  # type: ignore[no-untyped-def]
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 16, 16, bits=8, samples=3,
                       photometric=photometric, syntax=JPEGBaseline8Bit)  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = encapsulate([stream])
    ds["PixelData"].VR = "OB"
    path = tmp_path / "sc.dcm"
    ds.save_as(path, enforce_file_format=True)
    return read_instance(path, "sc.dcm")


@pytest.mark.parametrize("app0", [False, True], ids=["no-marker", "jfif"])
def test_rgb_header_over_ycbcr_stream_reads_right_colours(tmp_path: Path, app0: bool) -> None:
    image = _read(tmp_path, _jpeg(app0=app0))
    assert np.abs(image.stored[0].astype(int) - RGB).max() <= 3  # was (81, 99, 213) for red
    (said,) = [p for p in image.problems if "is RGB, but the JPEG stream's samples" in p]
    assert ("JFIF APP0" in said) == app0 and "; " not in said


def test_ybr_header_unchanged_and_unsaid(tmp_path: Path) -> None:
    image = _read(tmp_path, _jpeg(app0=False), "YBR_FULL_422")
    assert np.abs(image.stored[0].astype(int) - RGB).max() <= 3
    assert not [p for p in image.problems if "PhotometricInterpretation" in p]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SC_jpeg_no_color_transform.dcm", None),  # RGB, IDs 0, 1, 2, no marker: as the header
        ("SC_jpeg_no_color_transform_2.dcm", "RGB"),  # Adobe APP14, transform 0
        ("SC_rgb_jpeg_lossy_gdcm.dcm", "YCbCr"),  # IDs 1, 2, 3, no marker
        ("SC_rgb_jpeg_dcmtk.dcm", "YCbCr"),  # JFIF
    ],
)
def test_stream_colour_of_pydicoms_files(name: str, expected: str | None) -> None:
    import pydicom
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(get_testdata_file(name))
    first = next(generate_frames(ds.PixelData, number_of_frames=1))
    found = stream_colour(first)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(("mct", "said"), [(True, True), (False, False)], ids=["mct", "no-mct"])
def test_ybr_full_header_over_a_j2k_colour_transform_is_read_as_rgb(
    tmp_path: Path, mct: bool, said: bool
) -> None:
    # PS3.5 8.2.4: a stream with its multiple component transform is YBR_RCT/YBR_ICT, and the
    # decoder gives RGB; under a YBR_FULL header it was converted a second time: red (200, 30,
    # 30) came out (63, 255, 26). Without the transform, YBR_FULL is the header's word.
    openjpeg = pytest.importorskip("openjpeg")
    from pydicom.pixels import convert_color_space
    from pydicom.uid import JPEG2000Lossless

    rgb = np.kron(RGB, np.ones((2, 2, 1), np.uint8))  # 32x32: openjpeg wants room for levels
    samples = rgb if mct else convert_color_space(rgb, "RGB", "YBR_FULL")
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 32, 32, bits=8, samples=3,
                       photometric="YBR_FULL", syntax=JPEG2000Lossless)  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = encapsulate(
        [openjpeg.encode(samples, use_mct=mct, photometric_interpretation=1)]
    )
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "j2k.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "j2k.dcm", "j2k.dcm")
    assert np.abs(image.stored[0].astype(int) - rgb).max() <= (0 if mct else 2)
    notes = [p for p in image.problems if "multi-component transform (RCT)" in p]
    assert bool(notes) == said


_CR, _NO_TRANSFORM = "SC_rgb_dcmtk_+eb+cr.dcm", "SC_jpeg_no_color_transform_2.dcm"
_NONE_FROM = ", which no JPEG decoder converts from,"


@pytest.mark.parametrize(
    ("name", "term", "said"),
    [(_CR, "YBR_FULL_422", ","), (_NO_TRANSFORM, "YBR_FULL_422", ","),
     (_NO_TRANSFORM, "YBR_PARTIAL_422", _NONE_FROM)],
)  # fmt: skip
def test_ybr_header_over_an_rgb_stream_is_read_as_rgb(
    tmp_path: Path, name: str, term: str, said: str
) -> None:
    # dcmtk's +cr writes RGB samples with an Adobe APP14 marker, transform 0; a header
    # rewritten to YBR_FULL_422 (3D Slicer's patcher does so for every JPEG) had them converted
    # from YBR: the colours of pydicom's reading of the file as it was are expected. Under
    # YBR_PARTIAL_422 (no decoder converts from it) they were right by chance, unsaid.
    import pydicom

    right = pydicom.dcmread(get_testdata_file(name)).pixel_array
    ds = pydicom.dcmread(get_testdata_file(name))
    ds.PhotometricInterpretation = term
    ds.save_as(tmp_path / "sc.dcm")
    image = read_instance(tmp_path / "sc.dcm", "sc.dcm")
    assert np.array_equal(image.stored[0], right)
    assert any(
        f"is {term}{said} but the JPEG stream's samples are RGB" in p for p in image.problems
    )


def test_inspect_says_it_as_convert_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workflows.cli import main

    src = tmp_path / "src"
    src.mkdir()
    _read(src, _jpeg(app0=False))  # writes src/sc.dcm
    assert main(["inspect", str(src)]) in (0, 1)  # 1: problems noted
    said = "is RGB, but the JPEG stream's samples are YCbCr (no JFIF or Adobe marker"
    assert said in capsys.readouterr().out


def test_an_rgb_header_over_a_j2k_colour_transform_is_left_as_it_is() -> None:
    """The decoder undoes the transform to RGB, which the header says: nothing to change and
    nothing to say (only a YBR header over such a stream is read otherwise)."""
    openjpeg = pytest.importorskip("openjpeg")
    from pydicom.dataset import Dataset
    from pydicom.uid import JPEG2000Lossless

    from pipeline.dicom.jpeg_colour import colour_options

    stream = openjpeg.encode(np.kron(RGB, np.ones((2, 2, 1), np.uint8)), use_mct=True,
                             photometric_interpretation=1)  # fmt: skip
    notes: list[str] = []
    found = colour_options(Dataset(), JPEG2000Lossless, 3, "RGB", stream, notes)
    assert "photometric_interpretation" not in found and notes == []
    found = colour_options(Dataset(), JPEG2000Lossless, 3, "YBR_FULL", stream, notes)
    assert found["photometric_interpretation"] == "RGB" and len(notes) == 1
    assert notes[0].startswith(
        "PhotometricInterpretation (0028,0004) is YBR_FULL, but the JPEG 2000 stream applies "
        "its multi-component transform (RCT)"
    )


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _header(ids: bytes, *markers: bytes) -> bytes:
    """SOI, the marker segments, a baseline SOF of 8x8 whose components have ``ids``."""
    components = b"".join(bytes([c, 0x11, 0]) for c in ids)
    sof = bytes([8, 0, 8, 0, 8, len(ids)]) + components
    return b"\xff\xd8" + b"".join(markers) + _segment(0xC0, sof)


JFIF = _segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")


def _adobe(transform: int) -> bytes:
    return _segment(0xEE, b"Adobe" + bytes([0, 100, 0, 0, 0, 0, transform]))


def _said(stream: bytes) -> str | None:
    found = stream_colour(stream)
    return None if found is None else found[0]


def test_the_first_colour_marker_decides_as_libjpeg_does() -> None:
    """JFIF before an Adobe marker of transform 0: YCbCr (the JFIF marker is read first)."""
    assert _said(_header(b"\x01\x02\x03", JFIF, _adobe(0))) == "YCbCr"
    assert _said(_header(b"\x01\x02\x03", _adobe(0), JFIF)) == "RGB"


def test_component_ids_r_g_b_in_either_case_mean_rgb() -> None:
    assert _said(_header(b"rgb")) == "RGB"
    assert _said(_header(b"RGB")) == "RGB"
    assert _said(_header(b"\x00\x01\x02")) is None  # libjpeg 6b's RGB: the header's


def test_only_three_components_have_a_colour_transform_to_decide() -> None:
    assert _said(_header(b"\x01\x02\x03\x04", _adobe(0))) is None  # CMYK
    assert _said(_header(b"\x01", JFIF)) is None  # grey


def test_a_start_of_frame_cut_short_says_nothing() -> None:
    """A SOF that says three components but holds two of them (12 bytes, 15 needed): no
    colour space read from it, and no IndexError from the component that is not there."""
    whole = _header(b"\x01\x02\x03")
    two = bytes([8, 0, 8, 0, 8, 3]) + b"\x01\x11\x00\x02\x11\x00"
    cut = whole[: -len(_segment(0xC0, bytes(15)))] + _segment(0xC0, two)
    assert _said(whole) == "YCbCr"
    assert _said(cut) is None


@pytest.mark.parametrize(
    "sof",
    [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF],
    ids=lambda m: f"SOF{m - 0xC0}",
)
def test_every_t81_start_of_frame_is_read(sof: int) -> None:
    """T.81 Table B.1: SOF0-3, 5-7, 9-11, 13-15 (C4 DHT, C8 JPG and CC DAC are not frames);
    SOF1, extended sequential, is what JPEG Extended (1.2.840.10008.1.2.4.51) streams carry."""
    stream = _header(b"\x01\x02\x03").replace(b"\xff\xc0", bytes([0xFF, sof]))
    assert stream_colour(stream) == (
        "YCbCr", "no JFIF or Adobe marker, and JFIF's component IDs 1, 2, 3"
    )  # fmt: skip


_FOREIGN = ["YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT", "HSV"]


@pytest.mark.parametrize("term", _FOREIGN)
def test_a_term_no_jpeg_decoder_converts_from_is_read_as_the_stream_says(
    tmp_path: Path, term: str
) -> None:
    """A JFIF stream (YCbCr) under a retired, MPEG or JPEG 2000 term: pydicom left the
    samples as decoded and they were written as RGB, red (200, 30, 30) as (81, 99, 213),
    unsaid. Expected: the RGB image encoded, within JPEG's loss."""
    image = _read(tmp_path, _jpeg(app0=True), term)
    assert np.abs(image.stored[0].astype(int) - RGB).max() <= 3
    assert (
        f"PhotometricInterpretation (0028,0004) is {term}, which no JPEG decoder converts from, "
        "but the JPEG stream's samples are YCbCr (a JFIF APP0 marker (YCbCr by definition)): "
        f"converted to RGB as libjpeg and Pillow read it (read as {term}, they were written as "
        "RGB unconverted)"
    ) in image.problems


def test_a_foreign_term_over_a_stream_that_does_not_say_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Component IDs 0, 1, 2 and no marker (libjpeg 6b's RGB; libjpeg guesses YCbCr): under
    HSV nothing says which, so inspect and convert refuse it; the batch goes on."""
    import pydicom

    from tests.pipeline.dicom.builders import write_folder
    from workflows.cli import main

    ds = pydicom.dcmread(get_testdata_file("SC_jpeg_no_color_transform.dcm"))
    ds.PhotometricInterpretation = "HSV"
    src = tmp_path / "src"
    write_folder(src, hsv=ds, good=pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")))
    reason = (
        "hsv.dcm: PhotometricInterpretation (0028,0004) is HSV, which no JPEG decoder converts "
        "from, and the JPEG stream's markers do not say whether its samples are RGB or YCbCr "
        "(no JFIF or Adobe marker, component IDs other than 'R', 'G', 'B' or 1, 2, 3): its "
        "colours are unknown."
    )
    assert main(["convert", str(src), str(tmp_path / "out"), "--quiet"]) == 1
    assert reason in capsys.readouterr().err
    assert (tmp_path / "out" / "manifest.csv").read_text().count("good.dcm") == 1
    main(["inspect", str(src)])
    assert reason in capsys.readouterr().out
