"""Mutated DICOM files for fuzzing the readers: seeds and their mutations.

Seeds come in every layout the project decodes; mutations are byte- and element-level.

Seeds (:func:`seed_files`) are small synthetic images made here (native little and big
endian, implicit VR, deflate, RLE, JPEG baseline, JPEG-LS, JPEG 2000, multi-frame, colour,
palette-free RGB, Float Pixel Data, Modality and VOI LUT sequences), plus pydicom's bundled
test files when present. :func:`write_mutants` writes ``n`` mutants reproducibly from a
seed; every mutant is a file a reader must either convert or refuse with a reason.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

#: pydicom's bundled files used as extra seeds when they are installed (all small).
BUNDLED_SEEDS = (
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "SC_rgb_jpeg_gdcm.dcm",
    "SC_rgb_rle_16bit_2frame.dcm",
    "JPGExtended.dcm",
    "rtdose.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "dicomdirtests/DICOMDIR",
)


def _image(rows: int, cols: int, *, frames: int = 1, bits: int = 16, signed: bool = False,
           samples: int = 1, sop: str = CTImageStorage) -> Dataset:  # fmt: skip
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UID(sop)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.PatientName = "FUZZ", "Fuzz^Seed"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "CT" if sop == CTImageStorage else "MR"
    ds.Rows, ds.Columns = rows, cols
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = int(signed)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.InstanceNumber = [0.5, 0.5], 1
    return ds


def _pixels(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    info = np.iinfo(np.dtype(dtype).newbyteorder("="))
    top = min(info.max, 4000)
    return rng.integers(max(info.min, -1000), top, size=shape).astype(dtype)


def _save(ds: Dataset, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue()


def _jpeg_baseline(rng: np.random.Generator, color: bool) -> bytes:
    from PIL import Image

    ds = _image(16, 16, bits=8, samples=3 if color else 1, sop=SecondaryCaptureImageStorage)
    arr = _pixels(rng, (16, 16, 3) if color else (16, 16), "u1")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PhotometricInterpretation = "YBR_FULL_422" if color else "MONOCHROME2"
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    return _save(ds)


def _native(rng: np.random.Generator, kind: str) -> bytes:
    if kind == "ct16":
        ds = _image(16, 16, signed=True)
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelData = _pixels(rng, (16, 16), "<i2").tobytes()
        return _save(ds)
    if kind == "implicit_voi_lut":
        ds = _image(16, 16, sop=MRImageStorage)
        ds.BitsStored, ds.HighBit = 12, 11
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        item = Dataset()
        item.LUTDescriptor = [256, 0, 8]
        item.add_new(0x00283006, "US", [int(v) for v in 255 - np.arange(256)])
        ds.VOILUTSequence = Sequence([item])
        ds.PixelData = _pixels(rng, (16, 16), "<u2").tobytes()
        return _save(ds)
    if kind == "bigendian":
        ds = _image(16, 16, signed=True)
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
        ds.PixelData = _pixels(rng, (16, 16), ">i2").tobytes()
        return _save(ds, implicit_vr=False, little_endian=False)
    if kind == "deflate":
        ds = _image(16, 16)
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        ds.PixelData = _pixels(rng, (16, 16), "<u2").tobytes()
        return _save(ds)
    if kind == "multiframe_modality_lut":
        ds = _image(8, 8, frames=4, bits=8)
        item = Dataset()
        item.LUTDescriptor = [256, 0, 16]
        item.ModalityLUTType = "HU"
        item.add_new(0x00283006, "US", [int(v) for v in np.arange(256) * 4])
        ds.ModalityLUTSequence = Sequence([item])
        ds.PixelData = _pixels(rng, (4, 8, 8), "u1").tobytes()
        return _save(ds)
    if kind == "rgb":
        ds = _image(8, 8, bits=8, samples=3, sop=SecondaryCaptureImageStorage)
        ds.PixelData = _pixels(rng, (8, 8, 3), "u1").tobytes()
        return _save(ds)
    if kind == "float":
        ds = _image(4, 4, bits=32, sop="1.2.840.10008.5.1.4.1.1.30")
        del ds.BitsStored, ds.HighBit, ds.PixelRepresentation
        ds.FloatPixelData = (rng.normal(size=16).astype("<f4")).tobytes()
        return _save(ds)
    raise ValueError(kind)


def _compressed(rng: np.random.Generator, syntax: str, frames: int = 1, size: int = 16) -> bytes:
    ds = _image(size, size, frames=frames, sop=MRImageStorage)
    ds.BitsStored, ds.HighBit = 12, 11
    arr = _pixels(rng, (frames, size, size) if frames > 1 else (size, size), "<u2")
    ds.PixelData = arr.tobytes()
    ds.compress(syntax, arr)
    return _save(ds)


def seed_files(seed: int = 0) -> dict[str, bytes]:
    """The seeds by name (synthetic ones always; bundled pydicom files when present)."""
    rng = np.random.default_rng(seed)
    seeds: dict[str, bytes] = {}
    for kind in ("ct16", "implicit_voi_lut", "bigendian", "deflate", "multiframe_modality_lut",
                 "rgb", "float"):  # fmt: skip
        seeds[kind] = _native(rng, kind)
    makers: dict[str, Callable[[], bytes]] = {
        "rle": lambda: _compressed(rng, RLELossless),
        "rle_3frames": lambda: _compressed(rng, RLELossless, frames=3),
        "jpegls": lambda: _compressed(rng, JPEGLSLossless),
        "j2k": lambda: _compressed(rng, JPEG2000Lossless, size=32),  # openjpeg needs >= 32
        "jpeg_grey": lambda: _jpeg_baseline(rng, color=False),
        "jpeg_color": lambda: _jpeg_baseline(rng, color=True),
    }
    for name, make in makers.items():
        try:
            seeds[name] = make()
        except (ImportError, RuntimeError, NotImplementedError):
            continue  # an encoder plugin is missing; the other seeds still cover the rest
    try:
        from pydicom.data import get_testdata_file

        for name in BUNDLED_SEEDS:
            path = get_testdata_file(name, download=False)
            if isinstance(path, str) and Path(path).is_file():
                seeds["bundled_" + Path(name).name] = Path(path).read_bytes()
    except (ImportError, ValueError, OSError):
        pass
    return seeds


_HEADER_TAGS = [Tag(t) for t in (0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280002,
                                 0x00280008, 0x00280030, 0x00200037, 0x00281053, 0x00281051,
                                 0x00280004, 0x00280103, 0x0020000E)]  # fmt: skip
_NASTY = [b"", b"0", b"-1", b"65535", b"4294967295", b"abc", b"1\\2", b"0.7,0.7", b"1e308",
          b"nan", b"\xff\xfe", b"1\\0\\0\\1\\0\\0", b"\x00\x00", b"\xff\xff",
          b"999999"]  # fmt: skip


def _mutate_element(data: bytes, rng: np.random.Generator) -> bytes:
    """Replace one header value by a nasty raw value (possibly with another VR)."""
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(data), force=True)
    tag = _HEADER_TAGS[int(rng.integers(len(_HEADER_TAGS)))]
    value = _NASTY[int(rng.integers(len(_NASTY)))]
    if len(value) % 2:
        value += b" "
    vr = ["US", "IS", "DS", "CS", "OB", "UN", "SS"][int(rng.integers(7))]
    if tag in ds and rng.random() < 0.2:
        del ds[tag]
    else:
        implicit, little = ds.original_encoding
        ds[tag] = RawDataElement(tag, vr, len(value), value, 0, bool(implicit), bool(little))
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One random mutation of a file: ``(name of the mutation, new bytes)``."""
    op = ["flip", "truncate", "overwrite", "insert", "zero", "element", "flip_tail"][
        int(rng.integers(7))
    ]
    buf = bytearray(data)
    n = len(buf)
    if op == "flip":
        for _ in range(int(rng.integers(1, 9))):
            buf[int(rng.integers(n))] ^= 1 << int(rng.integers(8))
    elif op == "flip_tail":  # the pixel data (and compressed frames) lie near the end
        for _ in range(int(rng.integers(1, 5))):
            buf[int(rng.integers(max(0, n - 512), n))] = int(rng.integers(256))
    elif op == "truncate":
        del buf[int(rng.integers(1, n)) :]
    elif op == "overwrite":
        at = int(rng.integers(n))
        word = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"\x00\x40"]
        piece = word[int(rng.integers(len(word)))]
        buf[at : at + len(piece)] = piece
    elif op == "insert":
        at = int(rng.integers(n))
        buf[at:at] = rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    elif op == "zero":
        at = int(rng.integers(n))
        buf[at : at + int(rng.integers(1, 256))] = bytes(min(n - at, 255))
    else:
        try:
            return op, _mutate_element(data, rng)
        except Exception:
            return "element-unwritable", bytes(buf)
    return op, bytes(buf)


def write_mutants(folder: str | Path, n: int, *, seed: int = 0) -> list[Path]:
    """Write ``n`` mutants (and one untouched copy of each seed) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    seeds = seed_files(seed)
    names = sorted(seeds)
    paths = []
    for name in names:
        path = folder / f"seed_{name}.dcm"
        path.write_bytes(seeds[name])
        paths.append(path)
    for k in range(n):
        name = names[int(rng.integers(len(names)))]
        op, data = mutate(seeds[name], rng)
        path = folder / f"m{k:05d}_{name}_{op}.dcm"
        path.write_bytes(data)
        paths.append(path)
    return paths


__all__ = ["BUNDLED_SEEDS", "mutate", "seed_files", "write_mutants"]
