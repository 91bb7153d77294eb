"""CT padding outside the scan circle that no PixelPaddingValue marks: said, not guessed.

Many CT series fill the corners outside the reconstructed circle with one value far below
air (-2000 stored, -3024 HU; -2048 HU) without a Pixel Padding Value (0028,0120). Nothing
then tells those pixels from data: the manifest's ``padding`` column is empty, and a z-score
or mean over the volume counts thousands of -3024 HU pixels that hold no data. radpipe does
not invent a padding value (a real -3024 would be masked wrongly); :func:`unmarked_padding_note`
says what it found, so the user can mask it: every corner of every frame at the image's
minimum, that minimum below -1500 HU (well below air, -1000), on at least 5 % of the pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.units import value_unit

__all__ = ["unmarked_padding_notes"]

#: HU below which a constant border cannot be air (-1000) or air's noise
BELOW_AIR = -1500.0
#: the least share of pixels the border must cover (a 512 circle leaves 21 % outside)
SHARE = 0.05


def unmarked_padding_notes(
    ds: Any, stored: np.ndarray, frame: Any, padding: tuple[int, int] | None,
    span: tuple[int, int] | None = None,
) -> list[str]:  # fmt: skip
    """``[note]`` when ``stored`` looks padded at its minimum without a PixelPaddingValue.

    ``frame``: frame 0's :class:`~pipeline.dicom.frame_info.FrameInfo` (its rescale);
    ``padding``: the stored padding range the header gives (then nothing is said);
    ``span``: the smallest and largest stored value, when known (the note needs the
    smallest far below air, so most images are done with here, before any pass over them).
    """
    if span is not None and float(span[0]) * frame.slope + frame.intercept >= BELOW_AIR:
        return []
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if padding is not None or stored.dtype.kind not in "iu" or stored.ndim != 3:
        return []
    if not photometric.startswith("MONOCHROME") or value_unit(ds) != "HU" or not stored.size:
        return []
    corners = stored[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    low = corners.min()  # the corners first: most images stop here, without a full pass
    hu = float(low) * frame.slope + frame.intercept
    if hu >= BELOW_AIR or not (corners == low).all() or stored.min() != low:
        return []
    count = int(np.count_nonzero(stored == low))
    if count < SHARE * stored.size:
        return []
    # the same words for every slice of a series: a volume lists them once
    return [
        f"no PixelPaddingValue (0028,0120), but the corners and at least {SHARE:.0%} of the "
        f"pixels hold the minimum, {hu:g} HU (stored {int(low)}), far below air: likely "
        "padding outside the scan circle, written as it is and not counted in the padding "
        "column (mask it before statistics or normalization)"
    ]
