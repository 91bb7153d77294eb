"""An accumulator of confusion counts over batches, cases and processes.

Only counts are kept (a ``(K, K)`` int64 matrix, plus one per case when asked), so results
combine exactly: batches are added, processes are summed (``merge`` or ``reduce``), and every
rate is computed once at the end. Averages are never averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipeline.metrics._arrays import ArrayOrTensor, check_num_classes
from pipeline.metrics.confusion import confusion_matrices, confusion_matrix, rates_from_confusion
from pipeline.metrics.overlap import EmptyPolicy, dice_from_confusion, jaccard_from_confusion


class ConfusionAccumulator:
    """Accumulate a confusion matrix (and, optionally, one per case) over many updates.

    Parameters
    ----------
    num_classes
        ``K``, background included.
    per_case
        Also keep one confusion matrix per case, for per-case Dice and Jaccard.
    include_background
        Whether class 0 enters the Dice and Jaccard averages in :meth:`compute`.
    empty
        Empty-mask policy for Dice and Jaccard (see :mod:`pipeline.metrics.overlap`).

    Examples
    --------
    >>> acc = ConfusionAccumulator(2, per_case=True)
    >>> acc.update(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [1, 0]]), batched=True)
    >>> acc.compute()["accuracy"], acc.compute()["per_case"]["dice"][1]
    (0.75, [0.0, 0.6666666666666666])
    """

    def __init__(
        self,
        num_classes: int,
        per_case: bool = False,
        *,
        include_background: bool = True,
        empty: EmptyPolicy = "nan",
    ) -> None:
        check_num_classes(num_classes)
        self.num_classes = int(num_classes)
        self.per_case = per_case
        self.include_background = include_background
        self.empty = empty
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        k = self.num_classes
        self.counts = np.zeros((k, k), dtype=np.int64)
        self.case_counts: list[np.ndarray] = []
        self.case_ids: list[str] = []

    def update(
        self,
        true: ArrayOrTensor,
        pred: ArrayOrTensor,
        *,
        batched: bool = False,
        ids: Sequence[str] | None = None,
    ) -> None:
        """Add one case (``batched=False``) or a batch whose axis 0 indexes cases.

        For classification, pass the label vectors of a batch; ``batched`` only matters for
        per-case bookkeeping. ``ids`` names the cases (default: running numbers).
        """
        if self.per_case:
            matrices = (
                confusion_matrices(true, pred, self.num_classes)
                if batched
                else confusion_matrix(true, pred, self.num_classes)[None]
            )
            names = list(ids) if ids is not None else None
            if names is not None and len(names) != len(matrices):
                raise ValueError(f"Got {len(names)} ids for a batch of {len(matrices)} cases.")
            start = len(self.case_ids)
            self.case_ids.extend(names or [f"case{start + i}" for i in range(len(matrices))])
            self.case_counts.extend(matrices)
            self.counts += matrices.sum(axis=0)
        else:
            self.counts += confusion_matrix(true, pred, self.num_classes)

    def state(self) -> dict[str, Any]:
        """The counts, as plain numpy/lists (picklable, JSON-friendly via ``tolist``)."""
        return {
            "counts": self.counts.copy(),
            "case_counts": [c.copy() for c in self.case_counts],
            "case_ids": list(self.case_ids),
        }

    def merge(self, other: ConfusionAccumulator | dict[str, Any]) -> ConfusionAccumulator:
        """Add another accumulator (or its :meth:`state`) into this one; returns ``self``."""
        state = other.state() if isinstance(other, ConfusionAccumulator) else other
        counts = np.asarray(state["counts"], dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise ValueError(
                f"Cannot merge counts of shape {counts.shape} into {self.counts.shape}."
            )
        cases = [np.asarray(c, dtype=np.int64) for c in state["case_counts"]]
        in_cases = np.sum(cases, axis=0) if cases else np.zeros_like(counts)
        if self.per_case and not np.array_equal(in_cases, counts):
            # its cases would be missing from the case mean and present in the pooled figures
            raise ValueError(
                f"Cannot merge: this accumulator keeps per-case counts, and the other holds "
                f"{int(counts.sum() - in_cases.sum())} elements in no case (made with "
                "per_case=False?). Give both per_case=True."
            )
        self.counts += counts
        self.case_counts.extend(cases)
        self.case_ids.extend(state["case_ids"])
        return self

    def reduce(
        self,
        all_reduce_fn: Callable[[np.ndarray], np.ndarray],
        gather_fn: Callable[[Any], list[Any]] | None = None,
    ) -> ConfusionAccumulator:
        """Sum the counts across processes, in place; returns ``self``.

        Parameters
        ----------
        all_reduce_fn
            Takes this process's ``(K, K)`` int64 counts, returns the sum over all processes
            (see :func:`torch_all_reduce`).
        gather_fn
            Needed only with ``per_case=True``: takes this process's list of per-case
            ``(id, counts)`` and returns the list of every process's list (e.g. built on
            ``torch.distributed.all_gather_object``).
        """
        self.counts = np.asarray(all_reduce_fn(self.counts.copy()), dtype=np.int64)
        if self.per_case:
            if gather_fn is None:
                raise ValueError("reduce() with per_case=True needs a gather_fn for the cases.")
            gathered = gather_fn(list(zip(self.case_ids, self.case_counts, strict=True)))
            pairs = [pair for part in gathered for pair in part]
            self.case_ids = [str(name) for name, _ in pairs]
            self.case_counts = [np.asarray(c, dtype=np.int64) for _, c in pairs]
        return self

    def compute(self) -> dict[str, Any]:
        """All figures from the counts so far, JSON-friendly (floats and lists; NaN kept).

        Keys: ``num_classes``, ``include_background``, ``empty``, ``confusion_matrix``,
        ``accuracy``, ``balanced_accuracy``, ``dice`` / ``jaccard`` per class (all K classes),
        ``dice_macro``, ``dice_micro``, ``dice_weighted`` and the same for ``jaccard`` (over
        the classes chosen by ``include_background``), the per-class rates of
        :func:`rates_from_confusion` and their ``_macro`` means, and with ``per_case`` a
        ``per_case`` dict (``ids``, ``dice`` and ``jaccard`` per case and class) plus
        ``dice_case_mean`` / ``jaccard_case_mean`` (mean over cases of each case's macro).
        """
        out: dict[str, Any] = {
            "num_classes": self.num_classes,
            "include_background": self.include_background,
            "empty": self.empty,
            "confusion_matrix": self.counts.tolist(),
        }
        for name, value in rates_from_confusion(self.counts).items():
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        for name, fn in (("dice", dice_from_confusion), ("jaccard", jaccard_from_confusion)):
            out[name] = np.asarray(fn(self.counts, average="none", empty=self.empty)).tolist()
            for average in ("macro", "micro", "weighted"):
                out[f"{name}_{average}"] = float(
                    fn(
                        self.counts,
                        include_background=self.include_background,
                        average=average,
                        empty=self.empty,
                    )
                )
        if self.per_case:
            out["per_case"] = self._per_case()
            for name in ("dice", "jaccard"):
                out[f"{name}_case_mean"] = _nanmean(out["per_case"][f"{name}_macro"])
        return out

    def _per_case(self) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = {"ids": list(self.case_ids)}
        for name, fn in (("dice", dice_from_confusion), ("jaccard", jaccard_from_confusion)):
            result[name] = [
                np.asarray(fn(c, average="none", empty=self.empty)).tolist()
                for c in self.case_counts
            ]
            result[f"{name}_macro"] = [
                float(fn(c, include_background=self.include_background, empty=self.empty))
                for c in self.case_counts
            ]
        return result


def torch_all_reduce(counts: np.ndarray) -> np.ndarray:
    """Sum int64 counts over all ``torch.distributed`` processes (for :meth:`reduce`).

    Uses the default process group; with NCCL the tensor must live on the GPU, so it is moved
    to the current CUDA device when the backend is ``nccl``.
    """
    import torch
    import torch.distributed as dist

    tensor = torch.from_numpy(np.ascontiguousarray(counts, dtype=np.int64))
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()


def _nanmean(values: Sequence[float]) -> float:
    array = np.asarray(values, dtype=np.float64)
    finite = array[~np.isnan(array)]
    return float(finite.mean()) if finite.size else float("nan")
