"""What ``convert.window: header`` did, told to the user (issue 18.5).

``header`` applies each file's own window; a file without window tags stays unwindowed
(recorded as ``none`` in the manifest): NPY then holds modality values and PNG the full
stored range, while windowed images hold [0, 1]. The run says so rather than mixing scales
silently.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("radpipe")

__all__ = ["note_unwindowed"]


def note_unwindowed(root: Path, window: str) -> int:
    """Warn when ``window: header`` left some images of the conversion in ``root``
    unwindowed; returns how many."""
    if window.strip().lower() != "header":
        return 0
    from pipeline.data.io import read_manifest

    rows = read_manifest(root / "manifest.csv")
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
