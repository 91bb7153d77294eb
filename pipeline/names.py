"""How a message names a series (an image of ``data.kind: images``): by a file the user has.

A series key is a hash of its SeriesInstanceUID (an image key, of the image's path): a user
cannot find it in their data. Messages about series therefore name a file of each series as
the conversion manifest gives it (``source``: relative to ``data.source``, never absolute;
control characters escaped), with the key after it to join it to ``split.csv`` and the run's
tables: ``a/0001.dcm (series 8c1f...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.dicom.files import escape_name

__all__ = ["name_keys", "series_name", "series_sources"]


def series_sources(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{series_key: its first source file}`` of manifest ``rows``.

    The file is the one that sorts first, relative to the DICOM folder, escaped by
    :func:`escape_name`.
    """
    out: dict[str, str] = {}
    for r in rows:
        source = str(r.get("source") or "")
        key = str(r["series_key"])
        if source and (key not in out or source < out[key]):
            out[key] = source
    return {k: escape_name(v) for k, v in out.items()}


def series_name(key: str, sources: Mapping[str, str], unit: str = "series") -> str:
    """How a message names the series ``key``: ``a/0001.dcm (series KEY)``.

    The key alone when no file is known; with ``unit=""`` (an image, whose key is its
    file's) the file alone.

    Examples
    --------
    >>> series_name("8c1f", {"8c1f": "p1/s1/0001.dcm"}), series_name("9d", {})
    ('p1/s1/0001.dcm (series 8c1f)', 'series 9d')
    >>> series_name("7a", {"7a": "img/a.png"}, unit="")
    'img/a.png'
    """
    source = sources.get(key)
    if source is None:
        return f"{unit} {key}".strip()
    return f"{source} ({unit} {key})" if unit else source


def name_keys(
    keys: Sequence[str], sources: Mapping[str, str], unit: str = "series", shown: int = 5
) -> str:
    """The first ``shown`` of ``keys`` named by :func:`series_name`, the rest counted.

    Examples
    --------
    >>> name_keys(["a", "b", "c"], {"a": "x/1.dcm", "b": "y/1.dcm"}, shown=2)
    'x/1.dcm (series a), y/1.dcm (series b) and 1 more'
    """
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(series_name(k, sources, unit) for k in keys[:shown]) + more
