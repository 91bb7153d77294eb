"""Pipeline.get_params / set_params with scikit-learn's nested names, and "passthrough" steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sklearn.base
import sklearn.pipeline

from pipeline.stage import Passthrough, Pipeline
from pipeline.stages import ClipIntensity, Resize, ZScore
from tests.conftest import make_sample
from workflows.run.config import validate_config


def _pipe() -> Pipeline:
    return Pipeline([("resize", Resize(shape=[8, 8])), ("clip", ClipIntensity(low=-100.0))])


def test_nested_set_params_reaches_the_step() -> None:
    pipe = _pipe()
    assert pipe.set_params(resize__shape=[4, 6], clip__high=50.0) is pipe
    assert pipe.named_steps["resize"].shape == [4, 6]
    assert pipe.get_params()["resize__shape"] == [4, 6]
    assert pipe.get_params()["clip__high"] == 50.0
    out = pipe(make_sample(1))
    assert out.image.shape == (1, 4, 6)
    assert out.image.min() >= -100.0 and out.image.max() <= 50.0


def test_get_params_names_follow_scikit_learn() -> None:
    params = _pipe().get_params()
    assert set(params) == {"steps", "resize", "clip", "resize__shape", "resize__order",
                           "resize__anti_aliasing",
                           "clip__low", "clip__high"}  # fmt: skip
    assert set(_pipe().get_params(deep=False)) == {"steps"}
    steps = [("resize", Resize(shape=[8, 8])), ("clip", ClipIntensity(low=-100.0))]
    sk = sklearn.pipeline.Pipeline(steps)  # scikit-learn's own names for the same steps
    own = set(sk.get_params()) - set(sklearn.pipeline.Pipeline([]).get_params())
    assert set(params) == own | {"steps"}


def test_bad_names_change_nothing() -> None:
    pipe = _pipe()
    with pytest.raises(ValueError, match="no step 'rezise'"):
        pipe.set_params(rezise__shape=[4, 4])
    with pytest.raises(ValueError, match="Resize has no parameter 'shap'"):
        pipe.set_params(resize__shap=[4, 4])
    with pytest.raises(ValueError, match="'shape' parameter of Resize"):
        pipe.set_params(resize__shape=[0, 4])
    assert pipe.named_steps["resize"].shape == [8, 8]
    with pytest.raises(ValueError, match="must not contain '__'"):
        Pipeline([("a__b", ZScore())])


def test_passthrough_disables_a_step(tmp_path: Path) -> None:
    sample = make_sample(2)
    pipe = _pipe().set_params(resize="passthrough")
    assert isinstance(pipe.named_steps["resize"], Passthrough)
    out = pipe(sample)
    assert out.image.shape == sample.image.shape  # not resized
    np.testing.assert_array_equal(out.image, np.maximum(sample.image, -100.0))
    assert pipe.to_config()[0] == {"name": "resize", "type": "passthrough"}
    pipe.save(tmp_path)
    loaded = Pipeline.load(tmp_path)
    np.testing.assert_array_equal(loaded(sample).image, out.image)
    assert isinstance(Pipeline([("a", None), ("b", "passthrough")])["a"], Passthrough)
    assert pipe.set_params(resize=Resize(shape=[5, 5]))(sample).image.shape == (1, 5, 5)


def test_set_params_replaces_the_steps() -> None:
    pipe = _pipe().set_params(steps=[("z", ZScore())])
    assert [name for name, _ in pipe] == ["z"]


def test_passthrough_in_a_run_config() -> None:
    raw = {
        "task": "classification",
        "data": {"source": "data"},
        "model": {"type": "mlp_classifier"},
        "preprocess": [{"name": "resize", "type": "passthrough"}],
    }
    config = validate_config(raw)
    assert isinstance(Pipeline.from_config(config.preprocess)["resize"], Passthrough)


def test_scikit_learn_clones_a_stage_with_a_set_parameter() -> None:
    stage = Resize(shape=(16, 16)).set_params(order=0)
    twin = sklearn.base.clone(stage)
    assert twin.get_params() == {"shape": (16, 16), "order": 0, "anti_aliasing": False}


@pytest.mark.parametrize("fitted", [False, True])
def test_scikit_learn_clones_a_pipeline(fitted: bool) -> None:
    pipe = Pipeline([("resize", Resize(shape=[8, 8])), ("norm", ZScore(mode="dataset")),
                     ("off", "passthrough")])  # fmt: skip
    if fitted:
        pipe.fit([make_sample(seed=1), make_sample(seed=2)])
        assert pipe.named_steps["norm"].state_dict()
    twin = sklearn.base.clone(pipe)
    assert [name for name, _ in twin] == ["resize", "norm", "off"]
    assert twin.named_steps["resize"] is not pipe.named_steps["resize"]
    assert twin.get_params()["resize__shape"] == [8, 8]
    assert twin.get_params()["norm__mode"] == "dataset"
    assert not twin.named_steps["norm"].state_dict()  # a clone is unfitted, as in scikit-learn
    assert isinstance(twin.named_steps["off"], Passthrough)
