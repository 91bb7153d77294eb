"""``benchmarks/learn.py --size`` takes ``N`` (NxN, as before) or ``HxW``: HC18's 800x540
images can be resized keeping their aspect (``128x192``: 4.22 x 4.17 source pixels per pixel)
instead of squeezed into a square (128x128: 4.22 x 6.25)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
import yaml

from benchmarks.learn import adapt, parse_size
from benchmarks.learn_data import Archive
from models import build_model


@pytest.mark.parametrize(("text", "shape"), [("128", (128, 128)), ("128x192", (128, 192)),
                                             ("144X208", (144, 208))])  # fmt: skip
def test_a_size_is_one_number_or_height_by_width(text: str, shape: tuple[int, int]) -> None:
    assert parse_size(text) == shape


@pytest.mark.parametrize("text", ["", "0", "128x", "x192", "128x192x3", "12.5", "-128"])
def test_other_sizes_are_refused_in_words(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not N or HxW"):
        parse_size(text)


def test_the_unet_config_is_resized_to_height_by_width(tmp_path: Path) -> None:
    archive = Archive(dicom=tmp_path / "dicom", masks=tmp_path / "masks.csv")
    args = argparse.Namespace(size=(128, 192), epochs=None, set=None, seed=None)
    path = adapt("mr_segment_unet", "hc18", archive, tmp_path, args)
    config = yaml.safe_load(path.read_text())
    assert config["preprocess"][0] == {"type": "resize", "shape": [128, 192]}
    assert config["data"]["masks"] == str(tmp_path / "masks.csv")
    # the U-Net takes the non-square shape (both sides multiples of 16), logits the same size
    net = build_model("unet", features=(4, 4, 8, 8, 16, 4), num_classes=2).eval()
    assert net(torch.zeros(1, 1, 128, 192)).shape == (1, 2, 128, 192)
