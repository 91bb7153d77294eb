"""Exceptions and warnings raised by radpipe.

Every error names what failed and where, never patient data: a stage by its class name,
an input by a relative path or an opaque (hashed) key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class RadpipeError(Exception):
    """Base class of radpipe's own errors."""


class RadpipeWarning(UserWarning):
    """Base class of radpipe's own warnings (turned into errors in the test suite)."""


class StageError(RadpipeError):
    """A stage failed on one input.

    Parameters
    ----------
    stage
        The stage's name (class name or the name it has in a ``Pipeline``).
    source
        An opaque id or relative path of the input; never patient data.
    reason
        What went wrong.
    """

    def __init__(self, stage: str, source: str, reason: str) -> None:
        self.stage = stage
        self.source = source
        self.reason = reason
        super().__init__(f"{stage} failed on {source}: {reason}")


class DicomError(RadpipeError):
    """A DICOM file cannot be read or converted; the message names the file and the tag."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ConfigError(RadpipeError):
    """A configuration is invalid; the message names the key path and the valid choices."""


class BatchError(RadpipeError, ValueError):
    """Items that cannot form one batch (different image shapes, a label on some only).

    The message names an item of each kind by its relative path or hashed key.
    """


@contextmanager
def fit_failures_named(stage: str, count: int) -> Iterator[None]:
    """Raise a failure to fit the stage named ``stage`` on ``count`` samples as a StageError.

    A ``StageError`` passes as it is; a bare ``ValueError`` from a fit did not say which
    stage of a pipeline failed.
    """
    try:
        yield
    except StageError:
        raise
    except Exception as err:
        raise StageError(stage, f"the {count} samples it is fitted on", str(err)) from err
