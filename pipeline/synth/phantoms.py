"""Phantom images in physical units: a body, a paired organ, a central structure, lesions.

The signal is learnable but not trivial: lesions sit at random places inside the organ, with
class-dependent shape and size, over smooth tissue texture and noise, so that no single pixel
tells the class.

Classes (``label``): 0 = no lesion, 1 = round lesion, 2 = elongated lesion (with
``num_classes=3``). Mask values: 0 = background, 1 = organ, 2 = lesion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

Modality = Literal["CT", "MR", "CR", "US"]

CLASS_NAMES = ("no_lesion", "round_lesion", "elongated_lesion")
MASK_CLASSES = ("background", "organ", "lesion")

# Mean values per tissue, in the modality's physical unit (HU for CT; arbitrary for MR/CR).
_TISSUE = {
    "CT": {
        "air": -1000.0,
        "body": 40.0,
        "fat": -100.0,
        "organ": -850.0,
        "core": 700.0,
        "lesion": 30.0,
        "noise": 18.0,
        "texture": 12.0,
    },
    "MR": {
        "air": 0.0,
        "body": 420.0,
        "fat": 900.0,
        "organ": 600.0,
        "core": 1500.0,
        "lesion": 1100.0,
        "noise": 30.0,
        "texture": 40.0,
    },
    "CR": {
        "air": 3600.0,
        "body": 2200.0,
        "fat": 2500.0,
        "organ": 900.0,
        "core": 3000.0,
        "lesion": 1600.0,
        "noise": 60.0,
        "texture": 90.0,
    },
}


@dataclass(frozen=True)
class Phantom:
    """A phantom: ``image`` (D, H, W) float32 in physical units, ``mask`` (D, H, W) uint8."""

    image: np.ndarray
    mask: np.ndarray
    label: int


def _grid(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d, h, w = shape
    z = np.arange(d, dtype=np.float32)[:, None, None]
    y = np.linspace(-1, 1, h, dtype=np.float32)[None, :, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, None, :]
    return z, y, x


def _ellipse(
    y: np.ndarray, x: np.ndarray, cy: float, cx: float, ry: float, rx: float, angle: float = 0.0
) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = y - cy, x - cx
    u, v = dx * c + dy * s, -dx * s + dy * c
    return np.asarray((u / rx) ** 2 + (v / ry) ** 2 <= 1.0)


def _lesion_params(rng: np.random.Generator, label: int) -> tuple[float, float, float]:
    """(ry, rx, angle) of a lesion of class ``label`` (1 round, 2 elongated)."""
    # Sizes chosen so that a fully connected network on 32x32 images learns the classes
    # (about 0.85 accuracy with 200 training images) while no single pixel decides them.
    if label == 2:
        r = rng.uniform(0.10, 0.13)
        # Long axis roughly along the organ's long (vertical) axis, so that it fits inside.
        return r, r * rng.uniform(2.2, 2.7), np.pi / 2 + rng.uniform(-0.4, 0.4)
    r = rng.uniform(0.13, 0.19)
    return r, r, 0.0


def make_phantom(
    rng: np.random.Generator,
    *,
    modality: Modality = "CT",
    size: int = 64,
    slices: int = 1,
    label: int = 0,
    lesion: bool | None = None,
) -> Phantom:
    """Draw one phantom.

    Parameters
    ----------
    rng
        Source of every random choice (the same generator state gives the same phantom).
    modality
        ``"CT"`` (values in HU), ``"MR"`` or ``"CR"``.
    size
        Rows and columns.
    slices
        Number of slices ``D`` (1 for projection images such as CR).
    label
        Class: 0 no lesion, 1 round lesion, 2 elongated lesion.
    lesion
        For segmentation studies: force a lesion (of class 1 or 2 shape) on or off,
        overriding ``label``; ``None`` follows ``label``.

    Returns
    -------
    Phantom
        ``image`` (D, H, W) float32, ``mask`` (D, H, W) uint8, and the label.
    """
    t = _TISSUE[modality]
    z, y, x = _grid((slices, size, size))
    scale = rng.uniform(0.9, 1.05)
    cy, cx = rng.uniform(-0.05, 0.05, size=2)
    body = _ellipse(y, x, cy, cx, 0.72 * scale, 0.88 * scale)  # (1, H, W)
    inner = _ellipse(y, x, cy, cx, 0.64 * scale, 0.80 * scale)
    sep = rng.uniform(0.36, 0.44) * scale
    oy, orx, ory = cy - 0.05, 0.27 * scale, 0.42 * scale
    organ = _ellipse(y, x, oy, cx - sep, ory, orx) | _ellipse(y, x, oy, cx + sep, ory, orx)
    organ = organ & body
    core = _ellipse(y, x, cy + 0.45 * scale, cx, 0.12, 0.12) & body

    image = np.full((slices, size, size), t["air"], np.float32)
    image[np.broadcast_to(body, image.shape)] = t["body"]
    image[np.broadcast_to(body & ~inner, image.shape)] = t["fat"]
    image[np.broadcast_to(organ, image.shape)] = t["organ"] + rng.normal(0, t["texture"])
    image[np.broadcast_to(core, image.shape)] = t["core"]
    mask = np.zeros(image.shape, np.uint8)
    mask[np.broadcast_to(organ, image.shape)] = 1

    has_lesion = label > 0 if lesion is None else lesion
    if has_lesion:
        shape_class = label if label > 0 else int(rng.integers(1, 3))
        _add_lesion(rng, image, mask, organ, t["lesion"], shape_class, (z, y, x))

    texture = gaussian_filter(rng.normal(0, 1, image.shape).astype(np.float32), sigma=(0, 2, 2))
    image += t["texture"] * texture * np.broadcast_to(body, image.shape) * 2.0
    image += rng.normal(0, t["noise"], image.shape).astype(np.float32)
    return Phantom(image=image.astype(np.float32), mask=mask, label=label)


def _add_lesion(
    rng: np.random.Generator,
    image: np.ndarray,
    mask: np.ndarray,
    organ: np.ndarray,
    value: float,
    shape_class: int,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    z, y, x = grid
    slices = image.shape[0]
    ry, rx, angle = _lesion_params(rng, shape_class)
    # Centre drawn among organ pixels far enough inside that most of the lesion is in it.
    h, w = organ.shape[-2:]
    depth = distance_transform_edt(organ.reshape(h, w))
    ys, xs = np.nonzero(depth >= max(1.0, 0.8 * ry * (h - 1) / 2))
    if len(ys) == 0:
        ys, xs = np.nonzero(organ.reshape(h, w))
    pick = int(rng.integers(len(ys)))
    ly = -1 + 2 * ys[pick] / (h - 1)
    lx = -1 + 2 * xs[pick] / (w - 1)
    cz = float(rng.uniform(1, slices - 2)) if slices > 3 else (slices - 1) / 2
    rz = max(1.0, slices / 6)
    in_plane_scale = np.sqrt(np.clip(1 - ((z - cz) / rz) ** 2, 0, 1))
    lesion = _ellipse(y, x, ly, lx, ry, rx, angle)
    lesion = (
        lesion
        & (in_plane_scale > 0)
        & _ellipse(y, x, ly, lx, ry * in_plane_scale + 1e-6, rx * in_plane_scale + 1e-6, angle)
    )
    lesion = lesion & organ
    image[lesion] = value + rng.normal(0, 10)
    mask[lesion] = 2
