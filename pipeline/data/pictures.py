"""PNG files read as the pictures they show, and palette masks whose colours disagree.

Palette colours, 1-bit and grey+alpha images (:func:`png_picture`); palette masks whose grey
colours and indices give different classes (:func:`check_palette_mask`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.data.masks import mask_classes
from pipeline.errors import RadpipeError

__all__ = ["check_palette_mask", "png_array", "png_picture"]


def png_picture(path: Path) -> np.ndarray:
    """The pixel values a PNG shows: ``(H, W)`` grey or ``(H, W, 3|4)`` colour.

    A palette (indexed, PNG colour type 3) image stores indices into its palette: read as
    they are, a grey palette's ``[0, 16, 32, ...]`` came back as ``[15, 14, 13, ...]`` when
    the palette was ordered otherwise (torchcodec PR #1543, torchvision's decode_png: a palette
    PNG gives its colours). Its colours are looked up (grey when every colour used is grey);
    a 1-bit image is 0 and 255 as the same picture saved as 8-bit grey (libpng's expansion);
    grey with alpha loses the alpha, as RGBA does.
    """
    with Image.open(path) as im:
        _check_depth(path, im)
        if im.mode in ("P", "PA"):
            has_alpha = im.mode == "PA" or "transparency" in im.info
            colour = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
            rgb = colour[..., :3]
            if (rgb == rgb[..., :1]).all():
                return np.ascontiguousarray(rgb[..., 0])
            return colour
        if im.mode == "1":
            return np.asarray(im.convert("L"))
        if im.mode == "LA":
            return np.ascontiguousarray(np.asarray(im)[..., 0])
        return np.asarray(im)


def check_palette_mask(
    path: Path, indices: np.ndarray, classes: np.ndarray, max_classes: int
) -> None:
    """Refuse a palette PNG mask whose grey colours say other classes than its indices.

    A palette (indexed) PNG stores indices and shows its palette's colours. Label maps in the
    VOC style mean the indices (the colours only tell classes apart on screen), so the
    indices are read. But a grey mask saved as a palette image by an editor or a quantizer
    (PIL's ``convert("P", palette=ADAPTIVE)``, which put white first) stores a white lesion on
    black as index 0 on index 1: read as indices, background and lesion swapped places.
    When every colour used is grey and those grey values, read as a mask, give other classes
    than the indices, which one the user meant cannot be told: refused, naming both.

    Raises
    ------
    RadpipeError
        Naming the file, the index -> grey pairs and ``data.mask_values``.
    """
    with Image.open(path) as im:
        if im.mode != "P":
            return
        shown = np.asarray(im.convert("RGB"))
    grey = shown[..., 0]
    if not ((shown == grey[..., None]).all() and indices.shape == grey.shape):
        return
    try:
        by_grey = mask_classes(grey, path.name, None, max_classes)
    except RadpipeError:
        return  # the grey values are no mask (a display palette): the indices it is
    if np.array_equal(by_grey, classes):
        return
    used = np.unique(indices)
    pairs = ", ".join(f"{int(i)} -> {int(grey[indices == i].flat[0])}" for i in used[:6])
    raise RadpipeError(
        f"{path.name}: a palette PNG mask whose indices and grey colours give different "
        f"classes (index -> grey: {pairs}): read as indices, index {int(used[0])} is class "
        f"{int(classes[indices == used[0]].flat[0])}; as the grey picture shows it, class "
        f"{int(by_grey[indices == used[0]].flat[0])}. Save the mask as a grey (mode L) PNG, or "
        "map its indices with data.mask_values."
    )


def png_array(path: Path) -> np.ndarray:
    """A PNG's stored array as Pillow gives it, refusing what Pillow would narrow."""
    with Image.open(path) as im:
        _check_depth(path, im)
        return np.asarray(im)


#: PNG colour types (IHDR) holding colour or alpha samples beside grey.
_COLOUR_TYPES = {2: "RGB", 4: "grey and alpha", 6: "RGBA"}


def _check_depth(path: Path, im: Image.Image) -> None:
    """Refuse a 16-bit colour or grey+alpha PNG, which Pillow reads as 8-bit samples.

    Pillow has no 16-bit RGB or LA mode: it keeps the high byte of each sample (1000 and
    30000 come back as 3 and 117), so the image would be used at 8 bits without a word.

    Raises
    ------
    RadpipeError
        Naming the file, its bit depth and colour type, and what to save instead.
    """
    if im.mode not in ("RGB", "RGBA", "LA"):  # the modes Pillow narrows them to
        return
    with path.open("rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[12:16] != b"IHDR" or head[24] != 16 or head[25] not in _COLOUR_TYPES:
        return
    if np.asarray(im).dtype.itemsize < 2:
        raise RadpipeError(
            f"{path.name}: a 16-bit {_COLOUR_TYPES[head[25]]} PNG, which Pillow reads as 8-bit "
            "samples (their high bytes only: 1000 becomes 3); save it as NPY, as 8-bit colour, "
            "or as 16-bit grey."
        )
