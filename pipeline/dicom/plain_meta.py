"""The parts of a :class:`~pipeline.dicom.plain.PlainDataset` that pydicom answers for.

The file read by pydicom once, on first need (:class:`FullRead`), the File Meta the plain
reading holds (:class:`FileMeta`), and UIDs made once per distinct value (:func:`uid`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_UIDS: dict[str, Any] = {}


def uid(text: str) -> Any:
    """``pydicom.uid.UID(text)``, made once per distinct value (a UID is immutable)."""
    known = _UIDS.get(text)
    if known is None:
        from pydicom.uid import UID

        if len(_UIDS) >= 64:
            _UIDS.clear()
        known = _UIDS[text] = UID(text)
    return known


class FullRead:
    """The file read by pydicom once, on first need.

    Shared by the dataset and its File Meta, so that neither refers to the other: no reference
    cycle, and the file's bytes are freed as soon as the dataset is unused.
    """

    __slots__ = ("_dataset", "_defer", "_path", "calls")

    def __init__(self, path: str | Path, defer: int | None) -> None:
        self._path, self._defer = path, defer
        self._dataset: Any = None
        self.calls = 0

    def __call__(self) -> Any:
        """The pydicom Dataset (read now if not yet)."""
        self.calls += 1
        if self._dataset is None:
            from pydicom import dcmread

            self._dataset = dcmread(self._path, defer_size=self._defer)
        return self._dataset


class FileMeta:
    """File Meta: TransferSyntaxUID and MediaStorageSOPClassUID held, the rest via pydicom."""

    def __init__(self, values: dict[str, Any], full: FullRead) -> None:
        self._values, self._full = values, full

    def get(self, key: str, default: Any = None) -> Any:
        """A File Meta value, like ``pydicom.FileMetaDataset.get``."""
        if key in self._values:
            return self._values[key]
        if key == "MediaStorageSOPClassUID":
            return default
        return self._full().file_meta.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._full().file_meta

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        return getattr(self._full().file_meta, name)


__all__ = ["FileMeta", "FullRead", "uid"]
