"""Reading converted images, masks, manifests and label tables.

Array conventions: an image comes back channel-first ``(C, H, W)`` or ``(C, D, H, W)``; a
mask comes back spatial ``(H, W)`` or ``(D, H, W)``. NIfTI files are read with nibabel and
their voxel axes ``(i, j, k)`` = (column, row, slice) are reversed to ``(D, H, W)``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cell_checks import csv_class_index, csv_uid_cell
from pipeline.cells import (
    CsvRow,
    csv_frame,
    csv_rows,
    csv_text,
    csv_uid,
)
from pipeline.data.masks import MAX_CLASSES, collapse_channels, mask_classes, nifti_mask_axes
from pipeline.data.pictures import check_palette_mask, png_array, png_picture
from pipeline.dicom.notes import MOSAIC_WORDS
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key

log = logging.getLogger("radpipe")

__all__ = [
    "IMAGE_SUFFIXES",
    "MANIFEST_COLUMNS",
    "image_suffix",
    "load_array",
    "load_image",
    "load_mask",
    "masks_csv_lines",
    "parse_spacing",
    "read_labels_csv",
    "read_manifest",
    "read_masks_csv",
]

MANIFEST_COLUMNS = (
    "output",
    "source",
    "patient_key",
    "study_key",
    "series_key",
    "instance_key",
    "frame",
    "slice_index",
    "num_slices",
    "modality",
    "shape",
    "spacing",
    "window",
    "format",
)
#: The file formats images and masks are read from (lower-case suffixes).
IMAGE_SUFFIXES = (".png", ".npy", ".nii", ".nii.gz")


def image_suffix(path: Path) -> str:
    """The lower-case suffix that says an image file's format (``.nii.gz`` whole)."""
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def readable_format(path: str | Path) -> bool:
    """Whether ``path`` names a format :func:`load_array` reads (by its suffix)."""
    return image_suffix(Path(path)) in IMAGE_SUFFIXES


def csv_path(base: Path, name: str) -> Path:
    r"""A path a user's CSV gives (``name``, relative to ``base``), as a file of this machine.

    A CSV written on Windows separates folders with backslashes (``masks\a.png``): when the
    name as written is no file and it holds a backslash, the name with forward slashes is
    used if that file exists (a backslash in a POSIX file name is legal but rare).
    """
    path = base / name
    if "\\" in name and not path.exists():
        other = base / name.replace("\\", "/")
        if other.exists():
            return other
    return path


def delimiter_hint(columns: list[str]) -> str:
    """What to add to a message about a CSV header read as one column.

    ``" (...)"`` naming another delimiter the header holds (``;`` from a spreadsheet in a
    locale with decimal commas, a tab), else ``""``.
    """
    if len(columns) != 1:
        return ""
    found = next((d for d in (";", "\t", "|") if d in columns[0]), None)
    if found is None:
        return ""
    name = {"\t": "tabs"}.get(found, repr(found))
    return f" (the file seems to separate its values with {name}: radpipe reads commas)"


def load_array(path: str | Path, *, picture: bool = False) -> np.ndarray:
    """The raw array of a PNG, NPY or NIfTI file (NIfTI axes reversed to ``(D, H, W)``).

    With ``picture`` a PNG gives the values it shows
    (:func:`pipeline.data.pictures.png_picture`), not the stored
    codes: a palette's colours instead of its indices (which a mask's reader wants as they
    are: class indices), 1-bit black and white as 0 and 255, grey without its alpha.

    Raises
    ------
    RadpipeError
        Naming the file (its name only): not found, an unsupported format, a file that
        cannot be read (truncated, damaged, not what its suffix says), or complex values.
    """
    path = Path(path)
    suffix = image_suffix(path)
    if not path.is_file():
        raise RadpipeError(f"{path.name}: file not found.")
    if suffix not in IMAGE_SUFFIXES:
        raise RadpipeError(
            f"{path.name}: unsupported format {suffix!r}; use .png, .npy or .nii(.gz)."
        )
    try:
        arr = png_picture(path) if picture and suffix == ".png" else _read_array(path, suffix)
    except (RadpipeError, MemoryError):
        raise
    except Exception as err:  # PIL, numpy, nibabel and zlib each raise their own errors
        why = str(err).splitlines()[0] if str(err) else type(err).__name__
        for full in {str(path.resolve()), str(path)}:  # PIL's message holds the full path
            why = why.replace(full, path.name)
        raise RadpipeError(f"{path.name}: cannot be read as {suffix[1:]} ({why[:200]}).") from err
    if arr.dtype.kind == "c":  # float32 of a complex array keeps its real part (3+4j -> 3)
        raise RadpipeError(
            f"{path.name}: complex values ({arr.dtype}); save the magnitude (numpy.abs) or "
            "the real and imaginary parts as channels."
        )
    return arr


def _read_array(path: Path, suffix: str) -> np.ndarray:
    if suffix == ".png":
        return png_array(path)
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    import nibabel as nib

    data = np.asanyarray(nib.load(path).dataobj)  # type: ignore[attr-defined]
    return np.ascontiguousarray(data.transpose(tuple(range(data.ndim))[::-1]))


#: NIfTI ``xyz_units`` in millimetres per unit (nibabel's names); "unknown" is not assumed.
_NIFTI_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}


def nifti_spacing(path: str | Path, spatial_ndim: int) -> tuple[float, ...] | None:
    """The voxel size in mm of a NIfTI file's first ``spatial_ndim`` axes.

    In the axis order :func:`load_array` returns (reversed: ``(z, y, x)``); ``None`` when
    the header's ``xyz_units`` is unknown (code 0: not assumed to be mm), a zoom is not
    positive, or the zooms (``pixdim``) disagree with the voxel size of the affine the file
    places its voxels by (sform, else qform): which one is right cannot be told (FastSurfer
    #36: an sform of 1 mm over a pixdim of 0.508 mm; fMRIPrep #2281: qform and sform apart),
    so no size is taken for mm, with a warning naming both.
    """
    import nibabel as nib

    img: Any = nib.load(path)
    header = img.header
    scale = _NIFTI_MM.get(header.get_xyzt_units()[0])
    zooms = [float(z) for z in header.get_zooms()[:spatial_ndim]]
    if scale is None or len(zooms) != spatial_ndim or not all(z > 0 for z in zooms):
        return None
    placed = int(header["sform_code"]) > 0 or int(header["qform_code"]) > 0
    sizes = np.sqrt((np.asarray(img.affine)[:3, :spatial_ndim] ** 2).sum(axis=0))
    if placed and not np.allclose(sizes, zooms, rtol=1e-3, atol=1e-4):
        log.warning(
            "%s: its voxel size (pixdim) %s disagrees with its affine's (%s %s); no spacing "
            "in mm is taken from it (surface distances in voxels)", Path(path).name,
            " x ".join(f"{z:g}" for z in zooms),
            "sform" if int(header["sform_code"]) > 0 else "qform",
            " x ".join(f"{z:.6g}" for z in sizes),
        )  # fmt: skip
        return None
    return tuple(z * scale for z in reversed(zooms))


def load_image(path: str | Path, spatial_ndim: int | None = None) -> np.ndarray:
    """A float32 channel-first image.

    ``spatial_ndim`` (2 or 3) says how many spatial axes the file holds; ``None`` guesses
    (a 2-D array is one plane; a colour PNG ``(H, W, 3|4)`` becomes ``(3|4, H, W)``, and so
    does an NPY ``(H, W, C)`` with ``C <= 4`` below both other sizes: channels last, as numpy,
    PIL and MedMNIST's colour sets save them, not a volume ``C`` pixels wide, whose resize
    and flips acted on the colour axis; other 3-D arrays are ``(D, H, W)`` volumes). A PNG
    gives the values it shows: a palette image's colours, 1-bit as 0/255, grey with alpha as
    grey (:func:`pipeline.data.pictures.png_picture`).

    Raises
    ------
    RadpipeError
        Naming the file: an unexpected number of axes, or NaN or infinite values.
    """
    path = Path(path)
    arr = load_array(path, picture=True)
    if image_suffix(path) == ".png" and arr.ndim == 3:
        arr = np.moveaxis(arr[..., :3], -1, 0)  # RGB(A) -> (3, H, W); alpha dropped
        return np.ascontiguousarray(arr, dtype=np.float32)
    nd = spatial_ndim if spatial_ndim is not None else min(arr.ndim, 3)
    if spatial_ndim is None and arr.ndim == 3 and arr.shape[-1] <= 4 < min(arr.shape[:2]):
        arr, nd = np.moveaxis(arr, -1, 0), 2  # channels last (H, W, C) -> (C, H, W)
    if arr.ndim == nd:
        arr = arr[None]
    elif arr.ndim != nd + 1:
        raise RadpipeError(f"{path.name}: expected {nd} spatial axes; got shape {arr.shape}.")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    bad = int(out.size - np.count_nonzero(np.isfinite(out))) if arr.dtype.kind == "f" else 0
    if bad:
        raise RadpipeError(
            f"{path.name}: {bad} of {out.size} values are NaN or infinite (float pixel data "
            "with no value there, e.g. a parametric map's background); a model cannot learn "
            "from them and radpipe does not guess a fill value: replace them in the source."
        )
    return out


def load_mask(
    path: str | Path,
    values: Mapping[int, int] | None = None,
    max_classes: int = MAX_CLASSES,
) -> np.ndarray:
    """A uint8 mask of class indices with its spatial shape.

    A PNG's identical colour channels are collapsed to one (alpha ignored); the values are
    then read by :func:`pipeline.data.masks.mask_classes`: a {0, 255} or {0, 1} mask is
    background/foreground, integers below ``max_classes`` are class indices, ``values``
    maps stored values explicitly; anything else raises ``RadpipeError`` naming the file
    and the values found. A palette PNG is read by its indices, refused when its grey
    colours say other classes (:func:`pipeline.data.pictures.check_palette_mask`).
    """
    path = Path(path)
    arr = np.asarray(load_array(path))
    if image_suffix(path) != ".png":  # a NIfTI (x, y, z, 1) is (x, y, z)
        return mask_classes(nifti_mask_axes(arr), path.name, values, max_classes)
    arr = collapse_channels(arr, path.name)
    classes = mask_classes(arr, path.name, values, max_classes)
    if values is None:  # data.mask_values maps the stored indices: the user said
        check_palette_mask(path, arr, classes, max_classes)
    return classes


def parse_spacing(text: str) -> tuple[float, ...]:
    """``"2.5x0.7x0.7"`` -> ``(2.5, 0.7, 0.7)``; empty -> ``()``."""
    return tuple(float(v) for v in text.split("x")) if text.strip() else ()


def _read_csv(path: Path, required: set[str]) -> list[CsvRow]:
    reader = csv.DictReader(csv_text(path))
    missing = required - set(reader.fieldnames or [])
    if missing:
        hint = delimiter_hint(list(reader.fieldnames or []))
        raise RadpipeError(f"{path.name}: missing columns {sorted(missing)}{hint}.")
    return list(csv_rows(reader))


def in_no_volume(row: dict[str, Any]) -> bool:
    """Whether a per-instance manifest row is an image in no assembled volume.

    Its series was refused per series (``refused: ...``) or it is an undivided mosaic: such
    rows cannot be stacked. (Manifests older than the ``volume`` column leave it empty for
    every row, so an empty ``volume`` alone says nothing.)
    """
    problems = row.get("problems") or ""
    mosaic = any(words in problems for words in MOSAIC_WORDS)
    return not row.get("volume") and ("refused: " in problems or mosaic)


def unpositioned(row: dict[str, Any]) -> bool:
    """Whether a manifest row is one of several images of a series without plane geometry.

    Its series lacks what places images in space (``no geometry: ...``: no
    ImagePositionPatient/ImageOrientationPatient, as ultrasound and secondary capture): its
    images are separate 2-D pictures (other planes, other moments), not slices of a volume.
    """
    return "no geometry: " in (row.get("problems") or "")


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a conversion ``manifest.csv``, typed.

    ``frame``/``slice_index``/``num_slices`` are ints (``slice_index`` ``None`` for per-series
    outputs) and ``spacing`` a tuple.

    Optional columns (absent from older manifests): ``volume`` (str, ``""`` when none: which
    assembled volume of its series a slice belongs to) and ``slice_spacing`` (float mm along
    the slice normal, ``None`` when unknown or uneven).
    """
    path = Path(path)
    rows = _read_csv(path, set(MANIFEST_COLUMNS))
    out: list[dict[str, Any]] = []
    for r in rows:
        short = [c for c in MANIFEST_COLUMNS if r[c] is None]  # csv gives None past a row's end
        if short:
            raise RadpipeError(f"{path.name}:{r.line}: no cell for {', '.join(short)} (a row "
                               "cut short?).")  # fmt: skip
        try:
            out.append(
                {
                    **r,
                    "frame": int(r["frame"] or 0),
                    "slice_index": int(r["slice_index"]) if r["slice_index"] != "" else None,
                    "num_slices": int(r["num_slices"] or 0),
                    "spacing": parse_spacing(r["spacing"]),
                    "volume": r.get("volume") or "",
                    "slice_spacing": float(r["slice_spacing"]) if r.get("slice_spacing") else None,
                }
            )
        except ValueError as err:
            raise RadpipeError(f"{path.name}:{r.line}: {err}") from err
    return out


def read_labels_csv(path: str | Path) -> dict[str, int]:
    """``{series_key: label}`` from a labels CSV.

    The CSV has ``series_uid`` (hashed here) or ``series_key``, and ``label``. A
    ``RadpipeError`` names the CSV and line of an empty series cell, a label that is no class
    index, a series listed again with another label (the last won, unsaid, until 2026-12-02).
    """
    path = Path(path)
    rows = _read_csv(path, {"label"})
    if rows and "series_key" not in rows[0] and "series_uid" not in rows[0]:
        raise RadpipeError(f"{path.name}: needs a 'series_uid' or 'series_key' column.")
    out: dict[str, int] = {}
    lines: dict[str, int] = {}
    for r in rows:
        where, column = (
            f"{path.name} line {r.line}",
            "series_key" if "series_key" in r else "series_uid",
        )
        key = csv_uid_cell(r, column, where)
        key = key if "series_key" in r else hash_key(key)
        label = int(csv_class_index(r["label"], where, required=True) or 0)
        if out.setdefault(key, label) != label:
            raise RadpipeError(f"{where}: {column} listed again (line {lines[key]}) with another "
                               f"label ({out[key]} then {label}).")  # fmt: skip
        lines.setdefault(key, r.line)
    return out


def read_masks_csv(path: str | Path) -> dict[tuple[str, int], Path]:
    """``{(instance_key, frame): mask path}`` from a masks CSV.

    The CSV has ``sop_instance_uid`` (hashed here) or ``instance_key``, ``frame``, and ``mask``
    relative to the CSV's folder. An image (and frame) listed twice must name one mask file.
    """
    return {image: mask for image, mask, _ in _mask_rows(Path(path))}


def masks_csv_lines(path: str | Path) -> dict[tuple[str, int], int]:
    """``{(instance_key, frame): line}``: the line of the masks CSV that first lists each image.

    For messages about rows; :func:`read_masks_csv` reads the same rows.
    """
    out: dict[tuple[str, int], int] = {}
    for image, _, line in _mask_rows(Path(path)):
        out.setdefault(image, line)
    return out


def _mask_rows(path: Path) -> Iterator[tuple[tuple[str, int], Path, int]]:
    """``((instance_key, frame), mask path, line)`` per row of a masks CSV, checked."""
    rows = _read_csv(path, {"mask"})
    if rows and "instance_key" not in rows[0] and "sop_instance_uid" not in rows[0]:
        raise RadpipeError(f"{path.name}: needs a 'sop_instance_uid' or 'instance_key' column.")
    seen: dict[tuple[str, int], Path] = {}
    for r in rows:
        column = "instance_key" if "instance_key" in r else "sop_instance_uid"
        try:
            key, frame = csv_uid(r[column], column), csv_frame(r.get("frame"))
        except ValueError as err:
            raise RadpipeError(f"{path.name} line {r.line}: {err}.") from None
        if not key or not (r["mask"] or "").strip():
            raise RadpipeError(f"{path.name} line {r.line}: the {column if not key else 'mask'} "
                               "cell is empty.")  # fmt: skip
        key = key if column == "instance_key" else hash_key(key)
        mask = csv_path(path.parent, r["mask"])
        if seen.setdefault((key, frame), mask) != mask:
            raise RadpipeError(
                f"{path.name} line {r.line}: {column} and frame {frame} listed again with "
                f"another mask ({seen[(key, frame)].name} then {mask.name})."
            )
        yield (key, frame), mask, r.line
