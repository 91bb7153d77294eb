"""Fixtures shared by the workflow tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def said() -> Iterator[list[str]]:
    """The messages of the ``radpipe`` logger while the test runs (its command-line handler,
    set up once per process, writes to whichever stderr was current then)."""
    messages: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("radpipe")
    handler = _Keep()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
