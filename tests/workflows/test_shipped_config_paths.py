"""Every shipped config runs as it is after ``make demo``: its data paths, taken from the
config file's folder, name the studies the demo writes, and its runs go to ``runs/``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from workflows.commands import demo

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
# The study each config is meant for: the demo's CR study for classification images, its
# MR study for segmentation, a `radpipe synth .cache/ct` study for the CT series config and a
# `radpipe synth .cache/us --modality US --task segmentation` study for the fetal head config.
STUDY = {"xray": ROOT / ".cache/demo/xray_classify", "mr": ROOT / ".cache/demo/mr_segment_mlp",
         "ct": ROOT / ".cache/ct", "us": ROOT / ".cache/us"}  # fmt: skip


def test_the_demo_writes_the_studies_the_configs_name() -> None:
    assert {name for name, _, _ in demo.JOBS} == {"xray_classify", "mr_segment_mlp"}
    parser = argparse.ArgumentParser()
    demo.register(parser.add_subparsers())
    cache = ROOT / parser.parse_args(["demo"]).cache  # `make demo` runs it from the checkout
    assert STUDY["xray"] == cache / "xray_classify"
    assert STUDY["mr"] == cache / "mr_segment_mlp"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_paths_name_the_demo_studies(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    study = STUDY[path.stem.split("_")[0]]
    data = raw["data"]
    assert (path.parent / data["source"]).resolve() == study / "dicom"
    assert (path.parent / data["labels"]).resolve() == study / "labels.csv"
    if "masks" in data:
        assert (path.parent / data["masks"]).resolve() == study / "masks.csv"
    assert (path.parent / raw["output"]).resolve() == ROOT / "runs"
