"""One module per ``radpipe`` subcommand; see :mod:`workflows.cli`."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """``argparse`` type for counts: an integer >= 1, else a one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value
