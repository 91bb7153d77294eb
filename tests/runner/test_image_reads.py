"""Images of a ``data.kind: images`` list that cannot be loaded are refused before the run
starts, all of them listed by their path in the CSV and its line.

One image with a NaN (a float NPY) stopped the run once its directory had been made, at that
first file, named by its base name alone (two folders may each hold a ``0.npy``), and with
advice to repair it and ``radpipe run --resume``, which was then refused: the repaired file
changed ``data.source``. The files are built here: which rows are bad, and so the expected
lines (the header is line 1), are known by construction.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.runner.conftest import base_config, write_rows
from tests.runner.test_image_files import _exit_2

ROOT = Path(__file__).resolve().parents[2]


def _list(root: Path) -> Path:
    """Twelve 8x8 NPY images in a/ and b/, same base names (a/0.npy, b/0.npy, ...), two
    classes. b/0.npy (line 3) holds one NaN, b/1.npy (line 5) is a pickled object array,
    b/2.npy (line 7) is cut short; a/0.npy (line 2), of the same base name as b/0.npy, is
    good."""
    rows = []
    for i in range(6):
        for folder in ("a", "b"):
            path = root / folder / f"{i}.npy"
            path.parent.mkdir(exist_ok=True)
            np.save(path, np.full((8, 8), 10.0 * i + (folder == "b"), np.float32))
            rows.append({"image": f"{folder}/{i}.npy", "label": i % 2})
    bad = np.full((8, 8), 1.0, np.float32)
    bad[3, 4] = np.nan
    np.save(root / "b" / "0.npy", bad)
    np.save(root / "b" / "1.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    whole = (root / "b" / "2.npy").read_bytes()
    (root / "b" / "2.npy").write_bytes(whole[: len(whole) - 100])
    return write_rows(root / "list.csv", rows)


def test_every_image_that_cannot_be_loaded_is_listed_before_the_run(tmp_path: Path) -> None:
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(_list(tmp_path)))
    err = _exit_2(tmp_path, raw)  # exit 2, no run directory, no traceback or absolute path
    assert (
        "data.labels: 3 of 12 images named in list.csv are not loadable (nothing was run): " in err
    )
    assert (
        "b/0.npy (line 3): 1 of 64 values are NaN or infinite (float pixel data with no value there"
    ) in err
    assert "b/1.npy (line 5): cannot be read as npy (Object arrays cannot be loaded" in err
    assert "b/2.npy (line 7): cannot be read as npy (" in err
    assert "a/0.npy" not in err and "--resume" not in err


def test_a_list_of_loadable_images_runs(tmp_path: Path) -> None:
    """The check refuses nothing else: the same list with the three files repaired trains."""
    image_list = _list(tmp_path)
    for i in range(3):
        np.save(tmp_path / "b" / f"{i}.npy", np.full((8, 8), 1.0, np.float32))
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(image_list))
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(raw))
    done = subprocess.run([sys.executable, "-m", "workflows.cli", "run", str(config), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not loadable" not in done.stderr


def test_a_mask_that_cannot_be_read_is_named_by_its_path_in_the_list(tmp_path: Path) -> None:
    """Six 8x8 images, each with a mask m.png in its own folder p0/ ... p5/; p3/m.png holds
    0/128, no class map: refused before the run, naming ``p3/m.png`` and its line (it was
    named ``m.png``, which any of the six is, once the run directory had been made)."""
    from PIL import Image

    rows = []
    for i in range(6):
        (tmp_path / f"p{i}").mkdir()
        np.save(tmp_path / f"p{i}/im.npy", np.full((8, 8), float(i), np.float32))
        mask = np.zeros((8, 8), np.uint8)
        mask[2:5, 2:5] = 128 if i == 3 else 255
        Image.fromarray(mask).save(tmp_path / f"p{i}/m.png")
        rows.append({"image": f"p{i}/im.npy", "mask": f"p{i}/m.png"})
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(write_rows(tmp_path / "l.csv", rows)))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}
    err = _exit_2(tmp_path, raw, in_process=True)  # exit 2, no run directory
    assert (
        "data.labels: 1 of 6 masks named in l.csv cannot be read as class indices (nothing was "
        "run): p3/m.png (line 5): mask values {0, 128} are neither class indices"
    ) in err
    assert " m.png" not in err
