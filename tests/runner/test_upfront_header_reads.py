"""The checks before a DICOM segmentation run read each source file's header once: the masks
CSV against the images and the patients against the split each read every header, so a
large source was read twice before anything was converted. The study is written here (2
patients x 1 MR series x 3 slices: 6 files), and every ``pydicom.dcmread`` of them counted."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, radpipe_in
from tests.runner.test_seg_masks import write_seg
from workflows.run.config import RunConfig
from workflows.run.table_rows import table_problems


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[Path]:
    """Every ``pydicom.dcmread`` from now on, by resolved path."""
    reads: Counter[Path] = Counter()
    real = pydicom.dcmread

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads[Path(path).resolve()] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    return reads


def test_each_header_is_read_once_by_the_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_study(tmp_path, StudySpec(patients=2, modality="MR", task="segmentation", size=16,
                                    slices=3, series_per_patient=1))  # fmt: skip
    files = {p.resolve() for p in (tmp_path / "dicom").rglob("*") if p.is_file()}
    assert len(files) == 6
    raw = base_config(tmp_path, tmp_path / "runs", masks=str(tmp_path / "masks.csv"))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    raw["split"] = {"test": 0.0, "val": 0.5}
    config = RunConfig.model_validate(raw)
    reads = _count_reads(monkeypatch)
    header = {"labels": ["patient_id", "series_uid", "label"], "masks": ["mask"]}
    assert table_problems(config, header) == []
    assert {p: reads[p] for p in files} == dict.fromkeys(files, 1)


@pytest.mark.parametrize("seg", [False, True], ids=["png-masks", "seg-masks"])
def test_a_header_without_columns_is_refused_before_the_run(tmp_path: Path, seg: bool) -> None:
    write_study(tmp_path, StudySpec(patients=2, modality="MR", task="segmentation", size=16,
                                    slices=3, series_per_patient=1))  # fmt: skip
    files = sorted((tmp_path / "dicom").rglob("*.dcm"))
    series: dict[str, list[pydicom.Dataset]] = {}
    for path in files:
        ds = pydicom.dcmread(path)
        series.setdefault(ds.SeriesInstanceUID, []).append(ds)
    first, other = series.values()
    if seg:  # a SEG of one series; the broken file is in the other
        arr = np.zeros((3, 16, 16, 1), np.uint8)
        arr[:, 2:5, 3:9] = 1
        write_seg(tmp_path / "s.dcm", first, arr, numbers=(1,))
        (tmp_path / "masks.csv").write_text("sop_instance_uid,frame,mask\n,,s.dcm\n")
    broken = Path(other[1].filename)
    del other[1].Columns
    other[1].save_as(broken)
    raw = base_config(Path("."), Path("runs"), masks="masks.csv")
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    (tmp_path / "cfg.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "cfg.yaml", "--quiet", timeout=120)
    # it was a TypeError traceback from int(None) in the masks CSV's check; with SEG masks,
    # said once the run directory was made (exit 1)
    assert proc.returncode == 2, proc.stderr
    rel = broken.relative_to(tmp_path / "dicom").as_posix()
    assert (f"data.source dicom: 1 DICOM file with an image size that cannot be read (fix or "
            f"remove them from data.source): {rel}: Columns (0028,0011) is missing."
            ) in proc.stderr  # fmt: skip
    assert "Traceback" not in proc.stderr and str(tmp_path) not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_a_file_keyed_study_reads_each_header_once_for_checks_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Labels and masks CSVs keyed by ``file``: their keys' check before the run directory read
    every file, the patients' check read it again, and the run's resolution a third time."""
    from collections import OrderedDict

    from pipeline.dicom import header_scan
    from workflows.run import truth
    from workflows.run.checks import check_before_run

    write_study(tmp_path, StudySpec(patients=2, modality="MR", task="segmentation", size=16,
                                    slices=3, series_per_patient=1))  # fmt: skip
    root = tmp_path / "dicom"
    by_uid = {}
    for path in sorted(root.rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        by_uid[ds.SOPInstanceUID] = (path.relative_to(root).as_posix(), ds.SeriesInstanceUID)
    with (tmp_path / "masks.csv").open() as fh:
        masks = list(csv.DictReader(fh))
    with (tmp_path / "labels.csv").open() as fh:
        labels = {r["series_uid"]: r for r in csv.DictReader(fh)}
    (tmp_path / "masks_by_file.csv").write_text(
        "file,frame,mask\n"
        + "".join(f"{by_uid[r['sop_instance_uid']][0]},{r['frame']},{r['mask']}\n" for r in masks)
    )
    (tmp_path / "labels_by_file.csv").write_text("file,patient_id,label\n" + "".join(
        f"{rel},{labels[series]['patient_id']},{labels[series]['label']}\n"
        for rel, series in by_uid.values()))  # fmt: skip
    raw = base_config(tmp_path, tmp_path / "runs", masks=str(tmp_path / "masks_by_file.csv"),
                      labels=str(tmp_path / "labels_by_file.csv"))  # fmt: skip
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    raw["split"] = {"test": 0.0, "val": 0.5}
    config = RunConfig.model_validate(raw)
    monkeypatch.setattr(truth, "_HEADERS", OrderedDict(), raising=False)
    monkeypatch.setattr(header_scan, "_READ", OrderedDict())
    reads = _count_reads(monkeypatch)
    check_before_run(config)
    files = {(root / rel).resolve() for rel, _ in by_uid.values()}
    assert len(files) == 6
    assert {p: reads[p] for p in files} == dict.fromkeys(files, 1)
    labels_at, masks_at = truth.resolve_ground_truth(
        root.resolve(), config.data.labels, config.data.masks, tmp_path / "run",
        label_column="label",
    )  # fmt: skip
    assert masks_at == tmp_path / "run" / "truth" / "masks.csv"
    assert labels_at == tmp_path / "run" / "truth" / "labels.csv"
    assert {p: reads[p] for p in files} == dict.fromkeys(files, 1)
