"""``radpipe synth``: write a synthetic multi-patient DICOM study with ground truth."""

from __future__ import annotations

import argparse
from typing import Any

from workflows.commands import positive_int, positive_int_to, seed_int


def register(sub: Any) -> None:
    p = sub.add_parser(
        "synth",
        help="write a synthetic DICOM study (with labels or masks) for trying radpipe out",
        description="Write a realistic synthetic multi-patient DICOM study: proper UIDs, "
        "several series per patient, geometry, rescale and window tags, shuffled file names, "
        "MONOCHROME1 for some CR; plus labels.csv (per series) and, for segmentation, one PNG "
        "mask per image listed in masks.csv. Lesions of class-dependent shape and size give "
        "models a real signal to learn. US: 8-bit fetal head B-mode images (masks: the head's "
        "filled ellipse; labels: small / large head).",
    )
    p.add_argument("out", help="output folder (created)")
    p.add_argument("--patients", type=positive_int, default=12, help="number of patients (12)")
    p.add_argument(
        "--task",
        choices=["classification", "segmentation"],
        default="classification",
        help="ground truth to write (classification)",
    )
    p.add_argument("--modality", choices=["CT", "MR", "CR", "US"], default="CT", help="(CT)")
    p.add_argument(
        "--seed", type=seed_int, default=0, help="random seed; same seed, same study (0)"
    )
    p.add_argument(
        "--size", type=positive_int_to(4096), default=64, help="rows and columns (64; <= 4096)"
    )
    p.add_argument(
        "--slices",
        type=positive_int_to(2048),
        default=12,
        help="slices per CT/MR series (12; <= 2048); CR and US have one image per series",
    )
    p.add_argument("--series-per-patient", type=positive_int, default=2, help="(2)")
    p.add_argument(
        "--classes",
        type=int,
        choices=[2, 3],
        default=2,
        help="classes for classification: no lesion / round / elongated (2)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.errors import ConfigError
    from pipeline.synth import StudySpec, write_study

    try:
        spec = StudySpec(
            patients=args.patients,
            task=args.task,
            modality=args.modality,
            seed=args.seed,
            size=args.size,
            slices=args.slices,
            series_per_patient=args.series_per_patient,
            num_classes=args.classes,
        )
    except ValueError as err:  # a value argparse let through (--size 8): a usage error
        raise ConfigError(f"--{str(err).replace('_', '-')}") from None
    from pathlib import Path

    from pipeline.words import counted
    from workflows.run.paths import said

    counts = write_study(args.out, spec)
    print(  # the folder as the other commands name theirs, never an absolute local path
        f"wrote {counted(counts['files'], 'DICOM file')} in {counted(counts['series'], 'series')} "
        f"of {counted(counts['patients'], 'patient')} to {said(Path(args.out))}"
    )
    return 0
