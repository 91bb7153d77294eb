"""On-disk cache of preprocessed samples as memory-mapped NPY files.

Layout: ``FOLDER/<fingerprint>/<key>.image.npy``, ``<key>.mask.npy`` (when there is a mask)
and ``<key>.json`` (label and metadata), the JSON written last so that its presence means
the entry is complete. Every file is written atomically (temp file, then rename), so
DataLoader workers may fill the cache concurrently; two workers writing the same entry
produce identical files. The fingerprint changes whenever the cached stages' parameters or
fitted state change, so a stale cache is never read.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io_atomic import atomic_write_bytes, atomic_write_text
from pipeline.sample import Sample
from pipeline.stage import Pipeline

__all__ = ["SampleCache", "pipeline_fingerprint"]


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


def pipeline_fingerprint(pipeline: Pipeline | None, source: str) -> str:
    """A 16-hex key of the stages' config, their fitted state, and the data ``source``."""
    h = hashlib.sha256(source.encode())
    if pipeline is not None:
        h.update(json.dumps(pipeline.to_config(), sort_keys=True, default=str).encode())
        for _, stage in pipeline:
            for key, value in sorted(stage.state_dict().items()):
                arr = np.ascontiguousarray(np.asarray(value))
                h.update(key.encode())
                h.update(str(arr.dtype).encode() + str(arr.shape).encode())
                h.update(arr.tobytes())
    return h.hexdigest()[:16]


class SampleCache:
    """Store and load preprocessed samples under ``folder / fingerprint``.

    Parameters
    ----------
    folder
        The cache root (created on first write).
    fingerprint
        From :func:`pipeline_fingerprint`.
    """

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder = Path(folder) / fingerprint

    def _paths(self, key: str) -> tuple[Path, Path, Path]:
        return (
            self.folder / f"{key}.image.npy",
            self.folder / f"{key}.mask.npy",
            self.folder / f"{key}.json",
        )

    def get(self, key: str) -> Sample | None:
        """The cached sample (arrays memory-mapped read-only), or ``None`` on a miss."""
        image_path, mask_path, meta_path = self._paths(key)
        if not meta_path.is_file():
            return None
        info = json.loads(meta_path.read_text())
        image = np.load(image_path, mmap_mode="r", allow_pickle=False)
        mask = np.load(mask_path, mmap_mode="r", allow_pickle=False) if info["mask"] else None
        meta = info["meta"]
        if "spacing" in meta and meta["spacing"] is not None:
            meta["spacing"] = tuple(meta["spacing"])
        return Sample(image=image, mask=mask, label=info["label"], meta=meta)

    def put(self, key: str, sample: Sample) -> None:
        """Write ``sample`` (atomically, JSON last)."""
        image_path, mask_path, meta_path = self._paths(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        _save_npy(image_path, sample.image)
        if sample.mask is not None:
            _save_npy(mask_path, sample.mask)
        info = {
            "label": sample.label,
            "mask": sample.mask is not None,
            "meta": _jsonable(sample.meta),
        }
        atomic_write_text(meta_path, json.dumps(info))


def _save_npy(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
