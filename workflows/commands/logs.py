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


def setup_logging(level: int = logging.INFO, *, propagate: bool = False) -> None:
    """Give the ``radpipe`` logger its terminal handler, once per process; with
    ``propagate`` false (``run``, ``demo``) its records stop there.

    Another handler already there (a notebook's own, a test's) does not stand in for it:
    until 2026-12-02 any handler did, and the command's warnings then reached no terminal.
    :func:`workflows.cli.main` sets it up for every command, propagation left as it is.
    """
    logger = logging.getLogger("radpipe")
    if not propagate:
        logger.propagate = False
    if any(isinstance(h, _StderrHandler) for h in logger.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("radpipe: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
