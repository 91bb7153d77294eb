"""Patient-space geometry of DICOM images: slice normal, spacing, affine (LPS and RAS).

DICOM patient coordinates are LPS (x to the patient's left, y to posterior, z to head;
PS3.3 C.7.6.2.1.1). NIfTI world coordinates are RAS, so the first two axes change sign.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: Largest |row . column| and | |v| - 1 | of ImageOrientationPatient used as written (DS
#: rounding to 6 decimals leaves ~1e-6).
ORTHONORMAL_EXACT = 1e-4
#: Up to this the cosines are orthonormal as written, the rest being float64 rounding of
#: the check itself (|v| of exact unit vectors written with 16 digits: ~1e-15): kept as given.
ORTHONORMAL_FLOAT = 1e-12
#: Up to this, the nearest orthonormal pair is used instead (noted); beyond it, refused.
ORTHONORMAL_LIMIT = 0.02


def slice_normal(orientation: Sequence[float] | np.ndarray) -> np.ndarray:
    """The unit normal of an image plane: row cosines x column cosines.

    Parameters
    ----------
    orientation
        ImageOrientationPatient (0020,0037): six direction cosines, row then column.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` float64 unit vector (PS3.3 C.7.6.2.1.1).

    Examples
    --------
    >>> slice_normal([1, 0, 0, 0, 1, 0]).tolist()
    [0.0, 0.0, 1.0]
    """
    iop = np.asarray(orientation, dtype=np.float64)
    if iop.shape != (6,):
        raise ValueError(f"ImageOrientationPatient must have 6 values; got {iop.size}.")
    normal = np.cross(iop[:3], iop[3:])
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        raise ValueError("ImageOrientationPatient row and column vectors are parallel.")
    return normal / norm


def orthonormal_orientation(orientation: Sequence[float]) -> tuple[tuple[float, ...], float]:
    """The nearest orthonormal pair of direction cosines and how far the given pair was off.

    Parameters
    ----------
    orientation
        ImageOrientationPatient (0020,0037): row cosines then column cosines, 6 floats.

    Returns
    -------
    orientation : tuple of float
        6 floats: the row and column cosines of the orthonormal 3x2 matrix nearest (Frobenius
        norm) to the given one, ``U V^T`` of its singular value decomposition (the polar
        factor: both vectors corrected alike, the in-plane angle kept).
    deviation : float
        ``max(|row . column|, | |row| - 1 |, | |column| - 1 |)`` of the given pair; 0 for an
        orthonormal pair. PS3.3 C.7.6.2.1.1 requires orthogonal unit vectors; values written
        to 2-3 decimals (some exports and anonymisers) are off by up to ~1e-2.
    """
    m = np.asarray(orientation, dtype=np.float64).reshape(2, 3).T  # (3, 2): row, column
    dot = float(m[:, 0] @ m[:, 1])
    deviation = max(abs(dot), *(abs(float(np.linalg.norm(v)) - 1.0) for v in m.T))
    u, _, vt = np.linalg.svd(m, full_matrices=False)
    fixed = (u @ vt).T.ravel()
    return tuple(float(v) for v in fixed), deviation


def orientation_as_used(orientation: Sequence[float]) -> tuple[float, ...]:
    """ImageOrientationPatient as the converter places images with it.

    As written within :data:`ORTHONORMAL_FLOAT`, else the nearest orthonormal pair
    (:func:`orthonormal_orientation`) up to :data:`ORTHONORMAL_LIMIT`; beyond it (a series
    the converter refuses) as written.

    Examples
    --------
    >>> orientation_as_used([1.01, 0, 0, 0, 1.01, 0])
    (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    """
    fixed, deviation = orthonormal_orientation(orientation)
    if deviation <= ORTHONORMAL_FLOAT or deviation > ORTHONORMAL_LIMIT:
        return tuple(float(v) for v in orientation)
    return fixed


def positions_along(normal: np.ndarray, positions: Sequence[Sequence[float]]) -> np.ndarray:
    """Project ImagePositionPatient values on the slice normal (mm)."""
    return np.asarray(positions, dtype=np.float64).reshape(-1, 3) @ normal


def tilt_cosine(normal: np.ndarray, positions: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Cosine between the slice normal and the first-to-last slice direction (1: no tilt).

    :func:`pipeline.dicom.stack.tilt_angle` gives it in degrees for the ``tilt corrected`` /
    ``tilt kept`` notes and the ``--tilt refuse`` refusal (a stack is found sheared by its
    slices' in-plane offsets, :func:`pipeline.dicom.stack.plan_positions`, not by a cosine
    threshold).
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if len(pos) < 2:
        return 1.0
    order = np.argsort(pos @ normal)
    direction = pos[order[-1]] - pos[order[0]]
    length = float(np.linalg.norm(direction))
    return 1.0 if length < 1e-6 else abs(float(direction @ normal)) / length


def affine_lps(
    orientation: Sequence[float],
    first_position: Sequence[float],
    pixel_spacing: Sequence[float],
    slice_step: float,
) -> np.ndarray:
    """The 4x4 affine from voxel indices (column, row, slice) to LPS millimetres.

    Parameters
    ----------
    orientation
        ImageOrientationPatient of the series.
    first_position
        ImagePositionPatient of the first slice (lowest along the normal).
    pixel_spacing
        PixelSpacing (0028,0030): row spacing (between rows), then column spacing.
    slice_step
        Signed distance between consecutive slices along the normal (mm).

    Notes
    -----
    PS3.3 C.7.6.2.1.1, Equation C.7.6.2.1-1: ``P = S + i * dc * X + j * dr * Y``, with ``i``
    the column index, ``j`` the row index, ``X`` the row cosines and ``Y`` the column cosines.
    """
    iop = np.asarray(orientation, dtype=np.float64)
    row_spacing, col_spacing = (float(v) for v in pixel_spacing)
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * col_spacing
    affine[:3, 1] = iop[3:] * row_spacing
    affine[:3, 2] = slice_normal(iop) * slice_step
    affine[:3, 3] = np.asarray(first_position, dtype=np.float64)
    return affine


def lps_to_ras(affine: np.ndarray) -> np.ndarray:
    """Convert an LPS affine to RAS (NIfTI) by negating the first two world axes."""
    return LPS_TO_RAS @ affine


def quadruped_note(ds: object) -> str:
    """The note for an image placed in a quadruped's patient coordinates, else ``""``.

    AnatomicalOrientationType (0010,2210) QUADRUPED (PS3.3 C.7.6.1.1.1, C.7.6.2.1.1) names
    the patient directions of a four-legged animal (left/right, dorsal/ventral,
    cranial/caudal, rostral); NIfTI's RAS, the affine radpipe writes, names a human's
    (right, anterior, superior), and quadruped atlases and tools differ on how the two map.
    dcm2niix says so (#241: "Anatomical Orientation Type (0010,2210) is QUADRUPED: rotate
    coordinates accordingly"); radpipe wrote the affine unsaid. The affine is kept as the
    header gives it, and said, for images with an ImageOrientationPatient only.
    """
    get = getattr(ds, "get", None)
    if get is None or "AnatomicalOrientationType" not in ds:  # type: ignore[operator]
        return ""
    if str(get("AnatomicalOrientationType") or "").strip().upper() != "QUADRUPED":
        return ""
    return (
        "AnatomicalOrientationType (0010,2210) is QUADRUPED: the positions are in a "
        "quadruped's patient coordinates (dorsal/ventral, cranial/caudal), while a NIfTI's "
        "RAS axes are read as a human's right, anterior and superior: its affine is the "
        "header's, check which way the animal's axes map before using an atlas (as dcm2niix "
        "warns, #241)"
    )
