"""Batch DICOM conversion: planning and manifest (:mod:`.batch`, :mod:`.series_plan`), worker
tasks (:mod:`.tasks`), the collector's scratch store on disk (:mod:`.store`) and the Dask back
end (:mod:`.dask_backend`). Imports only ``pipeline``.

``from workflows.convert import ConvertOptions, convert_folder`` is the short path the README uses.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConvertOptions", "convert_folder"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from workflows.convert import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'workflows.convert' has no attribute {name!r}")
