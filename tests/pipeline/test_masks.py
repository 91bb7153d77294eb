"""Mask files as users save them: 0/255, 0/1, grey RGB, class indices, explicit maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import load_mask, read_masks_csv
from pipeline.data.masks import mask_classes
from pipeline.errors import ConfigError, RadpipeError
from workflows.run.config import DataConfig, validate_config
from workflows.run.seg_classes import segmentation_classes

SHAPE = (4, 5)
FG = np.zeros(SHAPE, dtype=np.uint8)
FG[1:3, 2:4] = 1  # the foreground every binary file below encodes


def _png(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(arr, mode=mode).save(path) if mode else Image.fromarray(arr).save(path)
    return path


@pytest.mark.parametrize(
    "name, arr",
    [
        ("grey_0_255", FG * 255),
        ("grey_0_1", FG),
        ("rgb_0_255", np.repeat((FG * 255)[..., None], 3, axis=-1)),
        ("rgba_0_255", np.dstack([FG * 255] * 3 + [np.full(SHAPE, 255, np.uint8)])),
        ("grey_alpha", np.dstack([FG * 255, np.full(SHAPE, 255, np.uint8)])),
    ],
)
def test_binary_pngs_become_background_foreground(
    name: str, arr: np.ndarray, tmp_path: Path
) -> None:
    mask = load_mask(_png(tmp_path / f"{name}.png", arr))
    assert mask.dtype == np.uint8 and mask.shape == SHAPE
    np.testing.assert_array_equal(mask, FG)


def test_bilevel_png_and_all_foreground(tmp_path: Path) -> None:
    np.testing.assert_array_equal(load_mask(_png(tmp_path / "b.png", FG.astype(bool))), FG)
    full = load_mask(_png(tmp_path / "full.png", np.full(SHAPE, 255, np.uint8)))
    np.testing.assert_array_equal(full, np.ones(SHAPE))


def test_small_integers_are_class_indices(tmp_path: Path) -> None:
    arr = np.array([[0, 1, 2], [2, 0, 3]], dtype=np.uint8)
    np.testing.assert_array_equal(load_mask(_png(tmp_path / "k.png", arr)), arr)
    np.save(tmp_path / "k.npy", arr.astype(np.float32))
    np.testing.assert_array_equal(load_mask(tmp_path / "k.npy"), arr)


@pytest.mark.parametrize(
    "arr, shown",
    [
        (np.array([[0, 128, 255]], np.uint8), "{0, 128, 255}"),
        (np.array([[0, 40]], np.uint8), "{0, 40}"),
        (np.array([[-1, 0, 1]], np.int16), "{-1, 0, 1}"),
    ],
)
def test_other_values_are_refused_naming_file_values_and_option(
    arr: np.ndarray, shown: str
) -> None:
    with pytest.raises(RadpipeError) as info:
        mask_classes(arr, "m/001.png")
    text = str(info.value)
    assert text.startswith(f"m/001.png: mask values {shown} are neither class indices 0..31")
    assert "data.mask_values" in text


@pytest.mark.parametrize(
    "arr, shown",
    [
        pytest.param(np.array([[0.0, 0.5, 1.0]], np.float32), "{0, 0.5, 1}", id="half"),
        pytest.param(np.array([[0.0, 1.0, np.nan]]), "{0, 1, nan}", id="nan"),
    ],
)
def test_a_mask_with_fractions_is_not_offered_a_value_mapping(arr: np.ndarray, shown: str) -> None:
    """A resampled or soft NIfTI mask ({0, 0.5, 1}) was offered ``data.mask_values`` ``{0: 0,
    0.5: 1, 1: 2}``, which the config refuses (its keys are whole numbers)."""
    with pytest.raises(RadpipeError) as info:
        mask_classes(arr, "m/001.nii.gz")
    text = str(info.value)
    assert text.startswith(f"m/001.nii.gz: mask values {shown} include fractions (or NaN)")
    assert "data.mask_values" not in text and "nearest neighbour" in text
    with pytest.raises(ValueError, match="fractional part"):
        DataConfig(source="s", mask_values={0: 0, 0.5: 1})  # type: ignore[dict-item]


def test_a_smoothed_mask_is_not_offered_a_value_mapping(tmp_path: Path) -> None:
    """A 0/255 disc resized with bilinear interpolation (as an image editor or PIL's default
    does) has edge values 1..254: no data.mask_values makes it a label map, so the message
    says what it is and how to export it, instead of suggesting a mapping."""
    yy, xx = np.mgrid[:64, :64]
    disc = Image.fromarray((((yy - 32) ** 2 + (xx - 32) ** 2 < 400) * 255).astype(np.uint8))
    disc.resize((23, 23), Image.Resampling.BILINEAR).resize((64, 64)).save(tmp_path / "m.png")
    found = np.unique(np.asarray(Image.open(tmp_path / "m.png")))
    assert found.size > 32
    with pytest.raises(RadpipeError) as info:
        load_mask(tmp_path / "m.png")
    text = str(info.value)
    assert text.startswith(f"m.png: {found.size} distinct mask values ({{0, ")
    assert "more than a label map of at most 32 classes (data.max_classes)" in text
    assert "nearest neighbour" in text and "data.mask_values" not in text
    # 32 values or fewer (a label map with unusual values) still get the mapping offered
    with pytest.raises(RadpipeError, match=r"map them explicitly with data\.mask_values"):
        mask_classes(np.arange(0, 64, 2, dtype=np.uint8)[None] + 40, "few.png")


def test_colour_masks_are_refused(tmp_path: Path) -> None:
    arr = np.zeros((*SHAPE, 3), np.uint8)
    arr[0, 0] = (255, 0, 0)
    with pytest.raises(RadpipeError, match=r"c\.png: a colour mask \(its RGB channels differ\)"):
        load_mask(_png(tmp_path / "c.png", arr))


def test_mask_values_map_explicitly(tmp_path: Path) -> None:
    arr = np.array([[0, 128, 255], [255, 0, 128]], np.uint8)
    path = _png(tmp_path / "three.png", arr)
    got = load_mask(path, {0: 0, 128: 1, 255: 2})
    np.testing.assert_array_equal(got, [[0, 1, 2], [2, 0, 1]])
    with pytest.raises(RadpipeError, match=r"three.png: mask values \[255\] are not in"):
        load_mask(path, {0: 0, 128: 1})
    # Raising max_classes lets larger indices through unmapped.
    np.testing.assert_array_equal(
        load_mask(_png(tmp_path / "40.png", arr // 4), None, 64), arr // 4
    )


def test_config_checks_mask_values_and_class_cap() -> None:
    base = {"task": "segmentation", "model": {"type": "unet"}, "data": {"source": "x"}}
    ok = validate_config({**base, "data": {"source": "x", "mask_values": {0: 0, 255: 1}}})
    assert ok.data.mask_values == {0: 0, 255: 1}
    with pytest.raises(ConfigError, match=r"data: .*mask_values must map to class indices 0..31"):
        validate_config({**base, "data": {"source": "x", "mask_values": {255: 40}}})
    with pytest.raises(ConfigError, match=r"data\.max_classes"):
        validate_config({**base, "data": {"source": "x", "max_classes": 256}})


def test_segmentation_classes_from_the_training_masks() -> None:
    data = DataConfig(source=Path("x"))
    assert segmentation_classes({0, 1}, data) == 2
    assert segmentation_classes({0, 1, 2}, data) == 3
    assert segmentation_classes({0}, data) == 2
    with pytest.raises(RadpipeError, match=r"values \[0, 2\], not consecutive"):
        segmentation_classes({0, 2}, data)
    with pytest.raises(RadpipeError, match=r"hold 41 classes; data\.max_classes is 32"):
        segmentation_classes({0, 40}, data)
    named = DataConfig(source=Path("x"), class_names=["bg", "a", "b"])
    assert segmentation_classes({0, 2}, named) == 3
    with pytest.raises(RadpipeError, match=r"class 3, but data\.class_names names 3"):
        segmentation_classes({0, 3}, named)


def test_an_image_listed_twice_with_two_masks_is_refused(tmp_path: Path) -> None:
    # One mask silently won before (the last row): the truth scored was a guess.
    masks = tmp_path / "masks.csv"
    masks.write_text("sop_instance_uid,frame,mask\n1.2.3,0,a.png\n1.2.4,0,b.png\n1.2.3,0,c.png\n")
    with pytest.raises(
        RadpipeError, match=r"line 4: sop_instance_uid and frame 0 .*a\.png then c\.png"
    ):
        read_masks_csv(masks)
    # The same row twice, or another frame of the image, is no conflict.
    masks.write_text("sop_instance_uid,frame,mask\n1.2.3,0,a.png\n1.2.3,0,a.png\n1.2.3,1,b.png\n")
    assert sorted(p.name for p in read_masks_csv(masks).values()) == ["a.png", "b.png"]
