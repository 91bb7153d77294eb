"""Report sections for what a reviewer asks first: what was scored, the data, the model,
every interval with its method and resamples, counts of failed cases, the operating point,
calibration and the saliency sanity check. Each returns an HTML fragment ("" when absent)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workflows.report.positive import POSITIVE_FIGURES, figure_named, positive_class_said
from workflows.report.undefined import is_undefined, reason_for

#: Headline cards: (summary key, label); ``{unit}`` is the distance unit, ``{ovr}`` the
#: averaging of a ROC AUC or average precision over more than two classes, ``{elements}``
#: what the pooled Dice counts (pixels of 2-D images, as their confusion figure; else voxels).
CARDS = {
    "classification": [
        ("accuracy", "Accuracy"),
        ("balanced_accuracy", "Balanced accuracy"),
        ("sensitivity", "Sensitivity"),  # two classes only: of the positive class
        ("specificity", "Specificity"),
        ("f1_macro", "Macro F1"),
        ("roc_auc_macro", "ROC AUC{ovr}"),
        ("average_precision_macro", "Average precision{ovr}"),
    ],
    "segmentation": [
        ("dice_case_mean", "Dice (mean of {cases}s{classes})"),
        ("dice_patient_mean", "Dice (mean of patients{classes})"),
        ("dice_dataset_macro", "Dice (pooled {elements}{classes})"),
        ("hd95_mean", "HD95 ({unit})"),
        ("msd_mean", "Mean surface distance ({unit})"),
        ("nsd_mean", "Normalized surface Dice (tolerance {tolerance:g} mm)"),
    ],
}


def figure_label(key: str, metrics: Mapping[str, Any], *, positive: bool = True) -> str:
    """A ``metrics.json`` key as the report's tables name it: a distance with its unit
    (``hd95_mean (mm)``; it was a bare ``hd95_mean``), NSD with its tolerance, a figure of a
    two-class run's positive class with that class (:func:`figure_named`) unless
    ``positive`` is false (a per-class table, whose rows are each class's own rates)."""
    if key in ("hd95_mean", "msd_mean"):
        unit = metrics.get("distance_unit", "mm")
        return f"{key} ({'voxels' if unit == 'voxel' else unit})"
    if key == "nsd_mean" and metrics.get("nsd_tolerance_mm") is not None:
        return f"{key} (tolerance {float(metrics['nsd_tolerance_mm']):g} mm)"
    return figure_named(key, metrics) if positive else key


def case_word(metrics: Mapping[str, Any]) -> str:
    """What a case is, for the report's words: ``image`` for a segmentation whose every
    evaluated sample is 2-D (``(C, H, W)`` in ``data.image_shapes``; each is its own case),
    else ``metrics.json``'s ``case_unit``. Ultrasound PNGs were "10 evaluated volumes",
    "Dice (mean of volumes)", "Per volume". 2-D slices stacked into their series' volumes
    (``num_slices`` > 0) are volumes: a ``unit: image`` run's 4 series of 12 slices were
    "4 evaluated images", "Dice (mean of images)", beside ``case_unit`` volume."""
    unit = str(metrics.get("case_unit", "case"))
    shapes = (metrics.get("data") or {}).get("image_shapes") or {}
    stacked = bool(metrics.get("num_slices"))
    if (
        unit == "volume"
        and not stacked
        and shapes
        and all(len(str(s).split("x")) == 3 for s in shapes)
    ):
        return "image"
    return unit


def _dl(items: Sequence[tuple[str, Any]]) -> str:
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{fmt(v)}</dd>" for k, v in items) + "</dl>"


def esc(value: Any) -> str:
    """``value`` as HTML text (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A figure for a table cell: 3 decimals, thousands grouped, 3 significant digits below
    0.001 (a learning rate of 0.00025 is not "0.000"), a dash for ``None``."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.001:
            return f"{value:.3g}"
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return esc(value)


def html_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], bars: set[int] | None = None
) -> str:
    """An HTML table; columns in ``bars`` show values in [0, 1] as bars."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    lines = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if bars and i in bars and isinstance(value, float) and 0 <= value <= 1:
                cells.append(f"<td class='bar' style='--w:{value * 100:.0f}%'>{fmt(value)}</td>")
            else:
                cells.append(f"<td>{fmt(value)}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def cards(task: str, metrics: Mapping[str, Any]) -> str:
    """Headline figures, each with its interval and, for distances, the failed-case count."""
    summary = metrics.get("summary", {})
    intervals = metrics.get("intervals", {})
    unit = metrics.get("distance_unit", "mm")
    cases = case_word(metrics)
    scored = len(metrics.get("per_class") or {})  # several: each Dice is a macro mean of them
    words = {"unit": unit, "cases": cases, "tolerance": float(metrics.get("nsd_tolerance_mm") or 0),
             "classes": f"; macro over {scored} classes" if scored > 1 else "",
             "elements": (metrics.get("dataset") or {}).get("confusion_matrix_unit", "voxels"),
             # K > 2: which average (it read "ROC AUC" alike for two classes and for ten)
             "ovr": " (macro of one-vs-rest)" if int(metrics.get("num_classes") or 2) > 2
             else ""}  # fmt: skip
    out = []
    for key, label in CARDS.get(task, []):
        if key not in summary:
            continue
        notes = []
        ci = intervals.get(key) or (
            intervals.get("roc_auc_delong") if key == "roc_auc_macro" else None
        )
        if ci and ci.get("low") is not None:
            exact = " (Clopper-Pearson)" if "trials" in ci else ""  # see proportions.py
            notes.append(f"{ci['level']:.0%} CI {fmt(ci['low'])}–{fmt(ci['high'])}{exact}"
                         + (f"; {ci['caution'].split(':')[0]}, too few" if ci.get("caution")
                            else ""))  # fmt: skip
        elif ci and ci.get("note"):  # a zero-width interval is none: say why
            notes.append(str(ci["note"]).split(":")[0] + " (see the intervals)")
        notes.append(reason_for(key, metrics))  # why it is n/a
        if key in ("sensitivity", "specificity"):
            notes.append(_called_at(metrics))
        elif key in POSITIVE_FIGURES and (said := positive_class_said(metrics)):
            notes.append(f"positive class: {said}")  # ROC AUC, average precision
        prefix = key.removesuffix("_mean")
        if summary.get(f"{prefix}_absent") and key.startswith("dice_"):  # left out: said
            left, kept = summary[f"{prefix}_absent"], summary.get(f"{prefix}_n")
            unit = "patients" if prefix == "dice_patient" else f"{cases}s"
            notes.append(f"{kept} of {kept + left} {unit} averaged; {left} left out (no scored "
                         "class in truth or prediction: no Dice)")  # fmt: skip
        if f"{prefix}_failed" in summary:
            notes.append(
                f"{summary[f'{prefix}_failed']} failed ({summary.get(f'{prefix}_n')} scored; "
                f"{'excluded' if _failures(metrics) == 'exclude' else 'scored as diagonal'})"
            )
            notes.append(_class_means(metrics, prefix))
        if key == "nsd_mean":  # bounded: a miss is a 0 in the mean, not a failure left out
            notes += ["a class in one mask only scores 0", _class_means(metrics, "nsd")]
        note = "".join(f"<div class='ci'>{esc(n)}</div>" for n in notes if n)
        out.append(
            f"<div class='card'><div class='k'>{esc(label.format(**words))}</div>"
            f"<div class='v'>{'n/a' if is_undefined(summary[key]) else fmt(summary[key])}</div>"
            f"{note}</div>"
        )
    counts = [("cases", metrics.get("num_cases")), ("patients", metrics.get("num_patients"))]
    out.append(
        "<div class='card'><div class='k'>Evaluated</div><div class='v'>"
        f"{fmt(metrics.get('num_cases'))}</div><div class='ci'>"
        + esc(", ".join(f"{v} {k}" for k, v in counts if v is not None))
        + (f"; {metrics['num_slices']} slices" if metrics.get("num_slices") else "")
        + esc(_grid_note(metrics) + _voxel_ties(metrics))
        + "</div></div>"
    )
    return f"<section class='cards'>{''.join(out)}</section>"


def _called_at(metrics: Mapping[str, Any]) -> str:
    """What a binary run's headline sensitivity and specificity are computed at: which class
    is positive, called by argmax, not at the operating point the report also shows (until
    2026-12-02 the cards said neither, beside the operating point's other figures)."""
    positive = positive_class_said(metrics)  # "(by default: class 1, not ...)" unchosen
    if positive is None:
        return ""
    note = f"positive class: {positive}; called by the higher probability (argmax, 0.5)"
    if ties := metrics.get("prediction_ties"):  # 0.5 / 0.5: the first class, as argmax
        note += f"; {ties} tied at 0.5 called {metrics['class_names'][0]}"
    threshold = (metrics.get("operating_point") or {}).get("threshold")
    if threshold is not None:
        note += f", not at the operating point ({fmt(threshold)}, below)"
    return note


def _grid_note(metrics: Mapping[str, Any]) -> str:
    """Where segmentation was scored, and the model-grid figures beside the headline."""
    if metrics.get("grid") == "preprocessed":
        return "; scored on the preprocessed grid"
    grid = metrics.get("model_grid")
    if not grid:
        return ""
    summary = grid.get("summary", {})
    return (
        "; scored on the source pixels (on the preprocessed grid: case Dice "
        f"{fmt(summary.get('dice_case_mean'))}, dataset Dice "
        f"{fmt(summary.get('dice_dataset_macro'))})"
    )


def _voxel_ties(metrics: Mapping[str, Any]) -> str:
    """A segmentation's voxels whose top probability tied (the argmax gave each the lower
    class index), for the Evaluated card; "" when none did."""
    voxels = metrics.get("prediction_ties") if metrics.get("task") == "segmentation" else 0
    if not voxels:
        return ""
    names = metrics.get("class_names") or ["class 0"]
    samples = metrics.get("prediction_ties_samples")
    return (f"; {voxels} voxels in {samples} samples tied between classes on their top "
            f"probability: called the lower class ({names[0]} first)")  # fmt: skip


def _failures(metrics: Mapping[str, Any]) -> str:
    return str(metrics.get("policy", {}).get("surface_failure_policy", "exclude"))


def _class_means(metrics: Mapping[str, Any], prefix: str) -> str:
    """What a headline distance averages: the mean of the per-class means (volumes scored
    per class in brackets); a class with none scored is named, as it is left out."""
    parts = []
    for name, entry in (metrics.get("per_class") or {}).items():
        if f"{prefix}_n" in entry:
            n = entry[f"{prefix}_n"]
            parts.append(f"{name} {fmt(entry.get(f'{prefix}_mean')) if n else 'none scored'} "
                         f"(n {n})")  # fmt: skip
    return "mean of the class means: " + ", ".join(parts) if parts else ""


def scored_section(metrics: Mapping[str, Any], log_rows: Sequence[Mapping[str, Any]]) -> str:
    """Which checkpoint (and epoch) was scored, and the model that produced it."""
    entries = (metrics.get("model") or {}).get("checkpoints") or []
    if not entries:
        return ""
    wall = sum(float(r.get("time_s") or 0) for r in log_rows)
    header = ["fold", "checkpoint", "epoch scored", "architecture", "parameters",
              "epochs run", "best epoch", "early stop", "device"]  # fmt: skip
    rows = [
        ["–" if e.get("fold") is None else e["fold"], e.get("checkpoint"), e.get("epoch"),
         e.get("architecture"), f"{e.get('parameters', 0):,}", e.get("epochs_run"),
         e.get("best_epoch"), "yes" if e.get("stopped_early") else "no", e.get("device")]
        for e in entries
    ]  # fmt: skip
    facts = [("evaluated", metrics.get("evaluated"))]
    post = metrics.get("postprocess")
    if post is not None:
        facts.append(("post-processing of the predicted masks", describe_postprocess(post)))
    if wall:
        facts.append(("training time (s, the epochs in log.jsonl)", f"{wall:.1f}"))
    return "<h2>Model scored</h2>" + _dl(facts) + html_table(header, rows)


def describe_postprocess(post: Mapping[str, Any]) -> str:
    """``metrics.json``'s ``postprocess`` record in words."""
    steps = post.get("steps") or []
    if not steps:
        return "none (the argmax of the class probabilities)"
    names = ", then ".join(str(s.get("type")) for s in steps)
    return (f"{names}: changed {post.get('maps_changed')} of {post.get('maps')} predicted "
            f"masks, {post.get('pixels_changed')} pixels")  # fmt: skip


def data_summary_section(metrics: Mapping[str, Any]) -> str:
    data = metrics.get("data")
    if not data:
        return ""
    facts: list[tuple[str, Any]] = [("evaluated samples", data.get("num_samples"))]
    for key, label in (("image_shapes", "image size after preprocessing (C x ...)"),
                       ("spacings", "spacing after preprocessing"),
                       ("modalities", "modality (series)")):  # fmt: skip
        values = data.get(key) or {}
        facts.append((label, "; ".join(f"{k} ({v})" for k, v in values.items()) or "–"))
    classes = data.get("classes") or {}
    first: dict[str, Any] = next(iter(classes.values()), {})
    rows = [[name, *values.values()] for name, values in classes.items()]
    table = html_table(["class", *[k.replace("_", " ") for k in first]], rows) if rows else ""
    return "<h2>Evaluated data</h2>" + _dl(facts) + table


def intervals_section(metrics: Mapping[str, Any]) -> str:
    intervals = metrics.get("intervals") or {}
    if not intervals:
        return ""
    header = ["figure", "estimate", "low", "high", "level", "method", "resamples (valid)",
              "patients", "seed"]  # fmt: skip
    rows = [
        [figure_label(key, metrics), ci.get("estimate"), ci.get("low"), ci.get("high"),
         f"{ci.get('level', 0):.0%}",
         "; ".join(str(ci[part]) for part in ("method", "note", "caution") if ci.get(part)),
         f"{ci['n_resamples']} ({ci['n_valid']})" if "n_resamples" in ci else "–",
         ci.get("n_groups", "–"), ci.get("seed", "–")]
        for key, ci in intervals.items()
    ]  # fmt: skip
    return "<h2>Confidence intervals</h2>" + html_table(header, rows)


def cross_validation_section(metrics: Mapping[str, Any]) -> str:
    """Each fold's model alone on the evaluated cases, and the spread over the folds
    (``metrics.json``'s ``folds`` and ``cross_validation``); "" for a run without folds."""
    folds = metrics.get("folds") or []
    spread = metrics.get("cross_validation") or {}
    if not folds or not spread:
        return ""
    stats = ("mean", "std", "min", "max")
    header = ["figure", *[f"fold {k}" for k in range(len(folds))], *stats, "folds"]
    rows = [
        [
            figure_label(key, metrics),
            *[fold.get(key) for fold in folds],
            *[values.get(s) for s in stats],
            "–" if values.get("n") is None else f"{values['n']} of {len(folds)}",
        ]
        for key, values in spread.items()
    ]
    note = (
        f"Each of the {len(folds)} fold models alone on the same evaluated cases (the figures "
        "above are of their ensemble); mean, std, min and max are over the folds that have "
        "the figure (folds; – : undefined for that fold model), std the population standard "
        "deviation (ddof 0; none for one fold)."
    )
    return f"<h2>Cross-validation</h2><p class='note'>{esc(note)}</p>" + html_table(header, rows)


def operating_point_section(metrics: Mapping[str, Any]) -> str:
    op = metrics.get("operating_point")
    if not op:
        return ""
    if "error" in op:
        return f"<h2>Operating point</h2><p class='note'>Not chosen: {esc(op['error'])}</p>"
    names = metrics.get("class_names") or ["0", "1"]
    why = op.get("undefined") or {}  # a null test figure: n/a (why), not a dash
    facts = [(k.replace("_", " "), f"n/a ({why[k]})" if k in why else v) for k, v in op.items()
             if k not in ("test_confusion_matrix", "undefined")]  # fmt: skip
    cm = op.get("test_confusion_matrix") or []
    table = html_table(["true \\ called", *names], [[names[i], *row] for i, row in enumerate(cm)])
    return "<h2>Operating point (chosen on validation, applied to test)</h2>" + _dl(facts) + table


def explanations_section(metrics: Mapping[str, Any]) -> str:
    info = metrics.get("explanations") or {}
    check = info.get("sanity_check")
    if not check:
        return ""
    rows = [[r["method"], r["spearman"], r.get("note", "")] for r in check.get("results", [])]
    methods = info.get("methods") or {}
    case = check.get("file") or check.get("case")  # an images run's file, else the key
    return (
        "<h2>Saliency sanity check</h2>"
        + _dl([*methods.items(), ("check", check.get("test")), ("case", case)])
        + html_table(["method", "Spearman |attribution| trained vs randomised", "note"], rows)
    )


def segmentation_tables(metrics: Mapping[str, Any], limit: int = 40) -> str:
    """Per patient, per volume (primary) and per slice (secondary) tables."""
    out = []
    patients = metrics.get("per_patient") or []
    if patients:
        rows = [[p["id"], p["num_volumes"], p["dice_macro"], p.get("hd95_failed", "–")]
                for p in sorted(patients, key=lambda p: _key(p["dice_macro"]))[:limit]]  # fmt: skip
        # the cases a patient has, as the report calls them: a 2-D image run's were "volumes"
        cases = f"{case_word(metrics)}s"
        out.append("<h2>Per patient</h2>" + html_table(["patient", cases, "Dice (macro)",
                                                     "HD95 failures"], rows))  # fmt: skip
    slices = metrics.get("per_slice") or []
    if slices:
        note = metrics.get("slices", {}).get("note", "")
        rows = [[s["id"], s["dice_macro"]]
                for s in sorted(slices, key=lambda s: _key(s["dice_macro"]))[:limit]]  # fmt: skip
        out.append(
            f"<h2>Per slice (secondary)</h2><p class='note'>{esc(note)}; worst "
            f"{min(limit, len(slices))} of {len(slices)} shown.</p>"
            + html_table(["slice", "Dice (macro)"], rows)
        )
    return "\n".join(out)


def _key(value: Any) -> float:
    return -1.0 if value is None else float(value)


def fold_logs(run: Path) -> list[dict[str, Any]]:
    """Rows of every ``log.jsonl`` of the run (one per fold in cross-validation)."""
    import json

    paths = [run / "log.jsonl", *sorted((run / "folds").glob("fold-*/log.jsonl"))]
    rows = []
    for path in (p for p in paths if p.is_file()):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a killed run
            if isinstance(row, dict):
                rows.append(row)
    return rows
