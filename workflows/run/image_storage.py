"""How an image file stores its values, and new images stored unlike the run's own.

An 8-bit PNG holds 0..255, a 16-bit one 0..65535: both are read as their stored numbers, so a
run trained on 8-bit PNGs and given a 16-bit PNG (the same picture, 256x the values) predicted
it as class 1 with probability 1.000 and said nothing. ``radpipe predict`` and ``radpipe
evaluate`` of a ``data.kind: images`` run now say how many new images are stored in a way no
training image of the run was (PNG bit depth, NPY and NIfTI data type), as they say other
pixel sizes; the images are predicted all the same (a float NPY may hold the same scale).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.words import counted

log = logging.getLogger("radpipe")

__all__ = [
    "say_mixed_storage",
    "say_other_storage",
    "storage_kind",
    "training_storage",
    "value_scale",
]

#: Pillow's modes of 16 bits per sample (a 16-bit grey PNG opens as one of these).
_SIXTEEN = {"I", "I;16", "I;16B", "I;16L", "I;16N"}


def storage_kind(path: Path) -> str:
    """``"8-bit PNG"``, ``"16-bit PNG"``, ``"NPY uint8"``, ``"NIfTI int16"``, ...: the file's
    sample type, read from its header only; ``""`` when it cannot be read (said elsewhere).

    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.zeros((2, 2), np.uint16)).save(folder / "a.png")
    >>> storage_kind(folder / "a.png")
    '16-bit PNG'
    """
    from pipeline.data.io import image_suffix

    suffix = image_suffix(path)
    try:
        if suffix == ".png":
            from PIL import Image

            with Image.open(path) as image:  # the header only: nothing decoded
                return ("16-bit" if image.mode in _SIXTEEN else "8-bit") + " PNG"
        if suffix == ".npy":
            import numpy as np

            return f"NPY {np.load(path, mmap_mode='r', allow_pickle=False).dtype}"
        if suffix in (".nii", ".nii.gz"):
            import nibabel as nib

            return f"NIfTI {nib.load(path).get_data_dtype()}"  # type: ignore[attr-defined]
    except Exception:  # unreadable files are skipped and named by the readers
        return ""
    return ""


def value_scale(kind: str) -> str:
    """What range a kind's values span: ``"8-bit"``, ``"16-bit"``, ... for whole numbers
    (an 8-bit PNG and an NPY ``uint8`` alike), ``"float"`` for floating point (of any width:
    float32 and float64 hold the same numbers).

    >>> [value_scale(k) for k in ("8-bit PNG", "NPY uint16", "NIfTI int16", "NPY float64")]
    ['8-bit', '16-bit', '16-bit', 'float']
    """
    if kind.endswith(" PNG"):
        return kind.removesuffix(" PNG")
    dtype = kind.rsplit(" ", 1)[-1]
    if dtype.startswith("float"):
        return "float"
    bits = "".join(c for c in dtype if c.isdigit())
    return f"{bits}-bit" if bits else dtype


def training_storage(files: Sequence[Path]) -> Counter[str]:
    """The storage kinds of the run's training and validation images (their ``files``, from
    :func:`workflows.run.seen_images.fitted_images`); empty when they are gone."""
    return Counter(k for k in map(storage_kind, files) if k)


def say_other_storage(trained: Counter[str], new: Sequence[Path], verb: str) -> dict[str, int]:
    """Warn about the ``new`` images whose values span another range (:func:`value_scale`)
    than every ``trained`` one's (float64 for float32 is the same); returns
    ``{kind: count}`` of those (empty when the run's own images are gone: nothing to tell).

    E.g. ``2 of the 10 images predicted are stored unlike every training image of the run
    (2 as 16-bit PNG; the training images: 8-bit PNG: 18): their values may be on another
    scale (an 8-bit PNG holds 0..255, a 16-bit one 0..65535); convert them as the training
    images were``.
    """
    if not trained:
        return {}
    scales = {value_scale(k) for k in trained}
    other = Counter(k for k in map(storage_kind, new) if k and value_scale(k) not in scales)
    if other:
        found = ", ".join(f"{n} as {k}" for k, n in sorted(other.items()))
        had = ", ".join(f"{k}: {n}" for k, n in sorted(trained.items()))
        log.warning(
            "%d of the %s %s are stored unlike every training image of the run (%s; the "
            "training images: %s): their values may be on another scale (an 8-bit PNG holds "
            "0..255, a 16-bit one 0..65535); convert them as the training images were",
            sum(other.values()), counted(len(new), "image"), verb, found, had,
        )  # fmt: skip
    return dict(other)


def say_mixed_storage(
    kinds: Mapping[str, Sequence[str]], listed: str, key: str = "data.labels"
) -> None:
    """Warn when the images of one list (``{kind: [names]}``) span several value ranges
    (:func:`value_scale`): 8-bit and 16-bit PNGs of one training set are 256x apart and the
    model learns them as given (until 2026-12-03 nothing was said). ``key``: what gave the
    list (``--labels`` for ``radpipe evaluate``'s)."""
    kinds = {k: v for k, v in kinds.items() if k}
    if len({value_scale(k) for k in kinds}) < 2:
        return
    found = ", ".join(f"{len(v)} {k} (e.g. {v[0]})" for k, v in sorted(kinds.items()))
    log.warning(
        "%s: the images named in %s are stored in ways whose values span different ranges "
        "(%s; an 8-bit PNG holds 0..255, a 16-bit one 0..65535): the model learns them as "
        "given; convert them alike", key, listed, found,
    )  # fmt: skip
