"""Images of two b-values (echoes, complex components) whose positions do not coincide.

dcm2niix #888: a Skyra XA30 DWI series whose b = 0 volumes report positions 3.5 mm off its
b = 2000 ones. Never co-located, nothing told the b-values apart: one stack took every
image, the offsets read as missing slices, and the volume came out at 0.5 mm with b = 0
interpolated into b = 2000 slices, noted only as "resampled: missing slices". Each value is
now its own volume. Expected values are the pixels and positions written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from pipeline.dicom.index import index_folder
from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom.builders import image_dataset, write_folder

MR = "1.2.840.10008.5.1.4.1.1.4"


def _series(src: Path, volumes: list[tuple[dict[str, object], float]]) -> list[str]:
    """Four 2 mm slices per entry: ``(attributes, z offset)``; pixels 100 * volume + slice."""
    series, files = generate_uid(), {}
    for v, (attrs, shift) in enumerate(volumes):
        for z in range(4):
            ds = image_dataset(MR, "MR", 2, 3)
            ds.SeriesInstanceUID, ds.InstanceNumber = series, 4 * v + z + 1
            ds.ImagePositionPatient = [0.0, 0.0, 2.0 * z + shift]
            ds.ImageOrientationPatient, ds.PixelSpacing = [1, 0, 0, 0, 1, 0], [1.0, 1.0]
            ds.PixelData = np.full((2, 3), 100 * v + z, np.uint16).tobytes()
            for key, value in attrs.items():
                setattr(ds, key, value)
            files[f"v{v}z{z}"] = ds
    write_folder(src, **files)
    return sorted(f"{name}.dcm" for name in files)


def test_b_values_at_offset_positions_are_one_volume_each(tmp_path: Path) -> None:
    b0 = {"DiffusionBValue": 0}
    b2000 = {"DiffusionBValue": 2000, "DiffusionGradientOrientation": [1, 0, 0]}
    names = _series(tmp_path / "src", [(b2000, 0.0), (b0, 3.5)])
    plan, volumes = read_volumes(tmp_path / "src", names)
    assert not plan.refusal and len(volumes) == 2
    # b = 0 first (written second: pixels 100 + slice), its slices 3.5 mm up
    for volume, base, z0 in zip(volumes, (100, 0), (3.5, 0.0)):
        assert volume.image.shape == (4, 2, 3) and volume.spacing == (2.0, 1.0, 1.0)
        assert volume.image[:, 0, 0].tolist() == [base, base + 1, base + 2, base + 3]
        assert volume.affine_ras is not None and volume.affine_ras[2, 3] == z0  # RAS z = LPS z
    said = "split: 2 stacks by DiffusionBValue at positions that do not coincide"
    assert any(said in p for p in plan.problems)
    assert not any("resampled" in p for p in plan.problems)
    (series,) = index_folder(tmp_path / "src").series  # inspect says the same
    assert any(said in p for p in series.problems)


def test_echoes_interleaved_into_an_even_stack_are_still_apart(tmp_path: Path) -> None:
    names = _series(tmp_path / "src", [({"EchoNumbers": 1}, 0.0), ({"EchoNumbers": 2}, 1.0)])
    _, volumes = read_volumes(tmp_path / "src", names)
    assert [v.image[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2, 3], [100, 101, 102, 103]]
    assert [v.spacing[0] for v in volumes] == [2.0, 2.0]


def test_a_value_per_slice_is_no_split(tmp_path: Path) -> None:
    names = _series(tmp_path / "src", [({}, 0.0)])  # one volume of four slices ...
    for k, name in enumerate(names):  # ... each written with its own echo number (a quirk)
        ds = pydicom.dcmread(tmp_path / "src" / name)
        ds.EchoNumbers = k + 1
        ds.save_as(tmp_path / "src" / name)
    _, volumes = read_volumes(tmp_path / "src", names)
    assert len(volumes) == 1 and volumes[0].image[:, 0, 0].tolist() == [0, 1, 2, 3]


def test_echo_times_without_echo_numbers_interleaved_are_apart(tmp_path: Path) -> None:
    """Echoes told only by EchoTime (Siemens XA classic files carry no EchoNumbers; dcm2niix
    splits on 'echo varies (TE ...)') at offset positions: one volume each, as by EchoNumbers
    above; they were one even 1 mm stack alternating TE 10 and TE 20 slices, unsaid."""
    te10, te20 = {"EchoTime": 10.0}, {"EchoTime": 20.0}
    names = _series(tmp_path / "src", [(te10, 0.0), (te20, 1.0)])
    plan, volumes = read_volumes(tmp_path / "src", names)
    assert [v.image[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2, 3], [100, 101, 102, 103]]
    assert [v.spacing[0] for v in volumes] == [2.0, 2.0]
    said = "split: 2 stacks by EchoTime at positions that do not coincide"
    assert any(said in p for p in plan.problems)


def test_two_protocol_names_in_one_series_are_apart(tmp_path: Path) -> None:
    """A merged export: the 4 slices of protocol 'T1' and the 4 of 'T2' (1 mm up) under one
    SeriesInstanceUID made one even 1 mm stack alternating the two, unsaid; dcm2niix never
    stacks them ('protocol name varies'). Each is its own volume (by hand: 0..3, 100..103)."""
    names = _series(tmp_path / "src", [({"ProtocolName": "T1"}, 0.0),
                                       ({"ProtocolName": "T2"}, 1.0)])  # fmt: skip
    plan, volumes = read_volumes(tmp_path / "src", names)
    assert [v.image[:, 0, 0].tolist() for v in volumes] == [[0, 1, 2, 3], [100, 101, 102, 103]]
    said = "split: 2 stacks by ProtocolName at positions that do not coincide"
    assert any(said in p for p in plan.problems)
