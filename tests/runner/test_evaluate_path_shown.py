"""``radpipe evaluate RUN SRC --out OUT`` with OUT absolute printed ``wrote /abs/.../metrics.json``
(the user's folders); it names OUT relative to the working directory, as ``predict`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.cli import main


def test_evaluate_names_metrics_json_relative_to_the_working_directory(
    cr_run: Path, cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    out = tmp_path.resolve() / "ext"
    args = ["evaluate", str(cr_run), str(cr16 / "dicom"), "--labels", str(cr16 / "labels.csv")]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "wrote ext/metrics.json\n" in printed
    assert str(tmp_path.resolve()) not in printed
