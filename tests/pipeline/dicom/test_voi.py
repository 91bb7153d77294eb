"""Modality LUT, VOI (window / LUT), presentation and output scaling.

Checked against hand-worked values from the formulas in PS3.3 C.11 and against pydicom's
own ``apply_modality_lut`` / ``apply_voi_lut`` / ``apply_windowing``.
"""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut as pyd_modality
from pydicom.pixels import apply_voi_lut as pyd_voi

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.scale import to_unsigned
from pipeline.ops.voi import (
    WINDOW_PRESETS,
    apply_modality_lut,
    apply_window,
    parse_window,
)
from pipeline.sample import Sample
from pipeline.stages import Window
from tests.pipeline.dicom.conftest import bundled


def _ct() -> Dataset:
    ds = pydicom.dcmread(bundled("CT_small.dcm"))  # rescale -1024, no window tags
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


@pytest.mark.parametrize(
    "function, expected",
    [
        # LINEAR, c=40, w=400: x <= c-0.5-(w-1)/2 = -160 -> 0; x > 239 -> 1;
        # else ((x - 39.5) / 399 + 0.5).
        ("LINEAR", [0.0, 0.0, (-100 - 39.5) / 399 + 0.5, (40 - 39.5) / 399 + 0.5, 1.0]),
        # LINEAR_EXACT: (x - c) / w + 0.5 clipped.
        ("LINEAR_EXACT", [0.0, 0.0, 0.15, 0.5, 1.0]),
        # SIGMOID: 1 / (1 + exp(-4 (x - c) / w)).
        ("SIGMOID", [1 / (1 + np.exp(-4 * (x - 40) / 400)) for x in (-1000, -160, -100, 40, 1000)]),
    ],
)  # fmt: skip
def test_window_functions_by_hand(function: str, expected: list[float]) -> None:
    x = np.array([-1000.0, -160.0, -100.0, 40.0, 1000.0])
    assert np.allclose(apply_window(x, 40, 400, function), expected, atol=1e-6)


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_window_matches_pydicom(function: str) -> None:
    ds = _ct()
    ds.VOILUTFunction = function
    stored = ds.pixel_array
    hu = pyd_modality(stored, ds)
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    ours = apply_window(hu.astype(np.float64), center, width, function)
    theirs = pyd_voi(hu, ds)  # input after the modality LUT; output in the rescaled range
    lo, hi = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
    lo, hi = lo + ds.RescaleIntercept, hi + ds.RescaleIntercept
    assert np.allclose(ours, (theirs - lo) / (hi - lo), atol=1e-6)


def test_multi_valued_window_takes_first_pair() -> None:
    ds = _ct()
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    image = image_from_dataset(ds, "ct")
    ours, used = render(image, 0, parse_window("header"))
    hu = image.modality(0).astype(np.float64)
    assert used == "header (WindowCenter/WindowWidth 1 of 2)"  # test_voi_choice.py
    assert np.allclose(ours, apply_window(hu, 40, 400))


def test_modality_lut_sequence_matches_pydicom() -> None:
    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    item = Dataset()
    item.LUTDescriptor = [256, 900, 16]  # 256 entries, first mapped stored value 900
    item.LUTData = [int(v) for v in np.arange(256) * 10 + 5]
    item.ModalityLUTType = "HU"
    ds.ModalityLUTSequence = [item]
    image = image_from_dataset(ds, "ct")
    expected = pyd_modality(ds.pixel_array, ds)
    assert np.array_equal(image.modality(0), expected)
    # Below the first mapped value -> first entry; above the end -> last entry (C.11.1.1).
    lut = (900, np.array(item.LUTData))
    assert apply_modality_lut(np.array([0, 900, 901, 5000]), lut=lut).tolist() == [5, 5, 15, 2555]


def test_voi_lut_sequence_matches_pydicom() -> None:
    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    del ds.RescaleSlope, ds.RescaleIntercept
    item = Dataset()
    item.LUTDescriptor = [512, 800, 12]
    item.LUTData = [int(v) for v in np.linspace(0, 4095, 512).round()]
    ds.VOILUTSequence = [item]
    image = image_from_dataset(ds, "ct")
    ours, used = render(image, 0, parse_window("header"))
    theirs = pyd_voi(ds.pixel_array, ds)
    assert used == "header" and np.allclose(ours, theirs / 4095.0, atol=1e-6)


def test_missing_rescale_means_identity() -> None:
    stored = np.array([[0, 100, 4095]], np.uint16)
    assert apply_modality_lut(stored).tolist() == [[0.0, 100.0, 4095.0]]
    assert apply_modality_lut(stored, 2.0, -1024.0).tolist() == [[-1024.0, -824.0, 7166.0]]


def _mono1() -> Dataset:
    ds = pydicom.dcmread(bundled("MR_small.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.WindowCenter, ds.WindowWidth = 600, 800
    return ds


def test_monochrome1_inverted_after_window() -> None:
    ds = _mono1()
    image = image_from_dataset(ds, "cr")
    ours, _ = render(image, 0, parse_window("header"))
    windowed = pyd_voi(ds.pixel_array, ds)  # pydicom leaves presentation to the caller
    lo, hi = -(2**15), 2**15 - 1
    assert np.allclose(ours, 1.0 - (windowed - lo) / (hi - lo), atol=1e-6)
    low_value = ds.pixel_array == ds.pixel_array.min()
    assert np.all(ours[low_value] == 1.0)  # the minimum is displayed white


def test_presentation_lut_shape_inverse() -> None:
    ds = pydicom.dcmread(bundled("MR_small.dcm"))
    plain, _ = render(image_from_dataset(ds, "mr"), 0, parse_window("lung"))
    ds.PresentationLUTShape = "INVERSE"
    inverse, _ = render(image_from_dataset(ds, "mr"), 0, parse_window("lung"))
    assert np.allclose(inverse, 1.0 - plain, atol=1e-6)


@pytest.mark.parametrize("window", ["header", "lung", "40,400", "none"])
@pytest.mark.parametrize("out", ["uint8", "uint16", "float32"])
def test_lookup_table_path_equals_float_path(window: str, out: str) -> None:
    ds = _ct()
    image = image_from_dataset(ds, "ct")
    fast, _ = render(image, 0, parse_window(window), out)  # type: ignore[arg-type]
    hu = image.modality(0)
    spec = parse_window(window)
    if spec.mode == "none":
        lo, hi = -(2**15) + float(ds.RescaleIntercept), 2**15 - 1 + float(ds.RescaleIntercept)
        expected = hu if out == "float32" else (hu - lo) / (hi - lo)
    else:
        c, w = (float(ds.WindowCenter), float(ds.WindowWidth)) if window == "header" else (
            spec.center, spec.width)  # fmt: skip
        expected = apply_window(hu, c, w)
    if out != "float32":
        expected = to_unsigned(expected, 8 if out == "uint8" else 16)
        assert fast.dtype == np.dtype(out)
        assert np.abs(fast.astype(int) - expected.astype(int)).max() <= 1
        assert np.mean(fast == expected) > 0.999
    else:
        assert np.allclose(fast, expected, atol=1e-5)


def test_enhanced_per_frame_rescale() -> None:
    ds = pydicom.dcmread(bundled("MR_small.dcm"))
    frame = ds.pixel_array
    ds.NumberOfFrames = 2
    ds.PixelData = np.stack([frame, frame]).astype("<i2").tobytes()
    groups = []
    for slope, intercept in [(1.0, 0.0), (2.0, -100.0)]:
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept = slope, intercept
        transform.RescaleType = "US"
        item = Dataset()
        item.PixelValueTransformationSequence = [transform]
        groups.append(item)
    ds.PerFrameFunctionalGroupsSequence = groups
    image = image_from_dataset(ds, "enhanced")
    assert np.array_equal(image.modality(0), frame.astype(np.float32))
    assert np.array_equal(image.modality(1), frame.astype(np.float32) * 2 - 100)


def test_presets_and_parse_errors() -> None:
    assert {"lung", "mediastinum", "bone", "brain", "abdomen", "liver"} <= set(WINDOW_PRESETS)
    assert parse_window("LUNG").name == "lung" and parse_window("-600,1500").width == 1500.0
    with pytest.raises(ValueError, match="Unknown window 'lungs'; choose one of none, header"):
        parse_window("lungs")
    with pytest.raises(ValueError, match="width must be > 0; got 0"):
        parse_window("40,0")


@pytest.mark.parametrize("text", ["nan,400", "40,nan", "inf,400", "40,inf", "-inf,400"])
def test_explicit_window_must_be_finite(text: str) -> None:
    # before: accepted, and every PNG came out of NaN/inf arithmetic (rc 0)
    with pytest.raises(ValueError, match="must be finite numbers"):
        parse_window(text)


def test_explicit_window_narrower_than_one_is_refused_up_front() -> None:
    # An explicit window is LINEAR (width >= 1): refused as a usage error, not per file.
    with pytest.raises(ValueError, match="must be >= 1"):
        parse_window("40,0.5")
    assert parse_window("40,1").width == 1.0


def test_window_stage_on_hu_sample() -> None:
    image = np.array([[[-1000.0, -600.0, 150.0]]], np.float32)
    sample = Sample(image, mask=np.zeros((1, 3), np.uint8))
    out = Window(preset="lung", function="LINEAR_EXACT")(sample)
    assert np.allclose(out.image, [[[0.5 - 400 / 1500, 0.5, 0.5 + 750 / 1500]]])
    assert np.array_equal(sample.image, image) and out.mask is sample.mask
    stage = Window(center=40, width=400)
    assert stage.to_config() == {
        "type": "window", "center": 40, "width": 400, "preset": None, "function": "LINEAR",
    }  # fmt: skip
    with pytest.raises(ValueError, match="'preset' parameter of Window must be one of lung"):
        Window(preset="lungs")
    with pytest.raises(ValueError, match="'width' parameter of Window must be >= 1"):
        Window(center=0, width=0.5)
    with pytest.raises(ValueError, match="either 'preset' or 'center'"):
        Window(preset="lung", center=1, width=2)
    assert copy.deepcopy(stage).get_params() == stage.get_params()


@pytest.mark.parametrize("out, bits", [("uint8", 8), ("uint16", 16)])
def test_monochrome1_without_a_window_is_inverted_in_integer_outputs(out: str, bits: int) -> None:
    # `--format png --window none` on MONOCHROME1: the full stored range, minimum displayed white.
    ds = _mono1()
    del ds.WindowCenter, ds.WindowWidth
    ours, name = render(image_from_dataset(ds, "cr"), 0, parse_window("none"), out=out)  # type: ignore[arg-type]
    span = pyd_modality(np.array([-(2**15), 2**15 - 1], np.int32), ds).astype(float)
    values = pyd_modality(ds.pixel_array, ds).astype(float)
    expected = np.rint((1.0 - (values - span[0]) / (span[1] - span[0])) * (2**bits - 1))
    assert name == "none" and ours.dtype == np.dtype(out)
    assert np.array_equal(ours, expected.astype(out))
    assert ours[ds.pixel_array == ds.pixel_array.min()].min() == ours.max()


def test_lookup_table_cache_follows_each_files_own_window() -> None:
    # Two files alike but for their header window: the cached table of the first must not be
    # reused for the second (the cache key holds the frame's window).
    first, second = _ct(), _ct()
    second.WindowCenter, second.WindowWidth = -600, 1500
    lo, hi = -(2**15) + first.RescaleIntercept, 2**15 - 1 + first.RescaleIntercept
    for ds in (first, second):
        ours, _ = render(image_from_dataset(ds, "ct"), 0, parse_window("header"))
        theirs = pyd_voi(pyd_modality(ds.pixel_array, ds), ds)  # in the rescaled range
        assert np.allclose(ours, (theirs - lo) / (hi - lo), atol=1e-6)
