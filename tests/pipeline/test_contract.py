"""The contract every registered stage keeps (``pipeline/stage.py``).

Parametrised over the whole registry, so a new stage is checked as soon as it registers.
A stage that needs constructor arguments provides them by overriding ``Stage.example``.
"""

from __future__ import annotations

import copy
import inspect
import json

import numpy as np
import pytest
import sklearn.base

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
    # JSON has no tuples: a tuple default comes back as a list; the config is the same
    config = stage.to_config()
    assert rebuilt.to_config() == config
    assert rebuilt.get_params() == {k: v for k, v in json.loads(json.dumps(config)).items()
                                    if k != "type"}  # fmt: skip
    again = STAGES.build(rebuilt.to_config())
    assert repr(again) == repr(rebuilt) and repr(stage).startswith(type(stage).__name__)
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


def _keyword_defaults(cls: type[Stage]) -> dict[str, object]:
    sig = inspect.signature(cls.__init__)
    return {
        k: p.default
        for k, p in sig.parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
    }


@pytest.mark.parametrize("name", NAMES)
def test_init_stores_its_arguments_unchanged(name: str) -> None:
    """scikit-learn's estimator rule: the very objects passed (or defaulted) are stored."""
    cls = STAGES.get(name)
    given = {k: copy.deepcopy(v) for k, v in cls.example().get_params().items()}
    stage = cls(**given)
    assert all(stage.get_params()[k] is v for k, v in given.items())
    for key, default in _keyword_defaults(cls).items():
        try:
            bare = cls(**{k: v for k, v in given.items() if k != key})
        except ValueError:  # e.g. PCA needs one of two parameters
            continue
        assert getattr(bare, key) is default, f"{name}: default of {key!r} rewritten"


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_set_params_round_trip_exactly(name: str) -> None:
    stage = _fitted(name)
    params = stage.get_params()
    twin = sklearn.base.clone(stage)  # scikit-learn's own check of the estimator rule
    assert type(twin) is type(stage) and twin.get_params() == params
    assert stage.clone().get_params() == params and not stage.clone().state_dict()
    fresh = STAGES.get(name).example().clone()
    assert fresh.set_params(**params) is fresh
    assert all(fresh.get_params()[k] is v for k, v in params.items())
    with pytest.raises(ValueError, match="no parameter 'not_a_parameter'"):
        fresh.set_params(not_a_parameter=1)


def test_a_sample_takes_numpy_arrays_only() -> None:
    """A torch tensor was taken and failed later inside a stage ('Tensor' object has no
    attribute 'astype'); now refused where the sample is made, naming the field and type."""
    import torch

    with pytest.raises(TypeError, match=r"Sample.image must be a numpy array; got torch.Tensor"):
        Sample(torch.zeros(1, 4, 4))
    with pytest.raises(TypeError, match=r"Sample.mask must be a numpy array; got builtins.list"):
        Sample(np.zeros((1, 2, 2), np.float32), mask=[[0, 1], [1, 0]])  # type: ignore[arg-type]
    kept = Sample(np.zeros((1, 2, 2), np.float32), mask=np.zeros((2, 2), np.uint8))
    assert kept.mask is not None and kept.spatial_shape == (2, 2)
