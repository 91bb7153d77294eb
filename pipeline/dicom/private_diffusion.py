r"""Diffusion b-values and gradients that vendors keep in private elements only.

Read where the public DiffusionBValue (0018,9087) / DiffusionGradientOrientation (0018,9089)
are missing, at the elements dcm2niix reads (its ``nii_dicom.cpp``), each only under its
private creator (PS3.5 7.8.1), so that another vendor's element at the same tag is never
taken for one:

- Siemens ``SIEMENS MR HEADER`` (0019,xx0C) B_value (IS) and (0019,xx0E)
  DiffusionGradientDirection (FD, patient coordinates), for images whose ImageType says
  DIFFUSION (classic Siemens DWI, mosaics included).
- GE ``GEMS_PARM_01`` (0043,1039) (IS, ``1000001000\8\0\0``): the b-value is the first
  value modulo 10**9 (GE adds 10**9 on some systems, dcm2niix #602). ``GEMS_ACQU_01``
  (0019,10BB), (0019,10BC), (0019,10BD) (DS): the gradient along the phase, frequency and
  slice directions of the acquisition, not in patient coordinates. Their conversion to the
  image axes depends on the phase-encoding direction and the slice orientation, and dcm2niix
  validates it for axial head-first-supine scans only ("Reorienting for ROW phase-encoding
  untested"), so such a gradient is returned marked :data:`LOGICAL` and no ``.bvec`` is
  written from it (:mod:`pipeline.dicom.diffusion`). (0019,10E0) is the number of diffusion
  directions: in a DTI series (above 0) an image with a b-value but a zero gradient is
  b = 0 (GE writes the nominal b-value there), as dcm2niix reads it.
- Philips ``Philips Imaging DD 001`` (2001,1003) DiffusionBFactor (FL) and ``Philips MR
  Imaging DD 001`` (2005,10B0), (2005,10B1), (2005,10B2) (FL): the gradient's RL, AP and FH
  components, in patient coordinates like (0018,9089) (dcm2niix treats them alike).
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["LOGICAL", "private_b_value", "private_element", "private_gradient"]

#: The prefix of a GE gradient (phase, frequency, slice), which is not in patient coordinates.
LOGICAL = "GE logical "

_SIEMENS = (0x0019, "SIEMENS MR HEADER")
_GE_PARM = (0x0043, "GEMS_PARM_01")
_GE_ACQU = (0x0019, "GEMS_ACQU_01")
_PHILIPS_B = (0x2001, "Philips Imaging DD 001")
_PHILIPS_G = (0x2005, "Philips MR Imaging DD 001")


def private_b_value(ds: Any) -> float | None:
    """The b-value (s/mm2) from Siemens', GE's or Philips' private elements, else ``None``."""
    if _is_diffusion(ds):
        value = _numbers(private_element(ds, *_SIEMENS, 0x0C), "IS")
        if value:
            return value[0]
    found = _numbers(private_element(ds, *_GE_PARM, 0x39, at=0x00431039), "IS")
    if found:
        b = found[0] % 1e9
        gradient = _ge_gradient(ds)
        if b > 0 and gradient == (0.0, 0.0, 0.0) and _ge_directions(ds) > 0:
            return 0.0  # a DTI series' b = 0 image, with the nominal b-value
        return b
    found = _numbers(private_element(ds, *_PHILIPS_B, 0x03, at=0x20011003), "FL")
    return found[0] if found else None


def private_gradient(ds: Any) -> tuple[float, ...] | str | None:
    r"""The gradient from private elements, else ``None``.

    Three LPS components (Siemens, Philips), or a GE gradient as ``LOGICAL + "x\y\z"``
    (a zero one as ``(0.0, 0.0, 0.0)``: it needs no frame).
    """
    if _is_diffusion(ds):
        value = _numbers(private_element(ds, *_SIEMENS, 0x0E), "FD")
        if len(value) == 3:
            return tuple(value)
    gradient = _ge_gradient(ds)
    if gradient is not None:
        if not any(gradient):
            return gradient
        return LOGICAL + "\\".join(f"{round(v, 4) + 0.0:.4f}" for v in gradient)
    parts = [_numbers(private_element(ds, *_PHILIPS_G, k, at=0x20051000 + k), "FL") for k in
             (0xB0, 0xB1, 0xB2)]  # fmt: skip
    if all(len(p) == 1 for p in parts):
        return tuple(p[0] for p in parts)
    return None


def _ge_gradient(ds: Any) -> tuple[float, float, float] | None:
    parts = [_numbers(private_element(ds, *_GE_ACQU, k, at=0x00191000 + k), "DS") for k in
             (0xBB, 0xBC, 0xBD)]  # fmt: skip
    if all(len(p) == 1 for p in parts):
        return (parts[0][0] + 0.0, parts[1][0] + 0.0, parts[2][0] + 0.0)
    return None


def _ge_directions(ds: Any) -> float:
    found = _numbers(private_element(ds, *_GE_ACQU, 0xE0, at=0x001910E0), "DS")
    return found[0] if found else 0.0


def _is_diffusion(ds: Any) -> bool:
    image_type = ds.get("ImageType")
    values = [image_type] if isinstance(image_type, str) else list(image_type or [])
    return "DIFFUSION" in [str(v).strip().upper() for v in values]


def private_element(
    ds: Any, group: int, creator: str, offset: int, *, at: int | None = None
) -> Any:
    """The element ``offset`` of ``creator``'s block in ``group``, else ``None``.

    ``at``: the tag where the vendor writes it (block 0x10); when it is absent the file is
    not read in full (the fast reader knows which tags are present).
    """
    if at is not None and at not in ds:
        return None
    full = ds.full() if hasattr(ds, "full") else ds
    try:
        return full.private_block(group, creator)[offset].value
    except (KeyError, ValueError, AttributeError):
        return None


def _numbers(value: Any, vr: str) -> list[float]:
    """The finite numbers of a value (a VR-less UN value decoded as ``vr``), else ``[]``."""
    import math

    if value is None:
        return []
    if isinstance(value, bytes):  # VR not resolved (UN: implicit VR or an unknown creator)
        if vr in ("FD", "FL"):
            size = 8 if vr == "FD" else 4
            if not value or len(value) % size:
                return []
            value = struct.unpack(f"<{len(value) // size}{'d' if size == 8 else 'f'}", value)
        else:
            value = value.decode("ascii", "replace").strip("\0 ").split("\\")
    items = [value] if isinstance(value, str | int | float) else list(value)
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        return []
    return numbers if numbers and all(math.isfinite(v) for v in numbers) else []
