"""``radpipe report`` keeps the title the run or ``radpipe evaluate`` gave the page.

The run titled its report with the config's name (``hc_seg``) and ``radpipe evaluate`` with
"hc_seg on an external test set"; rebuilding either with ``radpipe report`` retitled it with
the folder's name (``hc_seg-20261202-214746``, ``eval2``), and an external evaluation's page
no longer said in its title that it was one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from workflows.cli import main
from workflows.report.results import evaluate_segmentation, write_metrics, write_report


def _title(folder: Path) -> str:
    found = re.search(r"<title>(.*?)</title>", (folder / "report.html").read_text())
    assert found is not None
    return found.group(1)


def _folder(path: Path, external: bool, name: str | None = "hc_seg", seen: int = 0) -> Path:
    t = np.zeros((8, 8), np.int64)
    t[2:5, 2:5] = 1
    m = evaluate_segmentation([("a", t, t, None)], 2, ["background", "head"], n_resamples=0)
    if external:
        m["seen_by_run"] = {"series": 1, "series_seen_in_training": seen}
    path.mkdir(parents=True)
    if name is not None:
        (path / "config.yaml").write_text(f"name: {name}\ntask: segmentation\n")
    write_metrics(path, m)
    return path


@pytest.mark.parametrize(
    ("folder", "external", "seen", "title"),
    [("hc_seg-20261202-214746", False, 0, "hc_seg"),
     ("eval2", True, 0, "hc_seg on an external test set"),
     ("eval3", True, 1, "hc_seg on a test set that is NOT external")],
    ids=["run", "evaluate", "evaluate-seen"],
)  # fmt: skip
def test_a_rebuilt_report_keeps_its_title(
    tmp_path: Path, folder: str, external: bool, seen: int, title: str
) -> None:
    """An evaluation of cases the run trained on was titled "on an external test set"."""
    out = _folder(tmp_path / folder, external=external, seen=seen)
    write_report(out)  # as radpipe run / radpipe evaluate write it
    assert _title(out) == title
    assert main(["report", str(out)]) == 0
    assert _title(out) == title
    assert main(["report", str(out), "--title", "mine"]) == 0
    assert _title(out) == "mine"


def test_without_a_named_config_the_folder_names_the_page(tmp_path: Path) -> None:
    run = _folder(tmp_path / "old-run", external=False, name=None)
    assert main(["report", str(run)]) == 0
    assert _title(run) == "old-run"
