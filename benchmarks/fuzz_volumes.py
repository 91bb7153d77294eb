"""Fuzz volume assembly with an oracle: Enhanced multi-frame files and single-frame series.

Usage: ``python benchmarks/fuzz_volumes.py [--cases 400] [--seed 0]
[--kind enhanced|series|order|echoes|classic] [--batch 100] [--keep DIR]`` (``order``: names
that must not depend on file names or order; ``echoes``: echo times with varying decimals; see
:mod:`benchmarks.fuzz_volumes_order`; ``classic``: classic multi-frame files with one
position, :mod:`benchmarks.fuzz_volumes_classic`)

Cases come from :mod:`benchmarks.fuzz_volumes_cases`: Enhanced MR files (orientation and
pixel measures shared or per frame, or missing on some or all frames, positions missing on
some or all, frames stored sorted, reversed or shuffled, DimensionIndexValues / StackID /
InStackPositionNumber right or wrong, one or two stacks) and single-frame series (shuffled
file names and order, InstanceNumber disagreeing with position, a duplicated position, a
missing slice, a second orientation, one slice of another size). Each batch of cases is
converted with ``--format nifti --per series`` twice (``--uneven resample`` and ``split``).

The oracle, per volume written: the frames that ``sources.csv`` puts in it, taken from the
truth the case was written with, must share orientation, spacing and size and be evenly
spaced along the normal; then the volume must be those frames sorted by position along the
normal, with the affine of the first frame's position, the orientation and spacing
(PS3.3 C.7.6.2.1.1, LPS to RAS), compared after both are brought to the closest canonical
orientation (so either slice direction is right). A volume written without a note that fails
any of this is a finding (silently wrong); one with a note is counted. So is a file of a case
that is neither in a volume nor in ``errors.csv`` (dropped silently).
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["RUST_BACKTRACE"] = "0"

from benchmarks.fuzz_volumes_cases import Frame, enhanced_case, series_case
from workflows.convert.batch import ConvertOptions, convert_folder


def expected(frames: list[Frame]) -> tuple[np.ndarray, np.ndarray] | str:
    """(volume (columns, rows, slices), RAS affine) of frames by hand, or why there is none."""
    if any(f.ipp is None or f.iop is None or f.spacing is None for f in frames):
        return "a frame without position, orientation or spacing"
    first = frames[0]
    if any(not np.allclose(f.iop, first.iop, atol=1e-4) for f in frames):
        return "two orientations"
    if any(not np.allclose(f.spacing, first.spacing) for f in frames):
        return "two pixel spacings"
    if len({f.pixels.shape for f in frames}) > 1:
        return "two sizes"
    normal = np.cross(first.iop[:3], first.iop[3:])
    frames = sorted(frames, key=lambda f: float(np.dot(normal, f.ipp)))
    along = np.array([np.dot(normal, f.ipp) for f in frames])
    steps = np.diff(along)
    uneven = steps.max() - steps.min() > max(1e-2 * steps.max(), 2e-2) if steps.size else False
    if len(frames) > 1 and (steps.min() <= 1e-3 or uneven):  # 2e-2 mm: a scanner's rounding
        return f"uneven or repeated positions {np.round(steps, 3).tolist()}"
    volume = np.stack([f.pixels.T for f in frames], axis=-1).astype(np.float64)
    affine = np.eye(4)
    affine[:3, 0] = first.iop[:3] * first.spacing[1]
    affine[:3, 1] = first.iop[3:] * first.spacing[0]
    affine[:3, 2] = (frames[-1].ipp - frames[0].ipp) / max(len(frames) - 1, 1)
    if len(frames) == 1:
        affine[:3, 2] = normal
    affine[:3, 3] = frames[0].ipp
    affine[:2] *= -1
    return volume, affine


def _canonical(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    image = nib.as_closest_canonical(nib.Nifti1Image(data.astype(np.float32), affine))
    return np.asarray(image.dataobj), image.affine


def verdict(path: Path, frames: list[Frame]) -> str:
    """ "same" or how the NIfTI volume at ``path`` differs from ``frames`` by hand. Affines agree
    to 0.01 mm: positions jittered by 0.001 mm give a slice vector from first to last (here) or
    fitted along the normal (radpipe) that differ by that much."""
    import nibabel as nib

    want = expected(frames)
    if isinstance(want, str):
        return f"inconsistent frames in one volume: {want}"
    image = nib.load(path)
    have = np.asarray(image.dataobj, dtype=np.float64)
    if have.ndim != 3 or have.shape != want[0].shape:
        return f"shape {have.shape}, by hand {want[0].shape}"
    a, b = _canonical(have, image.affine), _canonical(*want)
    if a[0].shape != b[0].shape or not np.allclose(a[1], b[1], atol=1e-2):
        return (
            f"affine {np.round(image.affine, 3).tolist()}, by hand {np.round(want[1], 3).tolist()}"
        )
    if not np.array_equal(a[0], b[0]):
        return "values differ (order or transposition)"
    return "same"


def check(out: Path, truth: dict[str, dict[str, list[Frame]]]) -> tuple[Counter[str], list[str]]:
    """Counts and findings of one converted batch; ``truth``: case -> file -> frames."""
    with (out / "manifest.csv").open(newline="") as fh:
        volumes = list(csv.DictReader(fh))
    with (out / "sources.csv").open(newline="") as fh:
        sources = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="") as fh:
        refused = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    counts: Counter[str] = Counter({"refused": len(refused)})
    findings = []
    placed = set()
    for row in volumes:
        refs = [r for r in sources if r["output"] == row["output"]]
        frames = []
        for ref in refs:
            case, name = ref["source"].split("/", 1)
            placed.add(ref["source"])
            frames.append(truth[case][name][int(ref["frame"] or 0)])
        said = verdict(out / row["output"], frames)
        noted = bool(row["problems"])
        counts[f"{'noted' if noted else 'silent'} {said.split(':')[0].split(' ')[0]}"] += 1
        if said != "same" and not noted:
            findings.append(f"{row['source']}: {said}")
        if "could not use" in row["problems"] or "crashed" in row["problems"]:
            findings.append(f"{row['source']}: unforeseen failure noted: {row['problems'][:200]}")
    for case, files in truth.items():
        for name in files:
            source = f"{case}/{name}"
            if source not in placed and not any(
                k == source or k.startswith(f"{case}/") for k in refused
            ):
                findings.append(f"{source}: neither in a volume nor refused")
    for source, reason in refused.items():
        if "could not use" in reason or "crashed" in reason:
            findings.append(f"{source}: unforeseen failure: {reason[:200]}")
    return counts, findings


def run(cases: int, seed: int, work: Path, *, kind: str, batch: int) -> int:
    make = enhanced_case if kind == "enhanced" else series_case
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    warnings.simplefilter("ignore")
    for start in range(0, cases, batch):
        src = work / f"in{start:06d}"
        truth, said = {}, {}
        for k in range(start, min(cases, start + batch)):
            said[f"c{k:05d}"], truth[f"c{k:05d}"] = make(rng, src / f"c{k:05d}")
        for uneven in ("resample", "split"):
            out = work / f"out{start:06d}_{uneven}"
            options = ConvertOptions(format="nifti", per="series", uneven=uneven, workers=1)
            try:
                convert_folder(src, out, options, progress=False)
            except Exception as err:  # the batch aborted: every case of it is a finding
                findings.append(
                    f"{src.name}: batch aborted ({uneven}): {type(err).__name__}: {err}"
                )
                continue
            more, lines = check(out, truth)
            counts.update({f"{uneven} {k}": v for k, v in more.items()})
            findings += [f"{line} [{uneven}; {said.get(line.split('/')[0], '')}]" for line in lines]
    return report(f"{cases} {kind} cases (seed {seed})", counts, findings)


def report(title: str, counts: Counter[str], findings: list[str]) -> int:
    """Print the counts and the findings of a fuzz run; return how many findings."""
    print(title)
    for key, value in sorted(counts.items()):
        print(f"  {key}: {value}")
    for line in findings:
        print(f"FINDING {line}")
    return len(findings)


def in_work(keep: Path | None, prefix: str, work: Callable[[Path], int]) -> int:
    """Exit status of ``work(folder)`` (1 when it found anything), in ``keep`` or a temporary
    folder removed afterwards."""
    if keep is not None:
        return 1 if work(keep) else 0
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return 1 if work(Path(tmp)) else 0


def run_more(cases: int, seed: int, work: Path, *, kind: str, batch: int) -> int:
    """``--kind order`` or ``echoes`` (:mod:`benchmarks.fuzz_volumes_order`), ``classic``
    (:mod:`benchmarks.fuzz_volumes_classic`)."""
    from benchmarks.fuzz_volumes_classic import run_classic
    from benchmarks.fuzz_volumes_order import run_echoes, run_order

    warnings.simplefilter("ignore")
    runner = {"order": run_order, "echoes": run_echoes, "classic": run_classic}[kind]
    counts, findings = runner(cases, seed, work, batch=batch)
    return report(f"{cases} {kind} cases (seed {seed})", counts, findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    kinds = ["enhanced", "series", "order", "echoes", "classic"]
    parser.add_argument("--kind", choices=kinds, default="enhanced")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    more = args.kind in ("order", "echoes", "classic")
    work = partial(run_more if more else run, args.cases, args.seed, kind=args.kind,
                   batch=args.batch)  # fmt: skip
    return in_work(args.keep, "radpipe-volumes-", work)


if __name__ == "__main__":
    raise SystemExit(main())
