"""Stage parameters whose values cannot work are refused when the stage is made, naming the
stage and the parameter: before, some failed on the first image (after a run's conversion,
leaving a run directory behind) and some ran silently wrong (FitDepth(depth=2.5) kept 2
slices; TotalVariation(weight=-1) turned values of about 1 into hundreds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.registry import STAGES
from pipeline.synth import StudySpec, write_study

ROOT = Path(__file__).resolve().parents[2]

REFUSED = [
    ("fit_depth", {"depth": 0}, "The 'depth' parameter of FitDepth must be a whole number >= 1"),
    ("fit_depth", {"depth": 2.5}, "The 'depth' parameter of FitDepth must be a whole number"),
    ("resample", {"spacing": [0, 1]}, "The 'spacing' parameter of Resample must be numbers > 0"),
    (
        "gaussian_smooth",
        {"sigma": -1},
        "The 'sigma' parameter of GaussianSmooth must be a number >= 0",
    ),
    (
        "median_filter",
        {"size": 0},
        "The 'size' parameter of MedianFilter must be a whole number >= 1",
    ),
    ("non_local_means", {"h": -1}, "The 'h' parameter of NonLocalMeans must be a number > 0"),
    ("non_local_means", {"patch_size": 0}, "The 'patch_size' parameter of NonLocalMeans"),
    (
        "total_variation",
        {"weight": -1},
        "The 'weight' parameter of TotalVariation must be a number > 0",
    ),
    ("clahe", {"clip_limit": -1}, "The 'clip_limit' parameter of CLAHE must be a number > 0"),
    (
        "clahe",
        {"kernel_size": 0},
        "The 'kernel_size' parameter of CLAHE must be a whole number >= 1",
    ),
    ("clip_intensity", {"low": 5, "high": 1}, "ClipIntensity needs low <= high; got low=5, high=1"),
    (
        "clip_intensity",
        {"low": "a"},
        "The 'low' parameter of ClipIntensity must be a number; got 'a'",
    ),
    (
        "crop_foreground",
        {"margin": -3},
        "The 'margin' parameter of CropForeground must be a whole number >= 0",
    ),
    ("pca", {"n_components": 0}, "The 'n_components' parameter of PCA must be a whole number >= 1"),
    (
        "cast",
        {"dtype": "foo"},
        "The 'dtype' parameter of Cast must be a NumPy dtype name; got 'foo'",
    ),
    (
        "median_filter",
        {"size": True},
        "The 'size' parameter of MedianFilter must be a whole number",
    ),
]

ACCEPTED = [
    ("fit_depth", {"depth": 1}),
    ("resample", {"spacing": [0.5, 2]}),
    ("gaussian_smooth", {"sigma": 0}),
    ("clip_intensity", {"low": None, "high": -1000}),
    ("clip_intensity", {"low": 3, "high": 3}),
    ("clahe", {"clip_limit": 0.02, "kernel_size": 8}),
    ("crop_foreground", {"margin": 0}),
    ("pca", {"variance": 0.9}),
    ("cast", {"dtype": "uint8"}),
]


@pytest.mark.parametrize(("name", "params", "message"), REFUSED, ids=lambda v: str(v)[:30])
def test_a_value_that_cannot_work_is_refused_when_made(
    name: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as err:
        STAGES.build({"type": name, **params})
    assert message in str(err.value)


@pytest.mark.parametrize(("name", "params"), ACCEPTED, ids=lambda v: str(v)[:30])
def test_values_at_the_bounds_are_accepted(name: str, params: dict[str, object]) -> None:
    assert STAGES.build({"type": name, **params}).get_params()  # made, no error


def test_the_run_refuses_it_as_a_config_error_before_any_work(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=2, modality="CR", size=16))
    config = tmp_path / "c.yaml"
    config.write_text(
        "name: c\noutput: runs\ntask: classification\n"
        "data: {source: s/dicom, labels: s/labels.csv}\n"
        "preprocess: [{type: fit_depth, depth: 16}]\nmodel: {type: mlp_classifier}\n"
    )
    cmd = [sys.executable, "-m", "workflows.cli", "run", str(config),
           "--set", "preprocess.0.depth=2.5"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "radpipe run: config error: --set preprocess.0.depth=2.5: preprocess: item 0 "
        "(fit_depth): The 'depth' parameter of FitDepth must be a whole number >= 1; got 2.5."
    ]
    assert not (tmp_path / "runs").exists()  # nothing converted, no run directory
