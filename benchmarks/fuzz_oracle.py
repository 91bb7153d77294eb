"""Fuzz with an oracle: legal header mutants converted by radpipe, compared with pydicom.

Usage: ``python benchmarks/fuzz_oracle.py [--files 500] [--seed 0] [--group 1] [--keep DIR]``

Mutants come from :mod:`pipeline.synth.legal_mutants` (one or two header values changed to
other legal ones; each mutant its own series). They are converted as ``radpipe convert
--format npy --window none`` would (one float32 array per frame, modality values), and each
output is compared with what pydicom gives for the same file (``pixel_array``, then
``apply_modality_lut`` for MONOCHROME images); ``png16 --window none`` is worked out by hand
(:mod:`benchmarks.fuzz_oracle_png`). A file converted without a note (an empty
``problems`` cell) whose arrays differ from pydicom's, or that pydicom cannot decode at all,
is listed as a finding: silently wrong, or a difference to explain. Files refused, and those
converted with a note, are counted. ``--keep DIR`` keeps the mutants and outputs for triage.
``--group N`` writes series of N slices of one seed, each mutated with chance 1/N (the
readers reuse header checks within a series; notes every file of a series has do not count as
its own), and also compares the ``--per series`` volumes slice by slice and their NIfTI
affines with the header's geometry (:mod:`benchmarks.fuzz_oracle_geometry`).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.multival import MultiValue
from pydicom.uid import generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["RUST_BACKTRACE"] = "0"

from benchmarks.fuzz_oracle_geometry import compare_affines
from benchmarks.fuzz_oracle_png import compare_png16
from pipeline.synth.legal_mutants import legal_mutant
from pipeline.synth.mutants import seed_files
from workflows.convert.batch import ConvertOptions, convert_folder


def write_legal_mutants(folder: Path, n: int, seed: int, group: int = 1) -> dict[str, str]:
    """``n`` legal mutants in ``folder``: file name -> what was changed.

    ``group`` > 1: series of that many slices of one seed, each file mutated with chance
    1 / group.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    seeds = {k: v for k, v in seed_files(seed).items() if "DICOMDIR" not in k}
    if group > 1:  # stacks of single-frame images: a multi-frame file is a volume itself
        seeds = {k: v for k, v in seeds.items() if "frame" not in k and "rtdose" not in k}
    names = sorted(seeds)
    changed = {}
    warnings.simplefilter("ignore")  # pydicom's words on the invalid values written on purpose
    name, uids = names[0], ("", "")
    for k in range(n):
        if k % group == 0:
            name, uids = names[int(rng.integers(len(names)))], (generate_uid(), generate_uid())
        series = (*uids, k % group) if group > 1 else None
        try:
            kind, said, data = legal_mutant(seeds[name], rng, series, 1 / group)
        except Exception:  # a mutation pydicom cannot write: not a file to test
            continue
        file = f"m{k:05d}_{name}_{kind}.dcm"
        (folder / file).write_bytes(data)
        changed[file] = said
    return changed


def pydicom_frames(path: Path, window: bool = False) -> list[np.ndarray] | str:
    """What pydicom gives for a file: one float array per frame, or why it failed.

    ``window``: then the header's first window (PS3.3 C.11.2.1.2, by hand) in [0, 1],
    inverted for MONOCHROME1, as ``--format npy --window header`` writes it.
    """
    from pydicom import dcmread
    from pydicom.pixels import apply_modality_lut

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path)
            arr = ds.pixel_array
            term = str(ds.get("PhotometricInterpretation", ""))
            if term.startswith("MONOCHROME") and ds.get("Modality") not in ("XA", "RF"):
                arr = _modality(arr, ds, apply_modality_lut)
                if window and "VOILUTSequence" in ds:
                    arr = _voi_lut(arr, ds)
                elif window and "WindowCenter" in ds:
                    arr = _window(arr, ds)
                if window and ("VOILUTSequence" in ds or "WindowCenter" in ds):
                    arr = 1.0 - arr if term == "MONOCHROME1" else arr
            frames = int(ds.get("NumberOfFrames", 1) or 1)
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:160]
    arr = np.asarray(arr, dtype=np.float64)
    return list(arr) if frames > 1 else [arr]


def _voi_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """The first VOI LUT item by hand (PS3.3 C.11.2.1.1), to [0, 1] by its bits.

    pydicom's ``apply_voi_lut`` wraps values past an 8-bit OW table modulo 256.
    """
    item = ds.VOILUTSequence[0]
    count, first, bits = (int(v) for v in item.LUTDescriptor)
    count = count or 65536
    data = item.LUTData
    if isinstance(data, bytes):  # OW: 8-bit entries one per word (pydicom #1073) or packed
        order = "<" if ds.is_little_endian in (True, None) else ">"
        table = np.frombuffer(data, f"{order}u2" if len(data) >= 2 * count else "u1")
    else:
        table = np.asarray(data if isinstance(data, list | MultiValue) else [data])
    table = table[:count].astype(np.float64)
    index = np.clip(np.asarray(arr, dtype=np.int64) - first, 0, len(table) - 1)
    return table[index] / (2.0**bits - 1)


def _window(arr: np.ndarray, ds: Any) -> np.ndarray:
    """The first WindowCenter/WindowWidth pair by its VOILUTFunction, in [0, 1]."""
    first = [v[0] if isinstance(v, MultiValue) else v for v in (ds.WindowCenter, ds.WindowWidth)]
    center, width = float(first[0]), float(first[1])
    function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
    x = np.asarray(arr, dtype=np.float64)
    if function == "SIGMOID":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-4.0 * (x - center) / width))
    if function == "LINEAR":
        center, width = center - 0.5, width - 1.0
    if not (np.isfinite(center) and np.isfinite(width) and width >= 0):
        raise ValueError(f"unusable window {center}, {width}")
    if width == 0:  # LINEAR of width 1: a threshold at c - 0.5 (PS3.3 C.11.2.1.2.1)
        return (x > center).astype(np.float64)
    return np.clip((x - center) / width + 0.5, 0.0, 1.0)


def _modality(arr: np.ndarray, ds: Any, lut: Any) -> np.ndarray:
    """PS3.3 C.11.1: the LUT, else slope and intercept (1 and 0 when absent; pydicom applies
    neither unless both are there); RT Dose: Dose Grid Scaling (C.8.8.3)."""
    if ds.get("ModalityLUTSequence"):  # an empty one gives way to the rescale
        return np.asarray(lut(arr, ds))
    slope, intercept = ds.get("RescaleSlope", 1), ds.get("RescaleIntercept", 0)
    if "DoseGridScaling" in ds:
        slope, intercept = ds.DoseGridScaling, 0
    slope = slope[0] if isinstance(slope, MultiValue) else slope
    intercept = intercept[0] if isinstance(intercept, MultiValue) else intercept
    return arr.astype(np.float64) * float(slope or 1) + float(intercept or 0)


def compare(out: Path, src: Path, window: bool = False) -> tuple[Counter[str], list[str]]:
    """Counts per outcome and the findings (lines to read)."""
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="") as fh:
        refused = {r["source"] for r in csv.DictReader(fh)}
    by_source: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    counts: Counter[str] = Counter({f"{'window ' * window}refused": len(refused)})
    findings = []
    shared = _series_notes(rows)
    for source, its_rows in sorted(by_source.items()):
        noted = any(_notes(r) - shared.get(r["series_key"], set()) for r in its_rows)
        expected = pydicom_frames(src / source, window)
        got = [np.load(out / r["output"]) for r in sorted(its_rows, key=lambda r: int(r["frame"]))]
        verdict = _verdict(expected, got)
        if verdict == "same" and not window:
            verdict = _spacing_verdict(src / source, its_rows[0]["spacing"])
        counts[f"{'window ' * window}{'noted' if noted else 'silent'} {verdict.split(':')[0]}"] += 1
        if verdict != "same":
            problems = " | ".join(sorted({r["problems"] for r in its_rows}))
            findings.append(f"{source}: {verdict}" + (f" NOTED: {problems[:300]}" if noted else ""))
    return counts, findings


def _notes(row: dict[str, str]) -> set[str]:
    return {n for n in row["problems"].split("; ") if n}


def _series_notes(rows: list[dict[str, str]]) -> dict[str, set[str]]:
    """Notes every file of a series of several files has (its geometry, not a file's own)."""
    by_series: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        by_series.setdefault(row["series_key"], {}).setdefault(row["source"], set()).update(
            _notes(row)
        )
    return {key: set.intersection(*files.values()) if len(files) > 1 else set()
            for key, files in by_series.items()}  # fmt: skip


def _verdict(expected: list[np.ndarray] | str, got: list[np.ndarray]) -> str:
    if isinstance(expected, str):
        return f"pydicom fails: {expected}"
    if len(expected) != len(got):
        return f"frames: pydicom {len(expected)}, radpipe {len(got)}"
    for k, (want, have) in enumerate(zip(expected, got, strict=True)):
        if want.shape != have.shape:
            return f"shape: frame {k} pydicom {want.shape}, radpipe {have.shape}"
        with np.errstate(over="ignore", invalid="ignore"):
            want32 = want.astype(np.float32)
        lost = np.isfinite(want) & ~np.isfinite(have)
        if lost.any():  # past float32's range: the cast gives inf, as pydicom's values would
            at = tuple(int(i) for i in np.argwhere(lost)[0])
            return f"overflow: frame {k}, {int(lost.sum())} values {want[at]:g} -> {have[at]}"
        if not np.allclose(have, want32, rtol=1e-5, atol=1e-5, equal_nan=True):
            bad = ~np.isclose(have, want32, rtol=1e-5, atol=1e-5, equal_nan=True)
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            return (f"values: frame {k}, {int(bad.sum())} of {bad.size} differ, at {at} "
                    f"pydicom {want32[at]} radpipe {have[at]}")  # fmt: skip
    return "same"


def compare_series(out: Path, src: Path) -> tuple[Counter[str], list[str]]:
    """Volumes (``--per series``, not resampled): each slice against pydicom's values of the
    file that ``sources.csv`` maps to it, and the slices in order along the normal."""
    with (out / "manifest.csv").open(newline="") as fh:
        volumes = {r["output"]: r for r in csv.DictReader(fh)}
    with (out / "sources.csv").open(newline="") as fh:
        sources = list(csv.DictReader(fh))
    counts: Counter[str] = Counter()
    findings = []
    for output, row in sorted(volumes.items()):
        noted = bool(row["problems"])
        if "resampled" in row["problems"] or row["output"].endswith(".nii.gz"):
            counts["series resampled"] += 1
            continue
        volume = np.load(out / output)
        verdict, places = "same", []
        for ref in (r for r in sources if r["output"] == output and r["slice"]):
            expected = pydicom_frames(src / ref["source"])
            frame, at = int(ref["frame"] or 0), int(ref["slice"])
            if isinstance(expected, str) or at >= len(volume):
                verdict = f"slice {at}: {expected if isinstance(expected, str) else 'missing'}"
                break
            places.append((at, _along_normal(src / ref["source"])))
            got = _verdict([expected[frame]], [volume[at]])
            if got != "same":
                verdict = f"slice {at} ({ref['source']}): {got}"
                break
        steps = np.diff([z for _, z in sorted(places)]) if len(places) > 2 else np.array([])
        if verdict == "same" and steps.size and not (all(steps > 0) or all(steps < 0)):
            verdict = f"order: positions along the normal by slice {[z for _, z in sorted(places)]}"
        counts[f"series {'noted' if noted else 'silent'} {verdict.split(':')[0][:5]}"] += 1
        if verdict != "same":
            said = f" NOTED: {row['problems'][:300]}" if noted else ""
            findings.append(f"{row['source']}: series {verdict}{said}")
    return counts, findings


def _along_normal(path: Path) -> float:
    from pydicom import dcmread

    ds = dcmread(path, stop_before_pixels=True)
    try:
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        return float(
            np.dot(np.cross(iop[:3], iop[3:]), [float(v) for v in ds.ImagePositionPatient])
        )
    except (AttributeError, TypeError, ValueError):
        return float("nan")


def _spacing_verdict(path: Path, cell: str) -> str:
    """PixelSpacing as pydicom reads it (two finite positive numbers) against the manifest."""
    from pydicom import dcmread

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, stop_before_pixels=True, force=True)
        try:
            want = [float(v) for v in ds.get("PixelSpacing", None) or []]
        except (TypeError, ValueError):
            want = []
    if "PixelSpacing" not in ds or "PerFrameFunctionalGroupsSequence" in ds:
        return "same"
    usable = len(want) == 2 and all(np.isfinite(want)) and min(want) > 0
    got = [float(v) for v in cell.split("x")] if cell else []
    if usable and not (len(got) == 2 and np.allclose(got, want, rtol=1e-6)):
        return f"spacing: PixelSpacing {want}, manifest {cell!r}"
    if not usable and got:
        return f"spacing: PixelSpacing {want} unusable, manifest {cell!r}"
    return "same"


#: (output folder, convert options, comparison, what the findings' lines end with)
Leg = tuple[str, dict[str, Any], Callable[[Path, Path], tuple[Counter[str], list[str]]], str]
LEGS: list[Leg] = [
    ("out", {"format": "npy", "window": "none"}, compare, ""),
    ("out_window", {"format": "npy", "window": "header"}, partial(compare, window=True),
     " (--window header)"),
    ("out_png16", {"format": "png16", "window": "none"}, compare_png16, ""),
]  # fmt: skip
#: only with ``--group``: volumes need series of several files
SERIES_LEGS: list[Leg] = [
    ("out_series", {"format": "npy", "per": "series", "uneven": "split"}, compare_series, ""),
    ("out_nifti", {"format": "nifti", "per": "series", "uneven": "split"}, compare_affines, ""),
]


def run(files: int, seed: int, work: Path, group: int = 1) -> int:
    src = work / "in"
    changed = write_legal_mutants(src, files, seed, group)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    for name, options, check, suffix in LEGS + (SERIES_LEGS if group > 1 else []):
        convert_folder(src, work / name, ConvertOptions(**options, workers=1), progress=False)
        more, said = check(work / name, src)
        counts.update(more)
        findings += [line + suffix for line in said]
    print(f"{len(changed)} mutants (seed {seed})")
    for key, value in sorted(counts.items()):
        print(f"  {key}: {value}")
    for line in findings:
        print(f"FINDING {line} [{changed.get(line.split(':')[0], '')}]")
    return sum("NOTED" not in line for line in findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--group", type=int, default=1, help="files per series (1: each alone)")
    args = parser.parse_args()
    if args.keep is not None:
        return 1 if run(args.files, args.seed, args.keep, args.group) else 0
    with tempfile.TemporaryDirectory(prefix="radpipe-oracle-") as tmp:
        return 1 if run(args.files, args.seed, Path(tmp), args.group) else 0


if __name__ == "__main__":
    raise SystemExit(main())
