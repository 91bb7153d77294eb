"""The ``radpipe`` command line.

Each subcommand lives in ``workflows/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Heavy imports (torch, MONAI) happen inside ``func``, so that ``--help`` and config errors
answer in well under a second.

Exit codes: 0 success, 1 some work failed (e.g. files that could not be converted),
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from pipeline.errors import ConfigError, RadpipeError
from pipeline.version import radpipe_version
from workflows.commands.logs import setup_logging
from workflows.commands.os_errors import PATH_ERRORS, os_error_words

#: Subcommand modules under ``workflows.commands``, in the order ``--help`` lists them.
COMMANDS = [
    "synth", "inspect", "convert", "run", "evaluate", "predict", "report", "config", "demo",
]  # fmt: skip


#: The commands that name outputs with hashed keys (:mod:`pipeline.keys`).
KEYED = {"inspect", "convert", "run", "evaluate", "predict", "demo"}
#: Commands that read no config: their usage errors (``inspect x.dcm``: not a folder) are
#: ``error:``, not the ``config error:`` they were called until 2026-12-04.
NO_CONFIG = {"synth", "inspect", "convert"}


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line, with exit code 2, and that
    takes a value starting with a minus and a digit as a value (``--window -600,1500``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse takes only -5 and -.5 for values: a window C,W with a negative center
        # (-600,1500, the lung window) was "expected one argument". No option starts with a
        # digit, so nothing else is read differently.
        self._negative_number_matcher = re.compile(r"^-\.?\d[\d.,]*$")

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="radpipe",
        description="Medical-imaging ML pipelines: from DICOM folders to trained models "
        "and honest evaluation reports.",
        epilog="Run 'radpipe COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"radpipe {radpipe_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name in COMMANDS:
        importlib.import_module(f"workflows.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:  # Ctrl-C while the commands load (~1 s): was a traceback
        print("radpipe: interrupted", file=sys.stderr)
        return 130
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if args.command in KEYED:  # a bad secret: said before any work, not mid-run
            from pipeline.keys import project_secret

            project_secret()
        # every command's log lines on the terminal, as `radpipe: ...`: until 2026-12-03 only
        # run and demo set this up, so predict, evaluate and convert dropped their info lines
        # (an evaluate's burned-in images left out of the figures) and printed their warnings
        # bare, as did run's checks made before training
        setup_logging()  # the only set-up of a command: run and demo no longer repeat it
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except ConfigError as err:  # a usage error, exit 2: of a config only where there is one
        kind = "error" if args.command in NO_CONFIG else "config error"
        print(f"radpipe {args.command}: {kind}: {err}", file=sys.stderr)
        return 2
    except RadpipeError as err:
        print(f"radpipe {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"radpipe {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `radpipe inspect DIR | head`: the reader left; no traceback
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
        return 141  # 128 + SIGPIPE, as a shell reports it
    except OSError as err:
        words = os_error_words(err)
        if words is None:
            raise
        print(f"radpipe {args.command}: error: {words} and run it again", file=sys.stderr)
        return 2 if err.errno in PATH_ERRORS else 1


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A Python warning as one ``radpipe: warning:`` line: its message, without the source
    file's absolute path and line that Python's default format shows."""
    print(f"radpipe: warning: {message}", file=file or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
