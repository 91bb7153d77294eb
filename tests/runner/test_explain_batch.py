"""A run's saliency maps of large images go through the model a few at a time, never fewer
than the training batch (they went 32 occluded copies at a time: 32 volumes where training
fitted 2), and are made once (the randomisation check made the first case's again)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tests.runner.conftest import base_config
from workflows.run.config import RunConfig


class _Counting(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(int(x.shape[0]))
        return self.net(x)


def test_saliency_maps_use_the_runs_batch_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workflows.report.plots as plots
    import workflows.run.explain as explain
    import workflows.train.infer as infer
    from workflows.run.explain import explain_cases

    monkeypatch.setattr(explain, "EXPLAIN_ELEMENTS", 2 * 64 + 63)  # as 2**21 is to 1024 x 1024

    model = _Counting()
    monkeypatch.setattr(infer, "load_model_from_checkpoint", lambda *a, **k: model)
    monkeypatch.setattr(plots, "plot_saliency", lambda rows, path: None)
    raw = base_config(tmp_path, tmp_path / "runs")
    raw["train"] |= {"batch_size": 1}
    raw["evaluate"] = {"explain": 1}
    images = np.random.default_rng(0).normal(size=(3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(images)), dim=1).numpy()
    model.batches.clear()
    pred = SimpleNamespace(ids=["a", "b", "c"], images=images, probs=probs,
                           truth=probs.argmax(axis=1), hidden=set(),
                           shown=["a", "b", "c"].__getitem__)  # fmt: skip
    got = explain_cases(RunConfig.model_validate(raw), Path("best.pt"), pred, {}, tmp_path)
    assert got["batch_size"] == 2 and "seconds" not in got  # metrics.json: reproducible
    assert len(got["cases"]) == 1 and got["sanity_check"]["case"] == got["cases"][0]["id"]
    # one case: 2 maps, which its randomisation check uses (they were made again); the
    # randomised copy is another module. Occlusion 8 x 8 = 64 copies + the image, IG 24 steps.
    assert max(model.batches) == 2  # 128 elements a pass: 2 images of 8 x 8
    assert sum(model.batches) == 65 + 24
