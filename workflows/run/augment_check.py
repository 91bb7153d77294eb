"""Refusals before training of what the config asks of the training images: a preprocessing
stage that fails on them, and augmentation the model cannot take.

A stage that failed while the preprocessing was fitted (a ``resize`` of 3 sizes on 2-D
images), or an ``augment`` stage that gives the training images a shape the model was not
built for (a ``random_crop`` larger than the preprocessed image, a ``random_rotate90`` of a
non-square plane in batches of several images), stopped the run with a traceback from the
first batch, or with a ``StageError`` and advice to ``radpipe run --resume``, which could not
work: a resumed run keeps its config. Both are configuration errors now, raised before any
model is trained (so the new run directory is removed, :func:`workflows.run.failure.
drop_untrained`), naming the stage, the image (relative path, or source file and key) and the
shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from pipeline.errors import ConfigError, StageError
from pipeline.stage import Pipeline
from workflows.run.checks import check_model_takes

__all__ = ["check_model_and_augment", "stage_failures_refused"]

#: Draws of each random augmentation tried on one preprocessed image (with its ``p``, and
#: with ``p`` 1): a random_rotate90 turns a plane an odd number of times in 2 of 3 draws.
_DRAWS = 8


def item_named(dataset: Any, samples: Sequence[Any], key: str) -> str:
    """The item of ``samples`` (loaded from ``dataset`` in order) whose id is ``key``, as a
    message names it: ``the training image`` and its relative path, a DICOM item's source
    file and key; ``key`` itself when no sample has it (a stage's fit names the samples)."""
    for i, sample in enumerate(samples):
        if sample.meta.get("id") != key:
            continue
        if sample.meta.get("source"):
            return f"the training image {sample.meta['source']}"
        rows = getattr(dataset, "items", None)
        if rows and i < len(rows) and rows[i] and rows[i][0].get("source"):
            return f"the training image {rows[i][0]['source']} ({key})"
        return f"the training image {key}"
    return key


@contextmanager
def stage_failures_refused(dataset: Any, samples: Sequence[Any], part: str) -> Iterator[None]:
    """Raise a stage's failure on the training ``samples`` as a configuration error naming
    the config section ``part``, the stage and the image."""
    try:
        yield
    except StageError as err:
        where = item_named(dataset, samples, err.source)
        raise ConfigError(
            f"{part}: {err.stage} cannot be applied to {where}: {err.reason} Change {part} "
            "in the config and run it again."
        ) from None


def check_model_and_augment(
    model: Any, shapes: list[list[int]], name: str, augment: Pipeline, dataset: Any,
    batch_size: int,
) -> None:  # fmt: skip
    """Refuse, before training, a model that cannot take the preprocessed images
    (:func:`check_model_takes`), or the training images as ``augment`` leaves them: one
    preprocessed training image is augmented ``_DRAWS`` times with each stage's ``p`` and as
    many with ``p`` 1 (by the stages that may change its shape); every shape that comes out
    must be one the model takes, and one shape only when batches hold more than one image."""
    check_model_takes(model, shapes, name)
    steps = [(n, s) for n, s in augment.steps if not s.keeps_shape]  # flips, affine maps...
    if not steps or len(dataset) == 0:
        return
    base = dataset.preprocessed(0)
    with stage_failures_refused(dataset, [base], "augment"):
        made = _augmented_shapes(base, Pipeline(steps))
    before = tuple(base.image.shape)
    changed = {shape: stage for shape, stage in made.items() if shape != before}
    if not changed:
        return
    said = ", ".join(f"{s} after {stage}" for s, stage in changed.items())
    if batch_size > 1 and len(made) > 1:
        raise ConfigError(
            f"augment gives the training images several shapes (preprocessed {before}; "
            f"{said}): images of different shapes cannot share a batch. Keep the shape in "
            "augment (a random_rotate90 turns only square planes without changing their "
            "shape), or set train.batch_size: 1 for a model that takes any size."
        )
    check_model_takes(
        model, [list(s) for s in changed], name,
        what=f"the training images as augment leaves them (preprocessed {before}; changed "
        f"by {', '.join(dict.fromkeys(changed.values()))})",
        advice="Test images are not augmented: a stage that sets the size belongs in "
        "preprocess; change augment or the model.",
    )  # fmt: skip


def _augmented_shapes(base: Any, augment: Pipeline) -> dict[tuple[int, ...], str]:
    """Each image shape ``augment`` gives ``base`` over the draws, with the name of the first
    stage that changed the shape (``""`` for none). The stages that keep the shape
    (``keeps_shape``) are left out by the caller: what the others give depends on the shape
    alone."""
    forced = Pipeline([(n, _always(s)) for n, s in augment.steps])
    made: dict[tuple[int, ...], str] = {}
    for pipe in (augment, forced):
        for draw in range(_DRAWS):
            rng = np.random.default_rng([draw])
            sample, culprit = base, ""
            for stage_name, stage in pipe.steps:
                before = sample.image.shape
                sample = Pipeline._call(stage_name, stage, sample, rng)
                if not culprit and sample.image.shape != before:
                    culprit = stage_name
            made.setdefault(tuple(sample.image.shape), culprit)
    return made


def _always(stage: Any) -> Any:
    """``stage`` with ``p`` 1 (applied on every draw), or itself when it has no ``p``."""
    params = stage.get_params()
    if "p" not in params:
        return stage
    return type(stage)(**{**params, "p": 1.0})
