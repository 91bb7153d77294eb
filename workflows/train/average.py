"""Checkpoint averaging for :func:`workflows.train.loop.train` (``train.average_epochs``).

The weights of ``k`` consecutive epochs are averaged into one model, in the spirit of
stochastic weight averaging (Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima
and Better Generalization", UAI): the mean of points along the end of an SGD trajectory lies
nearer the centre of a flat region than any one of them, and its predictions are usually
less sensitive to which epoch happened to be last or best. The averaging itself is PyTorch's
:class:`torch.optim.swa_utils.AveragedModel` (an equal-weight running mean of the
parameters) and batch-norm statistics are recomputed for the averaged weights with
:func:`torch.optim.swa_utils.update_bn`, since averaged weights do not match any epoch's
running statistics.

Two windows: ``anchor="best"`` averages the ``k`` epochs that end at the best epoch of the
monitored metric (the run's ``best.pt`` epoch), ``anchor="last"`` the last ``k`` epochs run.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

from pipeline.words import counted, word

__all__ = ["WeightWindow", "average_weights", "has_batch_norm", "short_window"]

log = logging.getLogger("radpipe")

State = dict[str, torch.Tensor]


class WeightWindow:
    """CPU copies of the model's ``state_dict`` for the epochs that may be averaged.

    Keeps the last ``k`` epochs and, for ``anchor="best"``, the ``k`` epochs that ended at the
    latest improvement of the monitor; at most ``2k`` states are held (``k`` x model size).

    Parameters
    ----------
    k
        Number of epochs to average (>= 2).
    anchor
        ``"best"`` or ``"last"``.
    """

    def __init__(self, k: int, anchor: str) -> None:
        if k < 2 or anchor not in ("best", "last"):
            raise ValueError(f"WeightWindow needs k >= 2 and anchor best|last; got {k}, {anchor}")
        self.k = k
        self.anchor = anchor
        self.recent: list[tuple[int, State]] = []
        self.at_best: list[tuple[int, State]] = []

    def record(self, epoch: int, model: nn.Module, improved: bool) -> None:
        """Store this epoch's weights; ``improved``: the monitor reached a new best."""
        state = {n: t.detach().to("cpu", copy=True) for n, t in model.state_dict().items()}
        self.recent = [*self.recent, (epoch, state)][-self.k :]
        if improved:
            self.at_best = list(self.recent)

    def window(self) -> list[tuple[int, State]]:
        """The ``(epoch, state)`` pairs to average (the last ones if no epoch improved)."""
        if self.anchor == "best" and self.at_best:
            return self.at_best
        return self.recent

    def state_dict(self) -> dict[str, Any]:
        """For ``last.pt``, so that a resumed run averages the same epochs."""
        states = {e: s for e, s in self.recent + self.at_best}
        return {
            "states": states,
            "recent": [e for e, _ in self.recent],
            "at_best": [e for e, _ in self.at_best],
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        states = saved["states"]
        self.recent = [(int(e), states[e]) for e in saved["recent"]]
        self.at_best = [(int(e), states[e]) for e in saved["at_best"]]


def has_batch_norm(model: nn.Module) -> bool:
    """Whether ``model`` holds a batch-norm layer (whose statistics averaging invalidates)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def frozen_norms(model: nn.Module) -> list[str]:
    """Names of the batch-norm layers whose affine parameters are all frozen
    (``requires_grad=False``, e.g. by ``train.freeze``). Training runs them in eval mode and
    checkpoint averaging keeps their running statistics: a frozen layer computes what it
    computed in the checkpoint it came from."""
    names = []
    for name, module in model.named_modules():
        params = list(module.parameters(recurse=False))
        if (
            isinstance(module, nn.modules.batchnorm._BatchNorm)
            and params
            and not any(p.requires_grad for p in params)
        ):
            names.append(name)
    return names


def average_weights(
    model: nn.Module,
    states: Iterable[State],
    images: Iterable[torch.Tensor] | None = None,
) -> int:
    """Load the mean of ``states`` into ``model`` (in place); recompute batch-norm statistics.

    Parameters
    ----------
    model
        The module the states belong to; it receives the averaged parameters.
    states
        ``state_dict`` s of ``model`` (same keys and shapes); parameters are averaged with
        equal weights by :class:`~torch.optim.swa_utils.AveragedModel`; other buffers come
        from the last state.
    images
        Training batches ``(B, C, ...)`` float32 on the model's device, one pass of which
        re-estimates every batch-norm layer's running mean and variance
        (:func:`~torch.optim.swa_utils.update_bn`, cumulative average over the batches).
        ``None``: batch-norm statistics are those of the last state.

    Returns
    -------
    int
        The number of states averaged.
    """
    scratch = copy.deepcopy(model)
    averaged = AveragedModel(scratch, use_buffers=False)
    for state in states:
        scratch.load_state_dict(state)
        averaged.update_parameters(scratch)
    count = int(averaged.n_averaged.item())
    if count == 0:
        raise ValueError("average_weights needs at least one state.")
    if images is not None and has_batch_norm(averaged.module):
        frozen = tuple(f"{name}." for name in frozen_norms(model))
        kept = {k: v.clone() for k, v in averaged.module.state_dict().items()
                if k.startswith(frozen)}  # fmt: skip
        update_bn(images, averaged.module)
        averaged.module.load_state_dict(kept, strict=False)  # frozen layers keep theirs
    model.load_state_dict(averaged.module.state_dict())
    return count


def short_window(window: WeightWindow, epochs: int, monitor: str, say: bool) -> dict[str, Any]:
    """``{"requested": k, "note": ...}`` when fewer than ``k`` epochs are averaged (a run of
    fewer epochs, or a best epoch before epoch ``k``), warned when ``say``; else ``{}``.

    ``epochs``: ``train.epochs``; ``monitor``: the metric whose best epoch anchors the window.

    Examples
    --------
    >>> window = WeightWindow(10, "last")
    >>> for epoch in (1, 2):
    ...     window.record(epoch, nn.Linear(1, 1), improved=True)
    >>> short_window(window, 2, "val_loss", say=False)["note"]  # doctest: +NORMALIZE_WHITESPACE
    'train.average_epochs 10: only 2 epochs were averaged (epochs 1, 2), as the run had only
    2 epochs (train.epochs 2); best.pt holds their mean'
    """
    averaged = [e for e, _ in window.window()]
    n = len(averaged)
    if not averaged or n >= window.k:
        return {}
    last_run = window.recent[-1][0]
    if window.anchor == "best" and window.at_best and averaged[-1] != last_run:
        why = (f"the best epoch of {monitor}, epoch {averaged[-1]}, has only "
               f"{counted(n, 'epoch', 'epochs')} up to it (train.average_anchor best)")  # fmt: skip
    else:
        ended = f"train.epochs {epochs}" if last_run >= epochs else "early stopping"
        why = f"the run had only {counted(last_run, 'epoch', 'epochs')} ({ended})"
    held = "their mean" if n > 1 else "that epoch's weights"
    note = (f"train.average_epochs {window.k}: only {counted(n, 'epoch', 'epochs')} "
            f"{'were' if n > 1 else 'was'} averaged ({word(n, 'epoch', 'epochs')} "
            f"{', '.join(map(str, averaged))}), as {why}; best.pt holds {held}")  # fmt: skip
    if say:
        log.warning("%s", note)
    return {"requested": window.k, "note": note}
