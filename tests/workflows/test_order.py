"""Sample order by source path and frame: the same images exported again with fresh UIDs
train and evaluate identically (issue 18.3)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from pydicom.uid import generate_uid

from pipeline.data import ManifestDataset
from pipeline.synth import StudySpec, write_study
from workflows.run.config import load_config
from workflows.run.runner import run_study
from workflows.run.threads import available_cores, default_threads

from .test_truth import file_labels

CONFIGS = Path(__file__).parents[2] / "configs"
_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    """Runs set torch's thread count for the process; give the next tests theirs back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def reexport(src: Path, dst: Path) -> None:
    """Copy every file to the same relative path with fresh Study/Series/SOP UIDs (the
    patient stays the same), as a second export from the archive would."""
    fresh: dict[str, str] = {}
    for path in sorted(src.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for kw in (
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "SOPInstanceUID",
            "FrameOfReferenceUID",
        ):
            if kw in ds:
                setattr(ds, kw, fresh.setdefault(ds.data_element(kw).value, generate_uid()))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(out, enforce_file_format=True)


@pytest.fixture(scope="module")
def two_exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("exports")
    write_study(root / "a", StudySpec(patients=8, modality="CR", size=16, series_per_patient=2))
    reexport(root / "a" / "dicom", root / "b" / "dicom")
    labels = file_labels(root / "a", root / "labels.csv")  # the same file names in both
    return root / "a" / "dicom", root / "b" / "dicom", labels


def test_fresh_uids_give_identical_metrics(
    two_exports: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the default thread count below
    a, b, labels = two_exports
    runs = []
    for source in (a, b):
        config = load_config(
            CONFIGS / "xray_classify.yaml",
            [f"data.source={source}", f"data.labels={labels}", f"output={tmp_path}",
             "train.epochs=3", "train.batch_size=4", "convert.workers=1", "split.test=0.3"],
        )  # fmt: skip
        runs.append(run_study(config, progress=False).run_dir)
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    assert metrics[0]["summary"] == metrics[1]["summary"]
    assert metrics[0]["confusion_matrix"] == metrics[1]["confusion_matrix"]
    logs = [(r / "log.jsonl").read_text().splitlines() for r in runs]
    losses = [[json.loads(line).get("train_loss") for line in log] for log in logs]
    assert losses[0] == losses[1] and any(v is not None for v in losses[0])
    provenance = json.loads((runs[0] / "provenance.json").read_text())
    assert provenance["sample_order"] == "source path, then frame"
    # No compute.threads and no DataLoader workers: one thread per available core.
    assert provenance["compute"]["threads"] == default_threads(available_cores(), 0)
    assert provenance["compute"]["threads_from"] == "default"


def test_manifest_items_follow_source_path_then_frame(tmp_path: Path) -> None:
    columns = ["output", "source", "patient_key", "study_key", "series_key", "instance_key",
               "frame", "slice_index", "num_slices", "modality", "shape", "spacing", "window",
               "format"]  # fmt: skip
    # (output name, source, frame): written in hashed-key order, expected in source order.
    rows = [("f0", "b/2.dcm", 0), ("a1", "a/1.dcm", 1), ("c0", "b/10.dcm", 0), ("e0", "a/1.dcm", 0)]
    with (tmp_path / "manifest.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for name, source, frame in rows:
            np.save(tmp_path / f"{name}.npy", np.zeros((2, 2), np.float32))
            keys = {"patient_key": "p", "series_key": name, "instance_key": name}
            cells = {"frame": frame, "slice_index": frame, "num_slices": 2, "shape": "2x2"}
            w.writerow(dict.fromkeys(columns, "") | keys | cells | {
                "output": f"{name}.npy", "source": source})  # fmt: skip
    ds = ManifestDataset(tmp_path)
    assert [ds.raw_sample(i).meta["id"] for i in range(4)] == ["e0", "a1:1", "c0", "f0"]
