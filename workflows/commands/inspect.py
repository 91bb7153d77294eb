"""``radpipe inspect``: what is in a DICOM folder, and what is wrong with it."""

from __future__ import annotations

import argparse
from typing import Any

from workflows.commands import positive_int


def register(sub: Any) -> None:
    p = sub.add_parser(
        "inspect",
        help="list the patients, studies and series of a DICOM folder, with problems",
        description="Scan a DICOM folder tree (headers only) and list patients, studies and "
        "series (modality, description, size, slices, the files they come from and their "
        "frames or mosaics, transfer syntax) with problems: "
        "unreadable or non-DICOM files, missing slices, uneven or duplicate slice positions, "
        "gantry tilt, mixed sizes. Patients and series are shown by hashed keys only. "
        "Exit code 0 when no problem was found (a series split by SeriesNumber aside, which "
        "convert carries out), 1 when one was or SRC holds no file, 2 for a usage error.",
    )
    p.add_argument("src", help="folder to scan (recursively)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--index", metavar="CSV", help="also write one row per instance to CSV")
    from workflows.commands.convert import add_geometry_options

    add_geometry_options(p)
    p.add_argument("--workers", type=positive_int, default=1, help="processes reading headers (1)")
    p.add_argument(
        "--max-pixels",
        type=positive_int,
        default=2**28,
        help="report images whose header claims more pixels than this, as convert refuses "
        "them (2**28)",
    )
    p.add_argument(
        "--decode",
        action="store_true",
        help="also decode every frame of every image as convert does, and list the files "
        "whose pixel data fail (damaged compressed data) in convert's words; reads every "
        "file in full (slower)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from pipeline.dicom.index import index_folder
    from pipeline.errors import ConfigError

    if not Path(args.src).is_dir():
        raise ConfigError(f"{args.src}: not a folder.")
    from pipeline.dicom.assemble import GeometryPolicy

    policy = GeometryPolicy(tilt=args.tilt, uneven=args.uneven, split_4d=args.split_4d)
    from workflows.convert.pool import header_mapper

    mapper = header_mapper(Path(args.src), args.workers)
    index = index_folder(args.src, policy, max_pixels=args.max_pixels, mapper=mapper)
    if args.decode:  # opt in: headers alone stay as fast as they were
        from workflows.commands.inspect_decode import decode_every_file

        decode_every_file(index, workers=args.workers, max_pixels=args.max_pixels, policy=policy)
    if args.index:
        index.write_csv(args.index)
    summary = _with_mosaics(index.to_dict(), index)
    folders = _skipped_folders(summary, Path(args.src))
    summary["files"] -= len(folders)  # a hidden folder is no file
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_text(summary, folders))
    if not summary["files"]:  # exit 0 and "0 files" alone read as a clean folder
        import sys

        print(f"radpipe inspect: no file found in {args.src} (an empty folder? hidden files "
              "and radpipe's output folders are not read)", file=sys.stderr)  # fmt: skip
        return 1
    failed = [p for p in summary["problems"] if p["kind"] != "skipped" and not _split(p)]
    return 1 if failed else 0


def _with_mosaics(summary: dict[str, Any], index: Any) -> dict[str, Any]:
    """``summary`` with each series' ``mosaics`` (its files that are Siemens mosaics, one
    frame each holding its slices tiled) and ``mosaic_tiles`` (their tile counts)."""
    tiles = {}
    for series in index.series:
        frames = series.plan.frames if series.plan is not None else []
        tiles[series.key] = {ref.source: ref.mosaic for ref in frames if ref.mosaic}
    for patient in summary["patients"]:
        for study in patient["studies"]:
            for s in study["series"]:
                found = tiles.get(s["series_key"], {})
                s["mosaics"], s["mosaic_tiles"] = len(found), sorted(set(found.values()))
    return summary


def _split(problem: dict[str, Any]) -> bool:
    """Whether ``problem`` is a series' split that ``convert`` carries out (one volume each).

    Said on its series, as in the manifest's ``problems`` column, but no failure: ``convert``
    exits 0 on it, and so does ``inspect``. A split across SeriesInstanceUIDs (one slice
    position each) is no such split: ``convert`` writes one-slice volumes of it.

    >>> _split({"kind": "series", "reason": "split: 2 SeriesNumber values ..."})
    True
    >>> _split({"kind": "note", "reason": "note: split: ..."})
    False
    """
    return problem["kind"] == "series" and str(problem["reason"]).startswith("split: ")


def _skipped_folders(summary: dict[str, Any], src: Any) -> set[str]:
    """The skipped entries of ``summary`` that are folders (hidden, reached again through a
    link, an output folder of radpipe): until 2026-12-04 counted and listed as files, ``1
    file skipped (not images): .git: hidden folder ...``; ``convert`` counts them apart."""
    return {p["where"] for p in summary["problems"]
            if p["kind"] == "skipped" and (src / p["where"]).is_dir()}  # fmt: skip


def _text(summary: dict[str, Any], folders: set[str]) -> str:
    from pipeline.words import counted

    lines = [
        f"{counted(summary['files'], 'file')}, {counted(summary['instances'], 'image')} in "
        f"{counted(summary['series'], 'series')} of {counted(len(summary['patients']), 'patient')}"
    ]
    for patient in summary["patients"]:
        lines.append(f"patient {patient['patient_key']}")
        for study in patient["studies"]:
            lines.append(f"  study {study['study_key']}")
            for s in study["series"]:
                spacing = "" if s["spacing_mm"] is None else f", {s['spacing_mm']:g} mm"
                if low_high := s.get("spacing_mm_range"):  # volumes 1 and 5 mm apart
                    spacing = f", {low_high[0]:g} to {low_high[1]:g} mm"
                slices = counted(s["slices"], "slice")
                if (times := s.get("time_points", 1)) > 1:  # 15 images: 5 slices x 3
                    slices = f"{counted(s['slices'] // times, 'slice')} x {times} time points"
                if s["volumes"] > 1:  # the slices are those of all its volumes
                    spacing = f" in {counted(s['volumes'], 'volume')}{spacing}"
                lines.append(
                    f"    series {s['series_key']}  {s['modality']:<3} {s['description']!r:<12} "
                    f"{s['size']}  {slices}{spacing}, "
                    f"{_made_of(s)}, "
                    f"{' / '.join(map(_syntax_name, s['transfer_syntax']))}"
                    + "".join(f"; lossy: {said}" for said in s["lossy"])
                )
                lines += [f"      ! {problem}" for problem in s["problems"]]
    for kind, noun, title in (  # "1 unusable files:" until 2026-12-03
        ("note", "problem", " in usable files (convert lists them in the problems column)"),
        ("error", "unusable file", ""),
        ("skipped", "file", " skipped (not images)"),
        (
            "folder",
            "folder",
            " not read (hidden, reached again through a link, or an output folder of radpipe)",
        ),
    ):
        found = [p for p in summary["problems"]
                 if _group(p, folders) == kind]  # fmt: skip
        if found:
            lines.append(f"{counted(len(found), noun)}{title}:")
            lines += _grouped(found)
    return "\n".join(lines)


def _group(problem: dict[str, Any], folders: set[str]) -> str:
    """The group ``problem`` is listed in: its kind, a skipped folder's apart."""
    return "folder" if problem["kind"] == "skipped" and problem["where"] in folders else (
        problem["kind"])  # fmt: skip


def _made_of(s: dict[str, Any]) -> str:
    """The files a series' slices come from: ``12 files``, ``1 file of 30 frames``, ``9 files,
    Siemens mosaics of 35 slices``. It said ``9 frames`` of 9 mosaics (315 slices) and ``12
    frames`` of 12 single-frame files, which readers took for a count of slices.

    >>> _made_of({"files": 1, "frames": 30, "mosaics": 0, "mosaic_tiles": []})
    '1 file of 30 frames'
    >>> _made_of({"files": 9, "frames": 9, "mosaics": 9, "mosaic_tiles": [35]})
    '9 files, Siemens mosaics of 35 slices'
    >>> _made_of({"files": 3, "frames": 3, "mosaics": 2, "mosaic_tiles": [6, 8]})
    '3 files, 2 of them Siemens mosaics of 6 or 8 slices'
    """
    from pipeline.words import counted

    files, frames = counted(s["files"], "file"), s["frames"]
    said = files if frames == s["files"] else f"{files} of {counted(frames, 'frame')}"
    if not s.get("mosaics"):
        return said
    which = "" if s["mosaics"] == s["files"] else f" {s['mosaics']} of them"
    tiles = " or ".join(map(str, s["mosaic_tiles"]))
    return f"{files},{which} Siemens mosaics of {tiles} slices"


def _grouped(found: list[dict[str, Any]]) -> list[str]:
    """One line per reason: files that share one (every slice of a series with the same
    note) are named together, the first few and how many more, in the order first found.

    >>> _grouped([{"where": f"s{k}.dcm", "reason": "note: x"} for k in range(5)])
    ['  s0.dcm, s1.dcm, s2.dcm and 2 more files: note: x']
    """
    from pipeline.dicom.files import escape_name
    from pipeline.words import counted

    by_reason: dict[str, list[str]] = {}
    for p in found:
        by_reason.setdefault(p["reason"], []).append(escape_name(p["where"]))
    out = []
    for reason, names in by_reason.items():
        more = f" and {counted(len(names) - 3, 'more file')}" if len(names) > 3 else ""
        out.append(f"  {', '.join(names[:3])}{more}: {reason}")
    return out


def _syntax_name(uid: str) -> str:
    """A transfer syntax by its name (``JPEG-LS Lossless Image Compression``), as convert's
    messages name it; a private one by its UID. The bare UIDs (``1.2.840.10008.1.2.4.80``)
    meant nothing to most readers; ``--json`` keeps them."""
    from pydicom.uid import UID

    known = UID(uid)
    return known.name if known.is_transfer_syntax and known.name != uid else uid
