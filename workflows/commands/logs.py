"""Logging set-up for the command line: short lines on stderr, no patient data."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: int = logging.INFO) -> None:
    logger = logging.getLogger("radpipe")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("radpipe: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
