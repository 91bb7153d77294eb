"""What the run's conversion did, told to the user: images ``convert.window: header`` left
unwindowed (issue 18.5), and stacks without one slice spacing (:func:`note_uneven_stacks`).

``header`` applies each file's own window; a file without window tags stays unwindowed
(recorded as ``none`` in the manifest): NPY then holds modality values and PNG the full
stored range, while windowed images hold [0, 1]. The run says so rather than mixing scales
silently.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("radpipe")

__all__ = ["note_uneven_stacks", "note_unwindowed"]


def note_unwindowed(rows: list[dict[str, Any]], window: str) -> int:
    """Warn when ``window: header`` left some images of the conversion (its manifest
    ``rows``, :func:`pipeline.data.io.read_manifest`) unwindowed; returns how many."""
    if window.strip().lower() != "header":
        return 0
    bare = sum(1 for r in rows if r["window"] == "none")
    if bare:
        log.warning(
            "window 'header': %d of %d images have no window in their header (manifest "
            "window 'none'); they hold unwindowed values (modality values in NPY, the full "
            "stored range in PNG), the others the window's [0, 1]. Set convert.window to a "
            "preset or C,W for one scale, or normalise per image (z_score mode: image).",
            bare,
            len(rows),
        )
    return bare


def note_uneven_stacks(rows: list[dict[str, Any]]) -> None:
    """Masks are joined per slice, so ``unit: series`` with masks stacks per-instance slices
    without resampling: say which series of the conversion (its manifest ``rows``) then have
    no single z spacing (distances in the report fall back to voxels)."""
    uneven = sorted({r["series_key"] for r in rows
                     if r["slice_index"] is not None and r["num_slices"] > 1
                     and r["slice_spacing"] is None})  # fmt: skip
    if uneven:
        log.warning(
            "%d series have no single slice spacing (uneven, tilted or unknown; see the "
            "problems column of manifest.csv), so volume distances are reported in voxels: %s",
            len(uneven),
            ", ".join(uneven[:5]) + (" ..." if len(uneven) > 5 else ""),
        )
