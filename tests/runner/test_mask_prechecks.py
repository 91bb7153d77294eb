"""The masks of a ``data.kind: images`` list are checked before the run directory is made:
values that are no class indices (255 beside 0 and 1; a 0/255 mask where data.mask_values maps
0/1), and for a segmentation classes that do not fit (masks labelled 1/2 with no 0; a class
beyond data.class_names), each mask named by its path in the list and its CSV line, with the
likely cause. They were found once the run directory had been made, by base name, no line.
The files are built here, so the expected lines (the header is line 1) are known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import pipeline.data.io as io
from pipeline.data.masks import mask_classes
from pipeline.errors import RadpipeError
from tests.runner.conftest import base_config, write_rows
from tests.runner.test_image_files import _exit_2
from workflows.run.config import DataConfig
from workflows.run.image_reads import unreadable_masks
from workflows.run.seg_classes import read_mask_classes


def _list(root: Path, masks: list[np.ndarray]) -> Path:
    """One 8x8 NPY image and one PNG mask per entry, in p0/ ... (mask pI/m.png on line I+2)."""
    rows = []
    for i, mask in enumerate(masks):
        (root / f"p{i}").mkdir()
        np.save(root / f"p{i}/im.npy", np.full((8, 8), float(i), np.float32))
        Image.fromarray(mask.astype(np.uint8)).save(root / f"p{i}/m.png")
        rows.append({"image": f"p{i}/im.npy", "mask": f"p{i}/m.png", "patient_id": f"q{i}"})
    return write_rows(root / "l.csv", rows)


def _mask(*values: int) -> np.ndarray:
    """8x8 of ``values[0]``, rows 0, 1, ... of the others."""
    mask = np.full((8, 8), values[0], np.uint8)
    for j, v in enumerate(values[1:]):
        mask[j, :] = v
    return mask


def _raw(root: Path, listed: Path, **data: Any) -> dict[str, Any]:
    raw = base_config(root, root / "runs", kind="images")
    raw["data"].update(source=str(root), labels=str(listed), **data)
    return raw | {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}


def _refused(root: Path, masks: list[np.ndarray], **data: Any) -> str:
    """``radpipe run`` of the list of ``masks``: exit 2, no run directory; its stderr."""
    return _exit_2(root, _raw(root, _list(root, masks), **data), in_process=True)


def test_a_255_beside_0_and_1_is_refused_before_the_run_with_its_line(tmp_path: Path) -> None:
    err = _refused(tmp_path, [_mask(0, 1), _mask(0, 1), _mask(0, 1, 255), _mask(0, 1)])
    assert (
        "data.labels: 1 of 4 masks named in l.csv cannot be read as class indices (nothing was "
        "run): p2/m.png (line 4): mask values {0, 1, 255} are neither class indices 0..31"
    ) in err
    assert "255 beside other values is a 0/255 (white on black) mask mixed with" in err


def test_a_0_255_mask_where_mask_values_maps_0_1_says_what_to_write(tmp_path: Path) -> None:
    masks = [_mask(0, 1), _mask(0, 255), _mask(0, 1), _mask(0, 255)]
    err = _refused(tmp_path, masks, mask_values={0: 0, 1: 1})
    assert "2 of 4 masks named in l.csv cannot be read as class indices" in err
    assert "p1/m.png (line 3): mask values [255] are not in data.mask_values" in err
    assert "p3/m.png (line 5)" in err
    assert "255 is the foreground of a 0/255 (white on black) mask: add 255: 1" in err


def test_masks_labelled_from_1_are_refused_before_the_run(tmp_path: Path) -> None:
    err = _refused(tmp_path, [_mask(1, 2), _mask(1, 1), _mask(1, 2), _mask(1, 1)])
    assert (
        "data.labels: no mask named in l.csv holds class 0 (background): their values are "
        "[1, 2] (nothing was run)"
    ) in err
    assert "map the values with data.mask_values, e.g. {1: 0, 2: 1}" in err
    assert "Value 2 is in p0/m.png (line 2): class 2; p2/m.png (line 4): class 2" in err


def test_a_class_beyond_the_class_names_is_refused_with_its_mask(tmp_path: Path) -> None:
    masks = [_mask(0, 1), _mask(0, 1, 2), _mask(0, 1), _mask(0, 1)]
    err = _refused(tmp_path, masks, class_names=["background", "lesion"])
    assert (
        "data.labels (l.csv): 1 of 4 masks holds a class beyond data.class_names, which names "
        "2 classes (0..1: background, lesion) (nothing was run): p1/m.png (line 3): class 2; "
        "name every class in data.class_names (background first), or map the stored values "
        "onto them with data.mask_values"
    ) in err


def test_a_gap_is_named_and_good_masks_pass(tmp_path: Path) -> None:
    (tmp_path / "gap").mkdir()
    listed = _list(tmp_path / "gap", [_mask(0, 2), _mask(0), _mask(0, 2)])
    data = DataConfig(source=tmp_path / "gap", labels=listed)
    (problem,) = unreadable_masks(listed, tmp_path / "gap", ["image", "mask"], data, True)
    assert problem.startswith(
        "data.labels: the masks named in l.csv hold values [0, 2], and none holds 1: not "
        "consecutive class indices 0..2 (nothing was run); map them with data.mask_values, "
        "e.g. {0: 0, 2: 1}"
    )
    assert problem.endswith("Value 2 is in p0/m.png (line 2): class 2; p2/m.png (line 4): class 2")
    assert unreadable_masks(listed, tmp_path / "gap", ["image", "mask"], data, False) == []
    (tmp_path / "good").mkdir()
    good = _list(tmp_path / "good", [_mask(0, 1), _mask(0), _mask(0, 255)])  # 0/255: 0/1
    data = DataConfig(source=tmp_path / "good", labels=good)
    assert unreadable_masks(good, tmp_path / "good", ["image", "mask"], data, True) == []


def test_each_mask_is_decoded_once_by_the_check_and_the_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = _list(tmp_path, [_mask(0, 1), _mask(0, 2), _mask(0)])
    data = DataConfig(source=tmp_path, labels=listed)
    decoded: list[str] = []
    real = io.load_mask
    monkeypatch.setattr(io, "load_mask", lambda p, *a: decoded.append(Path(p).parent.name)
                        or real(p, *a))  # fmt: skip
    assert unreadable_masks(listed, tmp_path, ["image", "mask"], data, True) == []
    paths = [tmp_path / f"p{i}/m.png" for i in range(3)]
    assert read_mask_classes(paths, data, "l.csv", before="trained") == {0, 1, 2}
    assert sorted(decoded) == ["p0", "p1", "p2"]  # once each, not twice


def test_the_mask_messages_give_the_likely_cause() -> None:
    with pytest.raises(RadpipeError, match=r"\(Pascal VOC's void\)"):
        mask_classes(np.array([0, 1, 255]), "m.png")
    with pytest.raises(RadpipeError, match=r"add 255: 1 to data.mask_values"):
        mask_classes(np.array([0, 255]), "m.png", {0: 0, 1: 1})
    with pytest.raises(RadpipeError) as err:  # no 255: no word of one
        mask_classes(np.array([0, 128]), "m.png")
    assert "Pascal" not in str(err.value) and "white on black" not in str(err.value)


def test_an_external_test_set_may_lack_a_class(tmp_path: Path) -> None:
    """`radpipe evaluate` checks its masks' values but not that they make every class: a test
    set of a 3-class run may hold no class 1."""
    from pipeline.errors import ConfigError
    from workflows.run.checks import check_inputs
    from workflows.run.config import validate_config

    raw = _raw(tmp_path, _list(tmp_path, [_mask(0, 2), _mask(0, 2)]))
    raw["split"] = {"test": 0.0, "val": 0.5}  # 2 patients fill 2 parts (checked up front)
    config = validate_config(raw)
    check_inputs(config, fit_classes=False)
    with pytest.raises(ConfigError, match=r"hold values \[0, 2\], and none holds 1"):
        check_inputs(config)
