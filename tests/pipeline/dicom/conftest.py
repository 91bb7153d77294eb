"""Helpers for the DICOM tests: pydicom's bundled files and the gzipped dcm_qa files."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pydicom
import pytest

BUNDLED = Path(pydicom.__file__).parent / "data" / "test_files"
QA = Path(__file__).parents[2] / "data" / "dcm_qa"


def bundled(name: str) -> Path:
    """A file shipped inside pydicom (never fetched from the network)."""
    path = BUNDLED / name
    if not path.exists():
        pytest.skip(f"{name} is not bundled with this pydicom")
    return path


def bundled_images() -> list[str]:
    """Names of the bundled files that hold pixel data."""
    names = []
    for path in sorted(BUNDLED.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "Rows" in ds and "PhotometricInterpretation" in ds and "BitsAllocated" in ds:
            names.append(path.name)
    return names


@pytest.fixture
def qa_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Decompress one of ``tests/data/dcm_qa/*.gz`` into ``tmp_path``."""

    def unpack(name: str) -> Path:
        out = tmp_path / name.removesuffix(".gz")
        if name.endswith(".nii.gz"):
            return QA / name
        with gzip.open(QA / name) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return out

    return unpack
