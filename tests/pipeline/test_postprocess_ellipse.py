"""The ellipse shape prior for predicted masks (``fit_ellipse``), on maps worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.ops.labels import fit_ellipse
from pipeline.postprocess import POSTPROCESS, FitEllipse, Postprocess


def plus(n: int, arm: int) -> np.ndarray:
    """A plus of half-length ``arm`` along every axis, centred in an ``n``-D map."""
    size = 2 * arm + 3
    x = np.zeros((size,) * n, dtype=np.uint8)
    for axis in range(n):
        index = [arm + 1] * n
        index[axis] = slice(1, size - 1)  # type: ignore[call-overload]
        x[tuple(index)] = 1
    return x


def test_a_plus_becomes_the_pixels_within_its_moment_ellipse() -> None:
    # 9 pixels: variance (4 + 1 + 0 + 1 + 4) / 9 = 10/9 along each axis, + 1/12 for the pixel's
    # own extent = 43/36, no covariance; inside: dy^2 + dx^2 <= (2 + 2) * 43/36 = 4.78, so
    # the 3x3 corners (2) and the arm tips (4) are in, (2, 1) (5) is out
    expected = np.zeros((7, 7), dtype=np.uint8)
    expected[2:5, 2:5] = 1
    expected[1, 3] = expected[5, 3] = expected[3, 1] = expected[3, 5] = 1
    out = fit_ellipse(plus(2, 2))
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8


def test_a_3d_plus_becomes_a_cube_and_its_tips() -> None:
    # 13 voxels: variance 2 (1 + 4) / 13 + 1/12 = 133/156 per axis; an ellipsoid's threshold
    # is n + 2 = 5: d^2 <= 4.26 keeps the 3x3x3 cube (d^2 <= 3) and the 6 tips (4), not (2,1,0)
    out = fit_ellipse(plus(3, 2))
    expected = np.zeros((7, 7, 7), dtype=np.uint8)
    expected[2:5, 2:5, 2:5] = 1
    for axis in range(3):
        for end in (1, 5):
            index = [3, 3, 3]
            index[axis] = end
            expected[tuple(index)] = 1
    np.testing.assert_array_equal(out, expected)


def test_a_pixel_and_a_square_stay_as_they_are() -> None:
    x = np.zeros((7, 7), dtype=np.int64)
    x[3, 3] = 1  # covariance 1/12: only the pixel itself is within d^2 <= 4/12
    np.testing.assert_array_equal(fit_ellipse(x), x)
    x[1:6, 1:6] = 1  # variance 2 + 1/12 = 25/12: d^2 <= 8.33 holds the corners (8), not (3, 0)
    np.testing.assert_array_equal(fit_ellipse(x), x)


def ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float],
            angle: float) -> np.ndarray:  # fmt: skip
    y, x = np.indices(shape, dtype=np.float64)
    y, x = y - centre[0], x - centre[1]
    c, s = np.cos(angle), np.sin(angle)
    u, v = x * c + y * s, -x * s + y * c
    return (u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1


def test_a_blocky_mask_of_an_ellipse_comes_back_smooth() -> None:
    # a mask predicted at 1/8 of the size and repeated back: staircase edges all round
    truth = ellipse((96, 120), (50, 60), (40, 25), np.deg2rad(30))
    blocky = truth[4::8, 4::8].repeat(8, axis=0).repeat(8, axis=1)

    def dice(a: np.ndarray) -> float:
        return float(2 * (a & truth).sum() / (a.sum() + truth.sum()))

    assert dice(blocky) < 0.95 < 0.97 < dice(fit_ellipse(blocky.astype(np.uint8)) > 0)
    assert dice(fit_ellipse(truth.astype(np.uint8)) > 0) > 0.995  # an ellipse stays itself


def test_other_classes_keep_their_pixels() -> None:
    x = np.zeros((9, 9), dtype=np.uint8)
    x[2:7, 2:7] = 1
    x[4, 4] = 2  # a lesion inside the organ
    x[0, 4] = 2  # the lesion's class also far away: its ellipse spans both, over background
    out = fit_ellipse(x, classes=[1])
    assert out[4, 4] == 2 and out[0, 4] == 2  # classes=[1]: class 2 untouched
    both = fit_ellipse(x)
    assert both[4, 4] == 2 and both[3, 3] == 1  # class 2's ellipse never takes class 1's pixels


def test_the_step_is_registered_and_round_trips() -> None:
    step = POSTPROCESS.build({"type": "fit_ellipse", "classes": [1]})
    assert isinstance(step, FitEllipse) and repr(step) == "FitEllipse(classes=[1])"
    assert POSTPROCESS.build(step.spec()).spec() == step.spec() == {
        "type": "fit_ellipse", "classes": [1]}  # fmt: skip
    np.testing.assert_array_equal(Postprocess([step])(plus(2, 2)), fit_ellipse(plus(2, 2)))
    with pytest.raises(ValueError, match="'classes' parameter of FitEllipse"):
        FitEllipse(classes=[0])
