"""Inference: probabilities from a model or checkpoints, ensembles, flip TTA, transfer learning.

Every checkpoint is read with ``torch.load(..., weights_only=True)`` (through
:func:`workflows.train.checkpoint.load_checkpoint`); a model is rebuilt from the registered spec
stored in the checkpoint, never from pickled code.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from pipeline.data import collate_items
from pipeline.errors import ConfigError
from workflows.train.checkpoint import CheckpointError, load_checkpoint
from workflows.train.optim import pick_device


@torch.no_grad()
def predict(
    model: nn.Module,
    dataset: Dataset[dict[str, Any]],
    batch_size: int = 32,
    tta_flip: bool = False,
    device: str = "auto",
) -> np.ndarray:
    """Softmax probabilities of ``model`` on every item of ``dataset``, in dataset order.

    Parameters
    ----------
    model
        Maps ``(B, C, ...)`` images to logits ``(B, K)`` or ``(B, K, *spatial)``.
    dataset
        Items are dicts with an ``"image"`` tensor (labels and masks are ignored).
    batch_size
        Items per forward pass.
    tta_flip
        Also run on the left-right mirrored image (last axis) and average the two
        probability maps (per-pixel maps are mirrored back first).
    device
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.

    Returns
    -------
    numpy.ndarray
        float32 ``(N, K)`` or ``(N, K, *spatial)``.

    Raises
    ------
    ValueError
        An empty dataset, items that are not dicts with an ``"image"``, or ``tta_flip`` on
        images without a width axis to mirror (PCA scores ``(K, 1, 1)``, feature vectors).

    Notes
    -----
    The model runs in eval mode and is left in the mode it came in (a model in training
    stayed in eval mode: dropout and batch-norm updates off for the rest of its training).
    """
    dev = pick_device(device)
    was_training = model.training
    model.to(dev).eval()
    try:
        loader = DataLoader(dataset, batch_size=batch_size, collate_fn=collate_items)
        out = [_probabilities(model, batch, dev, tta_flip) for batch in loader]
    finally:
        model.train(was_training)  # a model in training goes on training (dropout, batch norm)
    if not out:
        raise ValueError("predict() got an empty dataset.")
    return np.concatenate(out).astype(np.float32)


def _probabilities(model: nn.Module, batch: Any, dev: torch.device, tta_flip: bool) -> np.ndarray:
    """One batch's softmax ``(B, K, ...)``, averaged with its mirror's under ``tta_flip``."""
    if not isinstance(batch, dict) or "image" not in batch:
        got = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(
            "predict(): items must be dicts with an 'image' (C, ...) tensor, as "
            f"sample_to_item makes them; got {got}."
        )
    image = batch["image"].to(dev).float()  # (B, C, ...)
    if tta_flip and (image.ndim < 4 or image.shape[-1] == 1):
        raise ValueError(
            "predict(tta_flip=True) mirrors each image along its last (width) axis, but these "
            f"items' images are {tuple(image.shape[1:])}: features (PCA scores (K, 1, 1), "
            "vectors (F,) or (D, F)), which a mirror leaves unchanged or scrambles; predict "
            "without tta_flip."
        )
    probs = model(image).float().softmax(dim=1)
    if tta_flip:
        flipped = model(image.flip(-1)).float().softmax(dim=1)
        if flipped.ndim > 2:  # per-pixel: mirror back so that pixels line up
            flipped = flipped.flip(-1)
        probs = (probs + flipped) / 2
    return probs.cpu().numpy()


def load_model_from_checkpoint(path: str | Path, device: str = "cpu") -> nn.Module:
    """Rebuild the registered model stored in a radpipe checkpoint, with its weights, in eval mode.

    Raises
    ------
    CheckpointError
        The checkpoint is unsafe, not a radpipe checkpoint, or holds no model spec (the
        model was not a registered radpipe model).
    """
    from models import MODELS

    ckpt = load_checkpoint(path, map_location=device)
    spec = ckpt.get("model_spec")
    if not spec:
        raise CheckpointError(
            f"{path}: no model spec stored; rebuild the model yourself and use "
            "init_from_checkpoint() or load_state_dict()."
        )
    model: nn.Module = MODELS.build(spec)
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval()


def ensemble(
    checkpoints: Sequence[str | Path],
    dataset: Dataset[dict[str, Any]] | None = None,
    batch_size: int = 32,
    tta_flip: bool = False,
    device: str = "auto",
    *,
    datasets: Sequence[Dataset[dict[str, Any]]] | None = None,
) -> np.ndarray:
    """Mean of the probabilities of the models in ``checkpoints`` (e.g. the k folds of a
    cross-validation); same shape as :func:`predict`.

    Parameters
    ----------
    dataset
        One dataset for every model: right only when the models share their preprocessing.
    datasets
        One dataset per checkpoint, in the same order, each prepared with that model's own
        fitted stages (``Pipeline.load(fold_dir / "stages")``): what the folds of a
        cross-validated run need, since each fold fitted its preprocessing on its own
        training split.

    Raises
    ------
    ValueError
        Neither or both of ``dataset`` and ``datasets``; a count that does not match; one
        ``dataset`` for checkpoints of run folders whose fitted ``stages/`` differ; or
        checkpoints of runs whose classes (``classes.json``) differ in name or order (their
        probabilities would be averaged index by index, one run's class with another's).
    """
    if not checkpoints:
        raise ValueError("ensemble() needs at least one checkpoint.")
    if (dataset is None) == (datasets is None):
        raise ValueError("ensemble() needs one of dataset= (shared) or datasets= (one each).")
    if datasets is not None and len(datasets) != len(checkpoints):
        n, k = len(datasets), len(checkpoints)
        raise ValueError(f"ensemble(): {n} datasets for {k} checkpoints.")
    if dataset is not None:
        _check_shared_preprocessing(checkpoints)
    _check_same_classes(checkpoints)
    total: np.ndarray | None = None
    for i, path in enumerate(checkpoints):
        model = load_model_from_checkpoint(path)
        data = datasets[i] if datasets is not None else dataset
        assert data is not None
        probs = predict(model, data, batch_size, tta_flip=tta_flip, device=device)
        if total is not None and probs.shape != total.shape:
            raise ValueError(
                f"{path}: predictions of shape {probs.shape} do not match the ensemble's "
                f"{total.shape}."
            )
        total = probs if total is None else total + probs
    assert total is not None
    return total / len(checkpoints)


def _check_same_classes(checkpoints: Sequence[str | Path]) -> None:
    """Refuse checkpoints whose runs' ``classes.json`` differ (checkpoints outside a run
    folder cannot be checked)."""
    seen: dict[tuple[str, ...], str] = {}
    for path in checkpoints:
        names = _source_classes(Path(path))
        if names is not None:
            seen.setdefault(tuple(names), Path(path).resolve().parent.parent.name)
    if len(seen) > 1:
        listed = "; ".join(f"{where}: {list(names)}" for names, where in seen.items())
        raise ValueError(
            f"ensemble(): these models' runs have other classes or another class order "
            f"({listed}): their probabilities would be averaged index by index, one run's "
            "class with another's. Ensemble runs trained with the same data.class_names."
        )


def _check_shared_preprocessing(checkpoints: Sequence[str | Path]) -> None:
    """Refuse one dataset for checkpoints whose run folders (``<folder>/checkpoints/x.pt``
    beside ``<folder>/stages/``) hold different fitted preprocessing."""
    import hashlib

    seen: dict[str, str] = {}
    for path in checkpoints:
        stages = Path(path).parent.parent / "stages"
        if not stages.is_dir():
            continue
        digest = hashlib.sha256()
        for f in sorted(p for p in stages.rglob("*") if p.is_file()):
            digest.update(f.relative_to(stages).as_posix().encode() + b"\0" + f.read_bytes())
        seen.setdefault(digest.hexdigest(), stages.parent.name)
    if len(seen) > 1:
        raise ValueError(
            "ensemble(): these models were fitted with different preprocessing ("
            + ", ".join(f"{name}/stages" for name in seen.values())
            + "); one dataset would feed some of them inputs they never saw. Pass datasets=, "
            "one per checkpoint, each made with Pipeline.load(<fold folder>/stages)."
        )


@dataclass
class TransferReport:
    """What :func:`init_from_checkpoint` did, tensor by tensor (state-dict names)."""

    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why (kept its init)
    frozen: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # checkpoint tensors the model lacks
    #: The source run's classes when they differ from the new model's (``class_names``):
    #: same-shaped output tensors were loaded in the source's class order.
    source_classes: list[str] | None = None

    def summary(self) -> str:
        """One line for the log: counts, and the names skipped (a few)."""
        skipped = ", ".join(list(self.skipped)[:5]) + (" ..." if len(self.skipped) > 5 else "")
        return (
            f"loaded {len(self.loaded)} tensors, skipped {len(self.skipped)}"
            + (f" ({skipped})" if skipped else "")
            + f", froze {len(self.frozen)} parameters, {len(self.unused)} checkpoint tensors unused"
            + (f"; NOTE: the checkpoint's run has the classes {self.source_classes}, not this "
               "run's: output tensors of the same shape were loaded in its class order"
               if self.source_classes is not None else "")
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"loaded": self.loaded, "skipped": self.skipped, "frozen": self.frozen,
                "unused": self.unused, "source_classes": self.source_classes}  # fmt: skip


def init_from_checkpoint(
    model: nn.Module,
    path: str | Path,
    freeze: Sequence[str] = (),
    *,
    class_names: Sequence[str] | None = None,
) -> TransferReport:
    """Transfer learning: copy matching weights from a local checkpoint, then freeze some.

    Parameters
    ----------
    model
        The new model (e.g. with a different number of classes), changed in place.
    path
        A local radpipe checkpoint (URLs are refused; nothing is downloaded).
    freeze
        ``fnmatch`` patterns of parameter names (``"body.*"``, ``"rnn.weight_*"``) whose
        ``requires_grad`` is turned off; the training loop optimises only the others. Only
        parameters loaded from the checkpoint may be frozen.
    class_names
        The new model's classes, in index order; when the checkpoint's run directory has a
        ``classes.json`` with other classes (or another order), the report says so
        (``source_classes``): its same-shaped output layer was loaded in that order.

    Returns
    -------
    TransferReport
        The tensors loaded (same name and shape), skipped (with the reason; they keep their
        initialisation), frozen, and the checkpoint's tensors the model has no place for.

    Raises
    ------
    CheckpointError
        Not a safe local radpipe checkpoint, or no tensor name and shape matched.
    ConfigError
        A ``freeze`` pattern matches no parameter (the message lists the names), or matches
        a parameter that was not loaded (freezing it would keep random weights).
    """
    names = [name for name, _ in model.named_parameters()]
    for pattern in freeze:
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
            raise ConfigError(
                f"The freeze pattern {pattern!r} matches no parameter; names are: "
                f"{', '.join(names)}."
            )
    source = load_checkpoint(path)["model"]
    report = _match(model.state_dict(), source)
    if not set(report.loaded) & set(names):  # buffers alone (a batch counter) do not count
        raise CheckpointError(f"{path}: no parameter matches the model by name and shape.")
    to_freeze = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in freeze)]
    random = [n for n in to_freeze if n in report.skipped]
    if random:
        raise ConfigError(
            "train.freeze would freeze parameters that were not loaded from the checkpoint "
            "and keep their random initial values: "
            + "; ".join(f"{n} ({report.skipped[n]})" for n in random)
            + ". Narrow the freeze patterns."
        )
    model.load_state_dict({k: source[k] for k in report.loaded}, strict=False)
    for name, param in model.named_parameters():
        if name in to_freeze:
            param.requires_grad_(False)
    report.frozen = to_freeze
    source = _source_classes(Path(path))
    if class_names is not None and source is not None and source != list(class_names):
        report.source_classes = source
    return report


def _source_classes(path: Path) -> list[str] | None:
    """The ``class_names`` of the run a checkpoint belongs to (``RUN/checkpoints/x.pt`` or
    ``RUN/folds/fold-k/checkpoints/x.pt``, beside ``RUN/classes.json``); ``None`` if none."""
    import json

    folder = path.resolve().parent.parent
    if path.resolve().parent.name != "checkpoints":
        return None
    run = folder.parent.parent if folder.parent.name == "folds" else folder
    found = run / "classes.json"
    if not found.is_file():
        return None
    names = json.loads(found.read_text()).get("class_names")
    return [str(n) for n in names] if isinstance(names, list) else None


def _match(own: dict[str, torch.Tensor], source: dict[str, torch.Tensor]) -> TransferReport:
    """Which of the model's tensors the checkpoint has, by name and shape."""
    report = TransferReport()
    for k, v in own.items():
        if k not in source:
            report.skipped[k] = "not in the checkpoint"
        elif source[k].shape != v.shape:
            theirs, ours = tuple(source[k].shape), tuple(v.shape)
            report.skipped[k] = f"shape {theirs} in the checkpoint, {ours} here"
        else:
            report.loaded.append(k)
    report.unused = [k for k in source if k not in own]
    return report
