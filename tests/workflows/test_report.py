"""metrics.json content, plots, the self-contained report.html, and `radpipe report`."""

from __future__ import annotations

import base64
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from workflows.cli import main
from workflows.report import plots
from workflows.report.results import (
    evaluate_classification,
    evaluate_segmentation,
    write_metrics,
    write_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if tag == "img" and name == "src":
                self.images.append(value or "")
            elif name in ("src", "href", "srcset", "action"):
                self.links.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _classification_run(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "xray-20261124-1200"
    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, 60)
    logits = rng.normal(size=(60, 3)) + 2 * np.eye(3)[true]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    names = ["normal", "round", "elongated"]
    metrics = evaluate_classification(true, probs, names, ids=[f"k{i:04x}" for i in range(60)])
    write_metrics(run, metrics)
    log = [
        {"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1), "val_accuracy": 0.5}
        for e in range(5)
    ]
    lines = [json.dumps(row) for row in log]
    (run / "log.jsonl").write_text("\n".join(lines) + '\n{"epoch": 5, "trai')  # torn last line
    (run / "config.yaml").write_text("name: xray\nnote: '<script>alert(1)</script>'\n")
    (run / "split.csv").write_text(
        "series_key,split,label\n" + "".join(f"s{i},{'train' if i % 3 else 'test'},{i % 2}\n"
                                             for i in range(12))
    )  # fmt: skip
    plots.plot_roc_curves(true, probs, names, run / "plots" / "roc.png")
    return run


def test_classification_metrics_agree_with_sklearn(tmp_path: Path) -> None:
    sk = pytest.importorskip("sklearn.metrics")
    run = _classification_run(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, 60)
    logits = rng.normal(size=(60, 3)) + 2 * np.eye(3)[true]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = probs.argmax(1)
    assert metrics["confusion_matrix"] == sk.confusion_matrix(true, pred).tolist()
    assert metrics["summary"]["accuracy"] == pytest.approx(sk.accuracy_score(true, pred))
    auc = sk.roc_auc_score(true, probs, multi_class="ovr")
    assert metrics["summary"]["roc_auc_macro"] == pytest.approx(auc)
    recall = sk.recall_score(true, pred, average=None)
    assert metrics["per_class"]["round"]["sensitivity"] == pytest.approx(recall[1])
    assert len(metrics["per_case"]) == 60 and metrics["per_case"][0]["id"] == "k0000"


def test_report_is_self_contained_with_every_figure(tmp_path: Path) -> None:
    run = _classification_run(tmp_path)
    out = write_report(run)
    assert out == run / "report.html"
    pngs = sorted((run / "plots").glob("*.png"))
    # roc was given; confusion matrix and learning curves are drawn by write_report
    assert [p.name for p in pngs] == ["confusion_matrix.png", "learning_curves.png", "roc.png"]
    parser = _Collector()
    page = out.read_text()
    parser.feed(page)
    assert len(parser.images) == len(pngs)
    embedded = sorted(base64.b64decode(src.split(",", 1)[1]) for src in parser.images)
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert embedded == sorted(p.read_bytes() for p in pngs)
    assert all(data.startswith(PNG_SIGNATURE) for data in embedded)
    assert parser.links == [] and "http" not in page.replace("http-equiv", "")
    assert "script" not in parser.tags and "link" not in parser.tags
    text = " ".join(parser.text)
    assert "<script>alert(1)</script>" in text  # shown as text, escaped in the markup
    assert "Balanced accuracy" in text and "Misclassified cases" in text
    assert "train" in text and "test" in text  # split table


def test_segmentation_metrics_hand_computed(tmp_path: Path) -> None:
    a = np.zeros((2, 6, 6), np.uint8)
    a[0, 1:4, 1:4] = 1  # 9 voxels of class 1, no class 2
    b = a.copy()
    b[0, 1:4, 3] = 0  # prediction misses 3 voxels: Dice 2*6/(6+9) = 0.8
    c = np.zeros((6, 6), np.uint8)
    c[2:4, 2:4] = 2
    cases = [("k1", a, b, (2.0, 1.0, 1.0)), ("k2", c, c, None)]
    metrics = evaluate_segmentation(cases, 3, ["background", "organ", "lesion"])
    per_case = {row["id"]: row for row in metrics["per_case"]}
    assert per_case["k1"]["dice"]["organ"] == pytest.approx(0.8)
    assert per_case["k1"]["jaccard"]["organ"] == pytest.approx(6 / 9)
    assert math.isnan(per_case["k1"]["dice"]["lesion"])  # absent from both: skipped
    assert per_case["k1"]["dice_macro"] == pytest.approx(0.8)
    assert per_case["k2"]["dice"]["lesion"] == 1.0 and per_case["k2"]["hd95"]["lesion"] == 0.0
    assert per_case["k1"]["hd95"]["organ"] == pytest.approx(1.0)
    assert metrics["summary"]["dice_case_mean"] == pytest.approx((0.8 + 1.0) / 2)
    # dataset-level pools counts: organ 6 TP, 3 FN -> 0.8; lesion 4 TP -> 1.0
    assert metrics["per_class"]["organ"]["dice_dataset"] == pytest.approx(0.8)
    assert metrics["summary"]["dice_dataset_macro"] == pytest.approx(0.9)
    assert metrics["policy"]["empty"] == "nan"
    path = write_metrics(tmp_path / "metrics.json", metrics)
    stored = json.loads(path.read_text())
    assert stored["per_case"][0]["dice"]["lesion"] is None  # NaN written as null
    ones = evaluate_segmentation(cases, 3, ["bg", "organ", "lesion"], empty="one", surface=False)
    assert ones["per_case"][0]["dice"]["lesion"] == 1.0 and "hd95" not in ones["per_case"][0]


def test_segmentation_report_with_overlays(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cases, images = [], {}
    for i in range(4):
        true = np.zeros((3, 16, 16), np.uint8)
        true[1, 4:10, 4 + i : 10 + i] = 1
        pred = np.roll(true, i, axis=2)
        cases.append((f"key{i}", true, pred, (3.0, 1.0, 1.0)))
        images[f"key{i}"] = rng.normal(size=(1, 3, 16, 16))
    metrics = evaluate_segmentation(cases, 2, ["background", "organ"])
    run = tmp_path / "seg-run"
    write_metrics(run, metrics)
    ranked = sorted(metrics["per_case"], key=lambda r: r["dice_macro"])
    chosen = [ranked[0], ranked[-1]]
    by_id = {c[0]: c for c in cases}
    plots.plot_overlays(
        [(r["id"], images[r["id"]], by_id[r["id"]][1], by_id[r["id"]][2], r["dice_macro"])
         for r in chosen],
        run / "plots" / "overlays.png",
    )  # fmt: skip
    assert main(["report", str(run), "--title", "Segmentation run"]) == 0
    parser = _Collector()
    parser.feed((run / "report.html").read_text())
    assert len(parser.images) == 2  # overlays + confusion matrix (no log: no learning curves)
    text = " ".join(parser.text)
    assert "Segmentation run" in text and "Dice (mean of volumes)" in text and "key3" in text


def test_report_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty_run = tmp_path / "run-without-metrics"
    empty_run.mkdir()
    # a folder that is no run (a study folder given by mistake) was "no metrics.json
    # (evaluate the run first)", exit 1, and a missing one exit 1: usage errors, as for
    # predict, evaluate and run --resume
    assert main(["report", str(empty_run)]) == 2
    assert f"{empty_run} is not a radpipe run directory" in capsys.readouterr().err
    (empty_run / "config.yaml").write_text("name: x\n")  # a run not evaluated yet
    assert main(["report", str(empty_run)]) == 1
    err = capsys.readouterr().err
    assert "no metrics.json" in err and err.count("\n") == 1
    assert not (empty_run / "report.html").exists()
    assert main(["report", str(tmp_path / "missing")]) == 2  # a mistyped name: not "no
    assert f"{tmp_path / 'missing'}: no such run directory." in capsys.readouterr().err  # config"
    (tmp_path / "c.yaml").write_text("name: x\n")  # a config given for the run
    assert main(["report", str(tmp_path / "c.yaml")]) == 2
    assert "c.yaml is a file, not a run directory." in capsys.readouterr().err
    (empty_run / "metrics.json").write_text("{not json")
    assert main(["report", str(empty_run)]) == 1
    assert "cannot read metrics" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["report"])
    assert info.value.code == 2


def test_the_report_functions_users_import_from_the_package() -> None:
    import workflows.report as report
    from workflows.report import classification, results, segmentation

    assert report.evaluate_classification is classification.evaluate_classification
    assert report.evaluate_segmentation is segmentation.evaluate_segmentation
    for name in ("to_json_safe", "write_metrics", "write_report", "read_log"):
        assert getattr(report, name) is getattr(results, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        report.nope  # noqa: B018


def test_table_figures_keep_small_values() -> None:
    from workflows.report.sections import fmt

    assert [fmt(0.00025), fmt(1.5e-05), fmt(0.0), fmt(0.5), fmt(0.0012), fmt(12345.6)] == [
        "0.00025", "1.5e-05", "0.000", "0.500", "0.001", "12,346"]  # fmt: skip
    assert fmt(None) == "–" and fmt(-0.0004) == "-0.0004"


def test_the_distance_card_says_it_is_the_mean_of_the_class_means() -> None:
    from workflows.report.sections import cards

    metrics = {
        "summary": {"hd95_mean": 12.613, "hd95_n": 10, "hd95_failed": 1, "hd95_absent": 0},
        "per_class": {"organ": {"hd95_mean": 4.634, "hd95_n": 6},
                      "lesion": {"hd95_mean": 20.592, "hd95_n": 4},
                      "cyst": {"hd95_mean": None, "hd95_n": 0}},
        "distance_unit": "voxel",
    }  # fmt: skip
    html = cards("segmentation", metrics)
    assert "12.613" in html and "1 failed (10 scored; excluded)" in html
    assert (
        "mean of the class means: organ 4.634 (n 6), lesion 20.592 (n 4), cyst none scored (n 0)"
    ) in html


def test_the_evaluated_card_says_where_segmentation_was_scored() -> None:
    from workflows.report.sections import cards

    base = {"summary": {"dice_case_mean": 0.91}, "num_cases": 3, "num_patients": 2}
    source = base | {"grid": "source", "model_grid": {
        "summary": {"dice_case_mean": 0.935, "dice_dataset_macro": 0.9412}}}  # fmt: skip
    assert ("scored on the source pixels (on the preprocessed grid: case Dice 0.935, dataset "
            "Dice 0.941)") in cards("segmentation", source)  # fmt: skip
    assert "scored on the preprocessed grid" in cards(
        "segmentation", base | {"grid": "preprocessed"}
    )
    assert "scored on" not in cards("segmentation", base | {"grid": "source"})
