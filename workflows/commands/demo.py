"""``radpipe demo``: the main job on a built-in default (what ``make demo`` runs).

Generates two synthetic studies into a cache folder (once), then runs two shipped configs end
to end: chest-radiograph classification with a fully connected network
(``configs/xray_classify.yaml``) and MR organ/lesion segmentation with the fully connected
patch segmenter (``configs/mr_segment_mlp.yaml``). Prints where the reports are and the
headline test metrics. A rerun reuses the studies and the cached conversions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

# (config, synthetic study, extra overrides)
JOBS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("xray_classify", {"modality": "CR", "patients": 600, "series_per_patient": 1, "seed": 1}, []),
    (
        "mr_segment_mlp",
        {"modality": "MR", "patients": 12, "task": "segmentation", "seed": 2},
        ["train.epochs=12"],
    ),
]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run radpipe end to end on built-in synthetic studies",
        description="Generate synthetic DICOM studies into a cache folder (once) "
        "and run two configured pipelines on them end to end (classification "
        "and segmentation with fully connected networks), printing where the "
        "reports are and the headline metrics.",
    )
    p.add_argument("--cache", default=".cache/demo", help="cache folder (.cache/demo)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.synth import StudySpec, study_complete, write_study
    from workflows.commands.run import print_outcome
    from workflows.run.config import load_config
    from workflows.run.paths import shown
    from workflows.run.runner import run_study

    cache = Path(args.cache).resolve()
    for name, spec, extra in JOBS:
        study = cache / name
        if not study_complete(study):  # never written, or interrupted: (re)write it
            print(f"writing a synthetic {spec['modality']} study to {shown(study)}")
            write_study(study, StudySpec(**spec))
        overrides = [
            f"data.source={study / 'dicom'}",
            f"data.labels={study / 'labels.csv'}",
            f"output={cache / 'runs'}",
            *extra,
        ]
        if spec.get("task") == "segmentation":
            overrides.append(f"data.masks={study / 'masks.csv'}")
        config = load_config(CONFIGS / f"{name}.yaml", overrides)
        print(f"\n== {name}: {config.task} with {config.model['type']} ==")
        print_outcome(run_study(config, progress=not args.quiet))
    return 0
