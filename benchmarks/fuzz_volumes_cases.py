"""Cases of ``benchmarks/fuzz_volumes.py``: Enhanced multi-frame files and single-frame series
with the truth they were written from.

Every frame holds ``64 * slice + row * columns + column`` (its place along the normal among
the frames of its stack, and the pixel's), stored as uint16 MR values (no rescale), so a
volume that is transposed, flipped or out of order shows in its values. The truth kept for
each (file, frame) is what was written into the header: ImagePositionPatient,
ImageOrientationPatient, PixelSpacing (as the floats of the strings written), the pixels, and
whether the frame was given its position, orientation and spacing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
MR = "1.2.840.10008.5.1.4.1.1.4"


@dataclass
class Frame:
    """What one frame was written with (``None``: left out of the header)."""

    ipp: np.ndarray | None
    iop: np.ndarray | None
    spacing: np.ndarray | None
    pixels: np.ndarray
    stack: int = 0


def _ds(values: np.ndarray | list[float]) -> list[str]:
    return [f"{float(v):.6g}" for v in values]


def _floats(values: list[str]) -> np.ndarray:
    return np.array([float(v) for v in values])


def _orientation(rng: np.random.Generator) -> list[str]:
    """A random orthonormal row/column pair, or an axial/sagittal/coronal one, as written."""
    if rng.random() < 0.4:
        return _ds([[1, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, -1], [1, 0, 0, 0, 0, -1]][rng.integers(3)])
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return _ds(np.round(np.concatenate([q[:, 0], q[:, 1]]), 6))


def _geometry(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[list[str]]]:
    """IOP, PixelSpacing and ``n`` positions evenly along the normal, as written (strings)."""
    iop = _orientation(rng)
    row, col = _floats(iop[:3]), _floats(iop[3:])
    normal = np.cross(row, col)
    spacing = _ds(np.round(rng.uniform(0.3, 2.0, 2), 3))
    origin = np.round(rng.uniform(-100, 100, 3), 2)
    step = round(float(rng.uniform(0.5, 5.0)), 2) * (1 if rng.random() < 0.7 else -1)
    positions = [_ds(np.round(origin + k * step * normal, 4)) for k in range(n)]
    return iop, spacing, positions


def _pixels(k: int, rows: int, cols: int) -> np.ndarray:
    return (64 * k + np.arange(rows * cols).reshape(rows, cols)).astype("<u2")


def _base(sop_class: str, rows: int, cols: int, series: str, study: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "FUZZ", study, series
    ds.Modality, ds.Rows, ds.Columns = "MR", rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    return ds


def _item(**values: object) -> Dataset:
    found = Dataset()
    for key, value in values.items():
        setattr(found, key, value)
    return found


def _enhanced_stack(
    rng: np.random.Generator, stack: int, n: int, rows: int, cols: int, how: dict[str, str]
) -> list[tuple[Dataset, Frame]]:
    iop, spacing, positions = _geometry(rng, n)
    frames = []
    for k in range(n):
        group = Dataset()
        keep_ipp = how["position"] == "all" or (how["position"] == "partial" and k != n // 2)
        keep_px = how["measures"] in ("shared", "perframe") or (
            how["measures"] == "partial" and k != n - 1
        )
        if keep_ipp:
            group.PlanePositionSequence = Sequence([_item(ImagePositionPatient=positions[k])])
        if how["orient"] == "perframe":
            group.PlaneOrientationSequence = Sequence([_item(ImageOrientationPatient=iop)])
        if keep_px and how["measures"] != "shared":
            group.PixelMeasuresSequence = Sequence(
                [_item(PixelSpacing=spacing, SliceThickness="1")]
            )
        in_stack = k + 1 if how["dims"] != "wrong" else int(rng.integers(1, n + 1))
        group.FrameContentSequence = Sequence(
            [
                _item(
                    StackID=str(stack + 1),
                    InStackPositionNumber=in_stack,
                    DimensionIndexValues=[stack + 1, in_stack],
                )
            ]
        )
        truth = Frame(
            _floats(positions[k]) if keep_ipp else None,
            _floats(iop),
            _floats(spacing) if keep_px else None,
            _pixels(k, rows, cols) + 4096 * stack,
            stack,
        )
        frames.append((group, truth))
    if how["measures"] == "shared":
        how["shared_spacing"] = "\\".join(spacing)
    if how["orient"] == "shared":
        how["shared_iop"] = "\\".join(iop)
    return frames


def enhanced_case(rng: np.random.Generator, folder: Path) -> tuple[str, dict[str, list[Frame]]]:
    """One Enhanced MR file in ``folder``; what was varied and the truth per frame as stored."""
    how = {
        "orient": str(rng.choice(["shared", "perframe"])),
        "measures": str(
            rng.choice(["shared", "perframe", "missing", "partial"], p=[0.4, 0.3, 0.15, 0.15])
        ),
        "position": str(rng.choice(["all", "missing", "partial"], p=[0.8, 0.1, 0.1])),
        "order": str(rng.choice(["sorted", "reversed", "shuffled"])),
        "dims": str(rng.choice(["none", "index", "wrong"], p=[0.4, 0.4, 0.2])),
        "stacks": str(rng.choice(["1", "2"], p=[0.8, 0.2])),
        "decoy": str(rng.choice(["none", "top_level", "shared_conflict"], p=[0.6, 0.2, 0.2])),
    }
    if how["stacks"] == "2":  # each stack its own orientation: per frame
        how["orient"], how["measures"] = (
            "perframe",
            "perframe" if how["measures"] == "shared" else how["measures"],
        )
    rows, cols = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    frames: list[tuple[Dataset, Frame]] = []
    for stack in range(int(how["stacks"])):
        frames += _enhanced_stack(rng, stack, int(rng.integers(3, 9)), rows, cols, how)
    order = list(range(len(frames)))
    if how["order"] == "reversed":
        order.reverse()
    elif how["order"] == "shuffled":
        rng.shuffle(order)
    frames = [frames[k] for k in order]
    ds = _base(ENHANCED_MR, rows, cols, generate_uid(), generate_uid())
    ds.NumberOfFrames = len(frames)
    ds.PixelData = np.stack([t.pixels for _, t in frames]).tobytes()
    shared = Dataset()
    if "shared_iop" in how:
        shared.PlaneOrientationSequence = Sequence(
            [_item(ImageOrientationPatient=how.pop("shared_iop").split("\\"))]
        )
    if "shared_spacing" in how:
        shared.PixelMeasuresSequence = Sequence(
            [_item(PixelSpacing=how.pop("shared_spacing").split("\\"), SliceThickness="1")]
        )
    _decoys(ds, shared, how)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence([g for g, _ in frames])
    if how["dims"] != "none":
        ds.DimensionIndexSequence = Sequence(
            [
                _item(DimensionIndexPointer=0x00209056, FunctionalGroupPointer=0x00209111),
                _item(DimensionIndexPointer=0x00209057, FunctionalGroupPointer=0x00209111),
            ]
        )
    else:
        for g, _ in frames:
            del g.FrameContentSequence[0].DimensionIndexValues
            del g.FrameContentSequence[0].StackID
            del g.FrameContentSequence[0].InStackPositionNumber
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / "e.dcm", enforce_file_format=True)
    said = ",".join(f"{k}={v}" for k, v in how.items())
    return said, {"e.dcm": [t for _, t in frames]}


def _decoys(ds: Dataset, shared: Dataset, how: dict[str, str]) -> None:
    """Wrong values that the frames' own groups override, only where the frames have theirs:
    top-level geometry (written by some converters, not part of the Enhanced IODs), or a
    Shared group beside the Per-frame one (PS3.3 C.7.6.16: one or the other)."""
    iop, spacing = ["0", "0", "1", "1", "0", "0"], ["9", "9"]
    measured = how["measures"] in ("shared", "perframe")
    if how["decoy"] == "top_level":
        ds.ImageOrientationPatient = iop
        if how["position"] == "all":
            ds.ImagePositionPatient = ["1000", "1000", "1000"]
        if measured:
            ds.PixelSpacing, ds.SliceThickness = spacing, "9"
    elif how["decoy"] == "shared_conflict" and how["orient"] == "perframe":
        shared.PlaneOrientationSequence = Sequence([_item(ImageOrientationPatient=iop)])
    elif how["decoy"] == "shared_conflict" and how["measures"] == "perframe":
        measures = _item(PixelSpacing=spacing, SliceThickness="9")
        shared.PixelMeasuresSequence = Sequence([measures])


DEFECTS = ["none", "none", "duplicate", "missing", "two_orientations", "mixed_size", "instance",
           "jitter", "tilt", "same_file", "flipped"]  # fmt: skip


def series_case(rng: np.random.Generator, folder: Path) -> tuple[str, dict[str, list[Frame]]]:
    """Single-frame MR files of one series in ``folder``, shuffled names, one defect drawn."""
    defect = str(rng.choice(DEFECTS))
    n = int(rng.integers(3, 10))
    rows, cols = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    iop, spacing, positions = _geometry(rng, n)
    series, study = generate_uid(), generate_uid()
    slices = [(iop, positions[k], spacing, rows, cols, k) for k in range(n)]
    if defect == "duplicate":
        k = int(rng.integers(n))
        slices.append((iop, positions[k], spacing, rows, cols, n))
    elif defect == "missing":
        del slices[int(rng.integers(1, n - 1))]
    elif defect == "two_orientations":
        other, _, more = _geometry(rng, n)
        slices += [
            (other, more[k], spacing, rows, cols, n + k) for k in range(int(rng.integers(1, n)))
        ]
    elif defect == "mixed_size":
        k = int(rng.integers(n))
        slices[k] = (iop, positions[k], spacing, rows + 1, cols, k)
    elif defect == "jitter":  # positions and orientation as rounded by a scanner
        slices = [(_ds(_floats(o) + rng.normal(0, 1e-6, 6)), _ds(_floats(p) + rng.normal(
            0, 1e-3, 3)), s, r, c, v) for o, p, s, r, c, v in slices]  # fmt: skip
    elif defect == "tilt":  # gantry tilt: each slice shifted along the columns
        shift = _floats(iop[3:]) * float(rng.uniform(0.2, 1.0))
        slices = [(o, _ds(np.round(_floats(p) + v * shift, 4)), s, r, c, v)
                  for o, p, s, r, c, v in slices]  # fmt: skip
    elif defect == "flipped":  # the column direction negated on some slices: another normal
        flipped = _ds([*_floats(iop[:3]), *(-_floats(iop[3:]))])
        for k in range(0, n, 2):
            slices[k] = (flipped, *slices[k][1:])
    numbers = list(range(1, len(slices) + 1))
    if defect == "instance" or rng.random() < 0.5:
        rng.shuffle(numbers)
    order = list(range(len(slices)))
    rng.shuffle(order)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name_k, k in enumerate(order):
        o, p, s, r, c, value = slices[k]
        ds = _base(MR, r, c, series, study)
        ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.PixelSpacing = o, p, s
        ds.InstanceNumber = numbers[k]
        pixels = _pixels(value, r, c)
        ds.PixelData = pixels.tobytes()
        name = f"I{name_k * 7 % 11 + 11 * name_k}.dcm"
        ds.save_as(folder / name, enforce_file_format=True)
        truth[name] = [Frame(_floats(p), _floats(o), _floats(s), pixels)]
    if defect == "same_file":  # one file copied under another name (one SOPInstanceUID)
        copy = sorted(truth)[0]
        (folder / f"copy_{copy}").write_bytes((folder / copy).read_bytes())
        truth[f"copy_{copy}"] = truth[copy]
    return f"defect={defect},n={n}", truth
