"""PNG outputs without a window span the modality range whatever its direction, and colour
outputs scale from the range the stored samples allow, 32-bit samples included.

References are computed here from the DICOM definitions (PS3.3 C.11.1, C.7.6.3), not from
radpipe's code.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom import geometry_cases as G

STORED = np.array([[0, 1, 100, 2047], [2048, 3000, 4094, 4095]], dtype=np.uint16)


def _twelve_bit(**attrs: object) -> Dataset:
    ds = G.image(STORED, G.CT, **attrs)
    ds.BitsStored, ds.HighBit = 12, 11
    return ds


def _negative_slope() -> Dataset:
    return _twelve_bit(RescaleSlope=-1, RescaleIntercept=1000)


def _decreasing_lut() -> Dataset:
    ds = _twelve_bit()
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "HU"
    item.LUTData = (np.arange(4096)[::-1] * 10).astype("<u2").tobytes()
    ds.ModalityLUTSequence = Sequence([item])
    return ds


@pytest.mark.parametrize(
    ("make", "modality"),
    [
        (_negative_slope, lambda v: 1000.0 - v),
        (_decreasing_lut, lambda v: (4095.0 - v) * 10.0),
    ],
    ids=["negative_slope", "decreasing_modality_lut"],
)
@pytest.mark.parametrize("out", ["uint8", "uint16"])
def test_no_window_spans_the_modality_range_when_it_runs_downwards(
    make: object, modality: object, out: str
) -> None:
    image = image_from_dataset(make(), "x.dcm")  # type: ignore[operator]
    got, name = render(image, 0, parse_window("header"), out)  # type: ignore[arg-type]
    values = modality(STORED.astype(np.float64))  # type: ignore[operator]
    ends = modality(np.array([0.0, 4095.0]))  # type: ignore[operator]
    lo, hi = float(ends.min()), float(ends.max())
    top = 255 if out == "uint8" else 65535
    expected = np.rint((values - lo) / (hi - lo) * top)
    assert name == "none" and got.dtype == np.dtype(out)
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0] == top and got[1, 3] == 0  # stored 0 is the largest modality value


def test_32_bit_rgb_scales_from_the_32_bit_range() -> None:
    rgb = np.array(
        [[[0, 0, 0], [0x40404040, 0x80808080, 0xC0C0C0C0], [0xFFFFFFFF, 0x80000000, 1 << 24]]],
        dtype=np.uint32,
    )
    ds = G.image(np.zeros((1, 3), np.uint16))
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated = ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelData = rgb.astype("<u4").tobytes()
    image = image_from_dataset(ds, "x.dcm")
    got, _ = render(image, 0, parse_window("header"), "uint8")
    expected = np.rint(rgb.astype(np.float64) / (2.0**32 - 1) * 255)
    assert got.dtype == np.uint8 and got.shape == (1, 3, 3)
    np.testing.assert_array_equal(got, expected)


def _palette_image(tables: dict[str, np.ndarray], bits: int) -> tuple[Dataset, np.ndarray]:
    index = (np.arange(16).reshape(4, 4) * 16).astype(np.uint8)
    ds = G.image(index.astype(np.uint16))
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PhotometricInterpretation, ds.PixelData = "PALETTE COLOR", index.tobytes()
    for colour, table in tables.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, bits])
        setattr(ds, f"{colour}PaletteColorLookupTableData", table.astype("<u2").tobytes())
    return ds, index


_EIGHT_BIT = {"Red": np.arange(256), "Green": 255 - np.arange(256), "Blue": np.arange(256) // 2}


def test_palette_8_bit_entries_in_16_bit_words_are_not_scaled_as_16_bit() -> None:
    # PS3.3 C.7.6.3.1.5: "Some implementations have encoded 8 bit entries with 16 bits
    # allocated, padding the high bits"; the descriptor still says 8.
    ds, index = _palette_image(_EIGHT_BIT, bits=8)
    image = image_from_dataset(ds, "x.dcm")
    got, _ = render(image, 0, parse_window("header"), "uint8")
    expected = np.stack([_EIGHT_BIT[c][index] for c in ("Red", "Green", "Blue")], axis=-1)
    np.testing.assert_array_equal(got, expected)
    values, _ = render(image, 0, parse_window("none"), "float32")
    np.testing.assert_array_equal(values, expected)


def test_palette_16_bit_descriptor_over_entries_of_8_bits_is_read_as_8_bit() -> None:
    """A writer bug: 16 bits per entry in the descriptor, entries 0..255. pydicom's
    apply_color_lut keeps them as 16-bit values (scaled to PNG they are near black, 255 of
    65535 at most); dcmtk's LUT depth check reads them as 8-bit entries, as radpipe now does."""
    ds, index = _palette_image(_EIGHT_BIT, bits=16)
    image = image_from_dataset(ds, "x.dcm")
    expected = np.stack([_EIGHT_BIT[c][index] for c in ("Red", "Green", "Blue")], axis=-1)
    got, _ = render(image, 0, parse_window("header"), "uint8")
    np.testing.assert_array_equal(got, expected)  # was rint(v / 65535 * 255): 0 or 1
    wide, _ = render(image, 0, parse_window("header"), "uint16")
    np.testing.assert_array_equal(wide, expected * 257)  # 0..255 spread over 0..65535
    assert any("says 16-bit entries but they reach only 255" in p for p in image.problems)


def test_palette_16_bit_entries_are_kept_16_bit_even_where_an_image_uses_only_low_ones() -> None:
    """The depth comes from the whole table: an image whose pixels index only entries below
    256 of a true 16-bit palette keeps its 16-bit scale."""
    tables = {c: np.where(np.arange(256) < 241, np.arange(256), 65535) for c in _EIGHT_BIT}
    ds, index = _palette_image(tables, bits=16)  # indices 0..240: entries 0..240
    image = image_from_dataset(ds, "x.dcm")
    got, _ = render(image, 0, parse_window("header"), "uint16")
    np.testing.assert_array_equal(got[..., 0], index)  # 16-bit values, unscaled
    assert not any("palette" in p for p in image.problems)


def test_no_window_spans_the_modality_lut_output_stored_values_can_reach() -> None:
    """The rule for a Modality LUT Sequence (PS3.3 C.11.1.1.1) without a window: the PNG spans
    the LUT's output over the range BitsStored allows, as RescaleSlope/Intercept's does: the
    smallest to the largest entry stored values can reach (values before the first mapped
    value take the first entry, values past the table the last). Not the stored range (the
    LUT's output is in other units: 2000..2765 here, which 0..4095 would misplace), nor
    dcmtk's 0..2**16 - 1 from the descriptor's bits (2765 of 65535: a near-black PNG). So
    ``png16`` keeps every entry apart (the span is at most 65535) and the values are
    pydicom's ``apply_modality_lut`` ones, rescaled linearly."""
    from pydicom.pixels import apply_modality_lut

    stored = np.array([[0, 999, 1000, 1001], [1100, 1254, 1255, 4095]], dtype=np.uint16)
    ds = G.image(stored, G.CT)
    ds.BitsStored, ds.HighBit = 12, 11
    item = Dataset()
    item.LUTDescriptor = [256, 1000, 16]  # stored 1000..1255
    item.ModalityLUTType = "HU"
    item.add_new(0x00283006, "OW", (2000 + 3 * np.arange(256)).astype("<u2").tobytes())
    ds.ModalityLUTSequence = Sequence([item])
    values = apply_modality_lut(stored, ds).astype(np.float64)
    assert values.tolist() == [[2000, 2000, 2000, 2003], [2300, 2762, 2765, 2765]]
    image = image_from_dataset(ds, "x.dcm")
    for out, top in (("uint8", 255), ("uint16", 65535)):
        got, name = render(image, 0, parse_window("none"), out)  # type: ignore[arg-type]
        assert name == "none"
        np.testing.assert_array_equal(got, np.rint((values - 2000) / 765 * top))
    wide, _ = render(image, 0, parse_window("none"), "uint16")
    assert wide[0, 0] == 0 and wide[1, 3] == 65535 and wide[0, 3] == 257  # 3 * 65535 / 765
    floats, _ = render(image, 0, parse_window("none"), "float32")
    np.testing.assert_array_equal(floats, values)  # NPY: the modality values themselves
