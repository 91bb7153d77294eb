"""The figures of a ``data.kind: images`` run (most confident mistakes, examples per class,
saliency maps) name each image by its path in the list CSV, as the report's case tables do,
and ``metrics.json``'s ``most_confident_mistakes`` and ``explanations.cases`` rows give its
``file``: they showed only the hashed key (``281c891cb6daa4b0``), which no user can find in
their list (seen on a BreastMNIST run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import base_config, write_rows
from workflows import cli
from workflows.report import plots


def test_figures_and_case_rows_name_the_list_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles: dict[str, list[str]] = {}

    def catch(name: str) -> Any:
        return lambda rows, path, **kw: titles.setdefault(name, []).extend(r[0] for r in rows)

    for name in ("plot_thumbnails", "plot_saliency"):
        monkeypatch.setattr(plots, name, catch(name))
    (tmp_path / "img").mkdir()
    rows = []
    rng = np.random.default_rng(0)
    for i in range(16):
        name = f"img/scan_{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(tmp_path / name)
        part = "train" if i < 8 else "val" if i < 10 else "test"
        rows.append({"image": name, "label": i % 2, "part": part})
    write_rows(tmp_path / "list.csv", rows)
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(tmp_path / "list.csv"))
    raw["split"] = {"column": "part"}
    raw["report"] = {"enabled": True}
    raw["evaluate"] = {"bootstrap": 0, "explain": 1}
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    assert cli.main(["run", str(tmp_path / "c.yaml"), "--quiet"]) == 0
    test_files = {r["image"] for r in rows[10:]}
    shown = [t for got in titles.values() for t in got]
    assert shown and set(shown) <= test_files  # examples per class, saliency (and mistakes)
    assert set(titles) == {"plot_thumbnails", "plot_saliency"}
    (run,) = (tmp_path / "runs").glob("*-*")
    metrics = json.loads((run / "metrics.json").read_text())
    named = [*metrics["most_confident_mistakes"], *metrics["explanations"]["cases"]]
    assert len(named) >= 1
    by_id = {c["id"]: c["file"] for c in metrics["per_case"]}
    assert all(c["file"] == by_id[c["id"]] for c in named)
    check = metrics["explanations"]["sanity_check"]
    assert check["file"] == by_id[check["case"]]
    page = (run / "report.html").read_text()
    assert f"<dt>case</dt><dd>{check['file']}</dd>" in page
