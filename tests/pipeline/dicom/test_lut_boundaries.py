"""Lookup-table edges a mutation sweep of the LUT code (``pipeline.ops.voi``,
``pipeline.dicom.{lut,voi_lut,palette}``) found untested: a palette's first mapped index, its
count 0 meaning 65,536, packed 8-bit data with a pad byte, 8-bit segmented data, windowing and
inversion into a range that does not start at 0, and the range of values entering a VOI LUT.
Expected values by hand from PS3.3 (sections named per test) or from pydicom's own
``apply_color_lut``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.palette import apply_palette
from pipeline.dicom.voi_lut import voi_input_signed
from pipeline.ops.voi import apply_window, invert
from tests.pipeline.dicom.builders import image_dataset

SC = "1.2.840.10008.5.1.4.1.1.7"


def _palette(count: int, first: int, bits: int, tables: dict[str, bytes], key: str = "") -> Dataset:
    ds = image_dataset(SC, "OT", 1, 1, bits=16, photometric="PALETTE COLOR")
    for colour, data in tables.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [count, first, bits])
        setattr(ds, f"{key}{colour}PaletteColorLookupTableData", data)
    return ds


def test_indices_are_counted_from_the_first_mapped_value() -> None:
    """PS3.3 C.7.6.3.1.5: the Descriptor's second value is the first index mapped; indices
    below it take entry 0, past the end the last. First 10, entries 100, 110, 120, 130:
    index 10 -> 100, 11 -> 110, 13 -> 130, 5 -> 100, 20 -> 130."""
    red = np.array([100, 110, 120, 130], "<u2").tobytes()
    ds = _palette(4, 10, 16, {"Red": red, "Green": red, "Blue": red})
    out = apply_palette(ds, np.array([10, 11, 13, 5, 20]), "x.dcm")
    assert out[:, 0].tolist() == [100, 110, 130, 100, 130]


def test_a_count_of_zero_is_65536_entries() -> None:
    """C.7.6.3.1.5: a first Descriptor value of 0 means 2**16 entries; entry i = i // 2 (16
    bits, above 255 so kept 16-bit): 65535 -> 32767, 300 -> 150."""
    table = (np.arange(65536) // 2).astype("<u2").tobytes()
    ds = _palette(0, 0, 16, {"Red": table, "Green": table, "Blue": table})
    out = apply_palette(ds, np.array([0, 300, 65535]), "x.dcm")
    assert out[:, 0].tolist() == [0, 150, 32767]


def test_packed_8_bit_entries_with_a_pad_byte() -> None:
    """Three 8-bit entries packed one per byte (C.7.6.3.1.6) and padded to even length: four
    bytes hold entries 5, 6, 7 (the pad is no entry: index 9 takes the last, 7)."""
    data = bytes([5, 6, 7, 0])
    ds = _palette(3, 0, 8, {"Red": data, "Green": data, "Blue": data})
    out = apply_palette(ds, np.array([0, 2, 9]), "x.dcm")
    assert out[:, 0].tolist() == [5, 7, 7] and out.dtype == np.uint8


def test_8_bit_segmented_data_as_pydicom_expands_it() -> None:
    """Segmented data (C.7.9.2) under an 8-bit Descriptor: a discrete segment (opcode 0) of
    3 values then a linear one (opcode 1) of 4 steps to 40, read a byte per item as pydicom
    reads it: entries 10, 20, 25, 29, 33, 36, 40 (pydicom's apply_color_lut gives the same)."""
    from pydicom.pixels.processing import apply_color_lut

    segments = bytes([0, 3, 10, 20, 25, 1, 4, 40])
    ds = _palette(7, 0, 8, {c: segments for c in ("Red", "Green", "Blue")}, key="Segmented")
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    index = np.arange(7)
    expected = apply_color_lut(index.astype(np.uint8), ds)[:, 0]
    got = apply_palette(ds, index, "x.dcm")[:, 0]
    assert got.tolist() == expected.tolist()
    assert got[:3].tolist() == [10, 20, 25] and got[-1] == 40


def test_a_window_into_a_range_not_starting_at_zero() -> None:
    """LINEAR (C.11.2.1.2.1) with center 50, width 101 onto [10, 20]: the fraction is
    (x - 49.5) / 100 + 0.5, clipped to [0, 1], so 0 -> 0.005, 50 -> 0.505, 100 -> 1; the
    output is 10 + 10 * fraction: 10.05, 15.05, 20."""
    out = apply_window(np.array([0.0, 50.0, 100.0]), 50, 101, out_range=(10.0, 20.0))
    assert out.tolist() == pytest.approx([10.05, 15.05, 20.0])


def test_inversion_about_a_range_not_starting_at_zero() -> None:
    """MONOCHROME1 in [10, 20]: x -> 30 - x (the range's ends swap, its middle stays)."""
    assert invert(np.array([10.0, 12.0, 20.0]), (10.0, 20.0)).tolist() == [20.0, 18.0, 10.0]


@pytest.mark.parametrize(
    ("bits", "signed", "slope", "intercept", "negative"),
    [
        (16, True, 1, 20000, True),  # -32768 + 20000 < 0
        (16, True, 1, 32768, False),  # -32768 + 32768 = 0
        (12, False, 1, -1, True),  # 0 - 1 < 0
        (12, False, 1, 0, False),  # 0
        (8, True, -1, 128, False),  # 127 * -1 + 128 = 1
        (8, True, -1, 126, True),  # -127 + 126 < 0
    ],
)
def test_values_entering_a_voi_lut_are_signed_when_rescaling_reaches_below_zero(
    bits: int, signed: bool, slope: float, intercept: float, negative: bool
) -> None:
    """C.11.2.1.1: the LUT Descriptor's first value is SS when the rescaled stored range
    ([-2**(b-1), 2**(b-1) - 1] signed, [0, 2**b - 1] unsigned) reaches below 0."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.2", "CT", 1, 1, bits=16, stored=bits, signed=signed)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    assert voi_input_signed(ds) is negative


@pytest.mark.parametrize(
    ("data", "bits", "expected"),
    [
        (np.array([7, 300, 9], "<u2").tobytes(), 16, [7, 300, 9]),  # one entry per word
        (np.array([7, 300, 9], "<u2").tobytes() + b"\0", 16, [7, 300, 9]),  # a pad byte
        (bytes([7, 200, 9, 0]), 8, [7, 200, 9]),  # 8-bit entries packed, padded to even
        (np.array([7, 200, 9], "<u2").tobytes() + b"\0", 8, [7, 200, 9]),  # 8-bit in words
    ],
    ids=["words", "words-padded", "packed-8-bit", "8-bit-words-padded"],
)
def test_lut_data_lengths_a_writer_may_give(data: bytes, bits: int, expected: list[int]) -> None:
    """LUTData (0028,3006) of 3 entries (C.11.1.1.1): 6 bytes of words, 7 with a pad byte,
    or (8-bit) 3 packed bytes plus a pad."""
    from pipeline.dicom.lut import lut_table

    item = Dataset()
    item.LUTDescriptor = [3, 0, bits]
    item.LUTData = data
    first, table, got_bits = lut_table(item, "x.dcm", little=True)
    assert (first, table.tolist(), got_bits) == (0, expected, bits)


def test_a_classic_multi_frame_image_applies_its_voi_lut_to_every_frame(tmp_path: Path) -> None:
    """Two frames of one VOI LUT (C.11.2.1.1: first mapped 0, 8-bit entries 0, 64, 128, 255):
    --window header maps frame 0's [0, 1, 2, 3] and frame 1's [3, 2, 1, 0] through it, each
    frame its own PNG (8-bit entries over 255: the entries themselves)."""
    from PIL import Image

    from tests.pipeline.dicom.builders import item, write_folder
    from workflows.convert.batch import ConvertOptions, convert_folder

    ds = image_dataset(SC, "OT", 1, 4, bits=16, stored=12)
    ds.NumberOfFrames = 2
    ds.VOILUTSequence = [
        item(LUTDescriptor=[4, 0, 8], LUTData=np.array([0, 64, 128, 255], "<u2").tobytes())
    ]
    ds.PixelData = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], "<u2").tobytes()
    src = write_folder(tmp_path / "src", mf=ds)
    result = convert_folder(
        src, tmp_path / "out", ConvertOptions(format="png", window="header"), progress=False
    )
    assert result.failures == []
    frames = sorted((tmp_path / "out").rglob("*.png"))
    assert [np.asarray(Image.open(f)).ravel().tolist() for f in frames] == [
        [0, 64, 128, 255],
        [255, 128, 64, 0],
    ]


@pytest.mark.parametrize(
    ("name", "level", "width"),
    [
        ("lung", -600, 1500),
        ("mediastinum", 50, 350),
        ("bone", 400, 1800),
        ("brain", 40, 80),
        ("subdural", 75, 200),  # Radiopaedia: W 130-300, L 50-100
        ("stroke", 40, 40),
        ("abdomen", 50, 400),
        ("liver", 30, 150),
        ("soft_tissue", 50, 400),  # Radiopaedia: W 350-400, L 20-60
    ],
)
def test_window_presets_are_the_published_ones(name: str, level: float, width: float) -> None:
    """The named CT windows as Radiopaedia's "Windowing (CT)" article gives them (window
    level = center, width in HU), and what each does to its own edges: the level maps to
    the middle, level -/+ width / 2 to 0 and 1 (LINEAR_EXACT, C.11.2.1.3.2)."""
    from pipeline.ops.voi import parse_window

    spec = parse_window(name)
    assert (spec.center, spec.width) == (level, width)
    edges = np.array([level - width / 2, level, level + width / 2])
    out = apply_window(edges, spec.center, spec.width, "LINEAR_EXACT")
    assert out.tolist() == pytest.approx([0.0, 0.5, 1.0])
