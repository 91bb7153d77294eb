"""Diffusion-weighted volumes: each time point's b-value and gradient, as FSL sidecars.

A DWI series assembles into one 4-D volume whose volumes are told apart by DiffusionBValue
(0018,9087) and DiffusionGradientOrientation (0018,9089) (PS3.3 C.8.13.5.9; top level in
classic files, MR Diffusion Sequence in Enhanced ones). Without them the 4-D NIfTI is of no
use for diffusion analysis, so they are written beside it as dcm2niix does: ``.bval`` (one
line of b-values, s/mm2) and ``.bvec`` (three lines: x, y and z of each unit gradient).
An NPY volume (``--format npy --per series``) gets the same two files, its ``.bvec`` along
the array's own axes (:func:`array_bvecs`); it had none, so its volumes' b-values and
directions were lost.

``.bvec`` follows FSL's convention (as documented by FSL's FDT and MRtrix3's "FSL format"):
components along the image's voxel axes i, j, k, with the i component negated when the
voxel-to-world matrix has a positive determinant (FSL reads such an image with its first
axis flipped). DICOM gives the gradient in the patient coordinate system (LPS).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.dicom.frames import FrameRef
from pipeline.dicom.private_diffusion import LOGICAL
from pipeline.dicom.stack_keys import DIRECTION, STACK_KEYS
from pipeline.io_atomic import atomic_write_text
from pipeline.words import are, word

#: Per time point: (b-value in s/mm2, unit gradient in LPS, or ``None`` when the gradient
#: is known only in GE's logical frame).
DiffusionTable = tuple[tuple[float, tuple[float, float, float] | None], ...]

_B = STACK_KEYS.index("DiffusionBValue")
_G = STACK_KEYS.index(DIRECTION)


def diffusion_table(
    frames: Sequence[FrameRef], stacks: Sequence[Sequence[int]], notes: list[str] | None = None
) -> DiffusionTable | None:
    """The b-value and gradient of each stack (time point), or ``None``.

    ``None`` unless every frame has a DiffusionBValue and the frames of each stack share
    their b-value and direction (a direction missing beside a b-value is the zero vector:
    b = 0 or an isotropic trace image, written 0 0 0 as dcm2niix does), and ``None`` when
    neither b-value nor direction varies (dcm2niix writes no sidecars then: a vendor's
    private b-value 0 on every image of a series that is not diffusion-weighted; with a
    b-value above 0 or a direction, said in ``notes``).

    A GE gradient in its logical frame (:data:`~pipeline.dicom.private_diffusion.LOGICAL`)
    is ``None`` in the table; its length still gives the b-value: GE stores the shell's
    largest b-value with a shortened gradient, the volume's b-value is ``b * |g|**2``,
    rounded to a multiple of 5 s/mm2 (at least 5) when ``0.03 < |g| < 0.97``, as dcm2niix
    computes it.
    """
    table: list[tuple[float, tuple[float, float, float] | None]] = []
    for stack in stacks:
        found = {(frames[k].stack_values[_B], frames[k].stack_values[_G]) for k in stack}
        if len(found) != 1:
            return None
        b, direction = found.pop()
        text = str(direction)
        logical = text.startswith(LOGICAL)
        try:
            value = float(b)
            vector = tuple(float(v) for v in text.removeprefix(LOGICAL).split("\\"))
        except (TypeError, ValueError):
            return None
        if len(vector) != 3 or not np.isfinite([value, *vector]).all():
            return None
        if logical:
            table.append((_scaled_b(value, float(np.linalg.norm(vector))), None))
        else:
            table.append((value, (vector[0], vector[1], vector[2])))
    if len(set(table)) == 1:
        b, g = table[0]
        if notes is not None and (b > 0 or g is None or any(g)):
            notes.append(f"diffusion: every volume has b-value {b:g} and the same direction: "
                         "no .bval / .bvec written (as dcm2niix)")  # fmt: skip
        return None
    return tuple(table)


def _scaled_b(b: float, length: float) -> float:
    """GE's b-value of a volume whose gradient has ``length`` (dcm2niix's rule, above)."""
    if not 0.03 < length < 0.97:
        return b
    scaled = b * length**2
    return 5.0 if 0 < scaled < 5 else float(int((scaled + 2.5) / 5) * 5)


def diffusion_notes(table: DiffusionTable | None) -> list[str]:
    """Notes on the sidecars of ``table``: trace volumes, and a ``.bvec`` not written."""
    notes = [trace_note(table)] if table and all(g is not None for _, g in table) else []
    if table and any(g is None for _, g in table):
        notes.append(
            "diffusion: .bval written, .bvec not: the gradient directions are GE's private "
            "(0019,10BB-10BD), along the acquisition's phase, frequency and slice axes, not "
            "patient coordinates; their conversion depends on the phase-encoding direction "
            "(dcm2niix validates it for axial head-first-supine scans only), so none is guessed"
        )
    return [n for n in notes if n]


def trace_note(table: DiffusionTable | None) -> str:
    """A note when a volume has a b-value above 0 and no direction, else ``""``.

    Such a volume is an isotropic trace (Philips adds one to its DWI series): in the
    sidecars it is a b-value with a zero-length gradient, which FSL's and MRtrix3's tensor
    fits cannot use (dcm2niix leaves such volumes out of the 4-D file).
    """
    traces = [t for t, (b, g) in enumerate(table or ()) if b > 0 and g is not None and not any(g)]
    if not traces:
        return ""
    return (
        f"diffusion: {word(len(traces), 'volume')} {', '.join(map(str, traces))} "
        f"{are(len(traces), 'has', 'have')} a b-value but no gradient "
        "direction (isotropic trace images): .bvec holds 0 0 0 for them; leave them out "
        "before fitting tensors"
    )


def fsl_bvecs(table: DiffusionTable, affine_ras: np.ndarray) -> np.ndarray:
    """``(3, T)`` gradients in FSL's convention for an image with this RAS affine.

    Examples
    --------
    An axial image (i to the patient's left, RAS x negative; det > 0): a gradient along
    LPS x is +1 along i, negated for FSL.

    >>> affine = np.diag([-1.0, -1.0, 2.0, 1.0])
    >>> fsl_bvecs(((1000.0, (1.0, 0.0, 0.0)),), affine)[:, 0].tolist()
    [-1.0, 0.0, 0.0]
    """
    linear = np.asarray(affine_ras, dtype=np.float64)[:3, :3]
    axes = linear / np.linalg.norm(linear, axis=0)  # unit voxel axes in RAS, as columns
    gradients = [g if g is not None else (np.nan,) * 3 for _, g in table]
    ras = np.array(gradients, dtype=np.float64).reshape(-1, 3) * [-1.0, -1.0, 1.0]
    vectors = (ras @ axes).T  # (3, T): components along i, j, k
    if np.linalg.det(linear) > 0:
        vectors[0] = -vectors[0]
    return vectors + 0.0  # no "-0"


def array_bvecs(table: DiffusionTable, affine_ras: np.ndarray) -> np.ndarray:
    """``(3, T)`` unit gradients along the spatial axes of the array radpipe writes as NPY.

    An NPY volume is ``(D, H, W)`` (``(T, D, H, W)`` with time points): slice, row, column,
    the reverse of NIfTI's i (column), j (row), k (slice). Row 0 is the component along the
    slice axis (the direction its index grows, NIfTI's k), row 1 along the row axis (j), row
    2 along the column axis (i). No component is negated: FSL's flip of i belongs to how FSL
    reads a NIfTI's affine, and an NPY has none.

    Examples
    --------
    An axial image (column index to the patient's left, LPS +x): a gradient along LPS x is
    +1 along the column axis, the array's last.

    >>> affine = np.diag([-1.0, -1.0, 2.0, 1.0])
    >>> array_bvecs(((1000.0, (1.0, 0.0, 0.0)),), affine)[:, 0].tolist()
    [0.0, 0.0, 1.0]
    """
    linear = np.asarray(affine_ras, dtype=np.float64)[:3, :3]
    axes = linear / np.linalg.norm(linear, axis=0)  # unit voxel axes i, j, k in RAS, as columns
    gradients = [g if g is not None else (np.nan,) * 3 for _, g in table]
    ras = np.array(gradients, dtype=np.float64).reshape(-1, 3) * [-1.0, -1.0, 1.0]
    return (ras @ axes).T[::-1] + 0.0  # (3, T): along k, j, i; no "-0"


def sidecar_paths(output: Path) -> list[Path]:
    """``<name>.bval`` and ``<name>.bvec`` beside ``<name>.nii[.gz]`` or ``<name>.npy``."""
    if not output.name.endswith((".nii", ".nii.gz", ".npy")):
        return []
    stem = output.name.removesuffix(".gz").removesuffix(".nii").removesuffix(".npy")
    return [output.with_name(f"{stem}.bval"), output.with_name(f"{stem}.bvec")]


def write_sidecars(output: Path, table: DiffusionTable, affine_ras: np.ndarray) -> list[Path]:
    """Write ``<name>.bval`` and ``<name>.bvec`` beside ``output``; return them.

    ``output`` is a NIfTI (``.bvec`` in FSL's convention, :func:`fsl_bvecs`) or an NPY
    volume (``.bvec`` along the array's slice, row and column axes, :func:`array_bvecs`).
    ``.bvec`` only when every gradient is known in patient coordinates (see
    :func:`diffusion_notes`); an older one beside it is removed then.
    """
    bval, bvec = sidecar_paths(output)
    atomic_write_text(bval, " ".join(f"{b:g}" for b, _ in table) + "\n")
    if any(g is None for _, g in table):
        bvec.unlink(missing_ok=True)
        return [bval]
    along = array_bvecs if output.name.endswith(".npy") else fsl_bvecs
    rows = along(table, affine_ras)
    atomic_write_text(bvec, "".join(" ".join(f"{v:.6g}" for v in row) + "\n" for row in rows))
    return [bval, bvec]
