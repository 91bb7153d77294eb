"""``window: header`` on files without window tags: what the NPY holds, and the warning."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.synth import StudySpec, write_study
from workflows.run.config import load_config
from workflows.run.study import prepare_study

CONFIGS = Path(__file__).parents[2] / "configs"


def test_header_window_without_tags_keeps_modality_values_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_study(tmp_path / "s", StudySpec(patients=4, modality="CR", size=16, series_per_patient=1))
    files = sorted((tmp_path / "s" / "dicom").rglob("*.dcm"))
    bare = files[0]
    ds = pydicom.dcmread(bare)
    for kw in ("WindowCenter", "WindowWidth", "VOILUTSequence", "VOILUTFunction"):
        if kw in ds:
            delattr(ds, kw)
    ds.save_as(bare)
    expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(
        ds.get("RescaleIntercept", 0)
    )
    config = load_config(
        CONFIGS / "xray_classify.yaml",
        [f"data.source={tmp_path / 's' / 'dicom'}", f"data.labels={tmp_path / 's' / 'labels.csv'}",
         f"output={tmp_path / 'runs'}", "convert.workers=1"],
    )  # fmt: skip
    (tmp_path / "run").mkdir()
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        study = prepare_study(config, tmp_path / "run", progress=False)
    assert "window 'header': 1 of 4 images have no window in their header" in caplog.text
    rows = list(csv.DictReader((study.root / "manifest.csv").open()))
    rel = bare.relative_to(tmp_path / "s" / "dicom").as_posix()
    (row,) = [r for r in rows if r["source"] == rel]
    assert row["window"] == "none"
    np.testing.assert_allclose(np.load(study.root / row["output"]), expected, rtol=1e-6)
    others = [np.load(study.root / r["output"]) for r in rows if r["source"] != rel]
    assert all(r["window"] == "header" for r in rows if r["source"] != rel)
    assert all(a.min() >= 0.0 and a.max() <= 1.0 for a in others)
    assert max(float(expected.max()), -float(expected.min())) > 1.0  # not [0, 1]: visible


def test_monochrome1_modality_values_beside_monochrome2_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # MONAI Deploy #282: MONOCHROME1 pixels fed to a model as stored, beside MONOCHROME2 ones:
    # NPY without a window holds modality values (not inverted), so their contrast is reversed
    write_study(tmp_path / "s", StudySpec(patients=6, modality="CR", size=16, series_per_patient=1))
    files = sorted((tmp_path / "s" / "dicom").rglob("*.dcm"))
    kinds = [
        str(pydicom.dcmread(f, stop_before_pixels=True).PhotometricInterpretation) for f in files
    ]
    assert 0 < kinds.count("MONOCHROME1") < len(files)  # the synthetic study mixes both
    src = tmp_path / "s"
    overrides = [f"data.source={src / 'dicom'}", f"data.labels={src / 'labels.csv'}",
                 f"output={tmp_path / 'runs'}", "convert.workers=1"]  # fmt: skip
    for window, warned in (("none", True), ("lung", False)):
        config = load_config(
            CONFIGS / "xray_classify.yaml", [*overrides, f"convert.window={window}"]
        )
        (tmp_path / window).mkdir()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="radpipe"):
            prepare_study(config, tmp_path / window, progress=False)
        message = f"{kinds.count('MONOCHROME1')} of {len(files)} images are MONOCHROME1"
        assert (message in caplog.text) is warned, window
