"""Decode and conversion failures said in words naming the file, as ``radpipe convert`` shows
them: a corrupt compressed stream was "cannot decode transfer syntax RLE Lossless: Unable to
decode as exceptions were raised by all available plugins: ..." (as if no decoder could read
RLE); no decoder installed was pydicom's "Unable to decompress ... missing dependencies"; a
failure no check foresaw was shown as Python's class name ("TypeError: unhashable type:
'list'")."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import CTImageStorage, RLELossless

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

ROOT = Path(__file__).resolve().parents[2]


def _rle_folder(folder: Path, frame: bytes) -> Path:
    ds = image_dataset(CTImageStorage, "CT", 4, 4)
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    ds.compress(RLELossless)
    ds.PixelData = encapsulate([frame])
    return write_folder(folder, rle=ds)


def _errors(out: Path) -> dict[str, str]:
    with (out / "errors.csv").open(newline="") as fh:
        return {r["source"]: r["reason"] for r in csv.DictReader(fh)}


def test_a_corrupt_stream_is_said_to_be_corrupt(tmp_path: Path) -> None:
    """An RLE header of 0 segments (PS3.5 G.5), through the CLI: every decoder failed."""
    src = _rle_folder(tmp_path / "src", bytes(64))
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(tmp_path / "out"),
           "--format", "npy", "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    reason = (
        "RLE Lossless pixel data could not be decoded: every installed decoder failed on its "
        "stream (corrupt or truncated, or a kind none of them reads): pylibjpeg: Invalid "
        "segment offset found in the RLE header; pydicom: The number of RLE segments in the "
        "pixel data doesn't match the expected amount (0 vs. 2 segments)"
    )
    assert _errors(tmp_path / "out") == {"rle.dcm": reason}
    assert f"  rle.dcm: {reason}" in done.stderr.splitlines()
    assert "all available plugins" not in done.stderr


def test_no_installed_decoder_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pylibjpeg-rle were not installed and pydicom's own RLE plugin removed."""
    src = _rle_folder(tmp_path / "src", bytes(64))
    decoder = get_decoder(RLELossless)
    monkeypatch.setattr(decoder, "_available", {})
    monkeypatch.setattr(decoder, "_unavailable", {"pylibjpeg": ("pylibjpeg>=2.0", "rle>=2.0")})
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert _errors(tmp_path / "out") == {
        "rle.dcm": "cannot decode transfer syntax RLE Lossless: no decoder for it is installed "
        "(pylibjpeg - requires pylibjpeg>=2.0 and rle>=2.0)"
    }


def test_an_unforeseen_failure_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure no check of radpipe's foresaw (here injected): a value of the file it could
    not use, with what the reader said; never the exception's class name."""
    import workflows.convert.tasks as tasks

    def unforeseen(*_args: object) -> None:
        raise TypeError("unhashable type: 'list'")

    src = _rle_folder(tmp_path / "src", bytes(64))
    monkeypatch.setattr(tasks, "_run_instance", unforeseen)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert _errors(tmp_path / "out") == {
        "rle.dcm": "a header value radpipe could not use (unhashable type: 'list'): a damaged "
        "or unusual file"
    }
