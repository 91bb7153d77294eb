"""The folds of a k-fold run each predict through their own fitted preprocessing, and the
ensemble is the mean of all of them (mutation sweep mut88: each mutant named here survived
the tests of ``tests/workflows`` that cover the module).

Every number is written out by hand from the stand-ins the test gives."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest


def test_predict_gives_each_fold_model_its_own_folds_preprocessing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kills ``items = [dataset[i] for i in keep]`` dropped in
    ``predict_folds.fold_probabilities`` (the later folds predicting the images as the first
    fold's stages prepared them). Fold 0's stages scale the images by 0.2, fold 1's by 0.4;
    the stand-in model says p(class 1) = the prepared value. The two images (1 and 2) give
    fold 0 (.2, .4), fold 1 (.4, .8): the ensemble's p(class 1) is (.3, .6) (the mutant:
    fold 0's items twice, (.2, .4))."""
    import workflows.run.evaluate as evaluate
    import workflows.run.predict_folds as pf

    scale = {"fold-0": 0.2, "fold-1": 0.4}
    monkeypatch.setattr(pf.Pipeline, "load", staticmethod(lambda path: scale[path.parent.name]))
    monkeypatch.setattr(pf, "_model_info", lambda folder, folders: {})
    monkeypatch.setattr(pf, "split_index_values", lambda run_dir, column: set())
    monkeypatch.setattr(pf, "_usable", lambda dataset, *a, **k: ([0, 1], list(dataset), []))

    def predict(config: Any, checkpoint: Path, items: list[float]) -> np.ndarray:
        return np.array([[1 - x, x] for x in items])

    monkeypatch.setattr(evaluate, "predict_with_checkpoint", predict)
    config = SimpleNamespace(task="classification", split=SimpleNamespace(folds=2))
    got = pf.fold_probabilities(
        tmp_path, config, [Path("a.pt"), Path("b.pt")], lambda prep: [1 * prep, 2 * prep],
        tmp_path, False, None,
    )  # fmt: skip
    np.testing.assert_allclose(np.stack(got.probs), [[0.7, 0.3], [0.4, 0.6]])


def test_segmentation_on_the_source_pixels_averages_every_folds_maps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills ``total = back if total is None else total + back`` -> ``total = back`` in
    ``source_grid.on_source`` (the ensemble's label map the last fold's alone). Two pixels;
    p(class 1) by fold 0 is (.9, .45), by fold 1 (.4, .6): fold 0 alone says (1, 0), fold 1
    alone (0, 1), their mean (.65, .525) says (1, 1)."""
    import workflows.run.invert as invert
    from pipeline.sample import Sample
    from workflows.run.source_grid import on_source

    moved = [{"in": [1, 2], "out": [1, 4]}]  # a resize was undone
    monkeypatch.setattr(invert, "on_source_pixels", lambda p, prep, raw, order: (p, moved))

    class _One:  # one test image, its truth both pixels
        def __len__(self) -> int:
            return 1

        def raw_sample(self, i: int) -> Sample:
            return Sample(image=np.zeros((1, 1, 2)), mask=np.array([[1, 1]]))

    def maps(p1: list[float]) -> np.ndarray:
        p = np.array([p1])  # (1, 2): one row of two pixels
        return np.stack([1 - p, p])[None]  # (N=1, K=2, 1, 2)

    probs = [maps([0.9, 0.45]), maps([0.4, 0.6])]
    found = on_source(_One(), [None, None], probs)  # type: ignore[list-item]
    assert found is not None
    mean, folds = found
    assert mean[0].labels.tolist() == [[1, 1]]
    assert [f[0].labels.tolist() for f in folds] == [[[1, 0]], [[0, 1]]]
