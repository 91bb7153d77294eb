"""The checks before a DICOM segmentation run read each source file's header once: the masks
CSV against the images and the patients against the split each read every header, so a
large source was read twice before anything was converted. The study is written here (2
patients x 1 MR series x 3 slices: 6 files), and every ``pydicom.dcmread`` of them counted."""

from __future__ import annotations

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
    reads: Counter[Path] = Counter()
    real = pydicom.dcmread

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads[Path(path).resolve()] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
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
