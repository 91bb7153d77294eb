"""Counts in messages: ``1 patient``, ``3 patients``, ``1 series``; never ``1 patients``.

Messages said ``1 files failed``, ``1 tasks`` or ``1 patient(s)``: :func:`counted` gives the
noun its number (:func:`word` the noun alone), and :func:`are` the verb that follows it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["are", "counted", "did_you_mean", "word"]

#: Nouns whose plural is not the noun plus "s" (or "es" after s, x, ch, sh).
_PLURALS = {"series": "series", "study": "studies", "copy": "copies", "entry": "entries",
            "epoch": "epochs"}  # fmt: skip


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in its number: the singular for 1, else ``plural``.

    By default the plural is the noun plus "s" ("es" after s, x, ch or sh); "series" stays
    "series".

    Examples
    --------
    >>> counted(1, "patient"), counted(3, "patient"), counted(0, "file")
    ('1 patient', '3 patients', '0 files')
    >>> counted(1, "series"), counted(2, "class"), counted(2, "study"), counted(2, "epoch")
    ('1 series', '2 classes', '2 studies', '2 epochs')
    >>> counted(2, "image file", "image files")
    '2 image files'
    """
    return f"{n} {word(n, noun, plural)}"


def word(n: int, noun: str, plural: str | None = None) -> str:
    """``noun`` in the number of ``n``, without the count (:func:`counted` says how).

    Examples
    --------
    >>> f"ROC AUC is undefined for {word(1, 'class')} [2]", word(3, "class")
    ('ROC AUC is undefined for class [2]', 'classes')
    """
    if n == 1:
        return noun
    if plural is None:
        head, _, last = noun.rpartition(" ")
        many = _PLURALS.get(last) or (
            last + "es" if last.endswith(("s", "x", "ch", "sh")) else last + "s"
        )
        plural = f"{head} {many}" if head else many
    return plural


def are(n: int, singular: str = "is", plural: str = "are") -> str:
    """The verb after a count of ``n``: ``is`` for 1, else ``are`` (or the forms given).

    Examples
    --------
    >>> f"{counted(1, 'file')} {are(1)} missing", are(2, "has", "have")
    ('1 file is missing', 'have')
    """
    return singular if n == 1 else plural


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the choice closest to a misspelt ``name``, else ``""``.

    Closest by difflib's ratio, at least 0.6. It ends a message that lists every valid choice,
    where the one meant is easily lost among 30 others.

    Examples
    --------
    >>> did_you_mean("epcohs", ["batch_size", "epochs"]), did_you_mean("mlp", ["unet"])
    ("; did you mean 'epochs'?", '')
    """
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
