"""The model (or the ensemble of the fold models) of a run applied to new images, for
``radpipe predict`` of a DICOM folder (converted as the run's) and of an images folder or list
(``data.kind: images``) alike.

Each fold's fitted preprocessing (``stages/``, never refitted) prepares the images; those the
model cannot take (another channel count or shape, an image that cannot be read, a scale the
model never saw) are listed in ``skipped.csv`` with the reason and the rest go on; a
segmentation's maps are moved back onto the source pixels before the folds are averaged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.metrics._arrays import tie_example, tied_top
from pipeline.stage import Pipeline
from pipeline.words import counted
from workflows.run.rundir import fold_dir, split_index_values
from workflows.run.scale import runs_pixel_range
from workflows.run.skipped import write_skipped
from workflows.run.windows import scale_problem

log = logging.getLogger("radpipe")


@dataclass
class FoldOutputs:
    dataset: Any  # the last fold's dataset (its items, raw samples)
    keep: list[int]  # the dataset indices predicted
    probs: list[np.ndarray]  # per kept item: the folds' mean probabilities
    skipped: list[tuple[str, str, str]]  # (output, source, why) of the items left out
    folders: list[Path]  # every fold's folder (the run itself without folds)


def fold_probabilities(
    run_dir: Path,
    config: Any,
    checkpoints: list[Path],
    dataset_of: Callable[[Pipeline], Any],
    out: Path,
    hashed_keys_only: bool,
    scale: str | None,
) -> FoldOutputs:
    """Each fold's probabilities on ``dataset_of(its fitted stages)``, averaged.

    Items are ``(output, source)``-named rows of ``dataset.items``; ``skipped.csv`` in ``out``
    lists those the model cannot take (sources left out with ``hashed_keys_only``).

    Raises
    ------
    RadpipeError
        When the model can take none of the images.
    """
    from workflows.run.evaluate import predict_with_checkpoint
    from workflows.run.invert import on_source_pixels

    folds: list[int | None] = list(range(config.split.folds)) if config.split.folds else [None]
    folders = [fold_dir(run_dir, f) for f in folds]
    probs_sum: Any = None
    keep: list[int] | None = None
    skipped: list[tuple[str, str, str]] = []
    for folder, checkpoint in zip(folders, checkpoints):
        prep = Pipeline.load(folder / "stages")
        dataset = dataset_of(prep)
        if keep is None:  # the images the model can take, the others listed with the reason
            keep, items, skipped = _usable(
                dataset, _model_info(folder, folders), split_index_values(run_dir, "modality"),
                scale, by_source=not hashed_keys_only,
            )  # fmt: skip
            shown = [(o, "" if hashed_keys_only else s, why) for o, s, why in skipped]
            write_skipped(out / "skipped.csv", shown)
            if not keep:
                raise RadpipeError(f"None of the {len(dataset)} images can be used; see "
                                   f"{out / 'skipped.csv'}.")  # fmt: skip
        else:
            items = [dataset[i] for i in keep]
        probs: Any = predict_with_checkpoint(config, checkpoint, items)
        if config.task == "segmentation":  # each fold's maps on the source pixels, then the mean
            order = 1 if config.evaluate.upsample == "linear" else 0
            probs = [on_source_pixels(p, prep, dataset.raw_sample(i), order)[0]
                     for i, p in zip(keep, probs)]  # fmt: skip
        probs_sum = probs if probs_sum is None else [a + b for a, b in zip(probs_sum, probs)]
    assert probs_sum is not None and keep is not None
    mean = [p / len(folds) for p in probs_sum]
    return FoldOutputs(dataset=dataset, keep=keep, probs=mean, skipped=skipped, folders=folders)


def _model_info(folder: Path, folders: list[Path]) -> dict[str, Any]:
    """What the fold's model was built for (``stages/data.json``): the image ``shape``
    ``(C, *spatial)``; and the training images' ``pixel_mm`` range (runs since 2026-12-01)
    and a series run's ``slice_mm`` range (since 2026-12-02), over every fold's ``folders``."""
    import json

    info = dict(json.loads((folder / "stages" / "data.json").read_text()))
    return info | {key: runs_pixel_range(folders, key) for key in ("pixel_mm", "slice_mm")}


def _usable(
    dataset: Any, model: dict[str, Any], modalities: set[str], scale: str | None = None,
    by_source: bool = True,
) -> tuple[list[int], list[dict[str, Any]], list[tuple[str, str, str]]]:  # fmt: skip
    """Preprocessed items whose shape is ``shape``: (indices, items, [(output, source, why
    not)]).

    Images of a modality the run was not trained on (when both are known) are predicted, and
    a warning says how many, of which modality. With ``scale`` ``"windowed"`` (the model saw
    header-windowed images only) an image without a header window is skipped, with
    ``"unwindowed"`` (it saw none) an image with one (:func:`~workflows.run.windows.scale_problem`).
    Images of another pixel size than the training images (after preprocessing) are predicted,
    and said (:mod:`workflows.run.scale`). Those warnings name an image by its source file
    (``by_source``; it was the hashed output, ``1d4b.../c5e0..._000.npy``), else by its output.
    """
    from pipeline.data.base import sample_to_item
    from workflows.run.foreign import unlike_training

    shape = list(model["shape"])
    keep, items, skipped, named = [], [], [], []
    for i in range(len(dataset)):
        row = dataset.items[i][0]
        name, source = row["output"], row.get("source", "")
        problem = scale_problem(row, scale)  # windowed vs not, unlike the training images
        if problem:
            skipped.append((name, source, problem))
            continue
        try:
            sample = dataset.sample(i)
            item = sample_to_item(sample)
        except RadpipeError as err:
            skipped.append((name, source, _refused(dataset, i, shape[0], err)))
            continue
        got = list(item["image"].shape)
        if got[0] != shape[0]:
            skipped.append((name, source, _channels(got[0], shape[0])))
        elif got != shape:
            why = (f"shape {tuple(got)} after preprocessing; the run's model takes "
                   f"{tuple(shape)} (add a resize stage)")  # fmt: skip
            skipped.append((name, source, why))
        else:
            keep.append(i)
            items.append(item)
            shown = (source or name) if by_source else name
            named.append((shown, row.get("modality") or "", sample.meta.get("spacing")))
    unlike_training(named, modalities, model.get("pixel_mm"), "predicted", model.get("slice_mm"))
    return keep, items, skipped


def _refused(dataset: Any, i: int, takes: int, err: RadpipeError) -> str:
    """Why image ``i`` is skipped when its preprocessing failed: a fitted stage refuses a
    colour image before the model's channel check could; the channels are said first."""
    try:
        got = int(dataset.raw_sample(i).image.shape[0])
    except RadpipeError:
        return str(err)
    return f"{_channels(got, takes)} ({err})" if got != takes else str(err)


def _channels(got: int, takes: int) -> str:
    kind = "colour" if got > 1 else "grey"
    return f"{counted(got, 'channel')} ({kind}); the run's model takes {takes}"


def warn_ties(task: str, probs: list[np.ndarray], names: list[str]) -> int:
    """Warn of the rows (classification) or mask voxels (segmentation, each ``(K, ...)``)
    whose top probability ties, which the argmax gave to the first tied class, as radpipe
    evaluate calls them (a segmentation's tied voxels went unsaid); returns their count."""
    if task == "classification":
        if ties := tied_top(np.stack(probs)):
            log.warning("%d of %d rows tie on their top probability (%s): 'pred' is the first "
                        "of the tied classes, as radpipe evaluate calls it", ties, len(probs),
                        tie_example(len(probs[0])))  # fmt: skip
        return ties
    tied = [tied_top(p, axis=0) for p in probs]
    if ties := sum(tied):
        log.warning("%d voxels in %d of %d masks tie on their top probability: each is the "
                    "first of the tied classes (%s first), as radpipe evaluate calls them",
                    ties, sum(1 for t in tied if t), len(tied), names[0])  # fmt: skip
    return ties
