"""A labels CSV whose classes the run would refuse is refused before the run directory is
made, as a config error (exit 2), on a DICOM study: a ``class_name`` column that disagrees
with ``data.class_names`` and a label that is no class of it. Both made the run directory,
removed it again and exited 1 (until 2026-12-03)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.conftest import base_config
from workflows.cli import main


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["no_lesion", "lesion"], "labels.csv: column 'class_name' disagrees with the class "
         "indices in column 'label': 1 is 'round_lesion' (the run's class 1 is 'lesion')"),
        (["no_lesion"], "labels.csv: column 'label' has values that are not classes of the "
         "run ('1'); classes: no_lesion."),
    ],
    ids=["class_name-disagrees", "unknown-label"],
)  # fmt: skip
def test_a_refused_class_is_a_config_error_before_anything_is_written(
    cr16: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], names: list[str], said: str
) -> None:
    raw = base_config(cr16, tmp_path / "runs", class_names=names)
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    assert main(["run", str(tmp_path / "c.yaml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"radpipe run: config error: {said}"), err
    assert not (tmp_path / "runs").exists()
