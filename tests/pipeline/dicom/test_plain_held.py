"""The attributes series assembly reads are converted by the plain element walk itself.

An attribute the walk does not hold (or a multi-valued one it does not take as a list) is
read by pydicom on first use: a second, full read of the file. Siemens CT kernels are
multi-valued (``Br40d\\3``: kernel and iterative strength), and dating the acquisition times
reads AcquisitionDate/ContentDate: each would have sent every file of such an export to
pydicom once more (measured: the header index 2x slower).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom import index_folder, plain
from tests.pipeline.dicom.geometry_cases import CT, image, save


def test_series_assembly_reads_no_attribute_through_pydicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    series, slices = generate_uid(), []
    for z in range(3):
        ds = image(np.full((4, 4), 100, np.uint16), CT, series,
                   ImagePositionPatient=[0.0, 0.0, 1.0 * z], PixelSpacing=[1.0, 1.0],
                   ImageOrientationPatient=[1, 0, 0, 0, 1, 0], InstanceNumber=z + 1,
                   SliceThickness=1.0, ConvolutionKernel=["Br40d", "3"],
                   AcquisitionDate="20200101", AcquisitionTime="101010.5",
                   ContentDate="20200101", ContentTime="101011")  # fmt: skip
        ds.Modality = "CT"
        slices.append(ds)
    save(tmp_path / "src", slices)
    full_reads: list[object] = []
    original = plain.PlainDataset.full
    monkeypatch.setattr(plain.PlainDataset, "full",
                        lambda self: full_reads.append(self) or original(self))  # fmt: skip
    (found,) = index_folder(tmp_path / "src").series
    assert len(found.instances) == 3 and not found.problems
    assert full_reads == []
