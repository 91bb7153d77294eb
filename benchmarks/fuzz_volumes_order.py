"""Two more kinds of ``benchmarks/fuzz_volumes.py``: names that must not depend on file order,
and echoes written with varying decimals.

- ``--kind order``: each case of ``--kind series`` is written twice, the second copy with
  other file names in the reverse order (``R<k>_<name>``); both are converted. The same series
  must give the same outputs, each holding the same files (``sources.csv``): a volume whose
  ``_sNN`` differs between the copies is named by file order, a finding.
- ``--kind echoes``: a multi-echo series (2 or 3 echoes, 3 to 8 slices) whose EchoTime
  carries other decimals in some slices (``4.92``, ``4.9201``, ``4.919999``), one slice of
  one echo missing in half the cases. Each volume must hold frames of one echo, every echo
  must be one volume under ``--uneven resample`` (a missing slice is resampled, said), and
  each volume's ``distinct`` cell must name one EchoTime (``EchoTime=a..b (2 values)`` says a
  volume mixes echoes).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from benchmarks.fuzz_volumes_cases import MR, Frame, _base, _floats, _geometry, _pixels, series_case
from workflows.convert.batch import ConvertOptions, convert_folder

__all__ = ["echo_case", "run_echoes", "run_order"]


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def _convert(src: Path, out: Path, uneven: str) -> str:
    options = ConvertOptions(format="nifti", per="series", uneven=uneven, workers=1)
    try:
        convert_folder(src, out, options, progress=False)
    except Exception as err:  # the batch aborted: a finding
        return f"{src.name}: batch aborted ({uneven}): {type(err).__name__}: {err}"
    return ""


def _held(out: Path, renamed: dict[str, str]) -> dict[str, list[str]]:
    """``{output: its files (original names) and frames}`` of a converted folder; a byte copy
    of a file (``copy_<name>``, one SOPInstanceUID) stands for it: either is kept."""
    held: dict[str, list[str]] = defaultdict(list)
    for row in _rows(out, "sources.csv"):
        case, name = row["source"].split("/", 1)
        name = renamed.get(name, name).removeprefix("copy_")
        held[row["output"]].append(f"{case}/{name}#{row['frame'] or 0}")
    return {k: sorted(v) for k, v in held.items()}


def run_order(cases: int, seed: int, work: Path, *, batch: int) -> tuple[Counter[str], list[str]]:
    """Counts and findings of ``--kind order`` (see the module)."""
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    for start in range(0, cases, batch):
        src, copy = work / f"in{start:06d}", work / f"re{start:06d}"
        renamed: dict[str, str] = {}
        for k in range(start, min(cases, start + batch)):
            case = f"c{k:05d}"
            _, truth = series_case(rng, src / case)
            (copy / case).mkdir(parents=True)
            for n, name in enumerate(sorted(truth, reverse=True)):
                new = f"R{n}_{name}"
                shutil.copyfile(src / case / name, copy / case / new)
                renamed[new] = name
        for uneven in ("resample", "split"):
            a, b = work / f"a{start:06d}_{uneven}", work / f"b{start:06d}_{uneven}"
            aborted = [m for m in (_convert(src, a, uneven), _convert(copy, b, uneven)) if m]
            if aborted:
                findings += aborted
                continue
            first, second = _held(a, {}), _held(b, renamed)
            counts[f"{uneven} outputs"] += len(first)
            for output in sorted(set(first) | set(second)):
                if first.get(output) != second.get(output):
                    findings.append(f"{output}: holds {first.get(output)} from one copy, "
                                    f"{second.get(output)} from the other [{uneven}]")  # fmt: skip
    return counts, findings


def echo_case(rng: np.random.Generator, folder: Path) -> tuple[str, dict[str, list[Frame]]]:
    """A multi-echo series in ``folder`` (see the module); each Frame's ``stack`` its echo."""
    n, echoes = int(rng.integers(3, 9)), int(rng.integers(2, 4))
    iop, spacing, positions = _geometry(rng, n)
    first = round(float(rng.uniform(1.5, 6.0)), 2)
    times = [round(first * (e + 1), 2) for e in range(echoes)]
    missing = (int(rng.integers(echoes)), int(rng.integers(1, n - 1)))
    missing = missing if rng.random() < 0.5 else None
    series, study = generate_uid(), generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[Frame]] = {}
    for e, te in enumerate(times):
        for z in range(n):
            if (e, z) == missing:
                continue
            ds = _base(MR, 4, 4, series, study)
            ds.ImageOrientationPatient, ds.ImagePositionPatient = iop, positions[z]
            ds.PixelSpacing, ds.InstanceNumber = spacing, 1 + z * echoes + e
            ds.EchoTime = f"{te + float(rng.choice([0.0, 0.0, 1e-4, -1e-6, 2e-3])):.6f}"
            pixels = _pixels(z + 16 * e, 4, 4)
            ds.PixelData = pixels.tobytes()
            name = f"E{e}Z{z}.dcm"
            ds.save_as(folder / name, enforce_file_format=True)
            truth[name] = [Frame(_floats(positions[z]), _floats(iop), _floats(spacing), pixels, e)]
    return f"echoes={times},n={n},missing={missing}", truth


def run_echoes(cases: int, seed: int, work: Path, *, batch: int) -> tuple[Counter[str], list[str]]:
    """Counts and findings of ``--kind echoes`` (see the module)."""
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    for start in range(0, cases, batch):
        src, truth, said = work / f"in{start:06d}", {}, {}
        for k in range(start, min(cases, start + batch)):
            said[f"c{k:05d}"], truth[f"c{k:05d}"] = echo_case(rng, src / f"c{k:05d}")
        out = work / f"out{start:06d}"
        if aborted := _convert(src, out, "resample"):
            findings.append(aborted)
            continue
        volumes: dict[tuple[str, int], set[str]] = defaultdict(set)
        for output, files in _held(out, {}).items():
            case = files[0].split("/")[0]
            found = {truth[case][f.split("/")[1].split("#")[0]][0].stack for f in files}
            counts[f"volumes of {len(found)} echo(es)"] += 1
            if len(found) > 1:
                findings.append(f"{output}: mixes echoes {sorted(found)} [{said[case]}]")
            for e in found:
                volumes[(case, e)].add(output)
        for (case, e), outputs in volumes.items():
            if len(outputs) > 1:
                split = f"split into {len(outputs)} volumes"
                findings.append(f"{case}: echo {e} {split} [{said[case]}]")
        for row in _rows(out, "manifest.csv"):
            if "EchoTime=" in row["distinct"] and ".." in row["distinct"].split("EchoTime=")[1]:
                findings.append(f"{row['output']}: distinct {row['distinct']!r}")
    return counts, findings
