"""Images of a ``data.kind: images`` list that cannot be loaded, found before a run directory
is made.

An image that could not be loaded (NaN or infinite values, a truncated or pickled NPY, a
damaged PNG) stopped the run once its directory had been made, at the first such file, named
by its base name alone (``train_005.npy: 1 of 784 values are NaN or infinite ...``), and the
advice printed with it (fix the cause, then ``radpipe run --resume``) could not be followed:
the repaired file changed ``data.source``, so the resume was refused. Every image of the list
is now loaded once before the run starts (as every mask file is), and all that cannot be are
listed together, each by its path as the CSV gives it and its line.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from pipeline.cells import csv_rows, csv_text, name_lines
from pipeline.data.io import csv_path, load_image, readable_format
from pipeline.errors import RadpipeError
from pipeline.words import are, counted

__all__ = ["unreadable_images"]

_SHOWN = 5


def unreadable_images(labels: Path, source: Path, columns: list[str]) -> list[str]:
    """A problem listing the images of the list ``labels`` (paths relative to ``source``)
    that cannot be loaded as the run loads them (:func:`pipeline.data.io.load_image`), with
    the reason and the CSV lines of each; empty when every image loads. Files that are not
    there, or of no format radpipe reads, are left to
    :mod:`workflows.run.image_files`, which names them.

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 of 220 images named in list.csv cannot be loaded (nothing was
        run): img/a.npy (line 7): 1 of 784 values are NaN or infinite ...``.
    """
    if "image" not in columns:
        return []
    lines: dict[str, list[int]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        if name := (row.get("image") or "").strip():
            lines[name].append(row.line)
    reasons, loaded = {}, {}  # two spellings of one file (a.png, ./a.png) are loaded once
    for name in lines:
        path = csv_path(source, name)
        if not readable_format(name) or not path.is_file():
            continue
        key = path.resolve()
        if key not in loaded:
            loaded[key] = _reason(path)
        if loaded[key]:
            reasons[name] = loaded[key]
    if not reasons:
        return []
    listed = [f"{name} ({name_lines(lines[name])}): {why}"
              for name, why in list(reasons.items())[:_SHOWN]]  # fmt: skip
    more = f"; and {len(reasons) - _SHOWN} more" if len(reasons) > _SHOWN else ""
    return [
        f"data.labels: {len(reasons)} of {counted(len(lines), 'image')} named in "
        f"{labels.name} {are(len(reasons))} not loadable (nothing was run): "
        + "; ".join(listed)
        + more
    ]


def _reason(path: Path) -> str:
    """Why ``path`` cannot be loaded as an image, without its base name (the caller names it
    by its path in the CSV); empty when it loads."""
    try:
        load_image(path)
    except RadpipeError as err:
        text = str(err)
        return text.removeprefix(f"{path.name}: ").rstrip(".")
    return ""
