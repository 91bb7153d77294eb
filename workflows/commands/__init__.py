"""One module per ``radpipe`` subcommand; see :mod:`workflows.cli`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def positive_int(text: str) -> int:
    """``argparse`` type for counts: an integer >= 1, else a one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value


def positive_int_to(limit: int) -> Callable[[str], int]:
    """``argparse`` type for a count from 1 to ``limit``: ``radpipe synth --size 99999999``
    was a numpy ``_ArrayMemoryError`` traceback, ``radpipe run --threads 99999999`` a
    segmentation fault (exit -11, no message) once the run directory was made."""

    def parse(text: str) -> int:
        value = positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"expected at most {limit}; got {value}")
        return value

    return parse


def thread_count(text: str) -> int:
    """``argparse`` type for ``--threads``: a positive integer up to ``MAX_THREADS``."""
    from workflows.run.threads import MAX_THREADS

    return positive_int_to(MAX_THREADS)(text)


def seed_int(text: str) -> int:
    """``argparse`` type for a seed: a whole number from 0 to 2**32 - 1 (numpy refuses a
    negative one, with a traceback)."""
    from workflows.train.config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {MAX_SEED}; got {value}"
        )
    return value


def print_failures(errors: Path, count: int, left_out_of: str) -> None:
    """On stderr, once at the end: how many source files could not be converted and what
    they are left out of, where they are listed (``errors.csv``, shown relative), and the
    first ten with their reasons, as ``radpipe convert`` prints them."""
    from pipeline.words import counted
    from workflows.run.convert_cache import read_csv_file
    from workflows.run.paths import shown

    print(f"{counted(count, 'source file')} could not be converted and "
          f"{'was' if count == 1 else 'were'} left out of {left_out_of}; "
          f"see {shown(errors)}:", file=sys.stderr)  # fmt: skip
    rows = [r for r in read_csv_file(errors) if r.get("kind", "error") == "error"]
    for row in rows[:10]:
        print(f"  {row['source']}: {row['reason']}", file=sys.stderr)
    if len(rows) > 10:
        print(f"  ... and {len(rows) - 10} more", file=sys.stderr)
