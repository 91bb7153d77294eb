"""Whole-slide images: frames that are tiles of one picture, not slices or time points.

A VL Whole Slide Microscopy image (PS3.3 A.32.8) stores its TotalPixelMatrixRows x
TotalPixelMatrixColumns picture as Rows x Columns tiles, one per frame, placed by
DimensionOrganizationType TILED_FULL (row by row, then focal planes, then optical paths) or,
TILED_SPARSE, by each frame's RowPosition/ColumnPositionInTotalImagePixelMatrix (PS3.3
C.7.6.17.3, C.8.12.4). Read as a multi-frame image, its tiles were stacked as the slices of a
volume "without geometry" (slideio #24 reads the first tile as the whole slide). radpipe
does not assemble tiles: such a series is refused with the reason, and per instance each
tile is written as the frame it is, with that reason in its row.
"""

from __future__ import annotations

from typing import Any

__all__ = ["tiled_picture"]


def tiled_picture(ds: Any, rows: int, columns: int, frames: int) -> str:
    """Why ``ds``'s frames are no volume (tiles of a whole-slide picture), else ``""``."""
    organization = str(ds.get("DimensionOrganizationType", "") or "").strip().upper()
    try:
        total = (int(ds.get("TotalPixelMatrixRows") or 0),
                 int(ds.get("TotalPixelMatrixColumns") or 0))  # fmt: skip
    except (TypeError, ValueError):
        total = (0, 0)
    tiled = organization in ("TILED_FULL", "TILED_SPARSE") or total[0] > rows or total[1] > columns
    if frames < 2 or not tiled or not all(total):
        return ""
    how = organization or "a TotalPixelMatrix larger than one frame"
    return (
        f"whole-slide image: its {frames:,} frames are {rows}x{columns} tiles of one "
        f"{total[0]}x{total[1]} picture ({how}), not slices, radpipe does not assemble "
        "tiles (read it with wsidicom or highdicom)"
    )
