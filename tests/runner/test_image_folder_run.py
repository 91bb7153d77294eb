"""``data.kind: images``: a run over already converted images and a labels CSV (``image,
label[, patient_id]``). Expected values are worked out here from the files written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.keys import hash_key
from pipeline.split import read_split_csv
from pipeline.stage import Pipeline
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 patients x 2 NPY images of 8x8 (label = patient % 2); p7's rows name no patient;
    each patient's second row gives its patient_id with spaces around it or as ="...";
    a ``patient_name`` column the run does not use."""
    tmp = tmp_path_factory.mktemp("images")
    src = tmp / "images"
    src.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for p in range(8):
        for j in range(2):
            name = f"p{p}_{j}.npy"
            np.save(src / name, (rng.random((8, 8)) + 3 * p).astype(np.float32))
            # the second image's patient_id as a spreadsheet may give it: spaced, or ="..."
            patient = (f"P{p}", f" P{p} " if p % 2 else f'="P{p}"')[j] * (p < 7)
            rows.append({"image": name, "label": str(p % 2), "patient_id": patient,
                         "patient_name": f"DOE^JANE{p}"})  # fmt: skip
    with (src / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image", "label", "patient_id", "patient_name"])
        writer.writeheader()
        writer.writerows(rows)
    raw = base_config(tmp, tmp / "out")
    raw["data"] = {"kind": "images", "source": str(src), "labels": str(src / "labels.csv")}
    raw["evaluate"] = {"explain": 0}  # the bootstrap is checked here
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir


def _source(run: Path) -> Path:
    return next((run.parents[1] / "images").glob("labels.csv")).parent


def test_image_rows_are_keyed_grouped_and_labelled(image_run: Path) -> None:
    """Mutations: an image's key, patient or label taken from the wrong column."""
    expected = {}
    for p in range(8):
        patient = hash_key(f"P{p}") if p < 7 else None
        for j in range(2):
            image = f"p{p}_{j}.npy"
            expected[hash_key(image)] = (patient or hash_key(image), p % 2)
    rows = read_split_csv(image_run / "split.csv")
    assert {r["series_key"]: (r["patient_key"], r["label"]) for r in rows} == expected
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r["patient_key"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())  # p0..p6: both images in one split


def test_image_run_fits_on_training_images_and_scores_the_test_images(image_run: Path) -> None:
    """Mutations: preprocessing fitted on more than the training images; the test images not
    the ones scored."""
    src = _source(image_run)
    name_of = {hash_key(p.name): p for p in src.glob("*.npy")}
    rows = read_split_csv(image_run / "split.csv")
    train = np.concatenate([np.load(name_of[r["series_key"]]).ravel()
                            for r in rows if r["split"] == "train"])  # fmt: skip
    state = Pipeline.load(image_run / "stages")[0].state_dict()
    assert float(state["mean_"]) == pytest.approx(train.mean(), rel=1e-5)
    assert float(state["std_"]) == pytest.approx(train.std(), rel=1e-4)
    metrics = json.loads((image_run / "metrics.json").read_text())
    test = {r["series_key"]: r["patient_key"] for r in rows if r["split"] == "test"}
    assert {c["id"]: c["patient"] for c in metrics["per_case"]} == test


def test_image_run_bootstraps_over_patients_and_stores_no_absolute_path(image_run: Path) -> None:
    """Bug (fixed): the run's image lists held absolute paths, so a case's id was the key of
    its absolute path, joined to no patient: the bootstrap resampled images, not patients."""
    rows = read_split_csv(image_run / "split.csv")
    patients = {r["patient_key"] for r in rows if r["split"] == "test"}
    metrics = json.loads((image_run / "metrics.json").read_text())
    assert metrics["intervals"]["accuracy"]["n_groups"] == len(patients)
    source = str(_source(image_run).resolve())
    written = [p for p in image_run.rglob("*") if p.is_file() and p.suffix in (".csv", ".json")]
    assert written and not [p.name for p in written if source in p.read_text()]


def test_image_run_copies_no_patient_id_or_other_column_of_the_list(image_run: Path) -> None:
    """Bug (fixed): the run's image lists (``images-*.csv``, one per split) were copies of the
    list CSV's rows, every column kept: the raw patient_id (P0, ...; often a PatientID) and
    any other column (a patient's name) sat in the run directory, where split.csv holds only
    hashed keys. Now they hold the columns the dataset reads."""
    raw_ids = {f"P{p}" for p in range(7)} | {f" P{p} " for p in range(7)}
    raw_ids |= {f'="P{p}"' for p in range(7)}
    lists = sorted(image_run.glob("images-*.csv"))
    assert len(lists) == 3  # train, val, test
    for path in lists:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == ["image", "label"]
            cells = {c for r in reader for c in r.values()}
        assert not cells & raw_ids
    written = [p for p in image_run.rglob("*") if p.is_file() and p.suffix in (".csv", ".json")]
    assert not [p.name for p in written if "DOE^JANE" in p.read_text()]


def test_image_lists_are_named_by_their_split(image_run: Path) -> None:
    """Bug (fixed): the run's image lists were ``images-<hash>.csv``, three files with nothing
    to tell the test images from the training ones (split.csv gives hashed keys only). Now
    ``images-train-*.csv``, ``images-val-*.csv``, ``images-test-*.csv``, each holding the
    images whose key (hash_key of the path) split.csv puts in that part."""
    with (image_run / "split.csv").open(newline="") as fh:
        part_of = {r["series_key"]: r["split"] for r in csv.DictReader(fh)}
    for part in ("train", "val", "test"):
        (path,) = image_run.glob(f"images-{part}-*.csv")
        with path.open(newline="") as fh:
            images = {r["image"] for r in csv.DictReader(fh)}
        expected = {f"p{p}_{j}.npy" for p in range(8) for j in range(2)
                    if part_of[hash_key(f"p{p}_{j}.npy")] == part}  # fmt: skip
        assert images == expected and images, part
