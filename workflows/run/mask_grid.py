"""NIfTI masks of a DICOM run put on their images' pixel grids (or refused), not paired as stored.

A masks CSV of a DICOM run names one mask per image (instance and frame); the image is used
in its DICOM pixel order (rows x columns). A PNG or NPY mask carries no orientation and must
be drawn in that order. A NIfTI mask does carry one (its qform/sform), and tools store
masks in their own voxel order: dcm2niix and ITK-based tools flip the rows (NIfTI ``j`` runs
up the image where DICOM rows run down), others swap the axes. Paired as stored, such a mask
lies upside down or transposed on its image, silently whenever the shapes agree.

:func:`align_nifti_masks` compares every placed NIfTI mask (qform or sform code above 0) with
its frame's geometry (ImagePositionPatient, ImageOrientationPatient, PixelSpacing: the RAS
affine the converter writes) and writes the mask reoriented onto the image's pixels (flips
and axis swaps only: exact), picking the frame's slice out of a 3-D mask of the series. A
mask whose grid differs by more than that (other spacing, an origin off the frame, an
oblique mismatch, the frame's plane between two mask slices) is refused, naming the file.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.masks import nifti_mask_axes
from pipeline.data.orient import axis_codes, is_nifti, placed, reorient
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.memo import MAX_FILES as MEMO_FILES
from pipeline.memo import keep, used
from pipeline.writers import save_npy
from workflows.run.mask_rows import listed_refusal, per_file
from workflows.run.paths import relative_or_name

log = logging.getLogger("radpipe")

__all__ = ["align_nifti_masks", "frame_ref", "grid_refusal", "mask_on_image"]

#: Grids agree when positions and axis steps agree within this fraction of a pixel.
PIXEL_TOLERANCE = 0.1


def align_nifti_masks(
    masks: Path, manifest: list[dict[str, Any]], source: Path, folder: Path, user: Path
) -> Path:
    """The masks CSV the run reads: ``masks`` itself when it names no placed NIfTI mask of a
    converted image, else ``folder/truth/masks_on_images.csv``, whose NIfTI masks are NPY
    copies on their images' pixel grids (``folder/truth/masks_on_images/``).

    Parameters
    ----------
    manifest
        The conversion's rows (:func:`pipeline.data.io.read_manifest`); ``source`` the DICOM
        folder their ``source`` paths are relative to.
    user
        The user's masks CSV (``data.masks``; ``masks`` may be radpipe's copy of a
        ``file``-keyed one): messages name it and mask files relative to its folder.

    Raises
    ------
    RadpipeError
        Some NIfTI mask does not lie on its image's grid (every such mask listed).
    """
    from pipeline.data.io import read_masks_csv

    listed = read_masks_csv(masks)
    shown = user.name
    rows = {(r["instance_key"], r["frame"]): r for r in manifest if r["slice_index"] is not None}
    todo = {k: p for k, p in listed.items() if is_nifti(p) and k in rows}
    if not todo:
        return masks
    out_dir = folder / "truth" / "masks_on_images"
    moved: dict[tuple[str, int], Path] = {}
    wrong: dict[str, list[str]] = {}  # mask -> its problems, one per image it is listed for
    said: list[str] = []
    unplaced: list[str] = []  # placed masks of images with no place: used as stored
    headers: dict[str, Any] = {}
    memo: dict[str, Any] = {}  # the last mask moved (the items sorted by mask file)
    for key, path in sorted(todo.items(), key=lambda item: (str(item[1]), item[0])):
        name = relative_or_name(path, user.parent)
        try:
            found = mask_on_image(path, name, rows[key], source, headers, memo)
        except RadpipeError as err:
            wrong.setdefault(name, []).append(str(err))
            continue
        arr, note = found
        if arr is None:
            unplaced += [name] if note else []
            continue
        target = out_dir / f"{hash_key(f'{key[0]}|{key[1]}')}.npy"
        save_npy(target, arr)
        moved[key] = target
        if note.startswith("stored"):  # a slice picked out of a volume alone is no reorder
            said.append(f"{name} ({note})")
    if wrong:
        raise grid_refusal(shown, wrong)
    if unplaced:
        log.warning(
            "%s: %d NIfTI masks belong to images with no place in space (no "
            "ImagePositionPatient, ImageOrientationPatient or PixelSpacing: radiographs, "
            "secondary captures), so their affines cannot be checked: used as stored, NIfTI "
            "i the column and j the row; a mask drawn on dcm2niix's NIfTI of such an image "
            "has its rows flipped (upside down): look at one (%s)", shown, len(unplaced),
            ", ".join(sorted(unplaced)[:3]) + (" ..." if len(unplaced) > 3 else ""),
        )  # fmt: skip
    if said:
        log.warning(
            "%s: %d NIfTI masks are stored in another voxel order than their DICOM images "
            "and were reoriented onto the images' pixels: %s%s", shown, len(said),
            ", ".join(said[:3]), " ..." if len(said) > 3 else "",
        )  # fmt: skip
    return _write_table(folder / "truth" / "masks_on_images.csv", listed, moved)


def grid_refusal(shown: str, wrong: dict[str, list[str]]) -> RadpipeError:
    """One line per mask file (a series' volume is listed for each of its slices: its slices'
    lines hid the other masks), with how many of its images it does not fit."""
    images = sum(len(v) for v in wrong.values())
    return listed_refusal(
        f"{shown}: {len(wrong)} NIfTI masks "
        + (f"(listed for {images} images) " if images != len(wrong) else "")
        + "do not lie on their DICOM image's pixel grid (a mask is drawn on its image's own "
        "pixels; flips and axis swaps are undone, nothing is resampled):", per_file(wrong)
    )  # fmt: skip


def _write_table(
    table: Path, listed: dict[tuple[str, int], Path], moved: dict[tuple[str, int], Path]
) -> Path:
    """A masks CSV keyed by ``instance_key``: the ``moved`` copies, the other masks as listed."""
    with atomic_path(table) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instance_key", "frame", "mask"])
        for (instance, frame), path in sorted(listed.items()):
            # relative to this table's folder, where it is read from (the working directory's
            # relative path was read from there; an absolute one named the user's folders)
            mask = os.path.relpath(moved.get((instance, frame), path).resolve(), table.parent)
            writer.writerow([instance, frame, Path(mask).as_posix()])
    return table


def mask_on_image(
    path: Path,
    name: str,
    row: dict[str, Any],
    source: Path,
    headers: dict[str, Any],
    memo: dict[str, Any],
) -> tuple[np.ndarray | None, str]:
    """The mask's values on the image's ``(rows, columns)`` and what was done (``""``:
    stored as the image is); no array when the mask or the image has no place (used as
    stored, as a PNG is), with ``"unplaced image"`` when only the image has none.

    ``row``: the image as the conversion's manifest gives it (``source``, ``frame``, ``shape``
    rows x columns); ``headers``: each file's frames, read once; ``memo``: the last mask's
    volume, reoriented.

    Raises
    ------
    RadpipeError
        The mask, named ``name``, cannot be read or does not lie on the image's grid.
    """
    import nibabel as nib

    image = _frame_affine(row, source, headers)
    try:
        stored: Any = nib.load(path)
    except Exception as err:  # nibabel raises its own errors; load_mask named it already
        raise RadpipeError(f"{name}: cannot be read as NIfTI ({_reason(err, path)}).") from err
    if image is None or not placed(stored):  # no place: used as stored, as a PNG is
        return None, "unplaced image" if placed(stored) else ""
    b = np.asarray(stored.affine, dtype=np.float64)
    if memo.get("path") != str(path):
        memo.clear()
        memo["path"] = str(path)
    try:
        moved, k = _plane(stored, b, image, name, row, memo)
    except RadpipeError as err:
        lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ b  # x and y negated: DICOM's LPS read as RAS
        try:
            _plane(stored, lps, image, name, row, memo)
        except RadpipeError:
            raise err from None
        raise RadpipeError(
            f"{name}: its affine is in DICOM's LPS coordinates, not NIfTI's RAS: with x and y "
            f"negated it lies on its image {row['source']} frame {row['frame']}; save it with "
            "the RAS affine (nibabel: np.diag([-1, -1, 1, 1]) @ affine)"
        ) from err
    same = axis_codes(b) == axis_codes(image)
    note = "" if same else f"stored {axis_codes(b)}, image {axis_codes(image)}"
    if moved.shape[2] > 1:
        note = f"{note}, slice {k} of {moved.shape[2]}".lstrip(", ")
    return np.ascontiguousarray(moved[:, :, k].T), note


def _plane(
    stored: Any, b: np.ndarray, image: np.ndarray, name: str, row: dict[str, Any], memo: dict
) -> tuple[np.ndarray, int]:
    """The mask ``stored`` (affine ``b``) reoriented onto ``image``'s axes, and the index of
    the frame's slice in it; ``memo`` keeps the volume reoriented for a series' slices."""
    key = (axis_codes(b), axis_codes(image))
    if key not in memo:
        # (x, y, z, 1) is (x, y, z), as the images path reads it (nifti_mask_axes works on
        # the reversed axes load_mask gives; transposes are views)
        data = nifti_mask_axes(np.asanyarray(stored.dataobj).T).T
        data = data[..., None] if data.ndim == 2 else data
        if data.ndim != 3:
            raise RadpipeError(f"{name}: a NIfTI mask of shape {data.shape}, not one image or "
                               "volume.")  # fmt: skip
        memo[key] = reorient(data, b, image)
    moved, bm = memo[key]
    rows, cols = (int(v) for v in row["shape"].split("x")[:2])
    pixel = min(np.linalg.norm(image[:3, 0]), np.linalg.norm(image[:3, 1]))
    tol = PIXEL_TOLERANCE * pixel
    where = f"its image {row['source']} frame {row['frame']}"
    if moved.shape[:2] != (cols, rows) or not np.allclose(bm[:3, :2], image[:3, :2], atol=tol):
        raise RadpipeError(
            f"{name}: {axis_codes(b)} {_size(stored.shape)} at {_steps(b)} mm, {where} "
            f"{axis_codes(image)} {rows}x{cols} at {_steps(image)} mm (another spacing, size or "
            "in-plane direction)"
        )
    normal = image[:3, 2] / np.linalg.norm(image[:3, 2])
    k_axis = bm[:3, 2] / np.linalg.norm(bm[:3, 2])
    at = np.linalg.solve(bm, image[:, 3])[:3]  # the frame's first pixel in mask voxels
    k = round(float(at[2]))
    off = float(np.linalg.norm(bm[:3, :3] @ (at - [0, 0, k])))
    depth = moved.shape[2]
    if abs(float(k_axis @ normal)) >= 1 - 1e-3 and off <= tol and not 0 <= k < depth:
        away = (-k if k < 0 else k - depth + 1) * float(np.linalg.norm(bm[:3, 2]))
        held = "its one slice" if depth == 1 else f"its {depth} slices"
        raise RadpipeError(
            f"{name}: {where} lies in no slice of it, {away:.2f} mm beyond {held} along "
            "their normal (a mask of other slices; a 2-D mask is listed for the image it was "
            "drawn on only, or give a 3-D mask of the whole series)"
        )
    if abs(float(k_axis @ normal)) < 1 - 1e-3 or off > tol or not 0 <= k < depth:
        at_k = float(at[2]) if abs(float(at[2])) >= 0.005 else 0.0  # never "-0.00"
        raise RadpipeError(
            f"{name}: its grid does not hold {where} (another origin or slice plane: the "
            f"frame's first pixel lies {off:.2f} mm ({off / pixel:.2f} pixels) off its nearest "
            f"mask voxel, slice {at_k:.2f} of {moved.shape[2]})"
        )
    return moved, k


def _frame_affine(row: dict[str, Any], source: Path, headers: dict[str, Any]) -> np.ndarray | None:
    """The RAS affine of the manifest row's frame (column, row, normal), or ``None`` when its
    file gives no position, orientation or pixel spacing. Near-orthonormal direction cosines
    are made orthonormal as the converter makes them (:func:`~pipeline.dicom.geometry.
    orientation_as_used`): the mask is placed on the grid the converted image has."""
    from pipeline.dicom.geometry import affine_lps, lps_to_ras, orientation_as_used

    ref = frame_ref(row["source"], row["frame"], source, headers)
    if ref is None or None in (ref.position, ref.orientation, ref.pixel_spacing):
        return None
    orientation = orientation_as_used(ref.orientation)
    return lps_to_ras(affine_lps(orientation, ref.position, ref.pixel_spacing, 1.0))


def frame_ref(rel: str, frame: int, source: Path, headers: dict[str, Any]) -> Any:
    """The :class:`~pipeline.dicom.frame_ref.FrameRef` of ``frame`` of the file ``rel`` below
    ``source`` (``None`` when it has no such frame, or cannot be read); ``headers`` keeps each
    file's frames."""
    if rel not in headers:
        headers[rel] = _file_refs(source / rel, rel)
    refs = headers[rel]
    return refs[frame] if frame < len(refs) else None


#: At most this many files' frames are kept (see :data:`pipeline.memo.MAX_FILES`).
MAX_FILES = MEMO_FILES
#: Each file's frames by its absolute and relative path, change time and size, least recently
#: used first: the check before the run directory and the run read the same images.
_REFS: OrderedDict[tuple[str, str, int, int], list[Any]] = OrderedDict()


def _file_refs(path: Path, rel: str) -> list[Any]:
    """The frames of the DICOM file ``path`` (``[]`` when it cannot be read), read once per
    process while the file is unchanged."""
    from pipeline.dicom.frames import frame_refs
    from pipeline.dicom.header import read_dataset

    try:
        stat = path.stat()
    except OSError:
        return []
    key = (os.fspath(path.absolute()), rel, stat.st_mtime_ns, stat.st_size)
    if used(_REFS, key):
        return _REFS[key]
    ds = read_dataset(path, rel)
    try:
        refs = frame_refs(ds, rel) if hasattr(ds, "get") else []
    except (ValueError, TypeError, RadpipeError):
        refs = []
    return keep(_REFS, key, refs, MAX_FILES)


def _steps(affine: np.ndarray) -> str:
    return "x".join(f"{v:g}" for v in np.round(np.linalg.norm(affine[:3, :2], axis=0), 3))


def _size(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape)


def _reason(err: Exception, path: Path) -> str:
    """nibabel's own words (first line, no absolute path), not its class name (the message
    read "cannot be read as NIfTI (ImageFileError)")."""
    why = str(err).strip().splitlines()[0] if str(err).strip() else ""
    for full in {str(path.resolve()), str(path)}:
        why = why.replace(full, path.name)
    return why[:200] or "damaged, or not a NIfTI file"
