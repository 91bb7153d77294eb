"""The installed radpipe's version, as outputs record it.

Conversion cache keys, NIfTI JSON sidecars' ``ConversionSoftwareVersion``, DICOM SEG's
algorithm identification and ``radpipe --version`` all take it from here.
"""

from __future__ import annotations

from functools import cache

__all__ = ["radpipe_version"]


@cache
def radpipe_version() -> str:
    """The installed ``radpipe`` distribution's version.

    ``"unknown"`` when it is not installed (the source tree imported from its folder).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("radpipe")
    except PackageNotFoundError:
        return "unknown"
