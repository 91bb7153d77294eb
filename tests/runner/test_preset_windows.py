"""A ``window`` preprocessing stage with a named preset (a CT window in HU) on images that do
not hold HU: a radiograph's, MR's or ultrasound's modality values, or values the conversion
already windowed to [0, 1]. It trained without a word on images the window had turned all
black or all white; now each case is warned about, naming the stage and counting images."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.runner.conftest import base_config, run_config_cli
from workflows.run.windows import note_preset_windows

LUNG = [{"type": "window", "preset": "lung"}]


def _rows(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"modality": m, "window": w} for m, w in pairs]


def test_a_ct_window_on_ct_values_is_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert note_preset_windows(_rows(("CT", "none"), ("CT", "none")), LUNG) == 0
        assert note_preset_windows(_rows(("US", "none")), [{"type": "window", "center": 40,
                                                            "width": 400}]) == 0  # fmt: skip
    assert not caplog.records


def test_values_that_are_not_hu_are_counted_by_modality(caplog: pytest.LogCaptureFixture) -> None:
    rows = _rows(("CT", "none"), ("MR", "none"), ("US", "none"), ("US", "none"), ("CT", "lung"))
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert note_preset_windows(rows, [{"type": "z_score"}, *LUNG]) == 2
    said = [r.getMessage() for r in caplog.records]
    assert said[0].startswith(
        "preprocess window_1: preset 'lung' is a CT window in HU, but 1 of 5 images were "
        "windowed to [0, 1] by the conversion (convert.window)"
    )
    assert said[1].startswith(
        "preprocess window_1: preset 'lung' is a CT window in HU (-600, 1500) applied to "
        "values that are not HU (images: 1 MR, 2 US of 5)"
    )


def test_radpipe_run_warns_about_a_lung_window_on_radiographs(cr16: Path, tmp_path: Path) -> None:
    raw = base_config(cr16, tmp_path / "out")
    raw["convert"] = {"workers": 1, "window": "none"}
    raw["preprocess"] = [{"type": "window", "preset": "lung", "name": "lungs"}]
    err = run_config_cli(raw, tmp_path).stderr  # exit 0: a warning, the run goes on
    assert (
        "radpipe: preprocess lungs: preset 'lung' is a CT window in HU (-600, 1500) applied to "
        "values that are not HU (images: 16 CR of 16)"
    ) in err
