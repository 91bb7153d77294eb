"""``radpipe run`` with ``unit: series`` trains on the same assembled volumes that
``radpipe convert --per series`` writes: a stack with a missing slice is resampled onto its
smallest step and a tilted stack is de-sheared, and each sample carries the true (z, y, x)
spacing. Per-instance stacking (what the run did before) gives 4 slices and NaN for z, so
these tests fail if the run converts per instance again."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G
from workflows.run.config import load_config
from workflows.run.study import make_dataset, prepare_study, run_convert_options

CONFIG = Path(__file__).parents[2] / "configs" / "ct_series_recurrent.yaml"
C15, S15 = float(np.cos(np.radians(15))), float(np.sin(np.radians(15)))


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Four patients: two series with a gap (z 0, 2, 4, 8 mm), two CT series tilted 15
    degrees (5 mm along z, 3 slices). Pixels hold a linear function of the LPS position."""
    files, uids = [], {}
    for p in range(4):
        uid = generate_uid()
        if p < 2:
            files += [G.plane((0.0, 0.0, z), series=uid, PatientID=f"P{p}") for z in (0, 2, 4, 8)]
        else:
            files += [G.plane((0.0, 0.0, 5.0 * k), (1, 0, 0, 0, C15, -S15), series=uid,
                              sop_class=G.CT, PatientID=f"P{p}") for k in range(3)]  # fmt: skip
        uids[f"P{p}"] = uid
    G.save(tmp_path / "dicom", files)
    with (tmp_path / "labels.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [("series_uid", "label"), *((u, k % 2) for k, u in enumerate(uids.values()))]
        )
    return tmp_path, uids


def _config(root: Path, **extra: str) -> object:
    items = [f"data.source={root / 'dicom'}", f"data.labels={root / 'labels.csv'}",
             f"output={root / 'runs'}", "convert.workers=1", "split.test=0.25", "split.val=0.25",
             *(f"{k}={v}" for k, v in extra.items())]  # fmt: skip
    return load_config(CONFIG, items)


def test_series_unit_converts_per_series_and_masks_keep_instances(tmp_path: Path) -> None:
    root = tmp_path
    (root / "dicom").mkdir()
    (root / "labels.csv").write_text("series_uid,label\n")
    options = run_convert_options(_config(root))
    assert (options.per, options.format, options.split_4d) == ("series", "npy", True)
    (root / "masks.csv").write_text("sop_instance_uid,mask\n")
    with_masks = run_convert_options(_config(root, **{"data.masks": str(root / "masks.csv")}))
    assert with_masks.per == "instance"  # masks are joined per slice
    assert run_convert_options(_config(root, **{"data.unit": "image"})).per == "instance"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_series_samples_are_the_corrected_volumes(study: tuple[Path, dict[str, str]]) -> None:
    root, uids = study
    config = _config(root)
    run_dir = root / "run"
    run_dir.mkdir()
    prepared = prepare_study(config, run_dir, progress=False)
    keys = [hash_key(u) for u in uids.values()]
    dataset = make_dataset(prepared, config, keys, None)
    samples = {dataset.sample(i).meta["series_key"]: dataset.sample(i) for i in range(4)}
    for p, uid in uids.items():
        s = samples[hash_key(uid)]
        if p in ("P0", "P1"):  # resampled onto 2 mm steps: 0, 2, 4, 6, 8
            assert s.image.shape == (1, 5, 8, 8)
            assert s.meta["spacing"] == pytest.approx((2.0, 1.0, 1.0))
            # linear in position, so the interpolated slice at z = 6 is exact (by hand)
            for k, z in enumerate((0.0, 2.0, 4.0, 6.0, 8.0)):
                want = G.linear_values((0.0, 0.0, z), G.AXIAL, 1.0, 8)
                np.testing.assert_allclose(s.image[0, k], want, atol=0.02)
        else:  # tilted 15 degrees: slices shifted in-plane, spacing along the normal
            assert s.image.shape == (1, 3, 8, 8)
            assert s.meta["spacing"] == pytest.approx((5.0 * C15, 1.0, 1.0), abs=1e-3)
    manifest = list(csv.DictReader((prepared.root / "manifest.csv").open()))
    assert len(manifest) == 4  # one row per volume
    assert len(list(csv.DictReader((prepared.root / "sources.csv").open()))) == 14
    problems = {r["series_key"]: r["problems"] for r in manifest}
    assert problems[hash_key(uids["P0"])].startswith("resampled")
    assert problems[hash_key(uids["P2"])].startswith("tilt corrected")


def test_masks_with_series_unit_name_the_uneven_stacks(
    study: tuple[Path, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline.data.io import read_manifest
    from workflows.convert.batch import convert_folder
    from workflows.convert.tasks import ConvertOptions
    from workflows.run.windows import note_uneven_stacks

    root, uids = study
    out = root / "converted"
    convert_folder(root / "dicom", out, ConvertOptions(format="npy"), progress=False)
    with caplog.at_level("WARNING", logger="radpipe"):
        note_uneven_stacks(read_manifest(out / "manifest.csv"))
    (record,) = caplog.records
    assert record.getMessage().startswith("4 series have no single slice spacing")
    for uid in uids.values():
        assert hash_key(uid) in record.getMessage() and uid not in record.getMessage()
