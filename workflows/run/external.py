"""``radpipe evaluate RUN SRC``: a trained run scored on a separate labelled test set.

SRC goes through the run's own conversion options (cached under ``OUT/.cache``) and, per fold,
the run's fitted preprocessing (``stages/``, never refitted) and checkpoint; every labelled
series is a test case. A run trained on ``data.kind: images`` reads SRC's images as stored,
listed in ``--labels`` as its ``data.labels`` (image, label or mask; paths relative to SRC),
each listed image a test case. The figures are those of the run's own evaluation (``metrics.json``,
plots, ``report.html`` in ``OUT``); a binary operating point is chosen on the run's own
validation split when its data are still there, never on the external set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, RadpipeError
from pipeline.io_atomic import atomic_copy, atomic_write_text
from pipeline.words import are, counted
from workflows.run.checks import check_inputs
from workflows.run.config import RunConfig, dump_config
from workflows.run.external_classes import external_mask_classes, untrained_labels
from workflows.run.image_source import check_source_kind
from workflows.run.labels import CLASSES_FILE
from workflows.run.seen import refuse_other_secret, seen_by_run
from workflows.run.seen_images import fitted_images, seen_in_study
from workflows.run.windows import scale_problem, trained_scale

log = logging.getLogger("radpipe")


def evaluate_external(
    run_dir: Path,
    src: Path,
    labels: Path | None,
    *,
    masks: Path | None = None,
    out: Path | None = None,
    progress: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Score the run on ``src``; returns the output folder and the metrics.

    Raises
    ------
    RadpipeError
        If the run is not trained, SRC/labels are missing, or no labelled series was found.
    """
    from workflows.report.results import write_report
    from workflows.run.evaluate import evaluate_run
    from workflows.run.paths import require_inputs
    from workflows.run.run_models import run_checkpoints
    from workflows.run.rundir import fold_dir, hold_output, load_run_config, source_dir

    config = load_run_config(run_dir)
    refuse_other_secret(run_dir)  # else its own training images could be scored as external
    check_source_kind(config.data.kind, src, "evaluate")
    images = config.data.kind == "images"
    if images and (src.is_file() or masks is not None):
        raise ConfigError("This run was trained on data.kind: images: give SRC as the folder "
                          "that --labels' image (and mask) paths are relative to, and no "
                          "--masks (masks are the list's mask column).")  # fmt: skip
    require_inputs(src, labels=labels, masks=masks)
    if config.task == "segmentation" and masks is None and config.data.kind == "dicom":
        # a usage error (exit 2), as a classification run without --labels is: it exited 1
        raise ConfigError("A segmentation run needs --masks (a CSV of masks, as data.masks) "
                          "to be evaluated.")  # fmt: skip
    if labels is None and (config.task == "classification" or config.data.kind == "images"):
        what = "the classes" if config.task == "classification" else "image and mask"
        raise ConfigError(f"This run needs --labels (a CSV with {what}, as data.labels) "
                           "to be evaluated.")  # fmt: skip
    folds: list[int | None] = list(range(config.split.folds)) if config.split.folds else [None]
    checkpoints = run_checkpoints(run_dir, config.split.folds)  # refused before OUT is made
    out = out or source_dir(run_dir, "external", src)
    ext = _external_config(config, src, labels, masks, out)
    try:  # the user's CSVs and SRC named (--labels, --masks), before anything is converted
        check_inputs(ext, fit_classes=False, labels_key="--labels")  # may lack a class
    except ConfigError as err:
        raise ConfigError(str(err).replace("data.labels", "--labels")
                          .replace("data.masks", "--masks")
                          .replace("data.source", "SRC")) from None  # fmt: skip
    folders = [fold_dir(run_dir, f) for f in folds]
    untrained = _untrained(ext, folders, masks, labels)  # refused: a class the model cannot output
    # after the refusals above: they leave no empty OUT; one evaluate at a time writes there
    with hold_output(out, "metrics.json"):
        study = _external_study(ext, run_dir, out, progress)
        if config.task == "classification" and labels is not None:
            untrained = untrained_labels(study, folders, f"--labels ({labels.name})")
        keys = [r["series_key"] for r in study.split]
        seen, stored = _seen(run_dir, config, study, keys, images)
        evaluated = f"an external test set ({len(keys)} {'images' if images else 'series'})"
        if seen.series:  # the run's own training images scored as if new: said, everywhere
            evaluated = f"{len(keys)} {seen.unit}, NOT an external test set: {seen.note()}"
            log.warning("SRC is not an external test set for this run: %s; its figures overstate "
                        "how the model does on new patients. Evaluate on patients the run never "
                        "saw.", seen.note())  # fmt: skip
        if seen.patients:
            log.warning("%s.", seen.caution())
        metrics = evaluate_run(
            ext, study, run_dir, checkpoints, test_keys=keys, out=out, evaluated=evaluated,
            validation_study=_own_study(config, run_dir),
            extra={"seen_by_run": seen.as_dict(), "failed_files": len(study.failures),
                   "conversion": os.path.relpath(study.root, out.resolve()),
                   "classes_not_trained": untrained, "stored_unlike_training": stored},
            judge=_unlike_training(run_dir, folders, Path(src), images),
        )  # fmt: skip
        assert metrics is not None
        # the run's config, its paths relative to OUT (a copy would keep them relative to RUN)
        atomic_write_text(out / "config.yaml", dump_config(config, relative_to=out.resolve()))
        if config.report.enabled:
            write_report(out)
        return out, metrics


def _untrained(
    config: RunConfig, folders: list[Path], masks: Path | None, labels: Path | None
) -> dict[str, Any]:
    """A segmentation's ``--masks`` (``data.kind: images``: the ``mask`` column of
    ``--labels``) checked against the classes of the run's model (see
    :mod:`workflows.run.external_classes`): ``{class: mask files}`` of the classes no training
    mask held; empty for classification (checked once the labels are read)."""
    if config.task != "segmentation":
        return {}
    if config.data.kind == "images" and labels is not None and config.data.labels:
        found = external_mask_classes(config, config.data.labels, folders,
                                      f"--labels ({labels.name})", config.data.source)  # fmt: skip
    elif masks is None:
        return {}
    else:
        found = external_mask_classes(config, Path(config.data.masks or masks), folders,
                                      f"--masks ({masks.name})")  # fmt: skip
    return {str(k): v for k, v in found.items()}


def _unlike_training(run_dir: Path, folders: list[Path], src: Path, images: bool) -> Any:
    """The ``judge`` of :func:`~workflows.run.evaluate.evaluate_run`: the external cases of a
    modality the run never trained on, or of another pixel size after preprocessing than its
    training images (every fold's ``stages/data.json``), warned about as ``radpipe predict``
    does, and noted in the evaluated line and ``metrics.json`` (``unlike_training``); cases
    cut in another plane than the training series (``src``: their DICOM folder) are said
    and recorded (``other_plane``; not for images, ``images``)."""
    from workflows.run.foreign import unlike_training
    from workflows.run.planes import note_other_planes, runs_planes
    from workflows.run.rundir import split_index_values
    from workflows.run.scale import runs_pixel_range

    pixel_mm, slice_mm = (runs_pixel_range(folders, key) for key in ("pixel_mm", "slice_mm"))

    def judge(cases: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        named = [(r.get("source") or r["output"], r.get("modality") or "", m.get("spacing"))
                 for r, m in cases]  # fmt: skip
        found = unlike_training(named, split_index_values(run_dir, "modality"),
                                pixel_mm, "scored", slice_mm)  # fmt: skip
        if not images:  # a list of images tells no plane
            found.other_planes = note_other_planes(src, [r for r, _ in cases],
                                                   runs_planes(folders), True)  # fmt: skip
        return found.note(), {"unlike_training": found.as_dict()}

    return judge


def _external_config(
    config: RunConfig, src: Path, labels: Path | None, masks: Path | None, out: Path
) -> RunConfig:
    data = config.data.model_copy(
        update={"source": src.resolve(), "labels": labels.resolve() if labels else None,
                "masks": masks.resolve() if masks else None}
    )  # fmt: skip
    # every labelled series is a test case: the run's split.column is not asked of the CSV
    split = config.split.model_copy(update={"test": 0.0, "val": 0.0, "folds": 0, "column": None})
    return config.model_copy(update={"data": data, "output": out, "split": split})


def _external_study(config: RunConfig, run_dir: Path, out: Path, progress: bool) -> Any:
    """SRC converted and checked as the run's own data are (cached under OUT/.cache), with
    every labelled series a test case."""
    from pipeline.split import write_split_csv
    from workflows.run.study import prepare_study

    (out / "split.csv").unlink(missing_ok=True)  # a rerun: the rows are decided afresh
    # The labels are indexed in the run's class order (its classes.json), never in an order
    # decided from the external CSV (nor one left by an earlier evaluation into OUT).
    (out / CLASSES_FILE).unlink(missing_ok=True)
    if (run_dir / CLASSES_FILE).is_file():
        atomic_copy(run_dir / CLASSES_FILE, out / CLASSES_FILE)
    study = prepare_study(config, out, progress=progress, trains=False)
    if study.kind == "dicom":  # images are used as stored: no window to differ
        _refuse_other_scale(study, trained_scale(run_dir, config.convert.window))
    study.split = [{**r, "split": "test", "fold": -1} for r in study.split]
    write_split_csv(study.split, out / "split.csv")
    study.class_names = _run_class_names(config, run_dir, study)
    return study


def _refuse_other_scale(study: Any, scale: str | None) -> None:
    """Refuse an external set whose labelled images are on another scale than every image
    the run's model saw: without a header window for a header-windowed model, or with one for
    a model that saw none (:func:`~workflows.run.windows.scale_problem`)."""
    from pipeline.data.io import read_manifest

    if scale is None:
        return
    keys = {r["series_key"] for r in study.split}
    rows = [r for r in read_manifest(study.root / "manifest.csv") if r["series_key"] in keys]
    bad = [(r["source"], why) for r in rows if (why := scale_problem(r, scale))]
    if bad:
        window = "no window" if scale == "windowed" else "a window"
        raise RadpipeError(
            f"{counted(len(bad), 'labelled image')} of SRC {are(len(bad), 'has', 'have')} "
            f"{window} in their header (e.g. "
            f"{bad[0][0]}): {bad[0][1]}. Remove them from SRC, or train on one scale."
        )


def _run_class_names(config: RunConfig, run_dir: Path, study: Any) -> list[str]:
    """The run's own class names (the model's outputs), checked against the external labels."""
    import json

    from workflows.run.class_order import class_names
    from workflows.run.study_labels import study_class_names

    names = class_names(config, run_dir, None)  # as radpipe predict names the outputs
    if not names and config.task == "classification":
        names = study_class_names(config, study)
    info = run_dir / "stages" / "data.json"
    if not info.is_file():
        info = next(iter(sorted(run_dir.glob("folds/fold-*/stages/data.json"))), info)
    if info.is_file():
        k = int(json.loads(info.read_text())["num_classes"])
        if config.task == "classification" and len(names) != k:
            names = [*names[:k], *[str(i) for i in range(len(names), k)]]
    if config.task == "classification":
        top = max((int(r["label"]) for r in study.split), default=0)
        if top >= len(names):
            raise RadpipeError(
                f"The external labels use class {top}; the run's model knows {len(names)} "
                f"classes ({', '.join(names)})."
            )
    return names


def _own_study(config: RunConfig, run_dir: Path) -> Any:
    """The run's own study (for the validation split), or ``None`` if its data are gone.

    What reading it warns of (series without a label, windows, ...) ``radpipe run`` said of
    the same data: held back, said only when the data or its CSVs changed since the run (the
    warnings are then news), after a line that says so. Until 2026-12-03 they were said again,
    as if of SRC (only the copies across the split were held back).
    """
    from workflows.run.study import prepare_study

    if config.task != "classification" or not config.data.source.exists():
        return None
    study, why = None, None
    # what follows (a cached conversion reused, or converted again) is of the run's own data
    log.info("reading the run's own data (data.source) again for the validation operating point")
    with held_warnings() as held:
        try:
            # the run's copies across its split are said by the run (not of SRC): not again
            study = prepare_study(config, run_dir, progress=False, note_copies=False, trains=False)
        except RadpipeError as err:
            why = err
    if held and (study is None or _changed_since_run(config, run_dir, study)):
        log.warning("the run's own data (data.source and its CSVs), read again for the "
                    "validation operating point, changed since the run; they say:")  # fmt: skip
        for record in held:
            log.handle(record)
    if why is not None:
        log.warning("the run's own validation data are not usable (%s): no operating point", why)
    return study


def _changed_since_run(config: RunConfig, run_dir: Path, study: Any) -> bool:
    """Whether the run's source files or truth CSVs differ from ``provenance.json``'s."""
    from workflows.run.provenance import Provenance, read_provenance
    from workflows.run.rundir import truth_fingerprint

    old = read_provenance(run_dir) or Provenance()
    truth = truth_fingerprint([config.data.labels, config.data.masks])
    return (old.input_fingerprint, old.truth_fingerprint) != (study.fingerprint, truth)


@contextmanager
def held_warnings() -> Iterator[list[logging.LogRecord]]:
    """Hold back the ``radpipe`` logger's warnings for the ``with`` block, into the list it
    yields (``log.handle(record)`` says one later)."""
    held: list[logging.LogRecord] = []

    def hold(record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            held.append(record)
            return False
        return True

    log.addFilter(hold)
    try:
        yield held
    finally:
        log.removeFilter(hold)


def _seen(
    run_dir: Path, config: Any, study: Any, keys: list[str], images: bool
) -> tuple[Any, dict[str, int]]:
    """The external cases the run has seen, and (images) those stored unlike every training
    image (a 16-bit PNG for a run of 8-bit ones), said (:mod:`workflows.run.image_storage`)
    and counted for ``metrics.json``."""
    if not images:
        return seen_by_run(run_dir, study.split), {}
    from pipeline.data.io import csv_path
    from workflows.run.image_storage import say_other_storage, training_storage

    files = [csv_path(study.root, study.image_rows[k][0]["image"]) for k in keys]
    own = fitted_images(run_dir, config)
    stored = say_other_storage(training_storage(own[1]), files, "scored")
    return seen_in_study(own, study), stored
