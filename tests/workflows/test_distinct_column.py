"""The manifest's ``distinct`` column: what each volume of a split series is.

A series split into volumes by EchoTime, receive coil or ProtocolName (co-located images
that no volume mixes) was written as ``_s00``, ``_s01`` with an empty ``problems`` cell and
nothing else saying which file held which echo, coil or protocol. Each row now names the
attribute(s) that differ between the series' volumes and its own value(s). Run through the
command line (a subprocess, as a user runs it). Expected values come from the pixels: image
(value c, slice z) holds 100 + 10 c + z, so each output's first voxel names the c it holds,
and the label expected for it is the one written into the files of that c.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from tests.pipeline.dicom.geometry_cases import plane, save
from tests.pipeline.dicom.test_coil_stacks import NUMBERS, SERIES, _slice

ROOT = Path(__file__).parents[2]


def _convert(src: Path, out: Path, *options: str, per: str = "series") -> list[dict[str, str]]:
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--per", per, *options]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with (out / "manifest.csv").open(newline="") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: r["output"])


def _first(out: Path, row: dict[str, str]) -> float:
    path = out / row["output"]
    data = np.load(path) if path.suffix == ".npy" else np.asarray(nib.load(path).dataobj)
    return float(data.flat[0])


def _colocated(tmp_path: Path, attrs: dict[int, dict[str, object]]) -> Path:
    """Two images (c = 0, 1) at each of 3 positions, told apart only by ``attrs[c]``, their
    InstanceNumbers not keeping the c's in one order."""
    slices = [plane((0, 0, 2.0 * z), value=100 + 10 * c + z, series=SERIES,
                    InstanceNumber=NUMBERS[c, z], **attrs[c])
              for c in range(2) for z in range(3)]  # fmt: skip
    return save(tmp_path / "src", slices)


@pytest.mark.parametrize(
    ("attrs", "labels"),
    [
        ({0: {"EchoTime": 10.0}, 1: {"EchoTime": 20.0}}, ["EchoTime=10", "EchoTime=20"]),
        (
            {0: {"ProtocolName": "t1_se"}, 1: {"ProtocolName": "t2_tse"}},
            ["ProtocolName=t1_se", "ProtocolName=t2_tse"],
        ),
        (
            {0: {"EchoNumbers": 1, "EchoTime": 4.5}, 1: {"EchoNumbers": 2, "EchoTime": 9.0}},
            ["EchoNumbers=1; EchoTime=4.5", "EchoNumbers=2; EchoTime=9"],
        ),
    ],
    ids=["echo-time", "protocol", "echo-number-and-time"],
)
@pytest.mark.parametrize("fmt", ["nifti", "npy"])
def test_each_volume_says_its_echo_or_protocol(
    tmp_path: Path, attrs: dict[int, dict[str, object]], labels: list[str], fmt: str
) -> None:
    rows = _convert(_colocated(tmp_path, attrs), tmp_path / "out", "--format", fmt)
    suffix = ".nii.gz" if fmt == "nifti" else ".npy"  # names as ever: _s00, _s01
    assert [r["output"].endswith(f"_s0{v}{suffix}") for v, r in enumerate(rows)] == [True] * 2
    for row in rows:
        c = (int(_first(tmp_path / "out", row)) - 100) // 10  # the pixels say which c
        assert row["distinct"] == labels[c]
        assert row["problems"] == ""  # nothing else said which file was which


@pytest.mark.parametrize("siemens", [True, False], ids=["siemens-element", "receive-coil-name"])
def test_each_volume_says_its_coil(tmp_path: Path, siemens: bool) -> None:
    slices = [_slice(c, z, siemens=siemens, InstanceNumber=NUMBERS[c, z])
              for c in range(2) for z in range(3)]  # fmt: skip
    rows = _convert(save(tmp_path / "src", slices), tmp_path / "out", "--format", "nifti")
    names = ["H1", "H2"] if siemens else ["C0", "C1"]  # as _slice writes them
    assert [r["output"].endswith(f"_s0{v}.nii.gz") for v, r in enumerate(rows)] == [True] * 2
    for row in rows:
        c = (int(_first(tmp_path / "out", row)) - 100) // 10
        assert row["distinct"] == f"ReceiveCoilName={names[c]}"


def test_time_points_of_each_coil_are_not_named(tmp_path: Path) -> None:
    """One 4-D volume per coil: both hold time points 1 and 2, so only the coil tells them
    apart; under --split-4d each time point of each coil is a volume and says both."""
    slices = [_slice(c, z, t, TemporalPositionIdentifier=t + 1, RepetitionTime=2000.0,
                     InstanceNumber=1 + t * 6 + c * 3 + z)
              for t in range(2) for c in range(2) for z in range(3)]  # fmt: skip
    src = save(tmp_path / "src", slices)
    rows = _convert(src, tmp_path / "out", "--format", "nifti")
    assert [r["distinct"] for r in rows] == ["ReceiveCoilName=H1", "ReceiveCoilName=H2"]
    split = _convert(src, tmp_path / "split", "--format", "nifti", "--split-4d")
    assert len(split) == 4
    for row in split:
        value = int(_first(tmp_path / "split", row))  # 100 + 10 c + 50 t at z = 0
        t, c = divmod(value - 100, 50)
        want = f"TemporalPositionIdentifier={t + 1}; ReceiveCoilName=H{c // 10 + 1}"
        assert row["distinct"] == want


def test_one_volume_and_instance_rows_say_nothing(tmp_path: Path) -> None:
    src = _colocated(tmp_path, {0: {"EchoTime": 10.0}, 1: {"EchoTime": 10.0}})
    for z, path in enumerate(sorted(src.glob("*.dcm"))):  # one stack: positions all apart
        ds = pydicom.dcmread(path)
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * z]
        ds.save_as(path)
    rows = _convert(src, tmp_path / "out", "--format", "nifti")
    assert [r["distinct"] for r in rows] == [""]
    rows = _convert(_colocated(tmp_path / "i", {0: {"EchoTime": 1.0}, 1: {"EchoTime": 2.0}}),
                    tmp_path / "inst", "--format", "npy", per="instance")  # fmt: skip
    assert len(rows) == 6 and {r["distinct"] for r in rows} == {""}
