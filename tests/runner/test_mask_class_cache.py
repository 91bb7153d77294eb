"""The classes of every mask file read in a process are kept by file (the check before the
run and the study read the same masks), but no more than ``MAX_READ`` of them: the cache was
a plain dict, so a process that checked many studies grew it without bound (the header cache
beside it, :data:`pipeline.dicom.header_scan.MAX_HEADERS`, was bounded)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image

import pipeline.data.io as io
from workflows.run import seg_classes


def test_the_mask_class_cache_keeps_the_most_recently_used_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seg_classes, "_READ", OrderedDict())
    monkeypatch.setattr(seg_classes, "MAX_READ", 3, raising=False)
    data = SimpleNamespace(mask_values=None, max_classes=32)
    paths = []
    for k in range(4):
        mask = np.zeros((4, 4), np.uint8)
        mask[0, 0] = k  # classes {0} for the first, {0, k} for the others
        paths.append(tmp_path / f"m{k}.png")
        Image.fromarray(mask).save(paths[-1])
    decoded: list[str] = []
    real = io.load_mask

    def counting(path: Path, *args: Any, **kwargs: Any) -> np.ndarray:
        decoded.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(io, "load_mask", counting)  # imported where it is used
    got = [seg_classes.mask_file_classes(p, data) for p in paths[:3]]  # type: ignore[arg-type]
    assert got == [{0}, {0, 1}, {0, 2}]
    seg_classes.mask_file_classes(paths[0], data)  # type: ignore[arg-type]  # m0 used again
    seg_classes.mask_file_classes(paths[3], data)  # type: ignore[arg-type]  # m1 goes
    assert len(seg_classes._READ) == 3
    assert decoded == ["m0.png", "m1.png", "m2.png", "m3.png"]  # m0 came from the cache
    assert seg_classes.mask_file_classes(paths[0], data) == {0}  # type: ignore[arg-type]
    assert seg_classes.mask_file_classes(paths[1], data) == {0, 1}  # type: ignore[arg-type]
    assert decoded[4:] == ["m1.png"]  # m1 read again; m0 still held
    assert len(seg_classes._READ) == 3
