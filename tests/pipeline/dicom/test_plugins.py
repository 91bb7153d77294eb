"""Standard error held while a decoder plugin runs (:func:`pipeline.dicom.plugins.quiet_stderr`)."""

from __future__ import annotations

import os

import pytest

from pipeline.dicom.plugins import quiet_stderr


def test_what_compiled_code_writes_to_fd_2_is_held_and_fd_2_restored(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with quiet_stderr() as lines:
        os.write(2, b"thread '<unnamed>' panicked at src/lib.rs:1:1:\nboom\n")
    assert lines == ["thread '<unnamed>' panicked at src/lib.rs:1:1:", "boom"]
    os.write(2, b"after\n")  # the terminal's descriptor is back
    assert capfd.readouterr().err == "after\n"
