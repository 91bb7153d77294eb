"""Train a tiny model with :func:`workflows.train.loop.train`, alone or as one DDP rank.

Run by ``test_distributed`` in-process (single) and under torchrun (2 gloo ranks):
``python -m torch.distributed.run --standalone --nproc-per-node 2 ddp_worker.py RUN EPOCHS
[MORE]``: EPOCHS epochs, then (with MORE) a resume to MORE epochs in the same processes,
``final_weights-EPOCHS.pt`` and ``final_weights-MORE.pt`` saved after each (one torchrun:
each costs ~15 s of process start-up on 2 cores).
The model has no BatchNorm: its running statistics would be per rank (each rank sees half of
every batch), which is exactly what makes DDP differ from one process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

N_TRAIN, N_VAL, BATCH = 36, 10, 8  # 36 = 4 full global batches + a last one of 4


class TinySet(Dataset[dict[str, Any]]):
    """``n`` 1x4x4 images; the label says whether the mean is positive."""

    def __init__(self, n: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 1, 4, 4, generator=gen)
        self.y = (self.x.mean(dim=(1, 2, 3)) > 0).long()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.x[i], "label": self.y[i], "id": str(i)}


def run(run_dir: Path, epochs: int, distributed: Any = None, resume: bool = False) -> nn.Module:
    from workflows.train.loop import TrainConfig, train

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 2))
    config = TrainConfig(epochs=epochs, batch_size=BATCH, optimizer="adam", lr=0.05,
                         device="cpu", amp=False, progress=False, seed=3)  # fmt: skip
    train(model, TinySet(N_TRAIN, 1), TinySet(N_VAL, 2), config, run_dir,
          resume=resume, distributed=distributed)  # fmt: skip
    return model


def main() -> None:
    from workflows.train.ddp import destroy_distributed, init_distributed

    torch.set_num_threads(1)
    run_dir, rounds = Path(sys.argv[1]), [int(a) for a in sys.argv[2:]]
    ctx = init_distributed("gloo", timeout_s=60)
    try:
        for k, epochs in enumerate(rounds):
            model = run(run_dir, epochs, ctx, resume=k > 0)
            if ctx.is_main:
                torch.save(model.state_dict(), run_dir / f"final_weights-{epochs}.pt")
            torch.distributed.barrier()  # rank 0's checkpoint is written before a resume
        (run_dir / f"rank{ctx.rank}-of-{ctx.world_size}.txt").write_text("ok")
    finally:
        destroy_distributed()


if __name__ == "__main__":
    main()
