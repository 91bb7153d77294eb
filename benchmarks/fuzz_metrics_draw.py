"""Random small cases for :mod:`benchmarks.fuzz_metrics`, biased to the edges."""

from __future__ import annotations

from typing import Any

import numpy as np

Finding = tuple[str, str]  # (kind, what)


def close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))


def draw_labels(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Two label maps of one random 2-D or 3-D shape (no axis of size 1), with edge cases."""
    ndim = int(rng.choice([2, 3]))
    shape = tuple(int(n) for n in rng.integers(2, 9 if ndim == 3 else 14, size=ndim))
    kind = str(
        rng.choice(
            [
                "random",
                "blob",
                "empty_true",
                "empty_pred",
                "both_empty",
                "one_voxel",
                "all_fg",
                "same",
                "absent_class",
            ]
        )
    )

    def blob() -> np.ndarray:
        out = np.zeros(shape, np.int64)
        for c in range(1, k):
            if rng.random() < 0.7:
                lo = [int(rng.integers(0, n)) for n in shape]
                hi = [int(rng.integers(low + 1, n + 1)) for low, n in zip(lo, shape, strict=True)]
                out[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = c
        return out

    t = rng.integers(0, k, size=shape) if kind == "random" else blob()
    p = rng.integers(0, k, size=shape) if kind == "random" else blob()
    if kind == "empty_true":
        t[:] = 0
    elif kind == "empty_pred":
        p[:] = 0
    elif kind == "both_empty":
        t[:], p[:] = 0, 0
    elif kind == "one_voxel":
        t[:], p[:] = 0, 0
        t[tuple(int(rng.integers(0, n)) for n in shape)] = int(rng.integers(1, k))
        p[tuple(int(rng.integers(0, n)) for n in shape)] = int(rng.integers(1, k))
    elif kind == "all_fg":
        t[:] = int(rng.integers(1, k))
    elif kind == "same":
        p = t.copy()
    elif kind == "absent_class":
        t[t == k - 1], p[p == k - 1] = 0, 0
    # the labels' dtype as masks come: PNG (uint8), NIfTI (int16), torch (int64), bool
    dtypes = [np.uint8, np.int16, np.uint16, np.int64] + ([bool] if k == 2 else [])
    dtype = dtypes[int(rng.integers(0, len(dtypes)))]
    return t.astype(dtype), p.astype(dtype), f"{kind} {shape} K={k} {np.dtype(dtype).name}"


def draw_k(rng: np.random.Generator, low: int = 2, high: int = 5) -> int:
    """A number of classes in [low, high), now and then 17 to 40 (past uint8's 16 x 16 codes)."""
    return int(rng.integers(17, 41)) if rng.random() < 0.1 else int(rng.integers(low, high))


def one_hot(labels: np.ndarray, k: int) -> Any:
    import torch

    return torch.from_numpy(np.stack([labels == c for c in range(k)])[None].astype(np.float32))


def draw_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.choice(["continuous", "ties", "constant", "coarse"])
    if kind == "continuous":
        return rng.random(n)
    if kind == "constant":
        return np.full(n, float(rng.choice([0.0, 0.5, 1.0])))
    return np.round(rng.random(n), 1 if kind == "coarse" else 0)
