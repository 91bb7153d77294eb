"""NPY colour images saved channels last (MedMNIST's colour sets, numpy/PIL arrays)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.data.datasets import FolderDataset
from pipeline.data.io import load_image
from pipeline.errors import RadpipeError


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_last_npy_is_a_channel_first_picture(tmp_path: Path, channels: int) -> None:
    rgb = np.arange(28 * 28 * channels, dtype=np.uint16).reshape(28, 28, channels) % 251
    np.save(tmp_path / "c.npy", rgb)
    image = load_image(tmp_path / "c.npy")
    # it was (1, 28, 28, C): a volume of 28 slices of 28 x C pixels
    assert image.shape == (channels, 28, 28)
    for c in range(channels):
        np.testing.assert_array_equal(image[c], rgb[..., c])


def test_small_first_axis_stays_a_volume(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((3, 28, 28), np.float32))
    assert load_image(tmp_path / "v.npy").shape == (1, 3, 28, 28)
    np.save(tmp_path / "s.npy", np.zeros((4, 4, 3), np.float32))  # no side above 4: as before
    assert load_image(tmp_path / "s.npy").shape == (1, 4, 4, 3)


def test_folder_dataset_of_medmnist_style_npy(tmp_path: Path) -> None:
    rgb = np.zeros((28, 28, 3), np.uint8)
    rgb[..., 0] = 200  # red
    np.save(tmp_path / "a.npy", rgb)
    sample = FolderDataset(tmp_path).sample(0)
    assert sample.image.shape == (3, 28, 28)
    assert sample.image[0].max() == 200 and sample.image[1:].max() == 0


def test_complex_npy_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "k.npy", np.full((4, 4), 3 + 4j, np.complex64))
    # it became 3.0 everywhere (the real part; the magnitude is 5) with a numpy warning
    with pytest.raises(RadpipeError, match=r"k\.npy: complex values \(complex64\)"):
        load_image(tmp_path / "k.npy")
