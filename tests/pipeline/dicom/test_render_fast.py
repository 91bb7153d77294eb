"""The float32 fast path of ``render`` (a cast plus an integer shift) gives the same bytes as
the lookup-table path and as pydicom's ``apply_modality_lut``, and is taken only when exact."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.pixels import apply_modality_lut

from pipeline.dicom import read
from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom import geometry_cases as G


def _ds(values: np.ndarray, signed: bool, **attrs: object) -> object:
    ds = G.image(values.astype(np.int16 if signed else np.uint16), G.CT, **attrs)
    ds.PixelRepresentation = int(signed)
    ds.PixelData = values.astype("<i2" if signed else "<u2").tobytes()
    return ds


CASES = {
    "ct_int16_intercept": (True, {"RescaleSlope": 1, "RescaleIntercept": -1024}),
    "uint16_no_rescale": (False, {}),
    "uint16_positive_intercept": (False, {"RescaleSlope": 1.0, "RescaleIntercept": 1000.0}),
    "slope_not_one": (False, {"RescaleSlope": 0.5, "RescaleIntercept": 0}),
    "fractional_intercept": (True, {"RescaleSlope": 1, "RescaleIntercept": -0.5}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("window", ["none", "header"])
def test_fast_path_is_byte_identical(
    case: str, window: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed, attrs = CASES[case]
    rng = np.random.default_rng(3)
    low = -2048 if signed else 0
    values = rng.integers(low, 4095, size=(16, 16))
    values[0, :4] = [low, 4095, 0, 1]
    ds = _ds(values, signed, **attrs)
    image = image_from_dataset(ds, "x.dcm")
    spec = parse_window(window)
    taken: list[bool] = []
    real = read._integer_modality

    def spy(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        taken.append(result is not None)
        return result

    monkeypatch.setattr(read, "_integer_modality", spy)
    fast, name = render(image, 0, spec, "float32")
    monkeypatch.setattr(read, "_integer_modality", lambda *a: None)
    slow, slow_name = render(image, 0, spec, "float32")
    assert name == slow_name == "none"
    assert fast.dtype == slow.dtype == np.float32 and fast.tobytes() == slow.tobytes()
    expected = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)  # pydicom's values
    np.testing.assert_array_equal(fast, expected)
    exact = case in ("ct_int16_intercept", "uint16_no_rescale", "uint16_positive_intercept")
    assert taken == [exact]


def test_a_window_in_the_header_is_not_the_fast_path() -> None:
    ds = _ds(np.arange(256).reshape(16, 16), False, WindowCenter=100, WindowWidth=50)
    image = image_from_dataset(ds, "x.dcm")
    out, name = render(image, 0, parse_window("header"), "float32")
    assert name == "header" and out.min() == 0.0 and out.max() == 1.0  # windowed to [0, 1]


@pytest.mark.parametrize("width", [0, -5])
def test_a_window_of_width_not_positive_is_ignored_and_said(width: int) -> None:
    ds = _ds(np.arange(256).reshape(16, 16), False, WindowCenter=100, WindowWidth=width)
    image = image_from_dataset(ds, "x.dcm")
    assert image.frames[0].window is None
    assert image.problems == (
        f"WindowWidth {width} is not positive: the header's window is ignored",
    )
    out, name = render(image, 0, parse_window("header"), "float32")
    assert name == "none" and out.max() == 255.0  # modality values, no window applied
