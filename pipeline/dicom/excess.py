"""What pixel data longer than its header says may be: whole frames the header does not count."""

from __future__ import annotations

from typing import Any


def whole_frames_hint(ds: Any, have: int, needed: int) -> str:
    """``", enough for exactly N frames ..."``, when the excess is N - 1 whole frames; ``""``.

    A multi-frame file without NumberOfFrames (0028,0008) (some ultrasound and secondary
    capture writers leave it out) is read as one frame, as pydicom and dcmtk read it; the
    excess note alone did not say that the rest were frames, readable with the attribute set.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> whole_frames_hint(Dataset(), 12, 4)
    ', enough for exactly 3 frames of this size: NumberOfFrames (0028,0008) is absent, so only the first is read'
    >>> whole_frames_hint(Dataset(), 10, 4)
    ''
    """  # noqa: E501
    if "NumberOfFrames" in ds or needed <= 0 or have % needed or have // needed < 2:
        return ""
    return (f", enough for exactly {have // needed} frames of this size: NumberOfFrames "
            "(0028,0008) is absent, so only the first is read")  # fmt: skip
