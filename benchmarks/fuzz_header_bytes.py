"""Fuzz the header bytes of legal files, restricted to the tags the reader uses, with an oracle.

Usage: ``python benchmarks/fuzz_header_bytes.py [--cases 1000] [--seed 0] [--batch 200]
[--keep DIR]``

Each case is a legal series (three signed CT slices with rescale and window, or one Enhanced
MR file of four frames, from :mod:`benchmarks.fuzz_volumes_cases`); one element of one file
that the reader uses (image size and bits, rescale, window, position, orientation, spacing,
frame count, instance and stack numbers, UIDs) is changed in its bytes: its value truncated
(cut before its last value, or to nothing; binary values to an odd byte), its VR replaced by
another of the same header form, an extra backslash value, NUL padding (trailing, or in
place of the pad space), or one byte more (an odd length). The mutated cases and their
unmutated twins are converted alike (``--format nifti --per series`` and ``--format npy
--window header``); a mutated case's outputs must be the twin's (same files, values and
affines) or the mutated file must be refused (``errors.csv``) or its outputs noted. A batch
that aborts, a case slower than 10 s and a reason of an unforeseen failure ("could not use",
"crashed") are findings too.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import struct
import sys
import time
import warnings
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["RUST_BACKTRACE"] = "0"

from pydicom.uid import generate_uid

from benchmarks.fuzz_volumes import in_work, report
from benchmarks.fuzz_volumes_cases import _base, _geometry, _pixels, enhanced_case
from workflows.convert.batch import ConvertOptions, convert_folder

#: (group, element) of the tags the reader uses
TAGS = [(0x0028, 0x0010), (0x0028, 0x0011), (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102),
        (0x0028, 0x0103), (0x0028, 0x0002), (0x0028, 0x0004), (0x0028, 0x0008), (0x0028, 0x1053),
        (0x0028, 0x1052), (0x0028, 0x1050), (0x0028, 0x1051), (0x0020, 0x0032), (0x0020, 0x0037),
        (0x0028, 0x0030), (0x0018, 0x0050), (0x0020, 0x0013), (0x0020, 0x000E), (0x0008, 0x0060),
        (0x0008, 0x0016), (0x0020, 0x9056), (0x0020, 0x9057), (0x0020, 0x9157),
        (0x0018, 0x0088)]  # fmt: skip
SHORT_VRS = [b"DS", b"IS", b"US", b"SS", b"UL", b"FL", b"FD", b"CS", b"LO", b"SH", b"UI", b"AS"]
KINDS = ["truncate", "vr", "backslash", "nul", "odd"]


def _ct_series(rng: np.random.Generator, folder: Path) -> None:
    iop, spacing, positions = _geometry(rng, 3)
    series, study = generate_uid(), generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(3):
        ds = _base("1.2.840.10008.5.1.4.1.1.2", 4, 5, series, study)
        ds.Modality, ds.PixelRepresentation, ds.BitsStored, ds.HighBit = "CT", 1, 12, 11
        ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.PixelSpacing = (
            iop,
            positions[k],
            spacing,
        )
        ds.RescaleSlope, ds.RescaleIntercept, ds.InstanceNumber = "1", "-1024", k + 1
        ds.WindowCenter, ds.WindowWidth, ds.SliceThickness = ["40", "300"], ["400", "1500"], "2"
        ds.PixelData = (_pixels(k, 4, 5).astype("<i2") * 7).tobytes()
        ds.save_as(folder / f"s{k}.dcm", enforce_file_format=True)


def _elements(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, header size, VR) of every short-form element of a used tag in ``data``."""
    found, end = [], data.rfind(b"\xe0\x7f\x10\x00")  # the pixel data's tag
    for group, element in TAGS:
        tag = struct.pack("<HH", group, element)
        at = data.find(tag, 132)
        while 0 <= at < end:
            vr = data[at + 4 : at + 6]
            if vr in SHORT_VRS:
                found.append((at, 8, vr))
            at = data.find(tag, at + 1)
    return found


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes] | None:
    """One byte-level change of one used element, and what it was; ``None``: nothing to do."""
    elements = _elements(data)
    if not elements:
        return None
    at, size, vr = elements[int(rng.integers(len(elements)))]
    length = struct.unpack("<H", data[at + 6 : at + 8])[0]
    value = data[at + size : at + size + length]
    kind = str(rng.choice(KINDS))
    binary = vr in (b"US", b"SS", b"UL", b"FL", b"FD")
    if kind == "truncate":
        cut = value.rfind(b"\\")
        new = value[: length - 1] if binary else value[: cut if cut > 0 else 0]
    elif kind == "vr":
        vr = SHORT_VRS[int(rng.integers(len(SHORT_VRS)))]
        new = value
    elif kind == "backslash":
        new = value + (value[-2:] if binary else [b"\\", b"\\0", b"\\\\", b"\\x"][rng.integers(4)])
    elif kind == "nul":
        stripped = value.rstrip(b" \x00")
        new = [
            stripped + b"\x00",
            stripped + b"\x00\x00",
            b"\x00" + stripped,
            value.replace(b" ", b"\x00"),
        ][rng.integers(4)]
    else:
        ends = [b" ", b"\x00", b"\\"] if vr == b"UI" else [b" ", b"0", b"\x00", b"\\"]
        new = value + ends[rng.integers(len(ends))]  # a UID and a digit: another legal UID
    group, element = struct.unpack("<HH", data[at : at + 4])
    said = f"({group:04X},{element:04X}) {kind} {value[:24]!r}->{vr.decode()} {new[:24]!r}"
    head = data[at : at + 4] + vr + struct.pack("<H", len(new))
    return said, data[:at] + head + new + data[at + size + length :]


def _outputs(
    out: Path,
) -> tuple[
    dict[tuple[str, ...], np.ndarray | tuple[np.ndarray, np.ndarray]],
    dict[str, str],
    dict[str, str],
]:
    """Outputs by their sorted sources, problems by source, refusals by source."""
    import nibabel as nib

    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    sources = []
    if (out / "sources.csv").exists():  # series outputs only
        with (out / "sources.csv").open(newline="") as fh:
            sources = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="") as fh:
        refused = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    found: dict[tuple[str, ...], object] = {}
    problems: dict[str, str] = {}
    for row in rows:
        refs = tuple(
            sorted(f"{r['source']}#{r['frame']}" for r in sources if r["output"] == row["output"])
        )
        if not refs:
            refs = (f"{row['source']}#{row['frame']}",)
        path = out / row["output"]
        if path.name.endswith((".nii", ".nii.gz")):
            image = nib.load(path)
            found[refs] = (np.asarray(image.dataobj, dtype=np.float64), image.affine)
        else:
            found[refs] = np.load(path)
        for ref in refs:
            problems[ref.split("#")[0]] = problems.get(ref.split("#")[0], "") + row["problems"]
    return found, problems, refused  # type: ignore[return-value]


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return (
            a[0].shape == b[0].shape
            and np.allclose(a[0], b[0], equal_nan=True)
            and np.allclose(a[1], b[1], atol=1e-4)
        )
    return (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.shape == b.shape
        and np.allclose(a, b, equal_nan=True)
    )


def compare(ref: Path, mut: Path, mutated: dict[str, str]) -> tuple[Counter[str], list[str]]:
    want, _, _ = _outputs(ref)
    have, problems, refused = _outputs(mut)
    counts: Counter[str] = Counter()
    findings = []
    for source, said in sorted(mutated.items()):
        case = source.split("/")[0]
        mine = {k: v for k, v in have.items() if k[0].startswith(f"{case}/")}
        theirs = {k: v for k, v in want.items() if k[0].startswith(f"{case}/")}
        same = mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)
        told = (
            source in refused
            or bool(problems.get(source))
            or any(s.startswith(f"{case}/") for s in refused)
        )
        reason = refused.get(source, "") + problems.get(source, "")
        if "could not use" in reason or "crashed" in reason:
            findings.append(f"{source}: unforeseen failure: {reason[:200]} [{said}]")
        counts[f"{'same' if same else 'differs'} {'told' if told else 'silent'}"] += 1
        if not same and not told:
            findings.append(
                f"{source}: output differs from the unmutated file's, silently [{said}]"
            )
    return counts, findings


def run(cases: int, seed: int, work: Path, *, batch: int) -> int:
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    findings: list[str] = []
    warnings.simplefilter("ignore")
    for start in range(0, cases, batch):
        ref, mut, mutated = work / f"ref{start:06d}", work / f"mut{start:06d}", {}
        for k in range(start, min(cases, start + batch)):
            case = f"c{k:05d}"
            if rng.random() < 0.5:
                _ct_series(rng, ref / case)
            else:
                enhanced_case(np.random.default_rng([seed, k, 7]), ref / case)
            shutil.copytree(ref / case, mut / case)
            files = sorted((mut / case).iterdir())
            target = files[int(rng.integers(len(files)))]
            change = mutate(target.read_bytes(), rng)
            if change is not None:
                target.write_bytes(change[1])
                mutated[f"{case}/{target.name}"] = change[0]
        for leg, options in (("nifti", {"format": "nifti", "per": "series", "uneven": "split"}),
                             ("npy", {"format": "npy", "window": "header"})):  # fmt: skip
            outs = []
            for src in (ref, mut):
                out = work / f"{src.name}_{leg}"
                began = time.perf_counter()
                try:
                    result = convert_folder(
                        src, out, ConvertOptions(**options, workers=1), progress=False
                    )
                except Exception as err:
                    findings.append(
                        f"{src.name}: batch aborted ({leg}): {type(err).__name__}: {err}"
                    )
                    break
                if result.slowest and result.slowest[0] > 10:
                    findings.append(f"{result.slowest[1]}: {result.slowest[0]:.1f} s ({leg})")
                counts[f"{leg} seconds"] += round(time.perf_counter() - began)
                outs.append(out)
            if len(outs) == 2:
                more, lines = compare(*outs, mutated)
                counts.update({f"{leg} {k}": v for k, v in more.items()})
                findings += [f"{line} ({leg})" for line in lines]
        counts["mutants"] += len(mutated)
    return report(f"{cases} cases (seed {seed})", counts, findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = partial(run, args.cases, args.seed, batch=args.batch)
    return in_work(args.keep, "radpipe-bytes-", work)


if __name__ == "__main__":
    raise SystemExit(main())
