"""Benchmark: one 2-D augmentation chain on 256x256 image+mask pairs, radpipe vs MONAI, images/s.

The chain (issue 15), with the same parameter distributions in both libraries:

  step      radpipe stage                          MONAI dictionary transform
  flip      RandomFlip(p=0.5, axes=[-1])           RandFlipd(prob=0.5, spatial_axis=1)
  affine    RandomAffine(p=1, rotation=15,         RandAffined(prob=1, rotate_range=15 deg,
              scale=0.1, translate=0.1,              scale_range=(0.1, 0.1),
              isotropic=False)                       translate_range=(25.6, 25.6))
  elastic   RandomElasticGrid(p=1, spacing=32,     Rand2DElasticd(prob=1, spacing=(32, 32),
              magnitude=(1, 3))                      magnitude_range=(1, 3))
  noise     RandomGaussianNoise(p=1,               RandGaussianNoised(prob=1, std=0.1),
              std=(0, 0.1))                          whose std is drawn from [0, 0.1)
  gamma     RandomGamma(p=1, gamma=(0.7, 1.5),     RandAdjustContrastd(prob=1,
              log_uniform=False)                     gamma=(0.7, 1.5))

Images bilinear, masks nearest; affine pads with zeros, elastic reflects (MONAI's defaults).
A third row, "radpipe, 1 resampling", draws the same affine parameters inside
RandomElasticGrid (rotation=15, scale=0.1, translate=0.1, isotropic=False; reflecting), so
affine and elastic share one sampling grid: one grid_sample for the image and one for the
mask instead of two each (and one interpolation, not two).
Every uniform draw has the same range in both; ``tests/pipeline/test_augment_params.py``
checks the drawn values of both chains against hand-computed statistics. Each library starts
from what a user holds (a float32 NumPy image ``(1, 256, 256)`` and a uint8 mask) and ends
with NumPy arrays; conversions are part of its time. One torch thread (parallelism belongs
to the DataLoader workers). The methods alternate (radpipe, MONAI, radpipe, ...) in one
process; the table gives the median rate, its spread (min..max) and the ratio of medians.

Run: ``.venv/bin/python benchmarks/augment.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from _bench import HEADER, alternate, fmt, machine, ratio, row

SIZE = 256
Pair = tuple[np.ndarray, np.ndarray]


def make_pairs(n: int) -> list[Pair]:
    """``n`` pairs: a noisy disc image ``(1, 256, 256)`` float32 and its uint8 mask."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    pairs = []
    for _ in range(n):
        cy, cx = rng.uniform(64, 192, 2)
        r = rng.uniform(20, 60)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        image = (rng.normal(0, 0.1, (1, SIZE, SIZE)) + inside).astype(np.float32)
        pairs.append((image, inside.astype(np.uint8)))
    return pairs


def radpipe_chain(fused: bool = False) -> Callable[[np.ndarray, np.ndarray, int], Pair]:
    from pipeline.sample import Sample
    from pipeline.stage import Pipeline, Stage
    from pipeline.stages import (
        RandomAffine,
        RandomElasticGrid,
        RandomFlip,
        RandomGamma,
        RandomGaussianNoise,
    )

    affine = {"rotation": 15.0, "scale": 0.1, "translate": 0.1, "isotropic": False}
    elastic = {"p": 1.0, "spacing": 32, "magnitude": [1.0, 3.0]}
    geometric: list[tuple[str, Stage]] = [
        ("affine", RandomAffine(p=1.0, **affine)),
        ("elastic", RandomElasticGrid(**elastic)),
    ]
    if fused:
        geometric = [("elastic", RandomElasticGrid(**elastic, **affine))]
    pipe = Pipeline(
        [
            ("flip", RandomFlip(p=0.5, axes=[-1])),
            *geometric,
            ("noise", RandomGaussianNoise(p=1.0, std=[0.0, 0.1])),
            ("gamma", RandomGamma(p=1.0, gamma=[0.7, 1.5], log_uniform=False)),
        ]
    )

    def run(image: np.ndarray, mask: np.ndarray, i: int) -> Pair:
        out = pipe(Sample(image=image, mask=mask), np.random.default_rng(i))
        assert out.mask is not None
        return out.image, out.mask

    return run


def monai_chain() -> Callable[[np.ndarray, np.ndarray, int], Pair]:
    from monai import transforms as mt

    keys = ["image", "mask"]
    modes = ("bilinear", "nearest")
    chain = mt.Compose(
        [
            mt.RandFlipd(keys, prob=0.5, spatial_axis=1),
            mt.RandAffined(
                keys,
                prob=1.0,
                rotate_range=np.deg2rad(15),
                scale_range=(0.1, 0.1),
                translate_range=(0.1 * SIZE, 0.1 * SIZE),
                mode=modes,
                padding_mode="zeros",
            ),
            mt.Rand2DElasticd(
                keys, spacing=(32, 32), magnitude_range=(1.0, 3.0), prob=1.0, mode=modes
            ),
            mt.RandGaussianNoised("image", prob=1.0, std=0.1),
            mt.RandAdjustContrastd("image", prob=1.0, gamma=(0.7, 1.5)),
        ]
    )
    chain.set_random_state(0)

    def run(image: np.ndarray, mask: np.ndarray, i: int) -> Pair:
        out = chain({"image": image, "mask": mask[None]})
        return np.asarray(out["image"]), np.asarray(out["mask"])[0].astype(np.uint8)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=32, help="image+mask pairs per timed call")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per method")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = make_pairs(args.n)
    methods: dict[str, Callable[[], int]] = {}
    makers: dict[str, Callable[[], Callable[[np.ndarray, np.ndarray, int], Pair]]] = {
        "radpipe": radpipe_chain,
        "radpipe, 1 resampling": lambda: radpipe_chain(fused=True),
        "MONAI (dict)": monai_chain,
    }
    for name, make in makers.items():
        try:
            chain = make()
        except ImportError as err:
            print(f"{name}: skipped ({err})")
            continue

        def call(chain: Callable[[np.ndarray, np.ndarray, int], Pair] = chain) -> int:
            for i, (image, mask) in enumerate(pairs):
                chain(image, mask, i)
            return len(pairs)

        methods[name] = call
    rates = alternate(methods, args.rounds)
    print(f"\n{machine()}; {args.rounds} rounds of {args.n} pairs of {SIZE}x{SIZE}")
    monai = rates.get("MONAI (dict)")
    print("| chain | images/s: median (min..max) | vs MONAI: ratio of medians (per round) |")
    print("| --- | ---: | ---: |")
    for name, r in rates.items():
        print(f"| {name} | {fmt(r)} | {ratio(r, monai)} |")
    if "radpipe" in rates and monai:  # the rows of README "Speed where users wait"
        print(f"\n{HEADER}")
        work = "2-D augmentation chain image+mask 256x256 (flip, affine, elastic, noise, gamma)"
        for name in ("radpipe", "radpipe, 1 resampling"):
            print(row(f"{work}, {name}", rates, name, "MONAI (dict)", None, ">= 5x MONAI dict"))


if __name__ == "__main__":
    main()
