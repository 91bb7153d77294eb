"""Evaluation of a trained run: per fold, and the ensemble of the folds.

Each fold's model sees the evaluated images through that fold's own fitted preprocessing; the
ensemble averages the folds' probabilities. Classification is scored per case. Segmentation
is scored on the source pixels, against the masks as given, in the source spacing: each
fold's maps are moved back through its geometric stages as ``radpipe predict`` does
(:mod:`workflows.run.source_grid`), and the model-grid figures are kept beside them. Data:
the run's test split, or (``radpipe evaluate``) an external folder, converted as the run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.keys import SECRET_ENV
from pipeline.stage import Pipeline
from pipeline.words import are, counted
from workflows.run.config import RunConfig
from workflows.run.fold_scores import Gathered, add_folds, each_fold, gathering, say_gathered
from workflows.run.image_list import case_files, name_case_files
from workflows.run.padding import image_regions
from workflows.run.source_grid import on_source, score_segmentation
from workflows.run.study_data import Study, make_dataset
from workflows.run.ties import say_ties

log = logging.getLogger("radpipe")


@dataclass
class Predictions:
    """A model's (or an ensemble's) outputs on a dataset, with what evaluation needs."""

    probs: np.ndarray  # (N, K) or (N, K, *spatial)
    truth: np.ndarray  # (N,) labels or (N, *spatial) masks
    ids: list[str]
    images: list[np.ndarray]
    meta: list[dict[str, Any]] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # never shown in a figure (burned-in text)
    regions: list[np.ndarray | None] = field(default_factory=list)  # image pixels (None: all)
    source: list[Any] | None = None  # segmentation on the source pixels (source_grid.SourceCase)
    grid: str = "source"  # where segmentation is scored when ``source`` is None
    raw: Callable[[int], Any] | None = None  # item i as loaded (dataset.raw_sample)
    models: int = 1  # the fold models whose probabilities were averaged (1: the run's one)
    files: dict[str, str] = field(default_factory=dict)  # an images run's files, by id

    def shown(self, i: int) -> str:
        """Sample ``i`` as a figure names it: an images run's file, else its hashed id."""
        return self.files.get(self.ids[i], self.ids[i])


#: The figures (``plots/<stem>.png``) that show test images; ``report.images: false`` writes none.
IMAGE_FIGURES = ("most_confident_mistakes", "examples_per_class", "overlays", "explanations")
#: Every figure an evaluation or its report draws: an earlier evaluation's are removed first.
FIGURES = ("confusion_matrix", "roc", "precision_recall", "reliability", *IMAGE_FIGURES)


def evaluate_run(
    config: RunConfig,
    study: Study,
    run_dir: Path,
    checkpoints: list[Path],
    *,
    test_keys: list[str] | None = None,
    out: Path | None = None,
    evaluated: str = "the test split",
    validation_study: Study | None = None,
    extra: dict[str, Any] | None = None,
    judge: Callable[[list[tuple[dict[str, Any], dict[str, Any]]]], tuple[str, dict[str, Any]]]
    | None = None,
) -> dict[str, Any] | None:
    """Write ``metrics.json`` and the evaluation plots into ``out`` (default ``run_dir``).

    Returns the metrics, or ``None`` when there is nothing to evaluate (``split.test: 0``, or
    a ``split.column`` that marks no row ``test``: the user evaluates on an external set with
    ``radpipe evaluate``). ``validation_study``
    holds the validation split for the operating point (default ``study``); ``extra`` keys
    are added to ``metrics.json`` (``evaluate``'s ``seen_by_run``). ``judge`` gets each
    case's first manifest row (images: its ``meta``) and preprocessed ``meta`` and returns
    a note for the evaluated line and more keys (``evaluate``'s images unlike training's).
    """
    from workflows.report.results import write_metrics
    from workflows.run.rundir import fold_dir
    from workflows.run.summary import data_summary, model_summary

    out = out or run_dir
    if test_keys is None:
        test_keys = [r["series_key"] for r in study.split if r["split"] == "test"]
    if not test_keys:
        if config.split.test == 0 or config.split.column:
            log.info("%s: no internal test set; use `radpipe evaluate RUN SRC`.",
                     config.split.no_test_reason())  # fmt: skip
            return None
        raise RadpipeError("The test split is empty; set split.test > 0 to evaluate.")
    # one per checkpoint, not config.split.folds: `radpipe evaluate`'s config has no folds
    folds: list[int | None] = list(range(len(checkpoints))) if len(checkpoints) > 1 else [None]
    fold_preds, preps = [], []
    for fold, ckpt in zip(folds, checkpoints):
        preps.append(Pipeline.load(fold_dir(run_dir, fold) / "stages"))
        lists = fold_dir(run_dir, fold) if out == run_dir else out  # evaluate: never RUN
        dataset = make_dataset(study, config, test_keys, preps[-1], folder=lists, part="test")
        fold_preds.append(_predict(config, ckpt, dataset))
    source = _on_source(config, dataset, preps, fold_preds)
    seen: Gathered | None = None if folds[0] is None else {}  # warnings said once, below
    per_fold = each_fold(lambda p: _score(config, study, p, None, None), fold_preds, seen)
    ens = fold_preds[0]
    ens.probs, ens.source = np.mean([p.probs for p in fold_preds], axis=0), source
    ens.models = len(fold_preds)
    burned = _hide_burned_in(config, study, ens)
    if judge is not None:
        rows = dataset.items if study.kind == "dicom" else [[m] for m in ens.meta]  # images
        note, found = judge([(rows[i][0], m) for i, m in enumerate(ens.meta)])
        evaluated, extra = (f"{evaluated}; {note}" if note else evaluated), (extra or {}) | found
    validation = _validation(config, validation_study or study, run_dir, checkpoints, folds)
    if study.kind == "images":  # figures name each image as the list CSV does, not by its key
        ens.files = case_files(ens.meta, study.root)
    plots = out / "plots"
    for old in [*(plots / f"{s}.png" for s in FIGURES), *plots.glob("learning_curves*.png")]:
        old.unlink(missing_ok=True)  # an earlier evaluation's figures (a user's own stay)
    with gathering(f"the ensemble of the {len(folds)} fold models", seen):
        metrics = _score(config, study, ens, validation, plots)
    say_gathered(seen)  # each once, naming the folds
    add_folds(metrics, per_fold, evaluated)
    say_ties(config.task, metrics, per_fold, len(ens.ids))  # once, not once per fold
    metrics["model"] = model_summary(run_dir, folds, checkpoints)
    manifest = study.root / "manifest.csv" if study.kind == "dicom" else None
    metrics["data"] = data_summary(ens, metrics["class_names"], config.task, manifest)
    if config.evaluate.explain and config.report.images:
        from workflows.run.explain import explain_cases

        metrics["explanations"] = explain_cases(config, checkpoints[0], ens, metrics, out)
    if study.kind == "images":  # each case's file as the list CSV gives it, beside its key
        name_case_files(metrics, ens.meta, study.root)
    metrics |= burned | (extra or {})
    write_metrics(out / "metrics.json", metrics)
    return metrics


def predict_with_checkpoint(config: RunConfig, checkpoint: Path, dataset: Any) -> np.ndarray:
    """Probabilities of a run's saved model on ``dataset``, with the run's batch size,
    test-time flip setting and device."""
    from workflows.train.infer import load_model_from_checkpoint, predict

    model = load_model_from_checkpoint(checkpoint)
    return predict(
        model,
        dataset,
        batch_size=config.train.batch_size,
        tta_flip=config.evaluate.tta_flip,
        device=config.train.device,
    )


def _predict(config: RunConfig, checkpoint: Path, dataset: Any) -> Predictions:
    probs = predict_with_checkpoint(config, checkpoint, dataset)
    samples = [dataset.sample(i) for i in range(len(dataset))]
    regions: list[np.ndarray | None] = []
    if config.task == "classification":
        truth = np.array([s.label for s in samples], dtype=np.int64)
    else:
        truth = np.stack([s.mask for s in samples]).astype(np.int64)
        regions = image_regions(dataset)
    return Predictions(
        probs=probs,
        truth=truth,
        ids=[s.id for s in samples],
        images=[s.image for s in samples],
        meta=[dict(s.meta) for s in samples],
        regions=regions,
        raw=dataset.raw_sample,
    )


def _on_source(
    config: RunConfig, dataset: Any, preps: list[Pipeline], fold_preds: list[Predictions]
) -> list[Any] | None:
    """Segmentation: each fold's cases on the source pixels (``fold_preds[f].source``) and
    those of the folds' mean (returned); ``None`` for classification or when the model grid
    is the source grid. A stage that cannot be undone leaves the figures on the model grid,
    with a warning that says so."""
    if config.task != "segmentation":
        return None
    order = 1 if config.evaluate.upsample == "linear" else 0
    try:
        found = on_source(dataset, preps, [p.probs for p in fold_preds], order)
    except RadpipeError as e:
        log.warning("Segmentation scored on the preprocessed grid, not on the source pixels: %s",
                    e)  # fmt: skip
        for p in fold_preds:
            p.grid = "preprocessed"
        return None
    if found is None:
        return None
    mean, folds = found
    for p, cases in zip(fold_preds, folds):
        p.source = cases
    return mean


def _validation(
    config: RunConfig,
    study: Study,
    run_dir: Path,
    checkpoints: list[Path],
    folds: list[int | None],
) -> tuple[np.ndarray, np.ndarray] | None:
    """Validation truth and probabilities for the operating point (binary classification):
    the validation split, or with k folds each fold model on its own held-out fold."""
    from pipeline.split import select_fold
    from workflows.run.rundir import fold_dir

    if config.task != "classification" or len(study.class_names) != 2:
        return None
    truths, probs = [], []
    for fold, ckpt in zip(folds, checkpoints):
        rows = (
            [r for r in study.split if r["split"] == "val"]
            if fold is None
            else select_fold(study.split, fold)["val"]
        )
        if not rows:
            continue
        prep = Pipeline.load(fold_dir(run_dir, fold) / "stages")
        keys = [r["series_key"] for r in rows]
        dataset = make_dataset(
            study, config, keys, prep, part="val", folder=fold_dir(run_dir, fold)
        )
        if not len(dataset):  # a ValueError traceback from predict() until 2026-12-03
            log.warning(
                "the run's own validation data are not usable (none of its %s is in data.source "
                "as converted now: its files changed, or the project secret (%s) is not the one "
                "the run was made with, so every key differs): no operating point",
                counted(len(keys), "validation series"), SECRET_ENV,
            )  # fmt: skip
            return None
        pred = _predict(config, ckpt, dataset)
        truths.append(pred.truth)
        probs.append(pred.probs)
    if not truths:
        return None
    return np.concatenate(truths), np.concatenate(probs)


def _patients(study: Study, pred: Predictions) -> list[str]:
    """Patient key of every sample (from the split table, where series without a PatientID
    have their study's key, else the sample's, else its id)."""
    patient_of = {r["series_key"]: r["patient_key"] for r in study.split}
    out = []
    for sample_id, meta in zip(pred.ids, pred.meta or [{}] * len(pred.ids)):
        series = meta.get("series_key") or sample_id
        out.append(str(patient_of.get(series) or meta.get("patient_key") or series))
    return out


def _score(
    config: RunConfig,
    study: Study,
    pred: Predictions,
    validation: tuple[np.ndarray, np.ndarray] | None,
    plots: Path | None,
) -> dict[str, Any]:
    from workflows.report.positive import positive_index
    from workflows.report.results import evaluate_classification

    e = config.evaluate
    patients = _patients(study, pred)
    intervals: dict[str, Any] = {"n_resamples": e.bootstrap if plots else 0,
                                 "seed": config.seed, "level": e.confidence}  # fmt: skip
    if config.task == "classification":
        chosen = e.positive_class  # None: class 1 by default, which metrics.json then says
        positive = None if chosen is None else positive_index(chosen, study.class_names)
        metrics = evaluate_classification(
            pred.truth, pred.probs, study.class_names, ids=pred.ids, patients=patients,
            validation=validation, operating_point=e.operating_point,
            target_sensitivity=e.target_sensitivity, positive=positive, **intervals,
        )  # fmt: skip
        if plots is not None:
            _classification_plots(metrics, pred, study.class_names, plots, config.report.images)
        return metrics
    metrics, labels = score_segmentation(config, pred, patients, intervals)
    if plots is not None and config.report.overlays and config.report.images:
        names = metrics["class_names"]
        _overlays(metrics, pred, labels, names, config.report.overlays, plots)
    return metrics


def _classification_plots(
    metrics: dict[str, Any], pred: Predictions, names: list[str], plots: Path, images: bool
) -> None:
    from workflows.report import plots as plotting
    from workflows.report.positive import curve_args

    positive = curve_args(metrics)  # two classes: the curves' class, named in the titles
    plotting.plot_roc_curves(pred.truth, pred.probs, names, plots / "roc.png", **positive)
    plotting.plot_precision_recall(
        pred.truth, pred.probs, names, plots / "precision_recall.png", **positive
    )
    plotting.plot_reliability(metrics["calibration"], plots / "reliability.png", **positive)
    if not images:  # report.images: false
        return
    mistakes = [m for m in metrics.get("most_confident_mistakes") or []
                if m["index"] not in pred.hidden]  # fmt: skip
    if mistakes:
        plotting.plot_thumbnails(
            [(pred.shown(m["index"]), pred.images[m["index"]],
              f"true {names[m['true']]}, predicted {names[m['pred']]} (p = {m['probability']:.2f})")
             for m in mistakes],
            plots / "most_confident_mistakes.png", title="Most confident mistakes",
        )  # fmt: skip
    examples = []
    for c, name in enumerate(names):
        idx = [i for i in np.flatnonzero(pred.truth == c) if i not in pred.hidden][:2]
        examples += [(pred.shown(int(i)), pred.images[i], f"class {name}") for i in idx]
    if examples:
        plotting.plot_thumbnails(examples, plots / "examples_per_class.png",
                                 title="Example test images per class")  # fmt: skip


def _overlays(
    metrics: dict[str, Any],
    pred: Predictions,
    labels: Sequence[np.ndarray],
    names: list[str],
    n: int,
    plots: Path,
) -> None:
    """Best and worst samples by their own macro Dice (slices when the run is 2-D), shown on
    the grid they were scored on (``labels``: each sample's predicted label map there)."""
    from workflows.report.plots import plot_overlays

    rows = metrics.get("per_slice") or metrics["per_case"]
    index: dict[str, int] = {}
    for i, (sample_id, meta) in enumerate(zip(pred.ids, pred.meta)):
        index.setdefault(str(meta.get("series_key") or sample_id), i)  # volume rows
        index[sample_id] = i
    scores = sorted(
        (row["dice_macro"], index[row["id"]])
        for row in rows
        if row["id"] in index
        and index[row["id"]] not in pred.hidden
        and row["dice_macro"] is not None
        and np.isfinite(row["dice_macro"])
    )
    half = max(1, n // 2)
    chosen = scores[-half:][::-1] + [s for s in scores[:half] if s not in scores[-half:]]
    source, raw = pred.source, pred.raw

    def picture(i: int) -> tuple[np.ndarray, np.ndarray]:  # image and truth where scored
        if source is not None and raw is not None:
            return raw(i).image, source[i].truth
        return pred.images[i], pred.truth[i]

    cases = [(pred.shown(i), *picture(i), labels[i], float(d)) for d, i in chosen]
    if cases:
        plot_overlays(cases, plots / "overlays.png", title="Best and worst test cases",
                      class_names=names)  # fmt: skip


def _hide_burned_in(config: RunConfig, study: Study, pred: Predictions) -> dict[str, Any]:
    """Mark the samples whose series has an image with BurnedInAnnotation YES as hidden from
    the figures (``report.burned_in_images: false``); what ``metrics.json`` records of it."""
    from workflows.run.burned_in import burned_in_series

    report = config.report
    if study.kind != "dicom" or not report.images or report.burned_in_images:
        return {}
    series = {str(m.get("series_key")) for m in pred.meta}
    burned, unchecked = burned_in_series(study.root, config.data.source, series)
    pred.hidden = {i for i, m in enumerate(pred.meta) if m.get("series_key") in burned}
    if unchecked:
        log.warning(
            "BurnedInAnnotation could not be read from %s (moved or deleted "
            "since conversion): their images may be shown in the report's figures.",
            counted(unchecked, "source file"),
        )
    if pred.hidden:
        log.info(
            "%s of %s %s BurnedInAnnotation YES: left out of the "
            "report's figures (report.burned_in_images: true shows them).",
            counted(len(pred.hidden), "test image"), counted(len(burned), "series"),
            are(len(burned), "has", "have"),
        )  # fmt: skip
    if not (burned or unchecked):
        return {}
    return {"report_images": {"burned_in_hidden": len(pred.hidden),
                              "burned_in_series": len(burned),
                              "burned_in_unchecked_files": unchecked}}  # fmt: skip
