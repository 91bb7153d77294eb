"""``radpipe evaluate``: score a trained run on an external labelled test set (DICOM, or
images already converted for a ``data.kind: images`` run)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a trained run on a separate labelled folder (an external test set)",
        description="Convert SRC with the run's own options, apply its fitted preprocessing "
        "and model (or the ensemble of its folds) to every labelled series, and write "
        "metrics.json, plots and report.html under --out: the same figures, intervals and "
        "report as the run's own test split. Use split.test: 0 in the run's config to train "
        "on all of your data and evaluate here.",
    )
    p.add_argument("run", type=Path, help="a run directory made by 'radpipe run'")
    p.add_argument(
        "src",
        type=Path,
        help="folder of DICOM files (a run trained on data.kind: images: the folder that "
        "--labels' image and mask paths are relative to)",
    )
    p.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="labels CSV, as data.labels (classification; optional for segmentation; a "
        "data.kind: images run: its list of images with labels or masks)",
    )
    p.add_argument("--masks", type=Path, default=None, help="masks CSV, as data.masks")
    p.add_argument("--out", type=Path, default=None, help="output folder (RUN/external-HASH)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workflows.run.paths import refuse_out_is_source
    from workflows.run.rundir import load_run_config

    config = load_run_config(args.run)  # a mistyped run directory is said before torch
    refuse_out_is_source(args.out, args.src)
    from workflows.commands import print_failures
    from workflows.run.external import evaluate_external
    from workflows.run.paths import shown
    from workflows.run.summary import headline, headline_text, positive_class_of, printed_notes

    out, metrics = evaluate_external(
        args.run, args.src, args.labels, masks=args.masks, out=args.out,
        progress=not args.quiet,
    )  # fmt: skip
    figures = headline_text(headline(metrics), positive_class_of(metrics))
    seen = (metrics.get("seen_by_run") or {}).get("series_seen_in_training")
    # that SRC is not external is said once, by the warning (with why, and what it means);
    # here only which warning the figures go with (it was said three times, twice on stdout)
    cases = (f"test cases ({seen} from the run's own training/validation split: see the "
             "warning above)" if seen else "external test cases")  # fmt: skip
    print(f"{metrics['num_cases']} {cases}: {figures}")
    for why in printed_notes(metrics):
        print(f"  {why}")
    report = f" and {shown(out / 'report.html')}" if config.report.enabled else ""
    print(f"wrote {shown(out / 'metrics.json')}{report}")  # the report went unsaid (2026-12-03)
    if metrics.get("failed_files"):  # left out of the scores, as `radpipe run` leaves them
        print_failures(
            out / metrics["conversion"] / "errors.csv", metrics["failed_files"], "the scores"
        )
        return 1
    return 0
