"""The ``problems`` cell: notes joined by ``"; "``, each note free of ``"; "`` itself.

A file's or a series' notes (a recovered header defect, a cine shown as its first frame, a
series resampled) travel as one text cell of the manifest, joined by :data:`SEPARATOR`, and
are split again where they are merged, deduplicated or counted (the summary's kinds, the
series' warnings). Until 2026-12-03 every place joined and split on its own, and many notes
held ``"; "`` in their words (a cine's, a missing preamble's, a spacing's, ``FOR PROCESSING``'s,
a decoder warning's): split, such a note became two (the summary counted it as two kinds of
problem, and a merge of cells could reorder or drop its halves). Every join and split now
goes through here, and :func:`note_text` writes a note's own ``"; "`` as ``", "`` (it reads
the same), so a cell splits back into the notes that were joined: readers that split the
cell on ``"; "`` (earlier radpipe, a user's script) keep working.

Examples
--------
>>> cell = join_notes(["cine: 3 frames; the first written", "resampled: 2 mm"])
>>> cell
'cine: 3 frames, the first written; resampled: 2 mm'
>>> cell_notes(add_notes(cell, ["cine: 3 frames; the first written", "tilt kept"]))
['cine: 3 frames, the first written', 'resampled: 2 mm', 'tilt kept']
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MOSAIC_WHOLE", "MOSAIC_WORDS", "SEPARATOR", "add_notes", "cell_notes", "join_notes",
           "merge_cells", "note_text"]  # fmt: skip

#: What parts one note from the next in a ``problems`` cell.
SEPARATOR = "; "

#: The note of a Siemens mosaic written per instance: the tiled image as it is stored. Until
#: 2026-12-03 it read "mosaic written undivided (--per series demosaics it)", which newcomers
#: could not decode.
MOSAIC_WHOLE = ("Siemens mosaic written whole, its slices tiled in one image (--per series "
                "cuts it into its slices)")  # fmt: skip
#: Words that mark that note in a manifest's ``problems`` cell, today's and earlier radpipe's.
MOSAIC_WORDS = ("Siemens mosaic written whole", "mosaic written undivided")


def note_text(note: str) -> str:
    """``note`` as one note of a cell: its own ``"; "`` written ``", "``, ends stripped."""
    return note.replace(SEPARATOR, ", ").strip()


def join_notes(notes: Iterable[str | None]) -> str:
    """A ``problems`` cell of ``notes``: each (:func:`note_text`) once, in order.

    Empty notes (``""``, ``None``) are left out.
    """
    said = (note_text(n) for n in notes if n)
    return SEPARATOR.join(dict.fromkeys(n for n in said if n))


def cell_notes(cell: str) -> list[str]:
    """The notes of a ``problems`` cell, in order (``[]`` for an empty cell)."""
    return [n for n in (p.strip() for p in cell.split(SEPARATOR)) if n]


def merge_cells(*cells: str) -> str:
    """One ``problems`` cell of the notes of several: each note once, in order."""
    return join_notes(n for cell in cells for n in cell_notes(cell))


def add_notes(cell: str, notes: Iterable[str | None]) -> str:
    """The ``problems`` cell ``cell`` with ``notes`` after its own, each note once."""
    return join_notes([*cell_notes(cell), *notes])
