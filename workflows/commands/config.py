"""``radpipe config``: show a resolved config, or print the JSON Schema for editors."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "config",
        help="validate and show a config, or print its JSON Schema",
        description="'radpipe config show CONFIG [--set k=v ...]' validates a "
        "config and prints it with every default filled in; 'radpipe config "
        "schema' prints the JSON Schema (for editor completion).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    show = actions.add_parser("show", help="print the resolved config")
    show.add_argument("config", help="YAML config file")
    show.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a value (repeatable)",
    )
    show.add_argument(
        "--absolute-paths",
        action="store_true",
        help="print the path settings as absolute paths of this machine (by default relative "
        "to the working directory: a config saved there reads the same files)",
    )
    show.set_defaults(func=run_show)
    schema = actions.add_parser("schema", help="print the JSON Schema of configs")
    schema.set_defaults(func=run_schema)


def run_show(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workflows.run.config import dump_config, load_config

    config = load_config(args.config, args.overrides)
    # no absolute local path unless asked (a pasted config names no user's folders)
    base = None if args.absolute_paths else Path.cwd()
    print(dump_config(config, relative_to=base), end="")
    return 0


def run_schema(args: argparse.Namespace) -> int:
    from workflows.run.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0
