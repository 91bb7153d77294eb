"""Benchmark: HD95 per class, radpipe against MONAI ``compute_hausdorff_distance``.

A 3-D label map (``--size`` cubed, spacing 2.5 x 0.8 x 0.8 mm) with three foreground
classes (ellipsoids of different sizes), and a prediction with the organs shifted and
resized by a few voxels plus a few hundred scattered false-positive voxels (what makes HD95
differ from HD). Each method starts from the two uint8 label maps:

  radpipe   ``surface_metrics_per_class(true, pred, 4, spacing)`` (HD95 and mean surface
            distance per foreground class)
  peer      MONAI ``compute_hausdorff_distance(one_hot(pred), one_hot(true), percentile=95,
            spacing=...)`` (one-hot conversion included; HD95 only)
  floor     the boundary extraction alone: per class, ``mask XOR erosion(mask)`` of both maps
            (every method must at least find the surfaces)

Rates are volumes per second over alternating runs. Target: radpipe >= 2x MONAI.

    .venv/bin/python benchmarks/surface.py [--size 128] [--rounds 5]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _bench import HEADER, alternate, machine, row
from scipy import ndimage

K = 4
SPACING = (2.5, 0.8, 0.8)


def make_labels(size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    grid = np.indices((size,) * 3, dtype=np.float32) / size
    true = np.zeros((size,) * 3, np.uint8)
    pred = np.zeros_like(true)
    organs = [((0.5, 0.4, 0.4), (0.3, 0.25, 0.2)), ((0.5, 0.6, 0.65), (0.2, 0.15, 0.15)),
              ((0.4, 0.5, 0.3), (0.08, 0.06, 0.06))]  # fmt: skip
    for c, (center, radii) in enumerate(organs, start=1):
        shift = rng.uniform(-0.02, 0.02, 3)
        grow = rng.uniform(0.9, 1.1, 3)
        inside = sum(((g - m) / r) ** 2 for g, m, r in zip(grid, center, radii)) <= 1
        moved = sum(((g - m - s) / (r * k)) ** 2
                    for g, m, r, s, k in zip(grid, center, radii, shift, grow)) <= 1  # fmt: skip
        true[inside] = c
        pred[moved] = c
    flat = pred.reshape(-1)
    spots = rng.choice(flat.size, 300, replace=False)
    flat[spots] = rng.integers(1, K, spots.size)
    return true, pred


def run_radpipe(true: np.ndarray, pred: np.ndarray) -> list[float]:
    from pipeline.metrics import surface_metrics_per_class

    return surface_metrics_per_class(true, pred, K, SPACING)["hd95"]


def run_monai(true: np.ndarray, pred: np.ndarray) -> list[float]:
    from monai.metrics import compute_hausdorff_distance

    def one_hot(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x.astype(np.int64))[None]
        return torch.nn.functional.one_hot(t, K).movedim(-1, 1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hd = compute_hausdorff_distance(one_hot(pred), one_hot(true), percentile=95,
                                        spacing=list(SPACING))  # fmt: skip
    return [float(v) for v in hd[0]]


def run_floor(true: np.ndarray, pred: np.ndarray) -> int:
    n = 0
    for c in range(1, K):
        for x in (true == c, pred == c):
            n += int((x ^ ndimage.binary_erosion(x)).sum())
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    true, pred = make_labels(args.size)
    ours, theirs = run_radpipe(true, pred), run_monai(true, pred)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)  # the same answer, or no row
    rates = alternate({
        "radpipe": lambda: (run_radpipe(true, pred), 1)[1],
        "peer": lambda: (run_monai(true, pred), 1)[1],
        "floor": lambda: (run_floor(true, pred), 1)[1],
    }, args.rounds)  # fmt: skip
    print(f"{machine()}\n{args.size}^3 labels, {K} classes, spacing {SPACING} mm; "
          f"HD95 per class {[round(v, 2) for v in ours]} (MONAI agrees)\n")  # fmt: skip
    print(HEADER)
    print(row(f"HD95, {args.size}^3, {K} classes (volumes/s)", rates, "radpipe", "peer",
              "floor", ">= 2x MONAI"))  # fmt: skip


if __name__ == "__main__":
    main()
