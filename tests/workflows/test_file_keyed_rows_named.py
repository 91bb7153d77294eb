"""Messages about rows of a labels or masks CSV keyed by ``file`` name the user's line and
file: they named hashed keys (``e.g. 8c1f...``, ``e.g. instance 8c1f... frame 0``) or the
line of radpipe's resolved copy (one row per series there) under the user's file name."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from pipeline.data.io import read_manifest
from pipeline.errors import RadpipeError
from pipeline.synth import StudySpec, write_study
from tests.workflows.test_truth import _files, binary_masks
from workflows.cli import main
from workflows.run.config import validate_config
from workflows.run.mask_rows import check_mask_rows
from workflows.run.study import prepare_study
from workflows.run.truth import resolve_ground_truth


@pytest.fixture(scope="module")
def cr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr_rows")
    write_study(out, StudySpec(patients=8, modality="CR", size=16, series_per_patient=1))
    return out


def _labels(cr: Path, tmp_path: Path, part: dict[int, str]) -> tuple[Path, Path, list[str]]:
    """A copy of the study whose 4th file (line 6) cannot be converted (its pixel data does
    not decode), and a ``file,label,part`` CSV with a blank line after the header, so file k is
    on line k + 3 (by hand); ``part`` overrides the part of file k. Returns the source, the
    CSV and the files in CSV order."""
    src = tmp_path / "dicom"
    shutil.copytree(cr / "dicom", src)
    files = [rel for rel, _ in _files(cr)]
    ds = pydicom.dcmread(src / files[3])  # a JPEG stream that does not decode
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + bytes(64) + b"\xff\xd9"])
    ds.save_as(src / files[3], enforce_file_format=True)
    labels = {r["series_uid"]: r["label"] for r in csv.DictReader((cr / "labels.csv").open())}
    lines = ["file,label,part", ""]
    for k, (rel, ds) in enumerate(_files(cr)):
        lines.append(f"{rel},{labels[ds.SeriesInstanceUID]},{part.get(k, 'train')}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return src, tmp_path / "labels.csv", files


def _prepare(src: Path, labels: Path, tmp_path: Path, **split: object) -> None:
    raw = {
        "task": "classification",
        "output": str(tmp_path / "runs"),
        "data": {"source": str(src), "labels": str(labels)},
        "split": split or {"test": 0.25, "val": 0.0},
        "model": {"type": "mlp_classifier"},
        "train": {"monitor": "train_loss"},
    }
    (tmp_path / "run").mkdir()
    prepare_study(validate_config(raw), tmp_path / "run", progress=False)


def test_a_label_row_of_a_series_not_converted_is_named_by_line_and_file(
    cr: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src, labels, files = _labels(cr, tmp_path, {})
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        _prepare(src, labels, tmp_path)
    said = [r.getMessage() for r in caplog.records if "not in the converted data" in r.getMessage()]
    assert said == [
        "1 label row of labels.csv column 'label' names series that are not in the converted "
        f"data, so their labels are not used (line 6 ({files[3]}))"
    ]


def test_a_bad_part_is_named_by_the_users_line(cr: Path, tmp_path: Path) -> None:
    src, labels, _ = _labels(cr, tmp_path, {5: "tst"})
    with pytest.raises(RadpipeError) as err:
        _prepare(src, labels, tmp_path, column="part")
    assert str(err.value) == (  # was line 7: the resolved copy's, one row per series
        "labels.csv: split.column 'part' must say train, val or test in every row; 1 row "
        "does not (line 8: 'tst')."
    )


@pytest.fixture(scope="module")
def mr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mr_rows")
    spec = StudySpec(patients=2, modality="MR", task="segmentation", size=16, slices=3,
                     series_per_patient=1)  # fmt: skip
    write_study(out, spec)
    return out


def test_a_mask_row_of_an_image_not_converted_is_named_by_line_and_file(
    mr: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    masks = binary_masks(mr, "fg", rgb255=False, by_file=True)
    _, resolved = resolve_ground_truth(mr / "dicom", None, masks, tmp_path / "run")
    assert resolved is not None
    out = tmp_path / "out"
    assert main(["convert", str(mr / "dicom"), str(out), "--format", "npy", "--quiet"]) == 0
    manifest = read_manifest(out / "manifest.csv")
    with masks.open(newline="") as fh:
        line_of = {r["file"]: n + 2 for n, r in enumerate(csv.DictReader(fh))}
    gone = manifest[4]["source"]  # an image the converted data no longer holds
    kept = [r for r in manifest if r["source"] != gone]
    keys = {r["series_key"] for r in kept if r["series_key"] != manifest[4]["series_key"]}
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        check_mask_rows(resolved, kept, keys, shown=masks.name, own_lines=False)
    said = [r.getMessage() for r in caplog.records if "not in the converted data" in r.getMessage()]
    assert said == [
        f"1 of {len(manifest)} rows of fg.csv name an image that is not in the converted data, "
        f"so their masks are not used (line {line_of[gone]} ({gone} frame 0))"
    ]
