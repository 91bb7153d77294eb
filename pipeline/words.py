"""Counts in messages: ``1 patient``, ``3 patients``, ``1 series``; never ``1 patients``.

Messages said ``1 files failed``, ``1 tasks`` or ``1 patient(s)``: :func:`counted` gives the
noun its number, and :func:`are` the verb that follows it.
"""

from __future__ import annotations

__all__ = ["are", "counted"]

#: Nouns whose plural is not the noun plus "s" (or "es" after s, x, ch, sh).
_PLURALS = {"series": "series", "study": "studies", "copy": "copies", "entry": "entries"}


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in its number: the singular for 1, else ``plural``.

    By default the plural is the noun plus "s" ("es" after s, x, ch or sh); "series" stays
    "series".

    Examples
    --------
    >>> counted(1, "patient"), counted(3, "patient"), counted(0, "file")
    ('1 patient', '3 patients', '0 files')
    >>> counted(1, "series"), counted(2, "class"), counted(2, "study")
    ('1 series', '2 classes', '2 studies')
    >>> counted(2, "image file", "image files")
    '2 image files'
    """
    if n == 1:
        return f"{n} {noun}"
    if plural is None:
        head, _, last = noun.rpartition(" ")
        many = _PLURALS.get(last) or (
            last + "es" if last.endswith(("s", "x", "ch", "sh")) else last + "s"
        )
        plural = f"{head} {many}" if head else many
    return f"{n} {plural}"


def are(n: int, singular: str = "is", plural: str = "are") -> str:
    """The verb after a count of ``n``: ``is`` for 1, else ``are`` (or the forms given).

    Examples
    --------
    >>> f"{counted(1, 'file')} {are(1)} missing", are(2, "has", "have")
    ('1 file is missing', 'have')
    """
    return singular if n == 1 else plural
