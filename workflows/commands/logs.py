"""Logging set-up for the command line: short lines on stderr, no patient data."""

from __future__ import annotations

import logging
import sys
from typing import Any


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each message, not as it was when set up: a caller
    that replaces it later (a notebook cell, pytest's capture) gets the lines, and a closed
    earlier stream is never written to ("--- Logging error ---")."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ sets it: always sys.stderr
        pass


def setup_logging(level: int = logging.INFO) -> None:
    logger = logging.getLogger("radpipe")
    if logger.handlers:
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("radpipe: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
