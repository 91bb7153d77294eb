"""``radpipe report RUN/``: rebuild a run's self-contained ``report.html``."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="rebuild RUN/report.html from the run's metrics.json, log.jsonl and plots",
        description="Rebuild a run's report.html: headline metrics, data and split summary, "
        "per-class and per-case tables, the empty-mask policy used, config and provenance, "
        "and every PNG under RUN/plots embedded in the page (no network needed to view it). "
        "Missing confusion-matrix and learning-curve plots are drawn from metrics.json and "
        "log.jsonl first. Exit 1 when RUN has no metrics.json, 2 when RUN is no run directory.",
    )
    p.add_argument("run", help="run directory (runs/NAME-TIMESTAMP)")
    p.add_argument(
        "--title",
        default=None,
        help="page title (default: the title the run or "
        "evaluate gave it: the config's name, + 'on an external test set')",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.errors import ConfigError
    from workflows.report.results import write_report
    from workflows.run.paths import not_a_run, shown

    run_dir = Path(args.run)  # a run, or the --out of radpipe evaluate (both hold config.yaml)
    if not any((run_dir / name).is_file() for name in ("config.yaml", "metrics.json")):
        raise ConfigError(not_a_run(run_dir))
    out = write_report(run_dir, title=args.title)
    print(f"wrote {shown(out)}")
    return 0
