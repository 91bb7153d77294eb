"""User input errors of ``radpipe run``/``convert``/``predict``/``evaluate`` that need no
conversion are refused up front: exit 2, a message naming the file (as typed, relative) and
the problem, nothing written (no run directory, no output folder). Each case was found by
``benchmarks/fuzz_inputs.py`` exiting 1 once a run directory was made, writing into the
source folder, or wording the problem wrongly."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.runner.conftest import base_config, radpipe_in
from workflows.run.config import dump_config, validate_config


def _study(tmp: Path, labels: str = "series_uid,label\n1.2.3,0\n1.2.4,1\n") -> Path:
    """A folder with ``dicom/`` (one file: the checks read no pixel) and ``labels.csv``."""
    (tmp / "dicom").mkdir()
    (tmp / "dicom" / "a.dcm").write_bytes(b"\0" * 132)
    (tmp / "labels.csv").write_text(labels)
    return tmp


def _run(tmp: Path, cfg: dict[str, Any], *flags: str) -> Any:
    (tmp / "cfg.yaml").write_text(json.dumps(cfg))
    return radpipe_in(tmp, "run", "cfg.yaml", "--quiet", *flags, timeout=120)


def _refused(proc: Any, tmp: Path, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr
    assert str(tmp) not in proc.stderr  # relative paths only
    assert not (tmp / "runs").exists() or not any((tmp / "runs").iterdir())


def _cls(tmp: Path, **data: Any) -> dict[str, Any]:
    return base_config(Path("."), Path("runs"), **data)


def _seg(tmp: Path, masks: str) -> dict[str, Any]:
    (tmp / "masks.csv").write_text(masks)
    cfg = base_config(Path("."), Path("runs"), masks="masks.csv")
    return cfg | {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}


# -- the labels and masks CSVs --------------------------------------------------------------


def test_a_header_only_labels_csv_is_refused_before_the_run(tmp_path: Path) -> None:
    tmp = _study(tmp_path, "series_uid,label\n")
    # it made the run directory, converted, then "No series of the data has a label" (exit 1)
    _refused(_run(tmp, _cls(tmp)), tmp, "data.labels: labels.csv has a header line but no rows")


def test_an_empty_labels_csv_is_said_to_be_empty(tmp_path: Path) -> None:
    tmp = _study(tmp_path, "")
    proc = _run(tmp, _cls(tmp))
    # it read "'label' is not a column of labels.csv (columns: )"
    _refused(proc, tmp, "data.labels: labels.csv is empty (no header line, no rows)")
    assert "(columns: )" not in proc.stderr


def test_a_header_only_masks_csv_is_refused_before_the_run(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    proc = _run(tmp, _seg(tmp, "sop_instance_uid,frame,mask\n"))
    _refused(proc, tmp, "data.masks: masks.csv has a header line but no rows")


@pytest.mark.parametrize("cell", ["-1", "first", "nan", "9" * 30])
def test_a_bad_frame_cell_is_refused_with_its_line(tmp_path: Path, cell: str) -> None:
    tmp = _study(tmp_path)
    (tmp / "m.png").write_bytes(b"")
    masks = f"sop_instance_uid,frame,mask\n1.2.3.1,0,m.png\n1.2.3.2,{cell},m.png\n"
    proc = _run(tmp, _seg(tmp, masks))
    _refused(proc, tmp, f"data.masks: masks.csv line 3: frame '{cell}'")


def test_an_empty_mask_cell_is_refused_with_its_line(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    (tmp / "m.png").write_bytes(b"")
    masks = "sop_instance_uid,frame,mask\n1.2.3.1,0,m.png\n1.2.3.2,0,\n1.2.3.3,0, \n"
    proc = _run(tmp, _seg(tmp, masks))
    _refused(proc, tmp, "data.masks: masks.csv lines 3, 4: the mask cell is empty")


def test_a_source_folder_without_files_is_refused_before_the_run(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    (tmp / "dicom" / "a.dcm").unlink()
    (tmp / "dicom" / ".DS_Store").write_text("hidden: not read")
    _refused(_run(tmp, _cls(tmp)), tmp, "data.source: no file in dicom (an empty folder?)")


def test_more_folds_than_labelled_rows_is_refused_before_the_run(tmp_path: Path) -> None:
    tmp = _study(tmp_path)  # 2 rows: at most 2 patients
    cfg = _cls(tmp) | {"split": {"folds": 3, "test": 0.0}}
    proc = _run(tmp, cfg)
    _refused(proc, tmp, "split.folds 3 is more than the 2 patients that labels.csv can hold")
    cfg["split"] = {"folds": 2, "test": 0.25}  # one patient at least goes to the test set
    _refused(_run(tmp, cfg), tmp, "split.folds 2 is more than the 1 patient that labels.csv")


@pytest.mark.parametrize(
    ("cell", "said"),
    [("NaN", "'NaN': a missing value"), ("inf", "'inf': a number, not a class index"),
     ("1_0", "'1_0': a number"), ("\u0661", "'\u0661': a number")],
)  # fmt: skip
def test_a_label_that_is_no_plain_index_is_refused_with_its_line(
    tmp_path: Path, cell: str, said: str
) -> None:
    tmp = _study(tmp_path, f"series_uid,label\n1.2.3,0\n1.2.4,1\n1.2.5,{cell}\n")
    # NaN and inf were "mixes class indices (0, 1) with class names", no line; Python's int()
    # read 1_0 as class 10 and the Arabic-Indic one as class 1
    _refused(_run(tmp, _cls(tmp)), tmp, f"labels.csv line 4: column 'label' holds {said}")


# -- folders and files where the other is wanted ---------------------------------------------


def test_a_folder_given_as_labels_is_said_to_be_a_folder(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    (tmp / "lab").mkdir()
    proc = _run(tmp, _cls(tmp, labels="lab"))
    _refused(proc, tmp, "data.labels: lab is a folder, not a file")
    assert "no such file" not in proc.stderr


def test_a_file_given_as_source_is_said_to_be_a_file(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    proc = _run(tmp, _cls(tmp, source="labels.csv"))
    _refused(proc, tmp, "data.source: labels.csv is a file, not a folder")
    assert "no such folder" not in proc.stderr


# -- output folders and the source folder ----------------------------------------------------


def _source(tmp: Path) -> Path:
    from pydicom.data import get_testdata_file

    (tmp / "scans").mkdir()
    shutil.copy(str(get_testdata_file("CT_small.dcm", download=False)), tmp / "scans")
    return tmp / "scans"


def test_convert_into_its_own_source_folder_is_refused(tmp_path: Path) -> None:
    scans = _source(tmp_path)
    proc = radpipe_in(tmp_path, "convert", "scans", "scans", "--quiet")
    # it wrote into scans/ and then counted its own convert.json as a failed DICOM (exit 1)
    _refused(proc, tmp_path, "OUT scans is the source folder SRC scans itself")
    assert sorted(p.name for p in scans.iterdir()) == ["CT_small.dcm"]
    proc = radpipe_in(tmp_path, "convert", "scans", "scans/out", "--quiet")
    assert proc.returncode == 0, proc.stderr  # a subfolder: its outputs are not read back
    assert (scans / "out" / "manifest.csv").is_file()


def _trained_looking_run(tmp: Path) -> Path:
    """A run directory holding only its resolved config: the refusals come before the run's
    checkpoints are read."""
    raw = base_config(tmp, tmp / "runs")
    run = tmp / "runs" / "cls-20261201-000000"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(dump_config(validate_config(raw), relative_to=run))
    return run


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_out_as_the_source_folder_is_refused(tmp_path: Path, command: str) -> None:
    scans = _source(tmp_path)
    _trained_looking_run(tmp_path)
    (tmp_path / "labels.csv").write_text("series_uid,label\n1.2.3,0\n")
    extra = ["--labels", "labels.csv"] if command == "evaluate" else []
    args = [command, "runs/cls-20261201-000000", "scans", "--out", "scans", *extra, "--quiet"]
    proc = radpipe_in(tmp_path, *args)
    # predict wrote predictions.csv among the DICOM files, exit 0
    assert proc.returncode == 2, proc.stderr
    assert "--out scans is the source folder SRC scans itself" in proc.stderr
    assert sorted(p.name for p in scans.iterdir()) == ["CT_small.dcm"]


def test_predict_on_an_empty_folder_is_refused_before_any_output(tmp_path: Path) -> None:
    run = _trained_looking_run(tmp_path)
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / ".hidden").write_text("not read")
    proc = radpipe_in(tmp_path, "predict", "runs/cls-20261201-000000", "new", "--quiet")
    # it made RUN/predictions-<hash>/, converted nothing, then exited 1
    assert proc.returncode == 2, proc.stderr
    assert "SRC new: no file in it (an empty folder?)" in proc.stderr
    assert not list(run.glob("predictions-*"))


def test_evaluate_labels_given_as_a_folder_is_said_to_be_a_folder(tmp_path: Path) -> None:
    _source(tmp_path)
    _trained_looking_run(tmp_path)
    (tmp_path / "lab").mkdir()
    args = ["evaluate", "runs/cls-20261201-000000", "scans", "--labels", "lab", "--quiet"]
    proc = radpipe_in(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr
    assert "--labels lab: a folder, not a file (give the CSV file)" in proc.stderr


# -- --nproc ----------------------------------------------------------------------------------


def test_nproc_over_the_machine_is_refused_before_torchrun(tmp_path: Path) -> None:
    tmp = _study(tmp_path)
    proc = _run(tmp, _cls(tmp), "--nproc", "65")
    _refused(proc, tmp, "--nproc 65: without a GPU, DDP on CPU (gloo) starts at most 64",
             "or fewer")  # fmt: skip


def test_nproc_over_the_cores_is_warned_not_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """More gloo processes than cores share them (CI runs --nproc 2 on fewer cores): a
    warning, not the refusal it was for a while on 2026-12-03."""
    import torch

    from workflows.commands.ddp_launch import check_nproc

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    with caplog.at_level("WARNING", logger="radpipe"):
        check_nproc(2)
    assert caplog.messages == [
        "--nproc 2: 2 processes share 1 CPU core and no GPU: training is slower than with "
        "--nproc 1, not wrong."
    ]


# -- words ------------------------------------------------------------------------------------


def test_an_unreadable_nifti_mask_is_said_without_a_class_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.errors import RadpipeError
    from workflows.run import mask_grid

    (tmp_path / "m.nii.gz").write_bytes(b"not gzip")
    monkeypatch.setattr(mask_grid, "_frame_affine", lambda row, source, headers: None)
    with pytest.raises(RadpipeError) as err:
        mask_grid.mask_on_image(tmp_path / "m.nii.gz", "masks/m.nii.gz", {}, tmp_path, {}, {})
    # it read "masks/m.nii.gz: cannot be read as NIfTI (ImageFileError)."
    assert (
        str(err.value)
        == "masks/m.nii.gz: cannot be read as NIfTI (File m.nii.gz is not a gzip file)."
    )
