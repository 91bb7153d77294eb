"""Post-processing steps run in the order the config lists them (a mutant of the mutation sweep
eval126 ran them reversed without a test noticing: the module's example gives the same map in
either order)."""

from __future__ import annotations

import numpy as np

from pipeline.postprocess import Postprocess


def test_steps_run_in_the_listed_order() -> None:
    # A ring of 10 pixels around a 2-pixel hole (columns 0-3) and a block of 11 (columns 5-8).
    x = np.zeros((3, 9), np.int64)
    x[:, 0:4] = 1
    x[1, 1:3] = 0  # the hole
    x[:, 5:9] = 1
    x[2, 8] = 0  # the block's missing corner (open: on the edge)
    block = x.copy()
    block[:, 0:4] = 0
    # largest_component first: the block (11) beats the ring (10); nothing left to fill.
    # Mutation (fill_holes first): the filled ring (12) beats the block and is kept instead.
    post = Postprocess.from_specs([{"type": "largest_component"}, {"type": "fill_holes"}])
    assert post(x).tolist() == block.tolist()
    reverse = Postprocess.from_specs([{"type": "fill_holes"}, {"type": "largest_component"}])
    ring = np.zeros_like(x)
    ring[:, 0:4] = 1
    assert reverse(x).tolist() == ring.tolist()
