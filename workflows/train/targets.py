"""Checks of a batch's targets against the model's output, for :func:`workflows.train.loop.train`.

A label or mask that the loss cannot score stopped training inside torch (``IndexError:
Target 255 is out of bounds``, ``RuntimeError: 0D or 1D target tensor expected``), or, for
fractional values, was truncated to a class by ``.long()`` without a word (a soft or
linearly resized mask of 0.7 trained as background). :func:`check_targets` names the
problem, the batch key and an item instead, before the loss is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["check_targets", "task_of"]


def task_of(train_ds: Any) -> str:
    """``"segmentation"`` when the first training item has a ``mask``, else
    ``"classification"``.

    Raises
    ------
    ValueError
        An empty training dataset, or a first item that is not a dict with an ``"image"``.
    """
    if len(train_ds) == 0:
        raise ValueError("train(): train_ds is empty; give it at least one item.")
    first = train_ds[0]
    if not isinstance(first, dict) or "image" not in first:
        got = sorted(first) if isinstance(first, dict) else type(first).__name__
        raise ValueError(
            "train(): items must be dicts with an 'image' (C, ...) tensor and a 'label' or "
            f"'mask' (see sample_to_item); the first item is {got}."
        )
    return "segmentation" if "mask" in first else "classification"


def check_targets(
    batch: dict[str, Any],
    logits_shape: Sequence[int],
    *,
    padded: int | None = None,
    class_weights: Sequence[float] | None = None,
) -> None:
    """Refuse targets that the model's output ``(B, K)`` or ``(B, K, *spatial)`` cannot score.

    Parameters
    ----------
    batch
        ``{"image": (B, C, ...), "label": (B,) | "mask": (B, *spatial), "id": [str]}``;
        the targets are read as given (on the CPU for loader batches: no device sync).
    logits_shape
        The model's output shape for this batch; ``K = logits_shape[1]`` classes.
    padded
        A mask value that marks padding (allowed besides ``0 .. K - 1``), or ``None``.
    class_weights
        ``train.class_weights``: one weight per class is needed.

    Raises
    ------
    ValueError
        Labels or masks that are not whole numbers (fractions, NaN, infinity), outside
        ``0 .. K - 1``,
        masks without the output's spatial shape (a channel axis, another size), labels
        where the model segments or masks where it classifies, or a class-weight count
        other than ``K``.
    """
    key = "mask" if "mask" in batch else "label"
    target = torch.as_tensor(batch[key])
    k = int(logits_shape[1])
    if class_weights is not None and len(class_weights) != k:
        raise ValueError(
            f"train.class_weights: {len(class_weights)} weights for a model of {k} classes "
            f"(0 .. {k - 1}): give one weight per class."
        )
    want = (int(logits_shape[0]), *map(int, logits_shape[2:]))
    if tuple(target.shape) != want:
        raise ValueError(_shape_problem(key, tuple(target.shape), tuple(logits_shape), want))
    if target.numel() == 0:
        return
    values = target.detach()
    ids = _ids(batch.get("id"))
    whole = (values == values.round()) & values.isfinite() if values.is_floating_point() else None
    if whole is not None and not bool(whole.all()):
        bad = ~whole
        raise ValueError(
            f"The {key}s of a batch must be class indices (whole numbers); item "
            f"{_item(ids, bad)} holds {_first(values, bad)}. Threshold or argmax soft masks, "
            "and resize masks with nearest neighbour."
        )
    if values.dtype == torch.bool:
        values = values.to(torch.uint8)
    low, high = (float(v) for v in torch.aminmax(values))  # one pass: most batches end here
    if (low >= 0 or low == padded) and high < k:
        return
    outside = (values < 0) | (values >= k)
    if padded is not None:
        outside &= values != padded
    if bool(outside.any()):
        top = int(values.max())
        advice = (
            f"build the model with num_classes={top + 1}, or map the {key}s to 0 .. {k - 1}"
            if top >= k
            else f"class indices start at 0: map the {key}s to 0 .. {k - 1}"
        )
        if key == "mask" and top == 255:
            advice = "map the masks to class indices (a 0/255 mask to 0/1)"
        raise ValueError(
            f"The model outputs {k} classes (0 .. {k - 1}), but item {_item(ids, outside)} has "
            f"{key} value {_first(values, outside)}: {advice}."
        )


def _shape_problem(
    key: str, got: tuple[int, ...], logits: tuple[int, ...], want: tuple[int, ...]
) -> str:
    if key == "label" and len(logits) > 2:
        return (
            f"The model outputs per-pixel scores {logits}, but the batch has labels {got}: a "
            "segmentation model needs 'mask' items (class indices of the image's spatial shape)."
        )
    if key == "mask" and len(logits) == 2:
        return (
            f"The model outputs one score per class {logits}, but the batch has masks {got}: a "
            "classifier needs 'label' items (one class index per image)."
        )
    if key == "mask" and len(got) == len(want) + 1 and got[1] == 1:
        return f"Masks are class indices without a channel axis: got {got} for {want}; drop axis 1."
    return f"The batch's {key}s have shape {got}; the model's output {logits} needs {want}."


def _ids(ids: Any) -> Sequence[Any]:
    return [] if ids is None else ids.tolist() if isinstance(ids, torch.Tensor) else ids


def _item(ids: Sequence[Any], bad: torch.Tensor) -> str:
    """The id of the first item with a ``bad`` value (its batch position without ids)."""
    index = int(bad.reshape(len(bad), -1).any(dim=1).nonzero()[0]) if bad.ndim else 0
    return repr(str(ids[index])) if index < len(ids) else f"#{index} of the batch"


def _first(values: torch.Tensor, bad: torch.Tensor) -> str:
    value = values[bad].reshape(-1)[0].item()
    return f"{value:g}" if isinstance(value, float) else str(value)
