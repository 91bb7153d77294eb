"""Array writers: PNG (8/16-bit), NPY (float32) and NIfTI; every write is atomic.

A reader never sees a half-written output: each writer goes through
:func:`pipeline.io_atomic.atomic_open`, :func:`~pipeline.io_atomic.atomic_descriptor` or
:func:`~pipeline.io_atomic.atomic_path` (a temporary file beside the target, then a rename).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io_atomic import atomic_descriptor, atomic_open, atomic_path, write_all

#: Output formats and their file suffixes.
SUFFIXES = {"png": ".png", "png16": ".png", "npy": ".npy", "nifti": ".nii.gz", "nii": ".nii"}


def write_png(path: str | Path, image: np.ndarray, *, compression: int = 6) -> str | Path:
    """Write a ``(H, W)`` uint8/uint16 or ``(H, W, 3)`` uint8 image as PNG; returns ``path``.

    Parameters
    ----------
    compression
        zlib level 0-9; 1 is about 30% faster than 6 for a few percent more bytes.
    """
    from PIL import Image

    if not 0 <= compression <= 9:
        raise ValueError(f"PNG compression must be in 0..9; got {compression}.")
    if image.dtype == np.uint16 and image.ndim == 2:
        pil = Image.fromarray(image)  # mode I;16
    elif image.dtype == np.uint8 and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        pil = Image.fromarray(image)
    else:
        raise ValueError(
            f"PNG needs (H, W) uint8/uint16 or (H, W, 3) uint8; got {image.shape} {image.dtype}."
        )
    with atomic_open(path) as fh:
        pil.save(fh, format="PNG", compress_level=compression)
    return path  # as given: a Path made of a str would intern its name (pathlib) for good


def write_npy(path: str | Path, image: np.ndarray) -> str | Path:
    """Write an array as ``.npy`` float32 (loadable with ``allow_pickle=False``).

    Returns ``path`` as given. A uint32 array (32-bit colour samples, whose values float32
    would round above 2**24) is written as uint32.
    """
    dtype = np.uint32 if np.asarray(image).dtype == np.uint32 else np.float32
    return save_npy(path, np.ascontiguousarray(image, dtype=dtype))


def save_npy(path: str | Path, array: np.ndarray) -> str | Path:
    """``np.save(path, array)`` atomically, in the array's own type; returns ``path``.

    For class-index masks, which :func:`write_npy` would make float32.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_npy(os.path.join(folder, "m.npy"), np.array([[0, 2]], np.uint8))
    >>> np.load(os.path.join(folder, "m.npy")).dtype, os.listdir(folder)
    (dtype('uint8'), ['m.npy'])
    """
    array = np.ascontiguousarray(array)
    if array.dtype.hasobject:
        raise ValueError(f"save_npy writes no object arrays; got {array.dtype}.")
    with atomic_descriptor(path) as fd:
        write_all(fd, npy_header(array), array)
    return path


#: ``.npy`` headers by (shape, type): a batch writes many arrays of one shape.
_NPY_HEADERS: dict[tuple[tuple[int, ...], str], bytes] = {}


def npy_header(array: np.ndarray) -> bytes:
    """The header ``np.save`` writes before a C-contiguous ``array``'s bytes.

    Format 1.0, which holds the header of any array (at most 64 axes) as ``np.save`` chooses
    it; made once per shape and type (at most 64 kept).
    """
    key = (array.shape, array.dtype.str)
    header = _NPY_HEADERS.get(key)
    if header is None:
        from numpy.lib import format as npy_format

        buffer = io.BytesIO()
        npy_format.write_array_header_1_0(buffer, npy_format.header_data_from_array_1_0(array))
        if len(_NPY_HEADERS) >= 64:
            _NPY_HEADERS.clear()
        header = _NPY_HEADERS[key] = buffer.getvalue()
    return header


def _smallest_exact(volume: np.ndarray) -> np.ndarray:
    """``volume`` as int16 or uint16 when that holds every value exactly, else float32.

    Whole numbers in range are what a rescaled integer image holds; dcm2niix stores them so.
    """
    if volume.size == 0:
        return volume
    kind = integer_type(float(volume.min()), float(volume.max()))
    if kind is None:
        return volume
    narrow = volume.astype(kind)
    return narrow if np.array_equal(narrow, volume) else volume


def integer_type(low: float, high: float) -> type[np.integer] | None:
    """The type NIfTI stores whole numbers in ``[low, high]`` as; ``None``: float32.

    int16 when they fit, else uint16.
    """
    for kind in (np.int16, np.uint16):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return kind
    return None


def _ready(volume: np.ndarray) -> bool:
    """Whether ``volume`` is already in the type :func:`_smallest_exact` would choose.

    int16 (every value fits), or uint16 holding a value past int16 (int16 is chosen first);
    read_volumes' exact integer volumes come so, without a float32 copy.
    """
    if not volume.size:
        return False
    if volume.dtype == np.int16:
        return True
    return volume.dtype == np.uint16 and int(volume.max()) > np.iinfo(np.int16).max


def _set_forms(image: Any, affine: np.ndarray, code: int, sheared: bool) -> None:
    """Set the sform to ``affine`` with ``code``; the qform too unless sheared or aligned (2)."""
    if sheared or code == 2:
        image.set_qform(None, code=0)
    else:
        image.set_qform(affine, code=code)
    image.set_sform(affine, code=code)


def _set_units(header: Any, xyz: str, ndim: int, repetition_time: float | None) -> None:
    """``xyzt_units`` of a NIfTI-1 header; a 4-D one's 4th zoom is the TR in seconds."""
    if ndim == 4:
        zooms = header.get_zooms()[:3]
        header.set_zooms((*zooms, (repetition_time or 0.0) / 1000.0))
        header.set_xyzt_units(xyz, "sec")
    else:
        header.set_xyzt_units(xyz)


def write_nifti(
    path: str | Path,
    volume: np.ndarray,
    affine_ras: np.ndarray | None,
    *,
    repetition_time: float | None = None,
    sheared: bool = False,
    spacing: tuple[float, float, float] | None = None,
    rgb: bool = False,
    patient: bool = True,
    labels: bool = False,
    pixel_mm: bool = False,
) -> Path:
    """Write a ``(D, H, W)`` volume, or ``(T, D, H, W)`` time points, as NIfTI-1 (RAS affine).

    The array is stored as ``(W, H, D[, T])`` (NIfTI's i = column, j = row, k = slice), so
    that ``affine_ras @ [i, j, k, 1]`` is the RAS position of column ``i``, row ``j``, slice
    ``k``. Without an affine, the identity is used (qform and sform codes 0, "unknown").
    The spatial unit (``xyzt_units``) is mm with an affine, as dcm2niix writes it, or for one
    image (``D == 1``) of ``spacing`` with ``pixel_mm``; else unknown. Values are int16 or
    uint16 when all are whole numbers in that range (exact, half the bytes), else float32.
    ``.nii.gz`` is gzip-compressed (level 1), ``.nii`` is not.

    Parameters
    ----------
    repetition_time
        RepetitionTime (0018,0080) in ms: the 4th zoom, in seconds (``xyzt_units`` time: s).
    sheared
        The affine is not a rotation times zooms (a gantry tilt kept as it is): it is written
        as the sform only (code 1), since a qform cannot hold a shear; qform code 0.
    spacing
        ``(slice, row, column)`` spacing in mm, used only without an affine: the zooms
        (``pixdim``) of an image whose size is known but whose place is not (a radiograph,
        an ultrasound cine), as dcm2niix writes them; the codes stay 0.
    rgb
        ``volume`` has a last axis of 3 uint8 RGB samples: written as RGB24 (datatype 128),
        as dcm2niix writes colour series.
    patient
        ``False``: the affine is in coordinates other than the patient's (an Enhanced US
        Volume placed in its transducer's Volume Frame of Reference): the sform is written
        with code 2 (NIFTI_XFORM_ALIGNED_ANAT: "aligned to something other than the
        scanner") and the qform with code 0, so no reader takes the volume for one in scanner
        coordinates (code 1, NIfTI-1 header ``qform_code`` / ``sform_code``).
    labels
        A label map of class indices: kept in its type (uint8), intent NIFTI_INTENT_LABEL.
    pixel_mm
        ``spacing``'s row and column values are a pixel size in mm (PixelSpacing, or the
        physical deltas of an ultrasound region), not the 1 x 1 of an image with none: a
        single image's zooms are then said to be mm.
    """
    import nibabel as nib

    if rgb:  # one (R, G, B) record per voxel: NIfTI's RGB24
        triples = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
        volume = np.ascontiguousarray(volume, dtype=np.uint8).view(triples)[..., 0]
    if volume.ndim not in (3, 4):
        raise ValueError(f"Expected volume of shape (D, H, W) or (T, D, H, W); got {volume.shape}.")
    axes = (2, 1, 0) if volume.ndim == 3 else (3, 2, 1, 0)
    # (D, H, W) C-ordered, transposed, is (W, H, D) Fortran-ordered: no copy to write it
    if not rgb and not labels and not _ready(volume):
        volume = _smallest_exact(np.asarray(volume, dtype=np.float32))
    data = volume.transpose(axes)
    affine = np.eye(4) if affine_ras is None else np.asarray(affine_ras, dtype=np.float64)
    if affine_ras is None and spacing is not None:  # codes 0: the zooms only, no place
        affine = np.diag([spacing[2], spacing[1], spacing[0], 1.0])
    image = nib.Nifti1Image(data, affine)
    code = 0 if affine_ras is None else 1 if patient else 2  # 1: scanner anatomical
    _set_forms(image, affine, code, sheared)
    if labels:
        image.header.set_intent("label")
    # a placed volume's zooms are mm (the affine's); without one they may be frame steps or
    # pixels (no geometry, no PixelSpacing), which one unit code cannot say: left unknown,
    # except for one image whose pixel size in mm is known (``pixel_mm``: US regions, CR)
    one_image = volume.ndim == 3 and volume.shape[0] == 1
    mm = affine_ras is not None or bool(pixel_mm and spacing and one_image)
    _set_units(image.header, "mm" if mm else "unknown", volume.ndim, repetition_time)
    with atomic_path(path) as tmp:
        nib.save(image, tmp)
    return Path(path)
