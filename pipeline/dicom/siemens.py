"""The slice spacing of a Siemens mosaic from its protocol, when the header does not give it.

A mosaic's tiles are slices SpacingBetweenSlices (0018,0088) apart. Without that attribute,
SliceThickness (0018,0050) is the spacing only when the slices have no gap: an EPI with a
gap of 10 % placed by its thickness is 10 % too short along the normal (Slicer #3867: the
slice gap of Siemens DWI ignored). The protocol in the CSA series header (0029,1020), its
``MrPhoenixProtocol`` ASCCONV section read with nibabel's parser, lists every slice's
position (``sSliceArray.asSlice[i].sPosition``): their step is the spacing.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["protocol_spacing"]

_BEGIN = "### ASCCONV BEGIN"


def protocol_spacing(ds: Any) -> float | None:
    """The step (mm) between consecutive slices of the protocol's slice array, or ``None``.

    ``None`` when there is no CSA series header, no ASCCONV section, fewer than two slices,
    or steps that differ by more than 0.01 mm (not one evenly spaced stack).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nibabel.nicom warns that it is experimental
            from nibabel.nicom import csareader
            from nibabel.nicom.ascconv import parse_ascconv

            csa = csareader.get_csa_header(ds, "series")
            text = str(csa["tags"]["MrPhoenixProtocol"]["items"][0])
            protocol, _ = parse_ascconv(text[text.index(_BEGIN) :], '""')
        slices = protocol["sSliceArray"]["asSlice"]
        points = np.array(
            [[float(s.get("sPosition", {}).get(k, 0.0)) for k in ("dSag", "dCor", "dTra")]
             for s in slices]
        )  # fmt: skip
    except Exception:  # no or damaged protocol: the caller falls back to the thickness
        return None
    if len(points) < 2:
        return None
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    if float(steps.min()) <= 0 or float(steps.max() - steps.min()) > 0.01:
        return None
    return float(steps.mean())
