from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from pipeline.errors import ConfigError
from pipeline.synth import StudySpec, make_phantom, study_complete, write_study


def _read_all(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted((folder / "dicom").rglob("*.dcm"))]


def test_ct_study_reads_back_with_consistent_geometry(ct_study: Path) -> None:
    files = _read_all(ct_study)
    assert len(files) == 6 * 2 * 8
    series: dict[str, list[pydicom.Dataset]] = defaultdict(list)
    for ds in files:
        series[ds.SeriesInstanceUID].append(ds)
        assert ds.Modality == "CT" and ds.RescaleType == "HU"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert len(series) == 12
    assert len({ds.SOPInstanceUID for ds in files}) == len(files)
    for items in series.values():
        assert len({ds.StudyInstanceUID for ds in items}) == 1
        iop = np.array(items[0].ImageOrientationPatient, float)
        normal = np.cross(iop[:3], iop[3:])
        pos = sorted(
            float(np.dot(np.array(ds.ImagePositionPatient, float), normal)) for ds in items
        )
        gaps = np.diff(pos)
        assert np.allclose(gaps, float(items[0].SliceThickness))


def test_file_names_do_not_give_slice_order(ct_study: Path) -> None:
    # Names are random: sorted by name, positions are not monotonic in at least one series.
    by_series: dict[str, list[float]] = defaultdict(list)
    for p in sorted((ct_study / "dicom").rglob("*.dcm")):
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        by_series[ds.SeriesInstanceUID].append(float(ds.ImagePositionPatient[2]))
    monotonic = [np.all(np.diff(z) > 0) or np.all(np.diff(z) < 0) for z in by_series.values()]
    assert not all(monotonic)


def test_ct_values_are_hounsfield(ct_study: Path) -> None:
    from pydicom.pixels import apply_modality_lut

    storage = set()
    for ds in _read_all(ct_study):
        hu = apply_modality_lut(ds.pixel_array, ds)
        storage.add((ds.PixelRepresentation, ds.BitsStored, float(ds.RescaleIntercept)))
        # Air (-1000 HU) in the corner, bone (~700 HU) somewhere inside.
        assert hu[0, 0] < -900 and 500 < hu.max() < 1200
    assert storage == {(0, 12, -1024.0), (1, 16, 0.0)}


def test_labels_cover_every_series_and_are_balanced(ct_study: Path) -> None:
    rows = list(csv.DictReader((ct_study / "labels.csv").open()))
    assert len(rows) == 12
    per_patient = defaultdict(set)
    for r in rows:
        per_patient[r["patient_id"]].add(r["label"])
    assert all(len(v) == 1 for v in per_patient.values())
    labels = [next(iter(v)) for v in per_patient.values()]
    assert sorted(labels) == ["0", "0", "0", "1", "1", "1"]
    uids = {ds.SeriesInstanceUID for ds in _read_all(ct_study)}
    assert {r["series_uid"] for r in rows} == uids


def test_masks_align_with_images(seg_study: Path) -> None:
    rows = list(csv.DictReader((seg_study / "masks.csv").open()))
    by_sop = {ds.SOPInstanceUID: ds for ds in _read_all(seg_study)}
    assert len(rows) == len(by_sop) == 4 * 2 * 6
    lesion_contrast = []
    for r in rows:
        mask = np.asarray(Image.open(seg_study / r["mask"]))
        image = by_sop[r["sop_instance_uid"]].pixel_array.astype(float)
        assert mask.shape == image.shape and set(np.unique(mask)) <= {0, 1, 2}
        # MR organ (~600) is brighter than surrounding body (~420); lesion (~1100) brighter.
        assert image[mask == 1].mean() > image[mask == 0].mean()
        if (mask == 2).any():
            lesion_contrast.append(image[mask == 2].mean() - image[mask == 1].mean())
    assert lesion_contrast and min(lesion_contrast) > 200


def test_same_seed_same_study(tmp_path: Path) -> None:
    spec = StudySpec(patients=2, modality="CR", size=32)
    write_study(tmp_path / "a", spec)
    write_study(tmp_path / "b", spec)
    a, b = _read_all(tmp_path / "a"), _read_all(tmp_path / "b")
    assert [d.SOPInstanceUID for d in a] == [d.SOPInstanceUID for d in b]
    assert all(x.PixelData == y.PixelData for x, y in zip(a, b))
    assert {d.PhotometricInterpretation for d in a} <= {"MONOCHROME1", "MONOCHROME2"}


def test_cr_monochrome1_is_inverted(tmp_path: Path) -> None:
    write_study(tmp_path, StudySpec(patients=8, modality="CR", size=32, series_per_patient=1))
    kinds = {}
    for ds in _read_all(tmp_path):
        corner = int(ds.pixel_array[0, 0])  # air: bright (high) in MONOCHROME2 here
        kinds.setdefault(ds.PhotometricInterpretation, []).append(corner)
    assert set(kinds) == {"MONOCHROME1", "MONOCHROME2"}
    assert min(kinds["MONOCHROME2"]) > max(kinds["MONOCHROME1"])


@pytest.mark.parametrize(
    "label, seed",
    [(0, 0), (1, 1), (2, 2), (1, 3), (2, 4), (2, 5)],
    ids=["none", "round", "long", "round-2", "long-2", "long-3"],
)
def test_phantom_lesion_class_signal(label: int, seed: int) -> None:
    ph = make_phantom(np.random.default_rng(seed), modality="CT", size=64, slices=6, label=label)
    lesion = ph.mask == 2
    assert lesion.any() == (label > 0)
    if label:
        # Elongated lesions: the ratio of the principal axes of the lesion's pixels.
        k = int(np.argmax(lesion.sum((1, 2))))
        coords = np.stack(np.nonzero(lesion[k])).astype(float)
        low, high = np.linalg.eigvalsh(np.cov(coords))
        elongation = np.sqrt(high / low)
        assert (elongation > 1.5) == (label == 2), elongation


def test_spec_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="num_classes must be 2 or 3"):
        StudySpec(num_classes=5)
    with pytest.raises(ValueError, match="patients must be >= 1"):
        StudySpec(patients=0)


def test_synth_into_another_study_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `radpipe synth` into a folder with a study of another spec wrote its files
    beside the first's (same UIDs for a seed, other pixels and sizes) and replaced labels.csv:
    runs then trained on both studies, labelled by one. Refused now, exit 2, nothing written;
    the same spec again rewrites the same files (the demo and the docs do that)."""
    from workflows.cli import main

    out = tmp_path / "study"
    args = ["synth", str(out), "--patients", "2", "--modality", "CR", "--size", "16"]
    assert main(args) == 0
    files = sorted(p.relative_to(out) for p in out.rglob("*"))
    labels = (out / "labels.csv").read_bytes()
    assert main(args) == 0  # the same spec: the same study
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == files
    capsys.readouterr()
    assert main([*args[:-1], "32"]) == 2
    err = capsys.readouterr().err
    assert f"{out} already holds a study (dicom, labels.csv, synth.json)" in err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == files
    assert (out / "labels.csv").read_bytes() == labels
    # interrupted: the spec is written first, so the same spec again finishes the study
    info = json.loads((out / "synth.json").read_text())
    (out / "synth.json").write_text(json.dumps({k: info[k] for k in ("patients", "task",
        "modality", "seed", "size", "slices", "series_per_patient", "num_classes")}))  # fmt: skip
    (out / "labels.csv").unlink()
    assert not study_complete(out)
    assert main(args) == 0 and study_complete(out)
    assert (out / "labels.csv").read_bytes() == labels
    (out / "synth.json").unlink()  # a study of unknown spec (or another tool's files)
    with pytest.raises(ConfigError, match="already holds a study"):
        write_study(out, StudySpec(patients=2, modality="CR", size=16))


def test_synth_with_a_bad_value_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workflows.cli import main

    assert main(["synth", str(tmp_path / "never"), "--size", "8"]) == 2
    err = capsys.readouterr().err
    assert "--size must be >= 16; got 8." in err and "Traceback" not in err
    assert not (tmp_path / "never").exists()
