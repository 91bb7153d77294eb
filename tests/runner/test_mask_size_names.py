"""Masks of another size than their image are named by their path in the masks CSV: masks
kept one folder per patient under one file name (``p1/m0.png``, ``p2/m0.png``) were all
named ``m0.png``, so which to fix could not be told."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import RadpipeError
from workflows.run.mask_rows import check_mask_rows


def test_masks_of_another_size_are_named_by_their_path_in_the_csv(tmp_path: Path) -> None:
    manifest = []
    with (tmp_path / "masks.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instance_key", "frame", "mask"])
        for p in ("p1", "p2"):
            (tmp_path / p).mkdir()
            Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / p / "m0.png")
            writer.writerow([f"{p}key", 0, f"{p}/m0.png"])
            row = {"instance_key": f"{p}key", "frame": 0, "series_key": f"{p}s"}
            manifest.append({**row, "slice_index": 0, "shape": "8x8", "source": f"{p}/im0.dcm"})
    with pytest.raises(RadpipeError) as err:
        check_mask_rows(tmp_path / "masks.csv", manifest, ["p1s", "p2s"])
    assert str(err.value).endswith(
        "\n  p1/m0.png is 4x6, its image p1/im0.dcm frame 0 8x8"
        "\n  p2/m0.png is 4x6, its image p2/im0.dcm frame 0 8x8"
    )


def test_a_file_keyed_csv_names_its_masks_by_their_path_too(tmp_path: Path) -> None:
    # a `file`-keyed CSV is checked through radpipe's resolved copy in RUN/truth/: its masks
    # were named by file name alone (`m0.png`), not as the user's CSV names them
    import pydicom

    from pipeline.synth import StudySpec, write_study
    from workflows.run.config import validate_config
    from workflows.run.study import prepare_study

    write_study(tmp_path / "s", StudySpec(patients=2, modality="CR", size=16, series_per_patient=1,
                                          task="segmentation"))  # fmt: skip
    files = sorted((tmp_path / "s" / "dicom").rglob("*.dcm"))
    lines = ["file,mask"]
    for n, f in enumerate(files):
        (tmp_path / "s" / f"p{n}").mkdir()
        size = (4, 6) if n == 1 else (16, 16)
        Image.fromarray(np.zeros(size, np.uint8)).save(tmp_path / "s" / f"p{n}" / "m0.png")
        lines.append(f"{f.relative_to(tmp_path / 's' / 'dicom').as_posix()},p{n}/m0.png")
    (tmp_path / "s" / "fm.csv").write_text("\n".join(lines) + "\n")
    assert pydicom.dcmread(files[1]).Rows == 16
    data = {"source": str(tmp_path / "s" / "dicom"), "masks": str(tmp_path / "s" / "fm.csv")}
    raw = {"task": "segmentation", "output": str(tmp_path / "runs"),
           "data": {**data, "unit": "image"}, "model": {"type": "mlp_segmenter"}}  # fmt: skip
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError) as err:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    source = files[1].relative_to(tmp_path / "s" / "dicom").as_posix()
    assert str(err.value).endswith(f"\n  p1/m0.png is 4x6, its image {source} frame 0 16x16")
