"""The contract every registered stage keeps (STYLE.md, "Stage protocol").

Parametrised over the whole registry, so a new stage is checked as soon as it registers.
A stage that needs constructor arguments provides them by overriding ``Stage.example``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers every stage)
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Pipeline, Stage
from tests.conftest import make_sample

NAMES = STAGES.names()


def _fitted(name: str) -> Stage:
    stage: Stage = STAGES.get(name).example()
    return stage.fit([make_sample(i) for i in range(4)])


def _same(a: Sample, b: Sample) -> bool:
    masks = (a.mask is None and b.mask is None) or (
        a.mask is not None and b.mask is not None and np.array_equal(a.mask, b.mask)
    )
    return bool(np.array_equal(a.image, b.image) and masks and a.label == b.label)


def test_registry_is_populated() -> None:
    assert {"identity", "cast"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_params_round_trip(name: str) -> None:
    stage = STAGES.get(name).example()
    rebuilt = STAGES.build(stage.to_config())
    assert type(rebuilt) is type(stage)
    assert rebuilt.get_params() == stage.get_params()
    assert repr(rebuilt) == repr(stage) and repr(stage).startswith(type(stage).__name__)
    assert stage.clone().get_params() == stage.get_params()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_output(name: str) -> None:
    stage = _fitted(name)
    s = make_sample(7)
    a = stage(s, np.random.default_rng(123))
    b = stage(s, np.random.default_rng(123))
    assert _same(a, b)
    assert a.meta.get("applied") == b.meta.get("applied")
    if stage.random:
        assert a.meta["applied"][-1]["stage"] == type(stage).__name__


@pytest.mark.parametrize("name", NAMES)
def test_input_not_mutated(name: str) -> None:
    stage = _fitted(name)
    s = make_sample(3)
    image, mask, meta = (
        s.image.copy(),
        None if s.mask is None else s.mask.copy(),
        copy.deepcopy(s.meta),
    )
    out = stage(s, np.random.default_rng(0))
    assert np.array_equal(s.image, image)
    assert s.mask is not None and mask is not None and np.array_equal(s.mask, mask)
    assert s.meta == meta
    assert out is not s


@pytest.mark.parametrize("name", [n for n in NAMES if STAGES.get(n).kind == "intensity"])
def test_intensity_stages_leave_masks_untouched(name: str) -> None:
    stage = _fitted(name)
    s = make_sample(5)
    out = stage(s, np.random.default_rng(1))
    assert out.mask is not None and s.mask is not None
    assert np.array_equal(out.mask, s.mask) and out.mask.dtype == s.mask.dtype


@pytest.mark.parametrize("name", NAMES)
def test_fitted_state_survives_save_and_load(name: str, tmp_path: object) -> None:
    stage = _fitted(name)
    pipe = Pipeline([("s", stage)])
    pipe.save(tmp_path)  # type: ignore[arg-type]
    loaded = Pipeline.load(tmp_path)  # type: ignore[arg-type]
    s = make_sample(2)
    assert _same(loaded(s, np.random.default_rng(4)), pipe(s, np.random.default_rng(4)))
