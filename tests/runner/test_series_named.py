"""Messages about series name a file of each (relative to ``data.source``), not only a hashed
key a user cannot find in their data: series without a label, series without a
``split.column`` row, a patient in two parts. The expected files are worked out here with
pydicom from the study's own files."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, read_rows, write_rows
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


@pytest.fixture(scope="module")
def cr_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 patients x 2 CR series of 16x16."""
    out = tmp_path_factory.mktemp("cr_pairs_named")
    write_study(out, StudySpec(patients=4, modality="CR", size=16, series_per_patient=2))
    return out


def _first_files(study: Path) -> dict[str, str]:
    """{series_key: the series' file that sorts first, relative to dicom/}, by pydicom."""
    out: dict[str, str] = {}
    for f in sorted((study / "dicom").rglob("*.dcm")):
        key = hash_key(str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID))
        rel = f.relative_to(study / "dicom").as_posix()
        out[key] = min(out.get(key, rel), rel)
    return out


def _prepare(study: Path, tmp_path: Path, labels: Path, **extra: object) -> None:
    raw = base_config(study, tmp_path / "out", labels=str(labels))
    raw["data"].update(extra.pop("data", {}))  # type: ignore[call-overload]
    raw.update(extra)
    (tmp_path / "run").mkdir(parents=True)
    prepare_study(validate_config(raw), tmp_path / "run", progress=False)


def test_series_without_a_label_are_named_by_a_file(
    cr_pairs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = read_rows(cr_pairs / "labels.csv")
    files = _first_files(cr_pairs)
    lost = [hash_key(r["series_uid"]) for r in rows[:2]]
    labels = write_rows(tmp_path / "partial.csv", rows[2:])
    with pytest.raises(RadpipeError) as err:
        _prepare(cr_pairs, tmp_path / "a", labels, data={"missing_labels": "error"})
    message = str(err.value)
    for key in lost:
        assert f"{files[key]} (series {key})" in message
    assert str(cr_pairs) not in message and rows[0]["series_uid"] not in message
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        _prepare(cr_pairs, tmp_path / "b", labels)
    warned = " ".join(r.getMessage() for r in caplog.records if "have no label" in r.getMessage())
    assert all(f"{files[key]} (series {key})" in warned for key in lost), warned


def test_series_without_a_split_row_are_named_by_a_file() -> None:
    """The rows :func:`split_from_column` gets carry each series' file (``source``, as the
    study gives them): the message names it with the key; an image by its file alone."""
    from types import SimpleNamespace

    from workflows.run.split_column import split_from_column

    series = [{"patient_key": f"p{i}", "series_key": f"k{i}", "label": 0,
               "source": f"study_{i}/0001.dcm"} for i in range(3)]  # fmt: skip
    config = SimpleNamespace(split=SimpleNamespace(column="part", folds=0),
                             data=SimpleNamespace(kind="dicom"))  # fmt: skip
    parts = {"k0": ("train", 2)}
    with pytest.raises(RadpipeError) as err:
        split_from_column(series, parts, config, shown="parts.csv", needs_val=False)
    assert "(study_1/0001.dcm (series k1), study_2/0001.dcm (series k2)); add" in str(err.value)
    config.data.kind = "images"
    images = [{**r, "source": f"img/{i}.png"} for i, r in enumerate(series)]
    with pytest.raises(RadpipeError, match=r"no part \(img/1.png, img/2.png\); add"):
        split_from_column(images, parts, config, shown="list.csv", needs_val=False)


def test_a_patient_in_two_parts_is_named_by_lines_and_files(cr_pairs: Path, tmp_path: Path) -> None:
    rows = read_rows(cr_pairs / "labels.csv")
    files = _first_files(cr_pairs)
    assert rows[0]["patient_id"] == rows[1]["patient_id"]  # patient 0: lines 2 and 3
    parts = ["train", "test", "val", "val", "test", "test", "train", "train"]
    labels = write_rows(tmp_path / "mixed.csv", [{**r, "part": p} for r, p in zip(rows, parts)])
    with pytest.raises(RadpipeError) as err:
        _prepare(cr_pairs, tmp_path, labels, split={"column": "part"})
    first, second = (files[hash_key(r["series_uid"])] for r in rows[:2])
    assert f"test (line 3, {second}), train (line 2, {first})" in str(err.value)
    assert str(cr_pairs) not in str(err.value)
