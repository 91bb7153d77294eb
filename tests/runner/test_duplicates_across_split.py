"""Byte-identical images in two parts of the split (a copy under another patient) are said."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import base_config, images_study_warnings, run_config_cli
from workflows.run.duplicates import note_duplicates


def _images(root: Path) -> Path:
    """Six PNGs of six patients; ``copy.png`` (patient p6) is ``a0.png`` (patient p0) again."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / f"a{i}.png")
        part = "test" if i in (4, 5) else "val" if i == 3 else "train"
        rows.append({"image": f"a{i}.png", "label": i % 2, "patient_id": f"p{i}", "part": part})
    shutil.copyfile(root / "a0.png", root / "copy.png")
    rows.append({"image": "copy.png", "label": 0, "patient_id": "p6", "part": "test"})
    with (root / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root / "list.csv"


def test_a_copied_image_in_the_test_split_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    image_list = _images(tmp_path)
    said = images_study_warnings(tmp_path, image_list, {"column": "part"}, caplog, "identical")
    # the copy was scored as an unseen test case without a word
    assert len(said) == 1
    assert said[0].startswith("2 image files are byte-identical to files in another part")
    assert "in train" in said[0] and "in test" in said[0]


def test_twins_within_one_part_or_fold_are_not_said(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"same bytes")
    (tmp_path / "d").write_bytes(b"other one!")  # same size, other content
    files = {k: [tmp_path / k] for k in "abcd"}
    rows = [
        {"series_key": "a", "split": "train", "fold": 0},
        {"series_key": "b", "split": "train", "fold": 0},
        {"series_key": "c", "split": "train", "fold": 1},
        {"series_key": "d", "split": "train", "fold": 1},
    ]
    assert note_duplicates(rows, files) == 3  # a, b in fold 0 and c in fold 1
    rows[2]["fold"] = 0
    assert note_duplicates(rows, files) == 0  # all three copies in fold 0; d has no twin


def test_blank_images_alike_in_two_parts_are_not_copies(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
    rows = [{"series_key": "a", "split": "train"}, {"series_key": "b", "split": "test"}]
    files = {"a": [tmp_path / "a.png"], "b": [tmp_path / "b.png"]}
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert note_duplicates(rows, files) == 0


def test_files_alike_in_64_kib_only_are_not_twins(tmp_path: Path) -> None:
    head = bytes(range(256)) * 300  # 76,800 bytes: the 64 KiB look misses the last byte
    (tmp_path / "a").write_bytes(head + b"1")
    (tmp_path / "b").write_bytes(head + b"2")
    (tmp_path / "c").write_bytes(head + b"1")
    rows = [{"series_key": k, "split": s} for k, s in zip("abc", ("train", "test", "val"))]
    files = {k: [tmp_path / k] for k in "abc"}
    assert note_duplicates(rows, files) == 2  # a (train) = c (val); b differs at the end


def test_slices_alike_in_their_first_rows_are_told_apart_without_reading_them_whole(
    tmp_path: Path,
) -> None:
    """Slices of one shape share their size and often their first rows (air, padding): the
    64 KiB look is taken in the middle of the file, so they need no whole-file hash (with
    the first 64 KiB, every such file was read in full at the start of every run)."""
    from unittest import mock

    from workflows.run import duplicates

    air = bytes(200_000)
    for i, key in enumerate("abc"):
        (tmp_path / key).write_bytes(air + bytes([i + 1]) * 100_000 + air)
    rows = [{"series_key": k, "split": s} for k, s in zip("abc", ("train", "test", "val"))]
    files = {k: [tmp_path / k] for k in "abc"}
    with mock.patch.object(duplicates, "_digest", wraps=duplicates._digest) as digest:
        assert note_duplicates(rows, files) == 0
    assert [c.args[1] for c in digest.call_args_list] == [duplicates._HEAD] * 3


def test_the_copies_are_named_by_the_files_the_user_has(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An images run names its own files (``image 7b30...``, a hash of the CSV cell, could not
    be found in the folder: BreastMNIST's official split holds such a pair, train_0115 =
    test_0076)."""
    image_list = _images(tmp_path)
    said = images_study_warnings(tmp_path, image_list, {"column": "part"}, caplog, "identical")
    assert "(a0.png in train = copy.png in test)" in said[0]


def test_converted_series_are_named_with_their_source_dicom_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A DICOM run's twins are converted outputs: the warning adds the source files."""
    for name, value in (("x.npy", 7), ("y.npy", 7)):
        np.save(tmp_path / name, np.arange(4, dtype=np.float32) * value)
    rows = [{"series_key": "k1", "split": "train"}, {"series_key": "k2", "split": "test"}]
    files = {"k1": [tmp_path / "x.npy"], "k2": [tmp_path / "y.npy"]}
    names = {tmp_path / "x.npy": "p1/a.dcm", tmp_path / "y.npy": "p2/b.dcm frame 1"}
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert note_duplicates(rows, files, "dicom", names) == 2
    said = caplog.records[-1].getMessage()
    assert "(series k1 (p1/a.dcm) in train = series k2 (p2/b.dcm frame 1) in test)" in said


def test_a_run_names_the_copied_files_through_the_cli(tmp_path: Path) -> None:
    """``radpipe run`` (subprocess) on the PNG folder: the warning names both files."""
    image_list = _images(tmp_path)
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(image_list))
    raw["split"] = {"column": "part"}
    raw["train"].update(epochs=1, monitor="train_loss")
    raw["report"] = {"enabled": False}
    proc = run_config_cli(raw, tmp_path)
    line = next(s for s in proc.stderr.splitlines() if "byte-identical" in s)
    assert "2 image files are byte-identical" in line
    assert "(a0.png in train = copy.png in test)" in line
