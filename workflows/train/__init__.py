"""Training: the loop, optimisers/losses/schedules, checkpoints, inference and ensembles, and the
DDP context and sampler. Imports only ``pipeline`` and ``models``.

``from workflows.train import TrainConfig, train`` is the short path the README uses.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:  # lazy: importing a submodule must not import torch twice over
    if name == "TrainConfig":
        from workflows.train.config import TrainConfig

        return TrainConfig
    if name == "train":
        from workflows.train.loop import train

        return train
    raise AttributeError(f"module 'workflows.train' has no attribute {name!r}")
