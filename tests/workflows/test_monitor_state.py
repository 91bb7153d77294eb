"""The smoothed monitor survives a resume: ``last.pt`` keeps the moving average, so the epoch
after a restart smooths on from it (by hand: ``s = a s + (1 - a) v``)."""

from __future__ import annotations

import pytest

from workflows.train.optim import EarlyStopping


def test_a_resumed_stopper_smooths_on_from_the_saved_average() -> None:
    stopper = EarlyStopping("val_dice", "auto", patience=3, ema=0.5)
    stopper.update(1, 0.4)
    stopper.update(2, 0.8)  # s = 0.5 * 0.4 + 0.5 * 0.8 = 0.6
    resumed = EarlyStopping("val_dice", "auto", patience=3, ema=0.5)
    resumed.load_state_dict(stopper.state_dict())
    assert resumed.update(3, 1.0)  # s = 0.5 * 0.6 + 0.5 * 1.0 = 0.8, a new best
    assert resumed.smoothed == pytest.approx(0.8)
    assert (resumed.best, resumed.best_epoch) == (pytest.approx(0.8), 3)
    assert not resumed.update(4, 0.2)  # s = 0.5: worse, one bad epoch
    assert not resumed.update(5, 0.2)  # s = 0.35: two
    assert resumed.bad_epochs == 2 and not resumed.should_stop
    resumed.update(6, 0.2)
    assert resumed.bad_epochs == 3 and resumed.should_stop
