"""Post-processing of predicted label maps: largest component and hole filling, on small maps
whose expected results are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.ops.labels import fill_holes, keep_largest_component
from pipeline.postprocess import POSTPROCESS, FillHoles, LargestComponent, Postprocess

# class 1: a ring of 8 pixels around a one-pixel hole (top left) and a 2-pixel blob (bottom
# right); class 2: one 2-pixel blob and one single pixel.
TWO_BLOBS_AND_A_HOLE = np.array(
    [
        [1, 1, 1, 0, 0, 0, 0],
        [1, 0, 1, 0, 0, 2, 2],
        [1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 1, 0],
        [0, 2, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
LARGEST = np.array(
    [
        [1, 1, 1, 0, 0, 0, 0],
        [1, 0, 1, 0, 0, 2, 2],
        [1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],  # the 2-pixel blob of class 1 is gone
        [0, 0, 0, 0, 0, 0, 0],  # and the single pixel of class 2
        [0, 0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
FILLED = TWO_BLOBS_AND_A_HOLE.copy()
FILLED[1, 1] = 1  # only the ring's hole is enclosed; the blobs have none


def test_largest_component_keeps_the_ring_and_drops_the_blobs() -> None:
    out = keep_largest_component(TWO_BLOBS_AND_A_HOLE)
    np.testing.assert_array_equal(out, LARGEST)
    assert out.dtype == np.uint8
    assert TWO_BLOBS_AND_A_HOLE[4, 4] == 1  # input not modified


def test_fill_holes_fills_the_ring_only() -> None:
    np.testing.assert_array_equal(fill_holes(TWO_BLOBS_AND_A_HOLE), FILLED)


def test_both_steps_in_order() -> None:
    post = Postprocess.from_specs([{"type": "largest_component"}, {"type": "fill_holes"}])
    expected = LARGEST.copy()
    expected[1, 1] = 1
    np.testing.assert_array_equal(post(TWO_BLOBS_AND_A_HOLE), expected)
    maps, record = post.apply_all([TWO_BLOBS_AND_A_HOLE, expected])
    np.testing.assert_array_equal(maps[1], expected)  # already clean: unchanged
    # map 0: the class-1 blob (2 pixels), the class-2 pixel (1) and the hole (1)
    assert (record["maps"], record["maps_changed"], record["pixels_changed"]) == (2, 1, 4)
    assert [s["type"] for s in record["steps"]] == ["largest_component", "fill_holes"]


def test_classes_restricts_the_step() -> None:
    out = keep_largest_component(TWO_BLOBS_AND_A_HOLE, classes=[2])
    assert out[4, 4] == 1 and out[5, 1] == 0  # class 1 untouched, class 2's small pixel gone
    assert fill_holes(TWO_BLOBS_AND_A_HOLE, classes=[2])[1, 1] == 0


@pytest.mark.parametrize(
    ("connectivity", "kept"),
    [(2, 3), (1, 2)],  # diagonal neighbours count (3 pixels) / do not (2 beat 1)
    ids=["diagonal", "orthogonal"],
)
def test_connectivity_of_components(connectivity: int, kept: int) -> None:
    x = np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.int64)
    assert int(keep_largest_component(x, connectivity=connectivity).sum()) == kept


def test_a_diagonal_outline_encloses_its_hole() -> None:
    # a diamond of class 1, one 8-connected object (largest_component keeps it whole): its
    # centre touches the outside only through diagonal gaps. The background was 8-connected
    # by default, so the hole leaked and stayed 0; it is face-connected now (scipy's
    # binary_fill_holes default), the complement of the object's connectivity
    x = np.array(
        [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    )
    assert int(keep_largest_component(x).sum()) == 4
    assert fill_holes(x)[2, 2] == 1
    assert fill_holes(x, connectivity=2)[2, 2] == 0  # MONAI's: the background escapes


@pytest.mark.parametrize("ndim", [2, 3])
def test_fill_holes_agrees_with_scipy(ndim: int) -> None:
    """On random binary masks, the default is scipy.ndimage.binary_fill_holes' default
    structure (connectivity 1), and each connectivity is binary_fill_holes with its own."""
    from scipy import ndimage

    rng = np.random.default_rng(7)
    for _ in range(40):
        mask = rng.random((9,) * ndim) < 0.55
        labels = mask.astype(np.uint8)
        np.testing.assert_array_equal(fill_holes(labels), ndimage.binary_fill_holes(mask))
        for hops in range(1, ndim + 1):
            structure = ndimage.generate_binary_structure(ndim, hops)
            np.testing.assert_array_equal(
                fill_holes(labels, connectivity=hops),
                ndimage.binary_fill_holes(mask, structure=structure),
            )


def test_holes_on_the_edge_and_holes_between_classes_stay() -> None:
    x = np.array(
        [
            [1, 0, 1, 2, 2, 2],  # (0, 1): a gap on the edge of the map is open
            [1, 1, 1, 2, 0, 2],  # (1, 4): enclosed by class 2 alone -> 2
            [1, 1, 1, 2, 2, 2],
            [1, 1, 1, 2, 2, 2],
            [1, 0, 2, 2, 2, 2],  # (4, 1): enclosed by 1 and 2 together -> left alone
            [1, 1, 2, 2, 2, 2],
        ]
    )
    expected = x.copy()
    expected[1, 4] = 2
    np.testing.assert_array_equal(fill_holes(x), expected)


def test_other_classes_inside_a_hole_are_never_overwritten() -> None:
    # MONAI's FillHoles would turn the lesion (2) inside the organ (1) into organ
    x = np.ones((5, 5), dtype=np.uint8)
    x[0, :] = x[-1, :] = x[:, 0] = x[:, -1] = 0
    x[2, 2] = 2
    np.testing.assert_array_equal(fill_holes(x), x)


def test_volumes_are_cleaned_in_3d() -> None:
    x = np.zeros((3, 4, 4), dtype=np.uint8)
    x[0, :2, :2] = 1  # 4 voxels on slice 0
    x[1, 0, 0] = 1  # joined to them across the slices: one component of 5
    x[2, 3, 3] = 1  # alone
    out = keep_largest_component(x)
    assert int(out.sum()) == 5 and out[2, 3, 3] == 0
    cube = np.ones((5, 5, 5), dtype=np.uint8)
    cube[0], cube[-1] = 0, 0
    cube[:, 0], cube[:, -1], cube[:, :, 0], cube[:, :, -1] = 0, 0, 0, 0
    cube[2, 2, 2] = 0  # a one-voxel cavity
    assert fill_holes(cube)[2, 2, 2] == 1


def test_empty_and_full_maps() -> None:
    for x in (np.zeros((4, 4), dtype=np.uint8), np.ones((4, 4), dtype=np.uint8)):
        np.testing.assert_array_equal(keep_largest_component(x), x)
        np.testing.assert_array_equal(fill_holes(x), x)


def test_bad_inputs_and_parameters() -> None:
    with pytest.raises(ValueError, match="integer label map"):
        fill_holes(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"connectivity must be in \[1, 2\]"):
        keep_largest_component(np.zeros((4, 4), dtype=np.uint8), connectivity=3)
    with pytest.raises(ValueError, match="'classes' parameter of LargestComponent"):
        LargestComponent(classes=[0])
    with pytest.raises(ValueError, match="'connectivity' parameter of FillHoles"):
        FillHoles(connectivity=0)
    with pytest.raises(ConfigError, match="largest_component"):
        POSTPROCESS.build({"type": "largest_components"})


def test_spec_round_trip_and_repr() -> None:
    step = FillHoles(classes=[1], connectivity=1)
    assert POSTPROCESS.build(step.spec()).spec() == step.spec()
    assert repr(step) == "FillHoles(classes=[1], connectivity=1)"
    assert not Postprocess() and Postprocess([step])
