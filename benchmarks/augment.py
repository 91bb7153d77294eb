"""Benchmark: a typical 2-D augmentation chain on 256x256 image+mask pairs, images/s.

The same chain in three libraries, in one run on the same data:

  radpipe   RandomFlip, RandomRotate90, RandomAffine, RandomGaussianNoise, RandomScaleShift
            (NumPy/SciPy per sample, parameters recorded in meta)
  MONAI     RandFlipd, RandRotate90d, RandAffined, RandGaussianNoised, RandScaleIntensityd,
            RandShiftIntensityd (dictionary transforms)
  TorchIO   RandomFlip, RandomAffine (in-plane rotation + scale + translation), RandomNoise,
            a Lambda scale/shift (TorchIO has no 90-degree rotation nor scale/shift transform;
            its images are 3-D, so planes are (1, 256, 256, 1))

Parameters match: flip p=0.5, quarter turn p=0.5, affine always (rotation +-15 degrees, zoom
+-10 %, shift +-10 %; image bilinear, mask nearest), noise std 0.05, scale +-10 %, shift +-0.1.
Each library starts from what a user holds (a float32 numpy image and a uint8 mask) and ends
with arrays; conversions are part of its time. One thread for every library (the DataLoader
workers are where parallelism belongs). Best of ``--repeats`` runs over ``--n`` pairs.

Run: ``.venv/bin/python benchmarks/augment.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

SIZE = 256


def make_pairs(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
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


def radpipe_chain() -> Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    from pipeline.sample import Sample
    from pipeline.stage import Pipeline
    from pipeline.stages import (
        RandomAffine,
        RandomFlip,
        RandomGaussianNoise,
        RandomRotate90,
        RandomScaleShift,
    )

    pipe = Pipeline(
        [
            ("flip", RandomFlip(p=0.5, axes=[-1])),
            ("rot90", RandomRotate90(p=0.5)),
            ("affine", RandomAffine(p=1.0, rotation=15.0, scale=0.1, translate=0.1)),
            ("noise", RandomGaussianNoise(p=1.0, std=[0.05, 0.05])),
            ("scale_shift", RandomScaleShift(p=1.0, scale=0.1, shift=0.1)),
        ]
    )

    def run(image: np.ndarray, mask: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
        out = pipe(Sample(image=image, mask=mask), np.random.default_rng(i))
        assert out.mask is not None
        return out.image, out.mask

    return run


def monai_chain() -> Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    from monai import transforms as mt

    keys = ["image", "mask"]
    chain = mt.Compose(
        [
            mt.RandFlipd(keys, prob=0.5, spatial_axis=1),
            mt.RandRotate90d(keys, prob=0.5),
            mt.RandAffined(
                keys,
                prob=1.0,
                rotate_range=np.deg2rad(15),
                scale_range=0.1,
                translate_range=0.1 * SIZE,
                mode=("bilinear", "nearest"),
                padding_mode="zeros",
            ),
            mt.RandGaussianNoised("image", prob=1.0, std=0.05),
            mt.RandScaleIntensityd("image", factors=0.1, prob=1.0),
            mt.RandShiftIntensityd("image", offsets=0.1, prob=1.0),
        ]
    )
    chain.set_random_state(0)

    def run(image: np.ndarray, mask: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
        out = chain({"image": image, "mask": mask[None]})
        return np.asarray(out["image"]), np.asarray(out["mask"])[0].astype(np.uint8)

    return run


def torchio_chain() -> Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    import torchio as tio

    chain = tio.Compose(
        [
            tio.RandomFlip(axes=(1,), flip_probability=0.5),
            tio.RandomAffine(
                scales=(0.9, 1.1, 0.9, 1.1, 1, 1),
                degrees=(0, 0, 0, 0, -15, 15),
                translation=(-25.6, 25.6, -25.6, 25.6, 0, 0),
                image_interpolation="linear",
            ),
            tio.RandomNoise(std=(0.05, 0.05)),
            tio.Lambda(lambda x: x * 1.05 + 0.05, types_to_apply=[tio.INTENSITY]),
        ]
    )

    def run(image: np.ndarray, mask: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
        subject = tio.Subject(
            image=tio.ScalarImage(tensor=torch.from_numpy(image[..., None])),
            mask=tio.LabelMap(tensor=torch.from_numpy(mask[None, ..., None])),
        )
        out: Any = chain(subject)
        return out["image"].numpy()[..., 0], out["mask"].numpy()[0, ..., 0]

    return run


def measure(run: Callable[..., object], pairs: list, repeats: int) -> float:
    run(*pairs[0], 0)  # warm-up (imports, caches)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i, (image, mask) in enumerate(pairs):
            run(image, mask, i)
        best = min(best, time.perf_counter() - start)
    return len(pairs) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=128, help="image+mask pairs per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = make_pairs(args.n)
    chains = {"radpipe": radpipe_chain, "MONAI (dict)": monai_chain, "TorchIO": torchio_chain}
    results = {}
    for name, make in chains.items():
        try:
            results[name] = measure(make(), pairs, args.repeats)
        except ImportError as err:
            print(f"{name}: skipped ({err})")
    print(f"\n{args.n} pairs of {SIZE}x{SIZE}, best of {args.repeats}, {args.threads} thread(s)")
    print("| library | images/s | relative to radpipe |")
    print("| --- | ---: | ---: |")
    base = results.get("radpipe", 1.0)
    for name, rate in results.items():
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
