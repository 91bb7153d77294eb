"""``split.column``: the split a labels CSV gives (an official or a hospital's split).

Expected parts are written here, by hand, into the CSV; the run's ``split.csv`` must hold
exactly them (a random ratio split, what the run did before, would not)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import ConfigError, RadpipeError
from pipeline.keys import hash_key
from pipeline.split import read_split_csv, split_k_fold
from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, read_rows, run_config_cli, write_rows
from workflows.run.config import validate_config
from workflows.run.study import prepare_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cr_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 patients x 2 CR series of 16x16."""
    out = tmp_path_factory.mktemp("cr_pairs")
    write_study(out, StudySpec(patients=6, modality="CR", size=16, series_per_patient=2))
    return out


def _with_parts(study: Path, parts: list[str], name: str = "parts.csv") -> Path:
    """The study's labels.csv plus a ``part`` column, one value per row in file order."""
    rows = read_rows(study / "labels.csv")
    assert len(rows) == len(parts)
    return write_rows(study / name, [{**r, "part": p} for r, p in zip(rows, parts)])


def _split(study: Path, out: Path, labels: Path, **split: Any) -> dict[str, tuple[str, int]]:
    raw = base_config(study, out, labels=str(labels))
    if "seed" in split:
        raw["seed"] = split.pop("seed")
    raw["split"] = {"column": "part", **split}
    run_dir = out / "run"
    run_dir.mkdir(parents=True)
    prepare_study(validate_config(raw), run_dir, progress=False)
    return {r["series_key"]: (r["split"], int(r["fold"]))
            for r in read_split_csv(run_dir / "split.csv")}  # fmt: skip


def _keys(study: Path) -> list[str]:
    return [hash_key(r["series_uid"]) for r in read_rows(study / "labels.csv")]


# patients are rows (0, 1), (2, 3), ...: each patient's two series get one part
_PARTS = ["train", "train", "Training", "training", "val", "val", "TEST", "test",
          "train", "train", "validation", "validation"]  # fmt: skip


def test_the_run_splits_as_the_column_says(cr_pairs: Path, tmp_path: Path) -> None:
    got = _split(cr_pairs, tmp_path, _with_parts(cr_pairs, _PARTS))
    want = {"training": "train", "validation": "val"}
    expected = {k: (want.get(p.lower(), p.lower()), -1) for k, p in zip(_keys(cr_pairs), _PARTS)}
    assert got == expected


def test_with_folds_the_columns_test_rows_stay_the_test_set(cr_pairs: Path, tmp_path: Path) -> None:
    got = _split(cr_pairs, tmp_path, _with_parts(cr_pairs, _PARTS), folds=2)
    keys = _keys(cr_pairs)
    assert {k for k in keys if got[k][0] == "test"} == {keys[6], keys[7]}
    assert all(got[k][1] == -1 for k in (keys[6], keys[7]))
    pool = [k for i, k in enumerate(keys) if i not in (6, 7)]
    assert sorted({got[k][1] for k in pool}) == [0, 1]  # the 10 others make both folds
    assert all(got[keys[i]][1] == got[keys[i + 1]][1] for i in (0, 2, 4, 8, 10))  # by patient
    # the folds are pipeline.split's, with the run's seed and split.stratify (mutants: seed
    # 0 whatever set; stratified whatever set)
    for seed, stratify in ((1, True), (2, True), (1, False), (2, False)):
        out = tmp_path / f"s{seed}{stratify}"
        folds = _split(cr_pairs, out, _with_parts(cr_pairs, _PARTS), folds=2, seed=seed,
                       stratify=stratify)  # fmt: skip
        written = read_split_csv(out / "run" / "split.csv")
        rows = [r if stratify else {**r, "label": 0} for r in written if r["split"] == "train"]
        expected = {r["series_key"]: r["fold"] for r in split_k_fold(rows, k=2, seed=seed)}
        assert {k: f for k, (_, f) in folds.items() if k in expected} == expected


def test_a_patient_in_two_parts_is_refused_naming_the_lines(cr_pairs: Path, tmp_path: Path) -> None:
    parts = list(_PARTS)
    parts[1] = "test"  # patient 0: line 2 train, line 3 test
    with pytest.raises(RadpipeError) as err:
        _split(cr_pairs, tmp_path, _with_parts(cr_pairs, parts, "mixed.csv"))
    message = str(err.value)
    assert message.startswith("mixed.csv: split.column 'part' puts 1 patient in more than one")
    # each row named by its line and a file of its series (relative to data.source)
    assert re.search(r"test \(line 3, study_\w+/\w+\.dcm\), train \(line 2, study_\w+/\w+\.dcm\)",
                     message), message  # fmt: skip


def test_a_cell_that_names_no_part_is_refused_naming_its_line(
    cr_pairs: Path, tmp_path: Path
) -> None:
    parts = list(_PARTS)
    parts[4], parts[5] = "tset", ""
    with pytest.raises(RadpipeError, match=r"2 rows do not \(line 6: 'tset'; line 7: empty\)"):
        _split(cr_pairs, tmp_path, _with_parts(cr_pairs, parts, "typo.csv"))


def test_no_validation_rows_with_a_validation_monitor_is_refused(
    cr_pairs: Path, tmp_path: Path
) -> None:
    parts = [p if p.lower() not in ("val", "validation") else "train" for p in _PARTS]
    with pytest.raises(RadpipeError, match="names no validation series, but the run monitors"):
        _split(cr_pairs, tmp_path, _with_parts(cr_pairs, parts, "noval.csv"))


@pytest.mark.parametrize(
    ("split", "data", "message"),
    [
        ({"column": "part", "test": 0.3}, {}, "split.test would be ignored"),
        ({"column": "part", "val": 0.1}, {}, "split.val would be ignored"),
        ({"column": "part"}, {"labels": None}, "is a column of data.labels"),
    ],
)
def test_settings_that_contradict_the_column_are_config_errors(
    cr_pairs: Path, tmp_path: Path, split: dict[str, Any], data: dict[str, Any], message: str
) -> None:
    raw = base_config(cr_pairs, tmp_path)
    raw["data"].update(data)
    raw["split"] = split
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_file_keyed_labels_carry_the_column_and_must_agree_per_series(
    cr_pairs: Path, tmp_path: Path
) -> None:
    files = sorted((cr_pairs / "dicom").rglob("*.dcm"))
    import pydicom

    part_of = {hash_key(r["series_uid"]): p
               for r, p in zip(read_rows(cr_pairs / "labels.csv"), _PARTS)}  # fmt: skip
    label_of = {hash_key(r["series_uid"]): r["label"] for r in read_rows(cr_pairs / "labels.csv")}
    rows = []
    for f in files:
        key = hash_key(str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID))
        rows.append({"file": f.relative_to(cr_pairs / "dicom").as_posix(),
                     "label": label_of[key], "part": part_of[key]})  # fmt: skip
    got = _split(cr_pairs, tmp_path / "a", write_rows(tmp_path / "by_file.csv", rows))
    assert {k: p for k, (p, _) in got.items()} == {
        k: {"training": "train", "validation": "val"}.get(p.lower(), p.lower())
        for k, p in part_of.items()
    }
    # one series' files disagree: the file-keyed check names them before anything runs
    two = _with_files_disagreeing(rows, files, cr_pairs)
    with pytest.raises(RadpipeError, match="files of one series with different splits"):
        _split(cr_pairs, tmp_path / "b", write_rows(tmp_path / "bad.csv", two))


def _with_files_disagreeing(
    rows: list[dict[str, str]], files: list[Path], study: Path
) -> list[dict[str, str]]:
    """``rows`` plus a second file of the first row's series (a copy of its DICOM file) whose
    part differs."""
    import shutil

    copy = files[0].with_name("copy_" + files[0].name)
    shutil.copyfile(files[0], copy)
    extra = {**rows[0], "file": copy.relative_to(study / "dicom").as_posix(),
             "part": "test" if rows[0]["part"] != "test" else "train"}  # fmt: skip
    return [*rows, extra]


def _image_run(
    tmp_path: Path, parts: list[str]
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]], Path]:
    """``radpipe run`` (subprocess) of a ``data.kind: images`` folder of 8x8 PNGs, one per
    part in ``parts``, split by their ``part`` column; the run's split.csv must hold them."""
    import numpy as np
    from PIL import Image

    rows = []
    (tmp_path / "img").mkdir()
    for i, part in enumerate(parts):
        name = f"img/{i:02d}.png"
        Image.fromarray(np.full((8, 8), 40 * (i % 2) + i, np.uint8)).save(tmp_path / name)
        rows.append({"image": name, "label": i % 2, "part": part, "patient_id": f"P{i}"})
    write_rows(tmp_path / "list.csv", rows)
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(tmp_path / "list.csv"))
    raw["split"] = {"column": "part"}
    raw["report"] = {"enabled": False}
    proc = run_config_cli(raw, tmp_path)
    run = next((tmp_path / "runs").glob("*-*"))
    got = {r["series_key"]: r["split"] for r in read_split_csv(run / "split.csv")}
    assert got == {hash_key(r["image"]): r["part"] for r in rows}
    return proc, rows, run


def test_an_image_folder_run_splits_by_the_column_through_the_cli(tmp_path: Path) -> None:
    """``data.kind: images`` end to end (subprocess): split.csv holds the column's parts and
    metrics.json scores exactly the column's test images."""
    proc, rows, run = _image_run(tmp_path, ["train"] * 6 + ["val"] * 3 + ["test"] * 3)
    scored = {c["id"] for c in json.loads((run / "metrics.json").read_text())["per_case"]}
    assert scored == {hash_key(r["image"]) for r in rows if r["part"] == "test"}
    # the saved config holds the column, not the fractions it replaces (they read as the
    # split: 'test: 0.2, val: 0.2' in config.yaml and the report, here 3 of 12 are test)
    import yaml

    assert yaml.safe_load((run / "config.yaml").read_text())["split"] == {
        "folds": 0, "stratify": True, "column": "part"}  # fmt: skip
    # predict reads DICOM only: such a run was refused up front (exit 2); since 2026-12-03 it
    # predicts the folder's images, the run's own 6 training and 3 validation images said
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "predict", str(run),
                           str(tmp_path / "img"), "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "9 of the 12 images were in the run's own training/validation split" in proc.stderr


def test_config_show_gives_the_column_without_the_fractions_it_replaces(
    cr_pairs: Path, tmp_path: Path
) -> None:
    """``radpipe config show`` (and a run's config.yaml) listed ``test: 0.2, val: 0.2``
    beside ``column: part``, as if they were the split; without a column they stay."""
    import yaml

    from workflows.run.config import dump_config

    raw = base_config(cr_pairs, tmp_path)
    raw["split"] = {"column": "part"}
    shown = yaml.safe_load(dump_config(validate_config(raw)))
    assert shown["split"] == {"folds": 0, "stratify": True, "column": "part"}
    assert validate_config(shown).split.column == "part"  # read back as given
    raw["split"] = {"test": 0.3}
    assert yaml.safe_load(dump_config(validate_config(raw)))["split"] == {
        "test": 0.3, "val": 0.2, "folds": 0, "stratify": True, "column": None}  # fmt: skip


def test_a_column_without_test_rows_trains_and_says_there_is_no_test_set(tmp_path: Path) -> None:
    """A column of train/val only (MedMNIST's train and val, its test set scored apart) is a
    run without an internal test set, as ``split.test: 0``: it trained all its epochs and then
    failed with 'The test split is empty; set split.test > 0' (a fraction the column forbids)."""
    proc, _, run = _image_run(tmp_path, ["train"] * 6 + ["val"] * 3)
    assert (
        "test metrics:  none: split.column 'part' marks no row 'test' (no internal test set); "
        "evaluate and predict read DICOM only: to score images, run again with them marked "
        "'test' in split.column"
    ) in proc.stdout
    assert (run / "checkpoints" / "best.pt").is_file()
    assert not (run / "metrics.json").exists()
