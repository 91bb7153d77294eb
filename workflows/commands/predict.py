"""``radpipe predict``: apply a trained run to a new DICOM folder (a ``data.kind: images``
run: to a folder or list CSV of PNG/NPY/NIfTI images)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="apply a trained run to new DICOM or images (classes, scores, masks)",
        description="Convert SRC with the run's own options, apply its fitted preprocessing "
        "and model (or the ensemble of its folds), and write predictions.csv (and masks for "
        "segmentation) under --out, with the hashed names of 'radpipe convert' plus, to join "
        "back to your files, each row's source path relative to SRC (left out with "
        "--hashed-keys-only). Raw DICOM UIDs are written only with --with-uids. A run trained "
        "on data.kind: images reads SRC's images as stored (a folder, or a CSV with an 'image' "
        "column) and names each row and mask by the image's path relative to SRC.",
    )
    p.add_argument("run", type=Path, help="a run directory made by 'radpipe run'")
    p.add_argument(
        "src", type=Path,
        help="folder of DICOM files (data.kind: images run: a folder or list CSV of images)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (RUN/predictions-<hash of SRC>)"
    )
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--hashed-keys-only",
        action="store_true",
        help="leave out the join-back column (source path relative to SRC) too",
    )
    keys.add_argument(
        "--with-uids",
        action="store_true",
        help="also write each row's raw SOPInstanceUID (series: SeriesInstanceUID), read from "
        "the DICOM header: patient-linked identifiers, off by default",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def default_out(run_dir: Path, src: Path) -> Path:
    """``RUN/predictions-<key>`` (:func:`workflows.run.rundir.source_dir`): predicting another
    folder never replaces an earlier folder's predictions (the same folder again does)."""
    from workflows.run.rundir import source_dir

    return source_dir(run_dir, "predictions", src)


def run(args: argparse.Namespace) -> int:
    from workflows.run.paths import refuse_out_is_source
    from workflows.run.rundir import load_run_config

    folds = load_run_config(args.run).split.folds  # a mistyped run is said before torch
    refuse_out_is_source(args.out, args.src)
    from pipeline.words import counted
    from workflows.commands import print_failures
    from workflows.run.paths import shown
    from workflows.run.predict import predict_folder

    out = args.out or default_out(args.run, args.src)
    result = predict_folder(
        args.run, args.src, out, progress=not args.quiet,
        hashed_keys_only=args.hashed_keys_only, with_uids=args.with_uids,
    )  # fmt: skip
    print(f"{counted(result.items, 'prediction')} -> {shown(result.predictions)}")
    if folds:  # which model predicted went unsaid (2026-12-03)
        print(f"  (each the mean of the probabilities of the run's {folds} fold models)")
    _print_written(out, result.predictions)
    post = result.postprocess
    if post and post["steps"]:
        steps = ", ".join(step["type"] for step in post["steps"])
        print(f"post-processing: {steps} (changed {post['maps_changed']} of {post['maps']} "
              f"masks, {post['pixels_changed']} pixels)")  # fmt: skip
    if result.skipped:
        print(f"{counted(result.skipped, 'image')} not predicted; why, for each: "
              f"{shown(out / 'skipped.csv')}")  # fmt: skip
    if result.failures:
        print_failures(out / "converted" / "errors.csv", result.failures, "the predictions")
    return 1 if result.failures or result.skipped else 0


def _print_written(out: Path, predictions: Path) -> None:
    """The masks, DICOM SEGs and NIfTI label maps written beside ``predictions.csv``: until
    2026-12-03 only that file was named, and ``seg/`` and ``labels/`` went unsaid."""
    import csv

    from pipeline.words import counted
    from workflows.run.paths import shown

    with predictions.open(newline="") as fh:  # a DICOM series run's row: '6 slices', PNGs
        kinds = [_mask_format(row["mask"]) for row in csv.DictReader(fh) if row.get("mask")]
    formats = ", ".join(sorted(set(kinds)))  # '(PNG)' was said of NPY and NIfTI masks too
    said = [f"{counted(len(kinds), 'mask')} ({formats}) in {shown(out / 'masks')}"] if kinds else []
    for folder, noun in (("seg", "DICOM SEG"), ("labels", "NIfTI label map")):
        files = sum(p.is_file() for p in (out / folder).rglob("*"))
        said += [f"{counted(files, noun)} in {shown(out / folder)}"] if files else []
    if said:
        print(f"wrote {', '.join(said)}")


def _mask_format(mask: str) -> str:
    """The format of a mask named in ``predictions.csv``: PNG, NPY or NIfTI."""
    name = mask.lower()
    return "NPY" if name.endswith(".npy") else "NIfTI" if ".nii" in name else "PNG"
