"""A shipped config run before its default data exist (``make demo``, or the ``radpipe synth``
line in its header): the message says how to make them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        # said only ``data.source: no such folder .cache/demo/xray_classify/dicom``
        ("xray_classify", "data.source: no such folder .cache/demo/xray_classify/dicom (the "
         "shipped configs' default data: run `make demo` first, or give your own with --set "
         "data.source=... --set data.labels=...)"),
        # .cache/us is written by the synth line in the config's header, not by make demo
        ("us_fetal_head_unet", "data.source: no such folder .cache/us/dicom (the shipped "
         "configs' default data: write them with the `radpipe synth` line in the config's "
         "header first, or give your own"),
    ],
)  # fmt: skip
def test_a_shipped_config_before_its_data_says_how_to_make_them(
    tmp_path: Path, name: str, said: str
) -> None:
    (tmp_path / "configs").mkdir()
    config = shutil.copy(ROOT / "configs" / f"{name}.yaml", tmp_path / "configs")
    done = subprocess.run([sys.executable, "-m", "workflows.cli", "run", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert not (tmp_path / "runs").exists()
