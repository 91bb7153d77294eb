"""A note whose words hold "; " (the problems cell's separator) stays one note.

Expected cells written by hand: the note's own "; " reads ", ", the notes are parted by "; ".
"""

from __future__ import annotations

from pipeline.dicom.notes import add_notes, cell_notes, join_notes, merge_cells

CINE = "cine: 3 frames; the first written"  # a note worded with the separator inside
CINE_CELL = "cine: 3 frames, the first written"


def test_a_note_with_the_separator_inside_is_one_note_of_the_cell() -> None:
    cell = join_notes([CINE, None, "", "tilt kept: 15 degrees"])
    assert cell == "cine: 3 frames, the first written; tilt kept: 15 degrees"
    assert cell_notes(cell) == [CINE_CELL, "tilt kept: 15 degrees"]


def test_merging_cells_and_notes_keeps_each_note_once_and_whole() -> None:
    cell = join_notes([CINE])
    assert add_notes(cell, [CINE, "resampled: 2 mm"]) == f"{CINE_CELL}; resampled: 2 mm"
    assert merge_cells(cell, "resampled: 2 mm; " + cell) == f"{CINE_CELL}; resampled: 2 mm"
    assert cell_notes("") == [] and join_notes([]) == ""
