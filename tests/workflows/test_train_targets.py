"""``train()`` from research code: targets the model cannot score are refused in words.

Before: a 0/255 mask, a label of 2 for a 2-class model or a class-weight count other than
the model's stopped inside torch (``IndexError: Target 255 is out of bounds``, ``RuntimeError:
weight tensor should be defined either for all 2 classes``); a mask with a channel axis or a
mask batch for a classifier gave torch's ``RuntimeError`` about target dimensions; and a
fractional label or soft mask (0.5, 0.29) was truncated to class 0 by ``.long()`` and trained
on without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from models import build_model
from workflows.train.loop import TrainConfig, train
from workflows.train.targets import check_targets

CFG = TrainConfig(epochs=1, batch_size=4, progress=False, checkpoint_interval_s=0, seed=0)


def _items(n: int = 8, **target: Any) -> list[dict[str, Any]]:
    """``n`` 1x8x8 items; ``target`` is ``label=f(i)`` or ``mask=f(i)``."""
    ((key, make),) = target.items()
    return [{"image": torch.full((1, 8, 8), float(i)), key: make(i), "id": f"img{i}"}
            for i in range(n)]  # fmt: skip


def _classifier(k: int = 2) -> torch.nn.Module:
    return build_model("mlp_classifier", in_features=64, num_classes=k, hidden=(4,))


def _segmenter(k: int = 2) -> torch.nn.Module:
    return build_model("mlp_segmenter", num_classes=k, patch_size=3, hidden=(4,))


def _mask(i: int, high: int = 1, dtype: torch.dtype = torch.int64) -> torch.Tensor:
    m = torch.zeros(8, 8, dtype=dtype)
    m[2:5, 2:5] = high if i % 2 else 0
    return m


def test_a_0_255_mask_is_refused_naming_the_item_and_value(tmp_path: Path) -> None:
    ds = _items(mask=lambda i: _mask(i, 255))
    with pytest.raises(ValueError, match=r"2 classes \(0 \.\. 1\), but item 'img\d' has mask value "
                       r"255: map the masks to class indices \(a 0/255 mask to 0/1\)"):  # fmt: skip
        train(_segmenter(), ds, None, CFG, tmp_path)


def test_a_label_past_the_model_s_classes_is_refused_in_training_and_validation(
    tmp_path: Path,
) -> None:
    three = _items(label=lambda i: torch.tensor(i % 3))  # labels 0, 1, 2
    two = _items(label=lambda i: torch.tensor(i % 2))
    for train_ds, val_ds in ((three, None), (two, three)):
        with pytest.raises(ValueError, match=r"label value 2: build the model with num_classes=3"):
            train(_classifier(2), train_ds, val_ds, CFG, tmp_path)
    negative = _items(label=lambda i: torch.tensor(-1 if i == 5 else 0))
    with pytest.raises(ValueError, match=r"item 'img5' has label value -1: class indices start"):
        train(_classifier(2), negative, None, CFG, tmp_path)


@pytest.mark.parametrize(
    ("target", "held"),
    [
        ({"label": lambda i: torch.tensor(0.5 * (i % 3))}, "0.5"),  # 0, 0.5, 1
        ({"mask": lambda i: _mask(i, dtype=torch.float32) * 0.25}, "0.25"),  # a soft mask
        ({"mask": lambda i: torch.full((8, 8), float("nan"))}, "nan"),
        ({"label": lambda i: torch.tensor(float("inf") if i else 0.0)}, "inf"),  # not a crash
    ],
)
def test_fractional_targets_are_refused_not_truncated(
    tmp_path: Path, target: dict[str, Any], held: str
) -> None:
    model = _segmenter() if "mask" in target else _classifier()
    with pytest.raises(ValueError, match=rf"must be class indices \(whole numbers\); item "
                       rf"'img\d' holds {held}\."):  # fmt: skip
        train(model, _items(**target), None, CFG, tmp_path)


def test_whole_float_and_bool_targets_still_train(tmp_path: Path) -> None:
    r = train(_classifier(), _items(label=lambda i: torch.tensor(float(i % 2))), None, CFG,
              tmp_path / "a")  # fmt: skip
    assert r.epochs_run == 1
    r = train(_segmenter(), _items(mask=lambda i: _mask(i).bool()), None, CFG, tmp_path / "b")
    assert r.epochs_run == 1


def test_target_shapes_that_do_not_fit_the_output_are_named(tmp_path: Path) -> None:
    channel = _items(mask=lambda i: _mask(i)[None])  # (1, 8, 8)
    with pytest.raises(ValueError, match=r"without a channel axis: got \(4, 1, 8, 8\) for "
                       r"\(4, 8, 8\); drop axis 1"):  # fmt: skip
        train(_segmenter(), channel, None, CFG, tmp_path)
    labels = _items(label=lambda i: torch.tensor(i % 2))
    masks = _items(mask=_mask)
    with pytest.raises(ValueError, match=r"a classifier needs 'label' items"):
        train(_classifier(), labels, masks, CFG, tmp_path)
    with pytest.raises(ValueError, match=r"a segmentation model needs 'mask' items"):
        train(_segmenter(), masks, labels, CFG, tmp_path)


def test_class_weights_must_count_the_model_s_classes(tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=1, batch_size=4, progress=False, class_weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"train.class_weights: 3 weights for a model of 2 "
                       r"classes \(0 \.\. 1\)"):  # fmt: skip
        train(_classifier(2), _items(label=lambda i: torch.tensor(i % 2)), None, cfg, tmp_path)


def test_an_empty_or_non_dict_training_set_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"train\(\): train_ds is empty"):
        train(_classifier(), [], None, CFG, tmp_path)
    with pytest.raises(ValueError, match=r"items must be dicts with an 'image'.*first item is "
                       r"Tensor"):  # fmt: skip
        train(_classifier(), [torch.zeros(1, 8, 8)] * 4, None, CFG, tmp_path)


def test_int_ids_or_none_are_named_too() -> None:
    labels = torch.tensor([0, 3])
    with pytest.raises(ValueError, match=r"item '11' has label value 3"):
        check_targets({"label": labels, "id": torch.tensor([10, 11])}, (2, 2))
    with pytest.raises(ValueError, match=r"item #1 of the batch has label value 3"):
        check_targets({"label": labels}, (2, 2))


def test_padding_marks_pass_in_validation_only() -> None:
    batch = {"mask": torch.tensor([[[-1, 0], [1, 1]]]), "id": ["a"]}
    check_targets(batch, (1, 2, 2, 2), padded=-1)  # validation: -1 is padding
    with pytest.raises(ValueError, match=r"item 'a' has mask value -1"):
        check_targets(batch, (1, 2, 2, 2))  # training has no padding mark
    below = {"mask": torch.tensor([[[-1, 0], [-2, 1]]]), "id": ["a"]}
    with pytest.raises(ValueError, match=r"item 'a' has mask value -2"):
        check_targets(below, (1, 2, 2, 2), padded=-1)  # only the mark itself is padding
    with pytest.raises(ValueError, match=r"item 'a' has mask value 2"):
        check_targets({"mask": torch.tensor([[[-1, 2]]]), "id": ["a"]}, (1, 2, 1, 2), padded=-1)
    check_targets({"mask": torch.ones(1, 2, 2, dtype=torch.bool)}, (1, 2, 2, 2))  # bool: 0/1
    with pytest.raises(ValueError, match=r"mask value 1"):
        check_targets({"mask": torch.ones(1, 2, 2, dtype=torch.bool)}, (1, 1, 2, 2))
