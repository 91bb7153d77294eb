"""The PNG leg of ``benchmarks/fuzz_oracle.py``: ``--format png16 --window none`` by hand.

README: a grey PNG without a window maps the range BitsStored allows (more than 16 bits: the
file's own smallest to largest value, padding left out) (through RescaleSlope and
RescaleIntercept, 1 and 0 when absent) linearly to 0..65535, MONOCHROME1 inverted. The
expected image is worked out here from pydicom's ``pixel_array`` and the header with numpy;
files with a Modality LUT Sequence, a Presentation LUT Shape, XA/XRF or colour are left out
(their ranges are the subject of their own notes).
"""

from __future__ import annotations

import csv
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.multival import MultiValue


def _first(value: Any, default: float) -> float:
    value = value[0] if isinstance(value, MultiValue) else value
    return default if value in (None, "") else float(value)


def _data_range(arr: np.ndarray, padding: list[Any]) -> tuple[float, float]:
    """The smallest and largest stored value, values in the padding range left out."""
    data = arr
    if isinstance(padding[0], int):
        ends = (padding[0], padding[1] if isinstance(padding[1], int) else padding[0])
        kept = arr[(arr < min(ends)) | (arr > max(ends))]
        data = kept if kept.size else arr
    return float(data.min()), float(data.max())


def expected_png16(path: Path) -> list[np.ndarray] | str | None:
    """One uint16 image per frame, why pydicom failed, or ``None`` for a file left out."""
    from pydicom import dcmread

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path)
            term = str(ds.get("PhotometricInterpretation", ""))
            skip = ("ModalityLUTSequence", "PresentationLUTShape", "DoseGridScaling")
            if not term.startswith("MONOCHROME") or any(k in ds for k in skip):
                return None
            if ds.get("Modality") in ("XA", "RF") or "FloatPixelData" in ds:
                return None
            arr = ds.pixel_array.astype(np.float64)
            bits, signed = int(ds.BitsStored), int(ds.PixelRepresentation) == 1
            slope = _first(ds.get("RescaleSlope"), 1.0) or 1.0
            intercept = _first(ds.get("RescaleIntercept"), 0.0)
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            padding = [ds.get(k) for k in ("PixelPaddingValue", "PixelPaddingRangeLimit")]
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:160]
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    if bits > 16:  # README: more than 16 bits span the file's own values, padding left out
        lo, hi = _data_range(arr, padding)
    ends = sorted((lo * slope + intercept, hi * slope + intercept))
    scaled = (arr * slope + intercept - ends[0]) / max(ends[1] - ends[0], 1e-12)
    scaled = 1.0 - scaled if term == "MONOCHROME1" else scaled
    image = np.clip(np.rint(scaled * 65535), 0, 65535)
    return list(image) if frames > 1 else [image]


def compare_png16(out: Path, src: Path) -> tuple[Counter[str], list[str]]:
    """Counts and findings of ``png16 --window none`` outputs against :func:`expected_png16`."""
    from PIL import Image

    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_source: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    counts: Counter[str] = Counter()
    findings = []
    for source, its_rows in sorted(by_source.items()):
        expected = expected_png16(src / source)
        if expected is None:
            counts["png16 left out"] += 1
            continue
        noted = any(r["problems"] for r in its_rows)
        its_rows.sort(key=lambda r: int(r["frame"]))
        verdict = "same"
        if isinstance(expected, str):
            verdict = f"pydicom fails: {expected}"
        elif len(expected) != len(its_rows):
            verdict = f"frames: by hand {len(expected)}, radpipe {len(its_rows)}"
        for k, (row, want) in enumerate(zip(its_rows, expected, strict=False)):
            if verdict != "same" or isinstance(want, str):
                break
            have = np.asarray(Image.open(out / row["output"]), dtype=np.float64)
            if have.shape != want.shape:
                verdict = f"shape: frame {k} by hand {want.shape}, radpipe {have.shape}"
            elif np.abs(have - want).max() > 1:
                at = tuple(int(i) for i in np.argwhere(np.abs(have - want) > 1)[0])
                verdict = (
                    f"values: frame {k} at {at} by hand {want[at]:.0f}, radpipe {have[at]:.0f}"
                )
        counts[f"png16 {'noted' if noted else 'silent'} {verdict.split(':')[0]}"] += 1
        if verdict != "same":
            said = f" NOTED: {its_rows[0]['problems'][:300]}" if noted else ""
            findings.append(f"{source}: png16 {verdict}{said}")
    return counts, findings


__all__ = ["compare_png16", "expected_png16"]
