"""Parameters and forward FLOPs of every shipped config's model, at the config's input size.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and
convolutions, 2 FLOPs per multiply-add; recurrent layers included, element-wise work not)
for one image or series, one grey channel, two classes unless the config names its classes.
``--size N`` evaluates every 2-D model at ``N x N`` instead.

Usage::

    python benchmarks/model_table.py [--size 128]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml
from torch.utils.flop_counter import FlopCounterMode

from workflows.run.runner import build_model

ROOT = Path(__file__).resolve().parents[1]


def input_shape(config: dict, size: int | None) -> list[int]:
    """``(C, [D,] H, W)`` the config's model sees (after its resize stage)."""
    hw = next((s["shape"] for s in config.get("preprocess", []) if s["type"] == "resize"), [64, 64])
    if size:
        hw = [size, size]
    data = config["data"]
    return [1, data["slices"], *hw] if data.get("unit") == "series" else [1, *hw]


def measure(path: Path, size: int | None) -> tuple[str, str, list[int], int, float]:
    config = yaml.safe_load(path.read_text())
    shape = input_shape(config, size)
    classes = len(config["data"].get("class_names") or ["a", "b"])
    model = build_model(config["model"], shape, classes).eval()
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    return path.stem, config["model"]["type"], shape, params, counter.get_total_flops() / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, help="evaluate 2-D models at size x size")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("| config | model | input (C,[D,]H,W) | parameters | MFLOPs / forward |")
    print("| --- | --- | --- | ---: | ---: |")
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        name, model, shape, params, mflops = measure(path, args.size)
        print(f"| `{name}` | `{model}` | {tuple(shape)} | {params:,} | {mflops:,.1f} |")


if __name__ == "__main__":
    main()
