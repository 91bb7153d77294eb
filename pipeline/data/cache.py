"""On-disk cache of preprocessed samples: one packed, memory-mapped file per array kind.

Layout under ``FOLDER/<fingerprint>/``: ``image.bin`` and ``mask.bin`` (every item's array,
C-order, back to back, each start aligned to 8 bytes) and ``index.json`` (per item: byte
offset, shape and dtype of the image and mask, the label and the metadata). ``index.json``
is written last and atomically, so its presence means the cache is complete.

The whole dataset is packed once, by whichever process first needs it, under a lock
(``FOLDER/<fingerprint>.lock``, :mod:`filelock`): DataLoader workers, the DDP ranks of a
node and other runs sharing ``FOLDER`` wait for that one build instead of decoding the same
files again, and then all of them map the same pages of the OS page cache. The builder is
recorded beside the lock (``<fingerprint>.holder.json``, :mod:`pipeline.lock_holder`), so a
process that waits more than a moment says which one it waits for (until 2026-12-03 it
waited without a word). When every item has the same shape and dtype the
images are one strided ``(N, *shape)`` array, and a batch is a single gather
(:meth:`PackedSamples.take`) instead of one file open and one JSON parse per item.

The fingerprint changes whenever the cached stages' parameters or fitted state change, or an
input file the dataset reads (image, mask, manifest, list CSV) changes on disk (its size,
modification time, status-change time or inode: :func:`files_digest`), so a stale cache is
never read. Keep ``FOLDER`` on a disk local to the node: file locks are not
reliable on every network file system. Entries no process has mapped for
:data:`~pipeline.data.cache_use.UNUSED_DAYS` days are removed when a new one is built
(:mod:`pipeline.data.cache_use`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.cache_use import mark_used, say_pruned, use_entry
from pipeline.io_atomic import atomic_path, atomic_write_text
from pipeline.lock_holder import waiting_for
from pipeline.sample import Sample
from pipeline.stage import Pipeline

__all__ = ["PackedSamples", "SampleCache", "files_digest", "pipeline_fingerprint", "stat_facts"]

_ALIGN = 8
_FORMAT = 1

log = logging.getLogger("radpipe")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    return value


def stat_facts(path: str | Path) -> tuple[int, int, int, int]:
    """Size, mtime_ns, ctime_ns and inode of ``path`` (following links).

    What counts as a change: here, in ``radpipe convert``'s resume and in ``radpipe run``'s
    conversion cache key. Raises ``OSError``.
    """
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def files_digest(paths: Iterable[str | Path]) -> str:
    """A hash of each file's name and :func:`stat_facts`, in the given order (nothing read).

    A file rewritten in place (a mask corrected behind an unchanged masks CSV) changes it,
    even with its size and mtime put back (its ctime cannot be); a missing file counts as
    ``missing`` (loading it then says which).
    """
    digest = hashlib.sha256()
    for path in paths:
        try:
            facts = ":".join(map(str, stat_facts(path)))
        except OSError:
            facts = "missing"
        digest.update(f"{os.fspath(path)}\0{facts}\n".encode(errors="surrogateescape"))
    return digest.hexdigest()


def pipeline_fingerprint(pipeline: Pipeline | None, source: str) -> str:
    """A 16-hex key of the stages' config, their fitted state, and the data ``source``."""
    h = hashlib.sha256(f"packed-v{_FORMAT}|{source}".encode())
    if pipeline is not None:
        h.update(json.dumps(pipeline.to_config(), sort_keys=True, default=str).encode())
        for _, stage in pipeline:
            for key, value in sorted(stage.state_dict().items()):
                arr = np.ascontiguousarray(np.asarray(value))
                h.update(key.encode())
                h.update(str(arr.dtype).encode() + str(arr.shape).encode())
                h.update(arr.tobytes())
    return h.hexdigest()[:16]


class _Packer:
    """Appends arrays to one binary file and records where each one went."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = path.open("wb")
        self.size = 0
        self.entries: list[list[Any] | None] = []

    def add(self, array: np.ndarray | None) -> None:
        if array is None:
            self.entries.append(None)
            return
        data = np.ascontiguousarray(array)
        pad = -self.size % _ALIGN
        if pad:
            self.fh.write(b"\0" * pad)
            self.size += pad
        self.entries.append([self.size, list(data.shape), data.dtype.str])
        self.fh.write(data.tobytes())
        self.size += data.nbytes

    def close(self) -> None:
        self.fh.close()


class SampleCache:
    """The packed cache of one dataset under ``folder / fingerprint``.

    Parameters
    ----------
    folder
        The cache root (created on first write).
    fingerprint
        From :func:`pipeline_fingerprint`.
    """

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.root = Path(folder)
        self.folder = self.root / fingerprint

    def complete(self) -> bool:
        """Whether the cache has been fully written."""
        return (self.folder / "index.json").is_file()

    def open_or_build(self, count: int, load: Callable[[int], Sample]) -> PackedSamples:
        """Map the cache, first building it with ``load(0..count-1)`` if it is not there.

        Exactly one process builds; the others block on the lock and then map its files.

        Raises
        ------
        ValueError
            When the cache on disk holds a different number of items than ``count``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        held = use_entry(self.root, self.folder.name)  # before the look: no prune removes it
        if not self.complete():
            with waiting_for(self.root / f"{self.folder.name}.lock", self._say_waiting):
                if not self.complete():
                    self._build(count, load)
            say_pruned(self.root)  # the cache grows: drop the entries long unused
        packed = PackedSamples(self.folder)
        packed.held = held  # in use while mapped
        mark_used(self.folder)
        if len(packed) != count:
            raise ValueError(
                f"Cache {self.folder.name} holds {len(packed)} items; the dataset has {count}."
            )
        return packed

    def _say_waiting(self, holder: str) -> None:
        log.info("waiting for another process building the sample cache %s (%s); this one "
                 "goes on when it is done", self.folder.name, holder)  # fmt: skip

    def _build(self, count: int, load: Callable[[int], Sample]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp*"):  # a killed builder's (we hold the lock)
            stale.unlink(missing_ok=True)
        items: list[dict[str, Any]] = []
        with (
            atomic_path(self.folder / "image.bin") as img_tmp,
            atomic_path(self.folder / "mask.bin") as mask_tmp,
        ):
            images, masks = _Packer(img_tmp), _Packer(mask_tmp)
            try:
                for i in range(count):
                    sample = load(i)
                    images.add(sample.image)
                    masks.add(sample.mask)
                    items.append({"label": sample.label, "meta": _jsonable(sample.meta)})
            finally:
                images.close()
                masks.close()
        for item, img, mask in zip(items, images.entries, masks.entries):
            item["image"], item["mask"] = img, mask
        index = {"format": _FORMAT, "count": count, "items": items}
        atomic_write_text(self.folder / "index.json", json.dumps(index))


def _view(mm: np.ndarray, entry: list[Any]) -> np.ndarray:
    offset, shape, dtype = entry
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    return mm[offset : offset + nbytes].view(dt).reshape(shape)


def _stacked(mm: np.ndarray, entries: Sequence[list[Any] | None]) -> np.ndarray | None:
    """``(N, *shape)`` strided view when every entry has one shape and dtype, else ``None``."""
    if not entries or any(e is None for e in entries):
        return None
    first: list[Any] = entries[0]  # type: ignore[assignment]
    dt = np.dtype(first[2])
    nbytes = int(np.prod(first[1], dtype=np.int64)) * dt.itemsize
    stride = nbytes + (-nbytes % _ALIGN)
    for i, e in enumerate(entries):
        if e is None or e[1] != first[1] or e[2] != first[2] or e[0] != first[0] + i * stride:
            return None
    if nbytes == 0:
        return None
    rows = np.lib.stride_tricks.as_strided(
        mm[first[0] :], (len(entries), nbytes), (stride, 1), writeable=False
    )
    # Splitting the contiguous last axis is always a view, never a copy of the cache.
    return rows.view(dt).reshape(len(entries), *first[1])


class PackedSamples:
    """A read-only view of a complete packed cache (see the module docstring).

    Attributes
    ----------
    images, masks
        ``(N, *shape)`` memory-mapped arrays when all items share shape and dtype, else ``None``.
    labels
        ``(N,)`` int64 when every item is labelled, else ``None``.
    ids
        The items' ``meta["id"]``.
    batchable
        Whether a batch can be gathered column by column: ``images`` is stacked, and the
        labels and masks are each present for every item (and stacked) or for none.
    """

    held: Any = None  # the entry held in use (:mod:`pipeline.data.cache_use`) while mapped

    def __init__(self, folder: Path) -> None:
        index = json.loads((folder / "index.json").read_text())
        self.items: list[dict[str, Any]] = index["items"]
        self._image_mm = _map(folder / "image.bin")
        self._mask_mm = _map(folder / "mask.bin")
        self.images = _stacked(self._image_mm, [it["image"] for it in self.items])
        self.masks = None
        if all(it["mask"] is not None for it in self.items):
            self.masks = _stacked(self._mask_mm, [it["mask"] for it in self.items])
        labels = [it["label"] for it in self.items]
        self.labels = np.array(labels, np.int64) if labels and None not in labels else None
        self.ids = [str(it["meta"].get("id", "<sample>")) for it in self.items]
        unlabelled = all(label is None for label in labels)
        unmasked = all(it["mask"] is None for it in self.items)
        self.batchable = (
            self.images is not None
            and (self.labels is not None or unlabelled)
            and (self.masks is not None or unmasked)
        )

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, index: int) -> Sample:
        """Item ``index`` with memory-mapped, read-only arrays."""
        it = self.items[index]
        image = _view(self._image_mm, it["image"])
        mask = None if it["mask"] is None else _view(self._mask_mm, it["mask"])
        meta = dict(it["meta"])
        if meta.get("spacing") is not None:
            meta["spacing"] = tuple(meta["spacing"])
        return Sample(image=image, mask=mask, label=it["label"], meta=meta)


def _map(path: Path) -> np.ndarray:
    if os.path.getsize(path) == 0:  # np.memmap refuses empty files
        return np.zeros(0, np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")
