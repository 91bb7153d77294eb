"""ICC colour management of colour images (PS3.3 C.11.15): the colours a viewer shows.

A colour image may carry an ICC Profile (0028,2000) (in a whole-slide image, in its Optical
Path Sequence (0048,0105) item): the colour characteristics of the device that made its RGB
samples (a camera, a slide scanner, a fundus camera). A colour-managed viewer converts the
samples through the profile to the display's colour space; read as sRGB, which every PNG
reader assumes, they show other colours (a slide scanner's images dull and light: slim #165,
cuCIM #370; pydicom 3 added ``apply_icc_profile`` for this, pydicom #1244). radpipe wrote the
samples as they are, unsaid. Now its 8-bit outputs (PNG, RGB volumes), the display images,
are converted from the profile to sRGB with littleCMS (Pillow's ImageCms, the profile's own
rendering intent, as pydicom's ``apply_icc_profile`` does), and said; NPY per instance keeps
the samples as stored, as it keeps a grey image's modality values. A profile that is sRGB
(ColorSpace (0028,2002) ``SRGB``, or a description naming sRGB) needs nothing and says
nothing. A profile littleCMS cannot read (dcm4che #1552: four bytes) leaves the samples as
they are, said.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np

from pipeline.dicom.notes import note_text

__all__ = ["icc_profile", "to_srgb"]

_TRANSFORMS: dict[bytes, Any] = {}


def _profile_bytes(ds: Any) -> tuple[bytes | None, str]:
    """The image's ICC profile and where it was found (``None`` when it has none)."""
    value = ds.get("ICCProfile")
    if value:
        return bytes(value), "ICCProfile (0028,2000)"
    paths = ds.get("OpticalPathSequence") or []
    found = {bytes(p.ICCProfile) for p in paths if p.get("ICCProfile")}
    where = "OpticalPathSequence (0048,0105) ICCProfile (0028,2000)"
    if len(found) == 1:
        return found.pop(), where
    return None, f"{len(found)} different {where}s" if found else ""


def icc_profile(ds: Any, color: bool) -> tuple[bytes | None, str | None]:
    """``(profile, note)``: the profile to convert 8-bit outputs from, and what to say.

    ``(None, None)`` for a grey image, an image without a profile or with an sRGB one;
    ``(None, note)`` for a profile that cannot be read (the samples are written as they are).
    """
    if not color:
        return None, None
    profile, where = _profile_bytes(ds)
    if profile is None:  # several optical paths' profiles: each frame's own, not applied
        return None, (f"{where} (one per optical path): not applied, colours written as "
                      "stored, not colour-managed") if where else None  # fmt: skip
    from PIL import ImageCms

    space = str(ds.get("ColorSpace", "") or "").strip().upper()
    try:
        opened = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        name = ImageCms.getProfileDescription(opened).strip()
        if space == "SRGB" or "srgb" in name.lower():
            return None, None  # already the colours an sRGB output shows
        _transform(profile)  # one that cannot convert RGB (a CMYK profile) is said here
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError) as err:
        reason = note_text(str(err).strip() or type(err).__name__)
        return None, (f"{where} is unusable ({len(profile)} bytes, littleCMS: {reason}): "
                      "colours written as stored, not colour-managed")  # fmt: skip
    return profile, (f"{where} {name!r} applied: PNG and other 8-bit colour outputs converted "
                     "from it to sRGB (littleCMS, its rendering intent), as a colour-managed "
                     "viewer shows them (PS3.3 C.11.15), while NPY per instance holds the "
                     "samples as stored")  # fmt: skip


def to_srgb(rgb: np.ndarray, profile: bytes) -> np.ndarray:
    """8-bit RGB ``(H, W, 3)`` converted from ``profile`` to sRGB (perceptual when unset).

    Examples
    --------
    >>> from PIL import ImageCms
    >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    >>> to_srgb(np.full((1, 1, 3), 128, np.uint8), srgb).tolist()
    [[[128, 128, 128]]]
    """
    from PIL import Image, ImageCms

    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    return np.asarray(ImageCms.applyTransform(image, _transform(profile)), dtype=np.uint8)


def _transform(profile: bytes) -> Any:
    """The littleCMS transform from ``profile`` to sRGB (cached by the profile's digest)."""
    from PIL import ImageCms

    key = hashlib.sha1(profile).digest()
    transform = _TRANSFORMS.get(key)
    if transform is None:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        intent = ImageCms.Intent(ImageCms.getDefaultIntent(source))
        target = ImageCms.createProfile("sRGB")
        transform = ImageCms.buildTransform(source, target, "RGB", "RGB", renderingIntent=intent)
        if len(_TRANSFORMS) > 16:
            _TRANSFORMS.clear()
        _TRANSFORMS[key] = transform
    return transform
