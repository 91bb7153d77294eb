"""Logging set-up for the command line: short lines on stderr, no patient data."""

from __future__ import annotations

import logging
import sys
from typing import Any


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each message, not as it was when set up: a caller
    that replaces it later (a notebook cell, pytest's capture) gets the lines, and a closed
    earlier stream is never written to ("--- Logging error ---").

    A record that the root logger's own handler writes to the terminal too (a caller's
    ``logging.basicConfig()``; the ``radpipe`` logger propagates) is left to it, so that no
    line shows twice."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ sets it: always sys.stderr
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if not _shown_by_root():
            super().emit(record)


def _shown_by_root() -> bool:
    if not logging.getLogger("radpipe").propagate:
        return False
    terminal = (sys.stderr, sys.__stderr__, sys.stdout, sys.__stdout__)
    return any(
        type(h) is logging.StreamHandler and any(h.stream is t for t in terminal)
        for h in logging.getLogger().handlers
    )


def setup_logging(level: int = logging.INFO) -> None:
    """Give the ``radpipe`` logger its terminal handler, once per process.

    :func:`workflows.cli.main` calls it, once, for every command (and
    :mod:`workflows.commands.train_ddp`, a process of its own, on rank 0). Propagation is
    left on: a handler of the caller's on the root logger (a batch job's log file) gets the
    records of every command. Until 2026-12-03 ``run`` and ``demo`` set it up a second time,
    turning propagation off: such a file missed their lines (and ``run``'s checks, made
    before, reached it), while the other commands' lines showed twice under a root handler
    writing to the terminal.

    Another handler already there (a notebook's own, a test's) does not stand in for it:
    until 2026-12-02 any handler did, and the command's warnings then reached no terminal.
    """
    logger = logging.getLogger("radpipe")
    if any(isinstance(h, _StderrHandler) for h in logger.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("radpipe: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
