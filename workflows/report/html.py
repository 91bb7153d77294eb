"""HTML rendering of a run report: one self-contained file, inline CSS, images as data URIs.

No scripts, no external links, no fonts fetched: it opens the same offline as online. Every
value is HTML-escaped; case ids are the opaque keys the pipeline already uses.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.words import counted
from workflows.report import sections
from workflows.report.sections import esc, fmt, html_table
from workflows.report.undefined import is_undefined, macro_notes, shown_undefined

_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#0072B2;--bg:#f8fafc}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:32px 24px 64px}
header{border-bottom:1px solid var(--line);margin-bottom:24px;padding-bottom:12px}
h1{font-size:26px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:18px;margin:36px 0 12px;font-weight:620}
.sub{color:var(--muted);font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .v{font-size:28px;font-weight:650;font-variant-numeric:tabular-nums}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .ci{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:8px;
font-size:13px;font-variant-numeric:tabular-nums;margin:4px 0 8px}
th,td{padding:6px 12px;text-align:right;border-bottom:1px solid var(--line)}
th{background:#f1f5f9;font-weight:600}
th:first-child,td:first-child{text-align:left}
tr:last-child td{border-bottom:0}
td.bar{background-repeat:no-repeat;background-size:var(--w) 100%;
background-image:linear-gradient(#dbeafe,#dbeafe)}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
figure.wide{grid-column:1/-1}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:var(--muted);font-size:12px;margin-top:6px}
pre{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;
overflow:auto;font-size:12px}
.note{color:var(--muted);font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;font-size:13px}
dt{color:var(--muted)}dd{margin:0}
"""

_UNIT_INTERVAL = {"dice", "jaccard", "nsd", "sensitivity", "specificity", "precision", "npv", "f1"}


def render_report(
    run: Path,
    metrics: Mapping[str, Any],
    logs: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    title: str,
) -> str:
    """The report as one HTML string (see :func:`workflows.report.results.write_report`);
    ``logs``: the training logs by name (``""``, or ``"fold K"`` after cross-validation)."""
    task = str(metrics.get("task", "evaluation"))
    unit = sections.case_word(metrics)
    parts = [
        f"<header><h1>{esc(title)}</h1><div class='sub'>{esc(task)} · "
        f"{esc(metrics.get('num_cases', '?'))} evaluated {esc(unit)}s · "
        f"{esc(metrics.get('evaluated', ''))} · report generated "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</div></header>",
        sections.cards(task, metrics),
        sections.scored_section(metrics, sections.fold_logs(run)),
        sections.data_summary_section(metrics),
        _data_section(run, metrics),
        _metrics_section(metrics),
        sections.intervals_section(metrics),
        sections.cross_validation_section(metrics),
        sections.operating_point_section(metrics),
        _figures_section(run, metrics),
        sections.explanations_section(metrics),
        _training_section(logs, metrics),
        _per_case_section(task, metrics),
        sections.segmentation_tables(metrics) if task == "segmentation" else "",
        _policy_section(metrics),
        _text_section("Configuration", run / "config.yaml"),
        _text_section("Provenance", run / "provenance.json", drop="config"),
    ]
    body = "\n".join(p for p in parts if p)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _data_section(run: Path, metrics: Mapping[str, Any]) -> str:
    split_rows = _read_csv(run / "split.csv")
    index_rows = _read_csv(run / "index.csv")
    if not split_rows and not index_rows:
        return ""
    out = ["<h2>Data</h2>"]
    facts = []
    if index_rows:
        facts.append(("indexed rows (index.csv)", len(index_rows)))
        for key in ("patient_key", "series_key", "modality"):
            if key in index_rows[0]:
                facts.append((f"distinct {key}", len({r[key] for r in index_rows})))
    if split_rows:
        facts.append(("rows in split.csv", len(split_rows)))
    out.append("<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{fmt(v)}</dd>" for k, v in facts) + "</dl>")
    if split_rows and "split" in split_rows[0]:
        classes = metrics.get("class_names") if metrics.get("task") == "classification" else None
        if classes is None and len({r.get("label") for r in split_rows}) < 2:
            # a segmentation without labels: split.csv's label is the placeholder 0, which
            # the table showed as a column "label 0" holding every image
            split_rows = [{k: v for k, v in r.items() if k != "label"} for r in split_rows]
        out.append(_split_table(split_rows, list(classes or [])))
    return "\n".join(out)


_PARTS = ("train", "val", "test")


def _split_table(rows: list[dict[str, str]], classes: list[str]) -> str:
    """Each part's size and its count per label: a classification's class index named by
    ``classes`` (split.csv holds the index), labels in numeric order (2 before 10)."""
    if any(r.get("fold", "-1") not in ("", "-1") for r in rows):  # cross-validation
        rows = [{**r, "split": f"{r['split']} fold {r['fold']}"} if r.get("fold", "-1")
                not in ("", "-1") else r for r in rows]  # fmt: skip
    sizes = Counter(r["split"] for r in rows)
    label_key = next((k for k in ("label", "class_name") if k in rows[0]), None)
    labels = sorted({r[label_key] for r in rows}, key=_label_order) if label_key else []
    by_label = Counter((r["split"], r[label_key]) for r in rows) if label_key else Counter()
    named = {str(i): name for i, name in enumerate(classes)} if label_key == "label" else {}
    header = ["split", "size", *[named.get(lab, f"{label_key} {lab}") for lab in labels]]
    body = [
        [name, sizes[name], *[by_label[(name, lab)] for lab in labels]]
        for name in sorted(sizes, key=lambda s: (_PARTS.index(s.split()[0])
                           if s.split()[0] in _PARTS else 9, s))
    ]  # fmt: skip
    return html_table(header, body)


def _label_order(label: str) -> tuple[int, int | str]:
    return (0, int(label)) if label.lstrip("-").isdigit() else (1, label)


def _metrics_section(metrics: Mapping[str, Any]) -> str:
    per_class = metrics.get("per_class") or {}
    if not per_class:
        return ""
    # every class's keys: a two-class run gives average_precision for the positive class only,
    # and when that is class 1 the column was missing (class 0's keys made the header)
    keys = list(dict.fromkeys(k for values in per_class.values() for k in values))
    bars = {i + 1 for i, k in enumerate(keys) if k.split("_")[0] in _UNIT_INTERVAL}
    rows = [[name, *[values.get(k) for k in keys]] for name, values in per_class.items()]
    # units named; each row holds its own class's rates, so no column names the positive
    # class (no_lesion's sensitivity 0.000 stood under "sensitivity (positive class:
    # round_lesion)", whose own was 1.000)
    header = ["class", *[sections.figure_label(k, metrics, positive=False) for k in keys]]
    out = ["<h2>Metrics by class</h2>", html_table(header, rows, bars)]
    summary = metrics.get("summary") or {}
    if summary:
        out.append("<h2>Summary</h2>")
        # a null figure is "n/a (why)", never a bare dash (undefined_metrics says why)
        rows = [[sections.figure_label(k, metrics), shown_undefined(k, metrics) if is_undefined(v)
                 else v] for k, v in summary.items()]  # fmt: skip
        out.append(html_table(["metric", "value"], rows, {1}))
    out += [f"<p class='note'>{esc(note)}</p>" for note in macro_notes(metrics)]
    return "\n".join(out)


#: Figures shown at the full page width (image detail matters).
_WIDE = {"overlays", "explanations", "most_confident_mistakes", "examples_per_class"}


def _figures_section(run: Path, metrics: Mapping[str, Any]) -> str:
    images = sorted((run / "plots").glob("*.png")) if (run / "plots").is_dir() else []
    if not images:
        return ""
    shown = metrics.get("report_images") or {}
    notes = []
    if shown.get("burned_in_hidden"):
        notes.append(
            f"{counted(shown['burned_in_hidden'], 'test image')} of "
            f"{counted(shown['burned_in_series'], 'series')} "
            "whose header says BurnedInAnnotation YES are in no figure "
            "(report.burned_in_images: true shows them)."
        )
    if shown.get("burned_in_unchecked_files"):
        notes.append(
            "BurnedInAnnotation could not be read from "
            f"{counted(shown['burned_in_unchecked_files'], 'source file')} (moved or deleted): "
            "their images may be shown."
        )
    note = "".join(f"<p class='note'>{esc(n)}</p>" for n in notes)
    figures = []
    for path in images:
        raw = path.read_bytes()
        data = base64.b64encode(raw).decode("ascii")
        caption = path.stem.replace("_", " ")
        # PNG IHDR: width and height at bytes 16-24; wide figures span the whole row
        wide = path.stem in _WIDE or (
            len(raw) > 24 and int.from_bytes(raw[16:20]) > 2 * int.from_bytes(raw[20:24])
        )
        figures.append(
            f"<figure{' class=wide' if wide else ''}><img alt='{esc(caption)}' "
            f"src='data:image/png;base64,{data}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    return f"<h2>Figures</h2>{note}<section class='figs'>{''.join(figures)}</section>"


def _training_section(
    logs: Mapping[str, Sequence[Mapping[str, Any]]], metrics: Mapping[str, Any]
) -> str:
    """Each log's last epoch, the epoch ``best.pt`` holds (the run's monitor, smoothed when
    ``train.monitor_ema``; not always the lowest val_loss) and, when another, the lowest
    val_loss."""
    if not logs:
        return ""
    scored = (metrics.get("model") or {}).get("checkpoints") or []
    best_of = {"" if c.get("fold") is None else f"fold {c['fold']}": c.get("best_epoch")
               for c in scored}  # fmt: skip
    keys = [k for k in next(iter(logs.values()))[-1] if k != "epoch"]
    rows = []
    for name, log in logs.items():
        prefix = f"{name}: " if name else ""
        lowest = min(
            (r for r in log if isinstance(r.get("val_loss"), int | float)),
            key=lambda r: r["val_loss"],
            default=None,
        )
        best = next((r for r in log if r.get("epoch") == best_of.get(name)), None)
        rows.append([f"{prefix}last epoch", log[-1].get("epoch"), *[log[-1].get(k) for k in keys]])
        shown = [("best epoch (best.pt)", best)]
        if lowest is not best:
            shown.append(("lowest val_loss", lowest))
        for label, row in shown:
            if row is not None:
                rows.append([f"{prefix}{label}", row.get("epoch"), *[row.get(k) for k in keys]])
    return "<h2>Training</h2>" + html_table(["", "epoch", *keys], rows)


def _per_case_section(task: str, metrics: Mapping[str, Any], limit: int = 40) -> str:
    cases = metrics.get("per_case") or []  # a case by its file (images run), else its key
    if not cases:
        return ""
    names = metrics.get("class_names") or []
    if task == "segmentation":
        ordered = sorted(
            cases, key=lambda c: -1 if c.get("dice_macro") is None else c["dice_macro"]
        )
        scored = list(ordered[0].get("dice", {}))
        header = ["case", "Dice (macro)", *[f"Dice {n}" for n in scored]]
        unit = metrics.get("distance_unit", "mm")
        header += [f"HD95 {n} ({unit})" for n in scored if "hd95" in ordered[0]]
        tol = metrics.get("nsd_tolerance_mm")
        header += [f"NSD {n} (at {tol:g} mm)" for n in scored if "nsd" in ordered[0]]
        rows = [
            [c.get("file") or c["id"], c.get("dice_macro"), *c["dice"].values(),
             *["failed" if n in c.get("surface_failed", ()) else v
               for n, v in c.get("hd95", {}).items()], *c.get("nsd", {}).values()]
            for c in ordered[:limit]
        ]  # fmt: skip
        bars = set(range(1, 2 + len(scored)))
        word = sections.case_word(metrics)
        note = (
            f"Worst {min(limit, len(cases))} of {len(cases)} {word}s by macro Dice; "
            "HD95 failed: the class is in one mask only (missed, or a false positive); "
            "– : in neither."
        )
        return f"<h2>Per {word}</h2><p class='note'>{note}</p>" + html_table(header, rows, bars)
    wrong = [c for c in cases if c.get("true") != c.get("pred")]
    rows = [
        [
            c.get("file") or c["id"],
            _name(names, c["true"]),
            _name(names, c["pred"]),
            max(c.get("probs") or [0.0]),
        ]
        for c in wrong[:limit]
    ]
    note = f"{len(wrong)} of {len(cases)} cases misclassified" + (
        f"; first {limit} shown." if len(wrong) > limit else "."
    )
    table = html_table(["case", "true", "predicted", "top probability"], rows) if rows else ""
    return f"<h2>Misclassified cases</h2><p class='note'>{note}</p>{table}"


def _name(names: Sequence[str], index: Any) -> str:
    return str(names[index]) if isinstance(index, int) and 0 <= index < len(names) else str(index)


def _policy_section(metrics: Mapping[str, Any]) -> str:
    policy = metrics.get("policy") or {}
    if not policy:
        return ""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in policy.items())
    return f"<h2>How the figures were computed</h2><dl>{items}</dl>"


def _text_section(title: str, path: Path, drop: str = "") -> str:
    """``path`` as text; a JSON object without its key ``drop`` (provenance's ``config``,
    the Configuration section's text unless edited, which a resume refuses)."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(text)
            data = {k: v for k, v in data.items() if k != drop} if isinstance(data, dict) else data
            text = json.dumps(data, indent=2)
    return f"<h2>{esc(title)}</h2><pre>{esc(text)}</pre>"
