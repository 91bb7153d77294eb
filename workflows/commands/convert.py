"""``radpipe convert``: batch DICOM -> PNG / NPY / NIfTI, parallel and resumable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.words import are, counted
from workflows.commands import positive_int


def add_geometry_options(p: Any) -> None:
    """``--tilt``, ``--uneven`` and ``--split-4d``, shared by ``convert`` and ``inspect``."""
    p.add_argument(
        "--tilt",
        choices=["resample", "keep", "refuse"],
        default="resample",
        help="series with gantry tilt (sheared slices): resample each slice in-plane onto an "
        "orthogonal grid (default), keep them with a sheared affine (NIfTI sform only), "
        "or refuse the series",
    )
    p.add_argument(
        "--uneven",
        choices=["resample", "split", "refuse"],
        default="resample",
        help="series with uneven slice spacing or missing slices: resample along the normal "
        "to the smallest step (default), split into evenly spaced volumes, or refuse",
    )
    p.add_argument(
        "--split-4d",
        action="store_true",
        help="write co-located time points as separate 3-D volumes, never one 4-D NIfTI",
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a DICOM folder to PNG, NPY or NIfTI (parallel, resumable)",
        description="Convert every image under SRC. Outputs are named by hashed UIDs "
        "(OUT/<patient_key>/<series_key>/<instance_key>_<frame>.png, or "
        "OUT/<patient_key>/<series_key>.nii.gz per series) and listed in OUT/manifest.csv; "
        "files that fail are listed in OUT/errors.csv and the batch goes on. A rerun skips "
        "finished outputs. Exit code 0 when all files converted, 1 when some failed, "
        "2 for a usage error.",
    )
    p.add_argument("src", help="DICOM folder (searched recursively)")
    p.add_argument("out", help="output folder")
    p.add_argument("--format", choices=["png", "png16", "npy", "nifti"], default="png")
    p.add_argument(
        "--window",
        default=None,
        help="none, header, a preset (lung, mediastinum, bone, brain, abdomen, liver, ...) or "
        "C,W (default: header for PNG, none for NPY/NIfTI)",
    )
    p.add_argument(
        "--per",
        choices=["instance", "series"],
        default=None,
        help="one output per image frame, or one volume per series (default: series for "
        "NIfTI, instance otherwise)",
    )
    p.add_argument("--workers", type=positive_int, default=1, help="worker processes (1)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the tasks on Dask distributed: a scheduler address (tcp://host:8786) or "
        "local:N for a local cluster of N worker processes (replaces --workers)",
    )
    p.add_argument(
        "--max-pixels",
        type=positive_int,
        default=2**28,
        help="refuse images whose header claims more pixels than this (2**28)",
    )
    p.add_argument(
        "--png-compression",
        type=int,
        choices=range(10),
        default=1,
        metavar="0-9",
        help="zlib level of PNG outputs (1: about 2x faster to write than 6, files ~14%% "
        "larger; always lossless)",
    )
    p.add_argument(
        "--no-gzip",
        action="store_true",
        help="NIfTI: write .nii (uncompressed, faster to write and read) instead of .nii.gz",
    )
    p.add_argument(
        "--no-json",
        action="store_true",
        help="NIfTI: no BIDS-style <name>.json sidecar (acquisition parameters, no "
        "identifiers) beside each volume",
    )
    add_geometry_options(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse files with problems (decoder warnings, excess or damaged pixel data, "
        "recovered header defects) instead of converting them with a note in the manifest's "
        "problems column",
    )
    p.add_argument("--no-resume", action="store_true", help="redo every output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _said(problems: list[str], volumes: dict[str, list[str]] | None) -> str:
    """A series' problems; of a series whose volumes differ in them, each volume's apart
    (``volume 0: tilt corrected: 15.0 degrees | volume 1: no problem``), then those of its
    images in no volume (the manifest's ``volume`` empty: written per file, e.g. a copy
    without a position), which are not volume 0's."""
    from pipeline.dicom.notes import join_notes

    if not volumes:
        return join_notes(problems)
    ordered = sorted(volumes.items(), key=lambda item: (item[0] == "", int(item[0] or 0)))
    return " | ".join(
        f"{f'volume {v}' if v else 'images in no volume'}: {join_notes(p) or 'no problem'}"
        for v, p in ordered
    )


#: Series said in full per problem shared word for word; the others are counted.
SAID_IN_FULL = 3


def _series_warnings(result: Any) -> list[str]:
    """One ``warning: series KEY: ...`` line per series with a problem, in key order; of the
    series whose problems read the same, the first three, then one line that counts the rest
    (a window preset in HU over 2,000 ultrasound series was 2,000 lines of the same words), as
    ``inspect`` names the first files of a shared note."""
    said: dict[str, int] = {}
    lines = []
    for key, problems in sorted(result.series_problems.items()):
        words = _said(problems, result.volume_problems.get(key))
        said[words] = said.get(words, 0) + 1
        if said[words] <= SAID_IN_FULL:
            source = result.series_files.get(key)
            lines.append(f"warning: series {key}: {words}"
                         + (f" (series of {source})" if source else ""))  # fmt: skip
    lines += [f"warning: {counted(n - SAID_IN_FULL, 'more series')}: {words} "
              "(listed in the manifest's problems column)"
              for words, n in said.items() if n > SAID_IN_FULL]  # fmt: skip
    return lines


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from pipeline.errors import ConfigError
    from workflows.convert.batch import ConvertOptions, convert_folder

    if not Path(args.src).is_dir():
        raise ConfigError(f"{args.src}: not a folder.")
    from workflows.run.paths import refuse_out_is_source

    refuse_out_is_source(Path(args.out), Path(args.src), "OUT")
    if _no_file(args.src):
        return 1
    options = ConvertOptions(
        format=args.format,
        window=args.window,
        per=args.per,
        workers=args.workers,
        max_pixels=args.max_pixels,
        png_compression=args.png_compression,
        resume=not args.no_resume,
        tilt=args.tilt,
        uneven=args.uneven,
        split_4d=args.split_4d,
        strict=args.strict,
        gzip=not args.no_gzip,
        json=not args.no_json,
    ).resolved()
    result = convert_folder(
        args.src, args.out, options, progress=not args.quiet, scheduler=args.scheduler
    )
    manifest, errors = _shown(result.manifest), _shown(result.errors)
    for line in _series_warnings(result):
        print(line, file=sys.stderr)
    print(
        f"{counted(result.outputs, 'output')} from {counted(result.tasks, 'task')} "
        f"({result.converted} converted, "
        f"{result.skipped} already done) in {result.seconds:.1f} s; manifest: {manifest}"
    )
    if result.sidecars_redone:
        print("note: OUT was converted per series by an earlier radpipe, which wrote no "
              ".bval/.bvec (diffusion), NPY .json (time step) or NIfTI .json (BIDS sidecar) "
              "beside its volumes, or wrote them as this version no longer does: every series "
              "converted again to write them",
              file=sys.stderr)  # fmt: skip
    if result.columns_redone:
        print(f"note: OUT's manifest was written by an earlier radpipe, without its "
              f"{', '.join(result.columns_redone)} column(s): every file converted again to "
              "fill them", file=sys.stderr)  # fmt: skip
    if result.changed:
        print(f"{counted(result.changed, 'file')} changed since the last run converted them: "
              "converted again (their size, modification or status-change time or inode "
              "differ: a copy or chmod counts, as files are not read to tell)")  # fmt: skip
    _print_problems(result, options.per == "series")
    if result.other_source:
        print(f"note: OUT also holds {counted(result.other_source, 'output')} of an earlier "
              "conversion of another (or an unrecorded) folder, not in this manifest (kept); "
              "use one OUT per source folder", file=sys.stderr)  # fmt: skip
    if result.removed:
        print(f"{counted(result.removed, 'output')} of earlier runs into this folder "
              f"{are(result.removed)} no longer listed "
              "in the manifest: removed")  # fmt: skip
    if result.not_images:
        _print_skipped(result, Path(args.src), errors)
    if result.failures:
        print(f"{counted(result.failed, 'file')} failed; see {errors}:", file=sys.stderr)
        for source, reason in result.failures[:10]:
            print(f"  {source}: {reason}", file=sys.stderr)
        if result.failed > 10:
            print(f"  ... and {result.failed - 10} more", file=sys.stderr)
    if not result.outputs and not result.removed:  # an empty or mistyped folder: no success
        why = result.why_nothing(_shown(Path(args.src)), errors)
        print(f"radpipe convert: {why}", file=sys.stderr)
        return 1
    return result.exit_code


def _no_file(src: str) -> bool:
    """Whether SRC holds no file to read, said before anything is written: OUT and a manifest
    were made first, and a SRC emptied since an earlier conversion (a share not mounted) had
    every output of OUT removed as no longer listed, exit 0."""
    import sys

    from workflows.run.paths import has_files, said

    if has_files(Path(src)):
        return False
    print(f"radpipe convert: no file found in {said(Path(src))} (an empty folder? hidden files and "
          "radpipe's output folders are not read); nothing was written",
          file=sys.stderr)  # fmt: skip
    return True


def _shown(path: Path | None) -> str:
    """An output file of OUT as the other commands name theirs: relative to the working
    directory, never by an absolute local path (``manifest: /home/alice/out/manifest.csv``
    until 2026-12-04, when OUT was given absolute)."""
    from workflows.run.paths import said

    return said(path) if path is not None else ""


def _print_skipped(result: Any, src: Path, errors: str) -> None:
    """What was skipped: files, and folders apart (a hidden one, OUT inside SRC), which were
    counted as files "not images, copies of another file or duplicate slices" (2026-12-03)."""
    folders = sum((src / source).is_dir() for source, _ in result.not_images)
    files = len(result.not_images) - folders
    said = [f"{counted(files, 'file')} skipped: not images, copies of another file or "
            "duplicate slices"] if files else []  # fmt: skip
    said += [f"{counted(folders, 'folder')} not read: hidden, reached again through a link, "
             "or an output folder of radpipe"] if folders else []  # fmt: skip
    print(f"{'; '.join(said)} (listed in {errors} with kind 'skipped')")


def _own_problems(result: Any) -> int:
    """Series with a problem of their files, a mosaic written whole not counted as one."""
    from pipeline.dicom.notes import MOSAIC_WHOLE
    from workflows.convert.collect import GEOMETRY_KINDS, problem_kind

    return sum(
        any(problem_kind(p) not in (*GEOMETRY_KINDS, MOSAIC_WHOLE) for p in problems)
        for problems in result.series_problems.values()
    )


def _print_problems(result: Any, per_series: bool) -> None:
    """What was done about problems: the series' geometry, the files' own, refusals."""
    from pipeline.dicom.notes import MOSAIC_WHOLE

    geometry, files = result.counts_of(True), result.counts_of(False)
    if per_series:
        done = "handled"
    else:  # per instance no series is refused: a "refused" series is only not assembled
        done = "noted, images written as they are"
        geometry = {("no volume (refused per series)" if k == "refused" else k): n
                    for k, n in geometry.items()}  # fmt: skip
    if geometry or result.refused:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(geometry.items()))
        print(f"geometry: {result.series_with(True)} series with problems {done}"
              f"{' (' + counts + ')' if counts else ''}; {result.refused} series refused "
              "(see the manifest's problems column and errors.csv)")  # fmt: skip
    mosaics = files.pop(MOSAIC_WHOLE, 0)  # no problem of the files: said apart, below
    if files:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(files.items()))
        print(f"files: {_own_problems(result)} series with files' own problems noted, "
              f"outputs written ({counts})")  # fmt: skip
    if mosaics:  # it read "(mosaic written undivided (--per series demosaics it) 1)" above
        print(f"mosaics: {counted(mosaics, 'series')} of Siemens mosaics (each file one image "
              "of its slices tiled side by side) written as stored, one tiled image per file; "
              "--per series cuts them into their slices and stacks them into volumes")  # fmt: skip
    if result.strict_refused:
        mates = result.strict_series_mates  # not converted with them: their series' files
        with_them = f", and {counted(mates, 'file')} of their series with them" if mates else ""
        print(f"strict: {counted(result.strict_refused, 'file')} refused for the problems "
              f"noted{with_them} (errors.csv; without --strict they are converted, each problem "
              "noted in the manifest's problems column)")  # fmt: skip
