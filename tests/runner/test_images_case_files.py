"""The per-case rows of a ``data.kind: images`` run name each image's file as the list CSV
writes it (relative to ``data.source``), beside its hashed ``id``: the id alone could not be
traced back to an image. A cell written as an absolute path is given relative."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.keys import hash_key
from tests.runner.conftest import base_config, run_config_cli, write_rows


def test_per_case_rows_name_the_users_files(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(12):
        name = f"img/{i:02d}.png"
        Image.fromarray(np.full((8, 8), 40 * (i % 2) + i, np.uint8)).save(tmp_path / name)
        part = "train" if i < 6 else "val" if i < 9 else "test"
        rows.append({"image": name, "label": i % 2, "part": part, "patient_id": f"P{i}"})
    rows[10]["image"] = str(tmp_path / "img" / "10.png")  # absolute, inside data.source
    write_rows(tmp_path / "list.csv", rows)
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(tmp_path / "list.csv"))
    raw["split"] = {"column": "part"}
    run_config_cli(raw, tmp_path)
    (run,) = (tmp_path / "runs").glob("*-*")
    text = (run / "metrics.json").read_text()
    got = {c["id"]: c["file"] for c in json.loads(text)["per_case"]}
    want = {hash_key(r["image"]): r["image"] for r in rows[9:]}
    want[hash_key(rows[10]["image"])] = "img/10.png"  # the absolute cell, made relative
    assert got == want
    assert str(tmp_path) not in text


def test_the_reports_case_tables_name_the_file() -> None:
    from workflows.report.html import _per_case_section

    case = {"id": "8c1f", "file": "img/a.png", "true": 0, "pred": 1, "probs": [0.4, 0.6]}
    html = _per_case_section("classification", {"per_case": [case], "class_names": ["a", "b"]})
    assert "<td>img/a.png</td>" in html and "8c1f" not in html
