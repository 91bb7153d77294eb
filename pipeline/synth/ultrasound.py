"""Fetal head ultrasound phantoms: a B-mode sector with speckle and an elliptic skull.

The kind of image the head circumference (HC) is measured on (the HC18 challenge, van den
Heuvel et al. 2018): the skull is a bright elliptic ring, echoes along the beam brighter than
those across it, the brain inside darker with a midline echo, amniotic fluid around it, all
under multiplicative speckle inside a sector-shaped field of view. The mask is the filled
ellipse of the outer border of the skull, as HC18's sonographers drew it (mask values
0 background, 1 head).

Classes (``label``): 0 = small head, 1 = large head (the ellipse's semi-major axis below or
above the middle of the drawn range), so that a split can be stratified and a classifier
has a signal.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from pipeline.synth.phantoms import Phantom

US_CLASS_NAMES = ("small_head", "large_head")
US_MASK_CLASSES = ("background", "head")

#: Semi-major axis of the head, as a fraction of the image's half-width.
_MAJOR = (0.34, 0.62)
#: The field of view: a sector of this half-angle (degrees) and these radii from an apex this
#: far above the image's centre (in half-widths).
_HALF_ANGLE, _RADII, _APEX = 35.0, (0.2, 2.25), 1.15


def _sector(y: np.ndarray, x: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """The field of view: a 70-degree sector from an apex just above the image.

    ``margin`` (in half-widths) shrinks it on every side.
    """
    dy, dx = y + _APEX, x
    radius = np.hypot(dx, dy)
    off_axis = np.abs(np.arctan2(dx, dy))
    inside = off_axis <= np.radians(_HALF_ANGLE)
    # distance to the sector's straight edges: radius * sin(half-angle - |angle|)
    edge = radius * np.sin(np.radians(_HALF_ANGLE) - off_axis)
    lo, hi = _RADII
    return np.asarray(inside & (edge >= margin) & (radius >= lo + margin) & (radius <= hi - margin))


def _draw_centre(
    rng: np.random.Generator, major: float, minor: float, angle: float, size: int
) -> tuple[float, float]:
    """A centre at which the whole head lies inside the image and the imaged sector.

    The standard plane HC is measured on shows the whole skull (ISUOG, Salomon et al. 2019);
    a head partly outside the sector would have a mask over pixels that show nothing.
    """
    margin = major + 0.04
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    c, s = np.cos(angle), np.sin(angle)
    ox = major * np.cos(t) * c - minor * np.sin(t) * s  # the outline around the centre
    oy = major * np.cos(t) * s + minor * np.sin(t) * c
    for _ in range(1000):
        cy = float(rng.uniform(-0.25, 0.95 - margin)) if margin < 0.95 else 0.0
        cx = float(rng.uniform(-(0.9 - margin), 0.9 - margin)) if margin < 0.9 else 0.0
        if _sector(cy + oy, cx + ox, margin=2.0 / size).all():
            return cy, cx
    return 0.35, 0.0  # on the beam's axis, below the top: inside for every drawn size


def make_us_head(rng: np.random.Generator, *, size: int = 64) -> Phantom:
    """Draw one fetal head phantom.

    Parameters
    ----------
    rng
        Source of every random choice (the same generator state gives the same phantom).
    size
        Rows and columns.

    Returns
    -------
    Phantom
        ``image`` (1, H, W) float32 echo amplitudes in [0, 255] (8-bit B-mode display
        values), ``mask`` (1, H, W) uint8 (1 inside the outer border of the skull) and
        ``label`` (0 small head, 1 large head).
    """
    y = np.linspace(-1, 1, size, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, size, dtype=np.float32)[None, :]
    major = float(rng.uniform(*_MAJOR))
    minor = major * float(rng.uniform(0.72, 0.86))
    angle = float(rng.uniform(-np.pi / 2, np.pi / 2))
    cy, cx = _draw_centre(rng, major, minor, angle, size)
    c, s = np.cos(angle), np.sin(angle)
    u = (x - cx) * c + (y - cy) * s  # along the major axis
    v = -(x - cx) * s + (y - cy) * c
    rho = np.sqrt((u / major) ** 2 + (v / minor) ** 2)  # 1 on the outer border
    head = rho <= 1.0
    thickness = float(rng.uniform(0.06, 0.10))
    skull = head & (rho >= 1.0 - thickness)
    brain = rho < 1.0 - thickness
    fluid = (rho > 1.0) & (rho <= float(rng.uniform(1.12, 1.3)))

    # Tissue background with smooth texture; fluid dark; brain darker than tissue.
    image = 70.0 + 25.0 * gaussian_filter(rng.normal(0, 1, (size, size)), sigma=size / 32)
    image = np.where(fluid, 12.0, image)
    image = np.where(brain, 40.0, image)
    # The skull echoes most where the beam (vertical) meets it head-on: brightness follows
    # how vertical the outline's normal is (specular reflection), as the sides fade in scans.
    ny = (u / major**2) * s + (v / minor**2) * c  # y component of the normal, unnormalised
    nx = (u / major**2) * c - (v / minor**2) * s
    facing = np.abs(ny) / np.maximum(np.hypot(nx, ny), 1e-6)
    image = np.where(skull, 90.0 + 140.0 * facing, image)
    midline = brain & (np.abs(v) <= 0.012 + 0.5 / size) & (np.abs(u) <= 0.75 * major)
    image = np.where(midline, 120.0, image)
    speckle = rng.rayleigh(1.0, (size, size)) / np.sqrt(np.pi / 2)  # mean 1
    image = gaussian_filter(image * speckle, sigma=0.6)
    image = np.where(_sector(y, x), image, 0.0)
    image = np.clip(image, 0, 255).astype(np.float32)[None]
    mask = head.astype(np.uint8)[None]
    label = int(major > sum(_MAJOR) / 2)
    return Phantom(image=image, mask=mask, label=label)
