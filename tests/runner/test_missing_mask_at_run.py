"""A mask file named in a DICOM run's masks CSV that is gone when the run reads the masks (it
passed the checks before the run, then was moved or deleted) stops the run with a message
naming the file below the CSV's folder and the CSV line of its image. It was a raw
``FileNotFoundError`` from ``os.stat``, with the absolute path. The CSV is written here, so
the line of each mask (the header is line 1) is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import RadpipeError
from tests.runner.conftest import write_rows
from workflows.run.config import DataConfig
from workflows.run.truth import check_mask_values


def test_a_missing_mask_file_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "masks/a.png")
    rows = [
        {"instance_key": "k1", "frame": "0", "mask": "masks/a.png"},  # line 2
        {"instance_key": "k2", "frame": "0", "mask": "masks/b.png"},  # line 3: not there
    ]
    listed = write_rows(tmp_path / "masks.csv", rows)
    data = DataConfig(source=tmp_path, masks=listed)
    with pytest.raises(RadpipeError) as err:
        check_mask_values(listed, data)
    said = str(err.value)
    assert said.startswith("masks.csv: 1 of 2 mask files named there do not exist")
    assert "masks/b.png (line 3)" in said and "a.png" not in said
    assert str(tmp_path) not in said
