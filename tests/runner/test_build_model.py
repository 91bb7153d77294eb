"""The sizes the runner fills into a model spec from the preprocessed data's shape
``(C, *spatial)`` (:func:`workflows.run.runner.build_model`), worked out by hand for a colour
series of 4 slices of 8 x 10, where channels, depth and the slice plane all differ."""

from __future__ import annotations

from typing import Any

import pytest

from models import model_spec
from workflows.run.runner import build_model

SERIES = [3, 4, 8, 10]  # (C, D, H, W)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # one slice's C*H*W = 3*8*10 per step of the sequence (not H*W: channels dropped)
        ({"type": "recurrent_classifier"}, {"in_features": 240}),
        ({"type": "mlp_classifier", "hidden": [4]}, {"in_features": 3 * 4 * 8 * 10}),
        ({"type": "cnn_classifier"}, {"in_channels": 3, "spatial_dims": 3}),
        # what the user set is kept, not the derived size
        ({"type": "mlp_classifier", "hidden": [4], "in_features": 7}, {"in_features": 7}),
    ],
)
def test_sizes_follow_the_data_shape(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    """Mutations: the recurrent step's features without the channels; ``in_channels`` fixed
    at 1; the derived sizes overriding the user's."""
    built = model_spec(build_model(spec, SERIES, 5))
    assert built["num_classes"] == 5
    assert {k: built[k] for k in expected} == expected


def test_a_mixer_gets_the_image_plane_and_channels() -> None:
    built = model_spec(build_model({"type": "mixer_classifier", "patch_size": 4}, [3, 8, 12], 2))
    assert (built["image_size"], built["in_channels"]) == ([8, 12], 3)
