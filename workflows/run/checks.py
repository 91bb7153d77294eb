"""Checks of a run's inputs that need the file system, made before any work starts.

:mod:`workflows.run.config` checks the config on its own (keys, types, model parameters, that
the model fits the task). :func:`check_inputs` then looks at what the config points to, reading
only CSV headers: the source folder and CSV files exist, a classification has labels with the
configured ``data.label_column``, a segmentation has masks. All problems are reported at once,
as a :class:`ConfigError`, before a run directory is made or anything is converted.
:func:`check_validation_split` looks at the split once it is made, before anything is fitted
or trained.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from pipeline.data.io import csv_path, csv_text, delimiter_hint
from pipeline.errors import ConfigError, RadpipeError
from pipeline.words import are, counted
from workflows.run.columns import column_problems, near_columns, setting_hint
from workflows.run.config import RunConfig
from workflows.run.image_files import (
    conflicting_dicom_masks,
    conflicting_masks,
    missing_image_files,
    unreadable_formats,
)
from workflows.run.image_grids import off_grid_masks
from workflows.run.image_reads import bad_spacings, unreadable_images, unreadable_masks
from workflows.run.image_sizes import mismatched_mask_sizes
from workflows.run.label_repeats import conflicting_dicom_labels
from workflows.run.missing_files import missing_mask_files
from workflows.run.paths import has_files, said, shown
from workflows.run.seg_files import dicom_masks_not_seg
from workflows.run.table_rows import table_problems
from workflows.run.truth import file_key_problems

log = logging.getLogger("radpipe")

__all__ = ["check_before_run", "check_inputs"]


def check_before_run(config: RunConfig, run_dir: Path | None = None) -> None:
    """:func:`check_inputs`, :func:`check_split_column`, then the classes of the labels CSV
    (:func:`workflows.run.label_classes.check_label_classes`; ``run_dir``: a run being
    resumed): everything a run checks before its run directory is made. Imports no torch, so
    ``radpipe run`` refuses a config in the time it takes to read it.

    Raises
    ------
    ConfigError
        As the three checks do.
    """
    from workflows.run.label_classes import check_label_classes

    check_inputs(config)
    check_split_column(config)
    check_label_classes(config, run_dir)


def check_inputs(
    config: RunConfig, *, fit_classes: bool = True, labels_key: str = "data.labels"
) -> None:
    """Raise a ``ConfigError`` listing every problem with the run's input paths.

    ``fit_classes``: a segmentation's masks must make its classes (count from 0, none beyond
    ``data.class_names``); ``False`` for an external test set, which may lack a class.
    ``labels_key``: what gave ``data.labels``, as warnings name it (``--labels`` for
    ``radpipe evaluate``'s list; its errors are renamed by the caller).

    Raises
    ------
    ConfigError
        A path does not exist, a CSV lacks a needed column, or the task's ground truth
        (``data.labels`` for classification, masks for segmentation) is not configured.
    """
    d = config.data
    problems, columns = _paths_found(d)
    labelled = config.task == "classification" or d.kind == "dicom"  # images: image, mask
    if config.task == "classification" and d.labels is None:
        problems.append("task 'classification' needs data.labels (a CSV with the classes)")
    elif labelled and "labels" in columns and d.label_column not in columns["labels"]:
        problems.append(  # a segmentation's labels stratify the split: the same column
            f"data.label_column {d.label_column!r} is not a column of "
            f"{d.labels.name} (columns: {', '.join(columns['labels'])})"  # type: ignore[union-attr]
            + (
                setting_hint("data.label_column", d.label_column, columns["labels"])
                or delimiter_hint(columns["labels"])
            )
        )
    for key, found in columns.items():
        problems += column_problems(d.kind, key, getattr(d, key).name, found)
    segmentation = config.task == "segmentation"
    if segmentation and d.kind == "dicom" and d.masks is None:
        problems.append("task 'segmentation' needs data.masks (a CSV naming a mask per image)")
    elif segmentation and d.kind == "images" and "mask" not in columns.get("labels", ["mask"]):
        problems.append(f"task 'segmentation' needs a 'mask' column in {d.labels.name}"  # type: ignore[union-attr]
                        + near_columns(["mask"], columns["labels"]))  # fmt: skip
    if d.kind == "images" and "labels" in columns and not segmentation:  # the run says once
        columns["labels"] = [c for c in columns["labels"] if c != "mask"]  # that it is not used
    if not d.allow_outside_paths:
        problems += _outside_paths(config, columns)
    if d.kind == "images" and "labels" in columns and d.source.is_dir():
        listed = columns["labels"]
        problems += missing_image_files(d.labels, d.source, listed)  # type: ignore[arg-type]
        problems += unreadable_formats(d.labels, listed)  # type: ignore[arg-type]
        problems += bad_spacings(d.labels, listed)  # type: ignore[arg-type]
        problems += conflicting_masks(d.labels, listed, d.source)  # type: ignore[arg-type]
        problems += mismatched_mask_sizes(d.labels, d.source, listed)  # type: ignore[arg-type]
        problems += unreadable_images(d.labels, d.source, listed, labels_key)  # type: ignore[arg-type]
        fit = segmentation and fit_classes
        problems += unreadable_masks(d.labels, d.source, listed, d, fit)  # type: ignore[arg-type]
        problems += off_grid_masks(d.labels, d.source, listed)  # type: ignore[arg-type]
    if d.kind == "dicom" and "masks" in columns:
        problems += missing_mask_files(d.masks, columns["masks"])  # type: ignore[arg-type]
        problems += dicom_masks_not_seg(d.masks, columns["masks"])  # type: ignore[arg-type]
        problems += conflicting_dicom_masks(d.masks, columns["masks"], d.source)  # type: ignore[arg-type]
    if d.kind == "dicom" and "labels" in columns:
        agree = (d.label_column, "class_name", *filter(None, [config.split.column]))
        problems += conflicting_dicom_labels(d.labels, columns["labels"], d.source, agree)  # type: ignore[arg-type]
    if d.kind == "dicom" and d.source.is_dir() and columns and not problems:  # once the
        # others pass (it says a file listed again too); it was found in the run (exit 1)
        agree = (d.label_column, "class_name", *filter(None, [config.split.column]))
        problems += file_key_problems(d.source, d.labels, d.masks, agree)
    problems += table_problems(config, columns, split=not problems)  # the split: on sound inputs
    if problems:
        raise ConfigError("; ".join(problems))


def _paths_found(d: Any) -> tuple[list[str], dict[str, list[str]]]:
    """The problems of ``data.source``, ``data.labels`` and ``data.masks`` as paths (none, a
    file for a folder or the reverse, an empty folder or CSV) and the header of each CSV
    that could be read, by key ``labels``/``masks``."""
    problems: list[str] = []
    if d.source.is_file():
        problems.append(f"data.source: {said(d.source)} is a file, not a folder (give the "
                        "folder that holds the data)")  # fmt: skip
    elif d.source.is_dir() and not has_files(d.source):  # was refused once converted (exit 1)
        problems.append(f"data.source: no file in {said(d.source)} (an empty folder?)")
    elif not d.source.is_dir():
        problems.append(f"data.source: no such folder {shown(d.source)}" + _setup_hint(d.source))
    columns: dict[str, list[str]] = {}
    for key in ("labels", "masks"):
        path = getattr(d, key)
        if path is None:
            continue
        if not path.is_file():
            why = "is a folder, not a file (give the CSV)" if path.is_dir() else "no such file"
            problems.append(f"data.{key}: {said(path)} {why}" if path.is_dir() else
                            f"data.{key}: {why} {shown(path)}")  # fmt: skip
            continue
        try:
            columns[key] = _header(path)
        except RadpipeError as err:  # not UTF-8 text
            problems.append(f"data.{key}: {err}")
            continue
        if not columns[key]:  # was "... is not a column of labels.csv (columns: )"
            problems.append(f"data.{key}: {said(path)} is empty (no header line, no rows)")
            del columns[key]
    return problems, columns


def _setup_hint(source: Path) -> str:
    """How to make a shipped config's default data, when ``source`` is one of them."""
    path = source.as_posix()
    if ".cache/demo/" in path:
        made = "run `make demo` first"
    elif "/.cache/" in f"/{path}":
        made = "write them with the `radpipe synth` line in the config's header first"
    else:
        return ""
    return (f" (the shipped configs' default data: {made}, or give your own with "
            "--set data.source=... --set data.labels=...)")  # fmt: skip


def check_split_column(config: RunConfig) -> None:
    """Refuse, before a run directory is made, a ``split.column`` that is no column of
    ``data.labels``, as a ``data.label_column`` that is none is (it was found once the data
    were converted, exit 1).

    Raises
    ------
    ConfigError
        Naming the column, the CSV and its columns.
    """
    labels, column = config.data.labels, config.split.column
    if column is None or labels is None or not labels.is_file():
        return  # no labels CSV: check_inputs has said so
    try:
        columns = _header(labels)
    except RadpipeError:
        return  # not UTF-8: check_inputs has said so
    if column not in columns:
        raise ConfigError(
            f"split.column {column!r} is not a column of {labels.name} (columns: "
            f"{', '.join(columns)})"
            + (setting_hint("split.column", column, columns) or delimiter_hint(columns))
        )


def _outside_paths(config: RunConfig, columns: dict[str, list[str]]) -> list[str]:
    """Paths in the masks CSV that leave its folder, and (``data.kind: images``) paths in
    the labels CSV that leave ``data.source``: a CSV from elsewhere must not make radpipe
    read (and copy into outputs) arbitrary files."""
    d = config.data
    checks: list[tuple[str, Path, tuple[str, ...], Path]] = []
    if d.masks is not None and "mask" in columns.get("masks", []):
        checks.append(("data.masks", d.masks, ("mask",), d.masks.resolve().parent))
    if d.kind == "images" and d.labels is not None and "labels" in columns:
        names: tuple[str, ...] = ("image", "mask") if "mask" in columns["labels"] else ("image",)
        checks.append(("data.labels", d.labels, names, d.source.resolve()))
    problems = []
    for key, path, names, root in checks:
        inside = [(v, csv_path(root, v).resolve()) for v in _values(path, names)]
        bad = [v for v, where in inside if not where.is_relative_to(root)]
        if bad:
            shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
            links = sorted({link for v in bad if (link := _link_out(root, v))})
            via = (
                f" through the symbolic {'link' if len(links) == 1 else 'links'} "
                f"{', '.join(links[:3])} in {root.name}/"
                if links
                else ""
            )
            problems.append(
                f"{key}: {counted(len(bad), 'path')} in {path.name} "
                f"{are(len(bad), 'points', 'point')} outside {root.name}/{via} ({shown}); "
                "set data.allow_outside_paths: true if that is intended"
            )
    return problems


def _link_out(root: Path, value: str) -> str | None:
    """The symbolic link (``img/``, relative to ``root``) through which ``value``, a path
    written inside ``root`` (no ``..``, not absolute), leads out of it; ``None`` when the
    path as written already leaves ``root``. A data folder linked into a project was
    refused as "outside" with no word of the link, its paths looking inside."""
    parts = Path(value.replace("\\", "/")).parts
    if not parts or Path(value).is_absolute() or ".." in parts:
        return None
    here = root
    for k, part in enumerate(parts):
        here = here / part
        if here.is_symlink():
            return "/".join(parts[: k + 1]) + ("/" if k < len(parts) - 1 else "")
    return None


def _values(path: Path, names: tuple[str, ...]) -> list[str]:
    rows = csv.DictReader(csv_text(path))
    return [r[c].strip() for r in rows for c in names if (r.get(c) or "").strip()]


def _header(path: Path) -> list[str]:
    return [c.strip() for c in next(csv.reader(csv_text(path)), [])]


def check_validation_split(config: RunConfig, study: Any) -> None:
    """Refuse, before training, a ratio split whose validation part came out empty (too few
    patients for ``split.val``) when ``train.monitor`` names a validation metric; without a
    monitor set, warn (training then says that ``best.pt`` follows the training loss). A test
    part that came out empty although ``split.test`` asks for one is refused too, before
    training (it was refused after training, telling to set ``split.test > 0``)."""
    counts = {part: sum(1 for r in study.split if r["split"] == part)
              for part in ("train", "val", "test")}  # fmt: skip
    patients = len({r["patient_key"] for r in study.split})
    if config.split.test > 0 and not config.split.column and not counts["test"]:
        raise RadpipeError(
            f"The test split is empty ({counts['train']} training, {counts['val']} validation "
            f"and 0 test series of {counted(patients, 'patient')}; split.test "
            f"{config.split.test}): add patients, or raise split.test; or set split.test: 0 and "
            "score the model with radpipe evaluate."
        )
    if config.split.folds or config.split.val == 0 or counts["val"]:
        return
    said = (f"the validation split is empty ({counts['train']} training, 0 validation and "
            f"{counts['test']} test series of {counted(patients, 'patient')}; split.val "
            f"{config.split.val})")  # fmt: skip
    monitor = config.train.monitor or ""
    if monitor.startswith("val_"):
        raise RadpipeError(f"{said[0].upper()}{said[1:]}, but train.monitor {monitor!r} needs "
                           "one: add patients, raise split.val, or set train.monitor: "
                           "train_loss.")  # fmt: skip
    log.warning("%s.", said)  # train() then says what follows the training loss


def training_shapes(
    pipe: Any,
    raw: list[Any],
    batch_size: int,
    groups: list[tuple[Any, list[Any]]] | None = None,
) -> list[list[int]]:
    """The shapes of the training images after preprocessing, that of ``raw[0]`` first.

    One image per group of :func:`workflows.run.scale.representatives` is preprocessed (per
    raw shape and spacing, or every image when a stage such as ``crop_foreground`` crops by
    content; ``groups`` when already made). Differing shapes are refused before training
    when batches hold more than one image (a folder of images of several sizes and no resize
    stage): each shape is counted and one image of it named, instead of the first batch that
    mixes them stopping training. With ``batch_size`` 1 they are returned, for
    :func:`check_model_takes` to try each.

    Raises
    ------
    RadpipeError
        Listing each shape after preprocessing, how many training images have it and one of
        them (relative path or key).
    """
    from pipeline.data.base import item_name
    from workflows.run.scale import representatives

    after: dict[tuple[int, ...], list[Any]] = {}
    for done, members in representatives(pipe, raw) if groups is None else groups:
        after.setdefault(tuple(done.image.shape), []).extend(members)
    if len(after) > 1 and batch_size > 1:
        listing = ", ".join(
            f"{len(g)} of shape {shape} (e.g. {item_name(g[0])})"
            for shape, g in sorted(after.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        )
        raise ConfigError(
            f"The training images differ in shape after preprocessing: {listing}. Give them "
            "one shape (a resize or fit_depth stage after crop_foreground; colour and grey "
            "images have 3 and 1 channels), or set train.batch_size: 1 for a model that takes "
            "any size."
        )
    return [list(shape) for shape in after]


def check_model_takes(
    model: Any, shapes: list[list[int]], name: str, what: str = "the preprocessed images",
    advice: str = "Change the preprocessing (e.g. a resize stage, or data.slices for series) "
    "or the model.",
) -> None:  # fmt: skip
    """Refuse, before training, a model that cannot take the preprocessed images (or
    ``what`` the message names instead, with its ``advice``): one forward pass of a zero
    image of each of ``shapes`` ``(C, *spatial)`` (batch 1, eval mode, no gradients, the
    global RNG states restored afterwards, so training is unchanged).

    Raises
    ------
    RadpipeError
        Naming the model type, the shape and the model's own reason.
    """
    import torch

    was_training = model.training
    shape = shapes[0]
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            for shape in shapes:
                model(torch.zeros(1, *shape))
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            f"model.type {name!r} cannot take {what} (shape {tuple(shape)}: channels, then "
            f"spatial sizes): {reason} {advice}"
        ) from None
    finally:
        model.train(was_training)


def check_class_weights(config: RunConfig, names: list[str]) -> None:
    """Refuse ``train.class_weights`` whose length is not the number of classes ``names``
    (classification: known once the labels are read; segmentation: from the masks)."""
    weights = config.train.class_weights
    if weights is not None and len(weights) != len(names):
        raise ConfigError(
            f"train.class_weights: {counted(len(weights), 'weight')} for "
            f"{counted(len(names), 'class')} "
            f"({', '.join(names)}); give one weight per class, in that order."
        )


def check_training_classes(
    config: RunConfig, study: Any, train_keys: list[str], num_classes: int, fold: int | None
) -> list[str]:
    """Refuse ``train.class_weights`` whose length is not the number of classes; warn about
    classes without a single series in this (fold's) training split, whose model cannot
    learn them. Returns the names of those classes (classification; else ``[]``)."""
    names = list(study.class_names) or [str(k) for k in range(num_classes)]
    check_class_weights(config, names)
    if config.task != "classification":
        return []
    wanted = set(train_keys)
    seen = {r["label"] for r in study.split if r["series_key"] in wanted}
    absent = [names[k] for k in range(num_classes) if k not in seen]
    if absent:
        where = "the training split" if fold is None else f"fold {fold}'s training split"
        log.warning(
            "%s has no series of class %s: its model cannot learn %s; add labelled series "
            "or use fewer folds.", where, ", ".join(repr(n) for n in absent),
            "it" if len(absent) == 1 else "them",
        )  # fmt: skip
    return absent
