"""Text burned into the pixels, as the header says (BurnedInAnnotation (0028,0301)).

An image whose BurnedInAnnotation is ``YES`` "contains sufficient burned in annotation to
identify the patient" (PS3.3 C.7.6.1.1.7): a name, a date or an ID drawn into the pixels of a
radiograph, an ultrasound or a secondary capture. Converted, the text is in the outputs (a
privacy risk wherever they are shared) and a model can learn it in place of the anatomy (a
shortcut: a site's or a device's lettering). Until 2026-12-03 only the run report acted on
the flag (:mod:`workflows.run.burned_in`); ``inspect`` and ``convert`` now say it per file,
without showing any of the text (radpipe does not read it; only the header flag is read, and
text in an image whose header does not say so is not detected).
"""

from __future__ import annotations

from typing import Any

__all__ = ["burned_in_note"]


def burned_in_note(ds: Any) -> str | None:
    """The note of an image whose header says it holds burned-in text; else ``None``.

    ``NO`` and an absent or empty value say nothing; any other value than ``YES`` (a
    misspelt one) is said as unsure, the value itself not shown.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.BurnedInAnnotation = "NO"
    >>> burned_in_note(ds) is None
    True
    """
    value = str(ds.get("BurnedInAnnotation") or "").strip(" \x00").upper()
    if value in ("", "NO"):
        return None
    name = "BurnedInAnnotation (0028,0301)"
    what = f"{name} YES" if value == "YES" else f"{name} neither YES nor NO"
    holds = "hold" if value == "YES" else "may hold"
    return (f"{what}: the pixels {holds} burned-in text, often identifying the patient "
            "(PS3.3 C.7.6.1.1.7), kept in the outputs: a privacy risk where they are shared, "
            "and a shortcut a model can learn")  # fmt: skip
