"""Labels and masks CSVs keyed by ``file``: resolved through the headers, checked first."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from PIL import Image

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.run.config import load_config
from workflows.run.runner import run_study
from workflows.run.truth import is_file_keyed, resolve_ground_truth

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    """Runs set torch's thread count for the process; give the next tests theirs back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr_files")
    write_study(out, StudySpec(patients=12, modality="CR", size=16, series_per_patient=1))
    return out


def _files(study: Path) -> list[tuple[str, pydicom.Dataset]]:
    """(path relative to study/dicom, header) of every DICOM file, by path."""
    root = study / "dicom"
    return [
        (p.relative_to(root).as_posix(), pydicom.dcmread(p, stop_before_pixels=True))
        for p in sorted(root.rglob("*.dcm"))
    ]


def file_labels(study: Path, target: Path, prefix: str = "") -> Path:
    """A ``file,label`` CSV built from the study's UID-keyed labels."""
    by_series = {r["series_uid"]: r["label"] for r in csv.DictReader((study / "labels.csv").open())}
    with target.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label"])
        for rel, ds in _files(study):
            w.writerow([prefix + rel, by_series[ds.SeriesInstanceUID]])
    return target


def test_file_keyed_labels_resolve_to_series_keys(cr: Path, tmp_path: Path) -> None:
    labels = file_labels(cr, tmp_path / "labels.csv")
    assert is_file_keyed(labels) and not is_file_keyed(cr / "labels.csv")
    got, masks = resolve_ground_truth(cr / "dicom", labels, None, tmp_path / "run")
    assert masks is None and got == tmp_path / "run" / "truth" / "labels.csv"
    rows = list(csv.DictReader(got.open()))
    expected = {
        hash_key(r["series_uid"]): r["label"] for r in csv.DictReader((cr / "labels.csv").open())
    }
    assert {r["series_key"]: r["label"] for r in rows} == expected
    assert len(rows) == 12 and "file" not in rows[0]


def test_windows_paths_in_a_file_keyed_csv(cr: Path, tmp_path: Path) -> None:
    """``study_x\\y.dcm`` (a CSV written on Windows) was "not found under data.source"."""
    labels = file_labels(cr, tmp_path / "win.csv")
    labels.write_text(labels.read_text().replace("/", "\\"))
    got, _ = resolve_ground_truth(cr / "dicom", labels, None, tmp_path / "run")
    assert got is not None and len(list(csv.DictReader(got.open()))) == 12


def test_paths_relative_to_the_csv_folder(cr: Path, tmp_path: Path) -> None:
    # The CSV sits beside dicom/ and names "dicom/study_x/y.dcm": taken from its own folder.
    labels = file_labels(cr, tmp_path / "beside.csv", prefix="dicom/")
    shutil.move(labels, cr / "beside.csv")
    try:
        got, _ = resolve_ground_truth(cr / "dicom", cr / "beside.csv", None, tmp_path / "run")
        assert got is not None and len(list(csv.DictReader(got.open()))) == 12
    finally:
        (cr / "beside.csv").unlink()


def test_uid_keyed_csvs_pass_through_unchanged(cr: Path, tmp_path: Path) -> None:
    got = resolve_ground_truth(cr / "dicom", cr / "labels.csv", None, tmp_path / "run")
    assert got == (cr / "labels.csv", None) and not (tmp_path / "run").exists()


def _broken_source(cr: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the study with a file without pixel data and a non-image, and a labels CSV
    that also names a missing file and one file three times."""
    src = tmp_path / "dicom"
    shutil.copytree(cr / "dicom", src)
    files = _files(cr)
    ds = pydicom.dcmread(src / files[0][0])
    del ds.PixelData
    ds.save_as(src / "no_pixels.dcm")
    ds = pydicom.dcmread(src / files[1][0])
    del ds.Rows, ds.Columns, ds.PixelData
    ds.save_as(src / "report.dcm")
    labels = tmp_path / "labels.csv"
    rows = [(rel, 0) for rel, _ in files] + [(files[2][0], 0), (files[2][0], 1)]
    rows += [("no_pixels.dcm", 1), ("report.dcm", 0), ("missing/x.dcm", 1), ("", 0)]
    with labels.open("w", newline="") as fh:
        csv.writer(fh).writerows([("file", "label"), *rows])
    return src, labels


def test_every_bad_key_is_listed_before_converting(cr: Path, tmp_path: Path) -> None:
    src, labels = _broken_source(cr, tmp_path)
    with pytest.raises(RadpipeError) as info:
        resolve_ground_truth(src, labels, None, tmp_path / "run")
    text = str(info.value)
    assert "labels.csv: 5 problems" in text
    assert "not found under data.source (2): missing/x.dcm; (empty, line 19)" in text
    assert "no_pixels.dcm (no pixel data (truncated file?): the data set ends at" in text
    assert "report.dcm (no pixel data (truncated file?)" in text  # an image class, stripped
    # line 14 repeats line 4 as it is (used once); line 15 gives it another label
    assert f"listed again with another label (1): {_files(cr)[2][0]} (lines 4, 14, 15)" in text
    assert not (tmp_path / "run").exists()


def test_run_refuses_bad_keys_without_converting_or_leaving_a_run_dir(
    cr: Path, tmp_path: Path
) -> None:
    src, labels = _broken_source(cr, tmp_path)
    out = tmp_path / "runs"
    config = load_config(
        CONFIGS / "xray_classify.yaml",
        [f"data.source={src}", f"data.labels={labels}", f"output={out}"],
    )
    # the file listed with two labels is refused first, with the other input checks (no run
    # directory is even made); the rest are listed together, before converting
    with pytest.raises(RadpipeError, match=r"1 file of labels\.csv listed again with another"):
        run_study(config, progress=False)
    assert not out.exists()  # no run directory, no conversion cache
    with labels.open() as fh:
        kept = [line for line in fh if not line.rstrip().endswith(",1") or "x.dcm" in line
                or "no_pixels" in line]  # fmt: skip
    labels.write_text("".join(kept))
    with pytest.raises(RadpipeError, match="4 problem"):
        run_study(config, progress=False)
    assert not out.exists()  # refused with the input checks too (the run directory was made)


def test_run_with_a_file_keyed_labels_csv(cr: Path, tmp_path: Path) -> None:
    labels = file_labels(cr, tmp_path / "labels.csv")
    out = tmp_path / "runs"
    argv = ["run", str(CONFIGS / "xray_classify.yaml"), "--quiet", "--threads", "1"]
    for item in (f"data.source={cr / 'dicom'}", f"data.labels={labels}", f"output={out}",
                 "train.epochs=1", "convert.workers=1", "split.test=0.3"):  # fmt: skip
        argv += ["--set", item]
    assert main(argv) == 0
    (run,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    split = list(csv.DictReader((run / "split.csv").open()))
    assert len(split) == 12
    truth = {r["series_key"]: r["label"] for r in csv.DictReader(
        (run / "truth" / "labels.csv").open())}  # fmt: skip
    assert {r["series_key"]: r["label"] for r in split} == truth
    compute = json.loads((run / "provenance.json").read_text())["compute"]
    assert compute["threads"] == 1 and compute["threads_from"] == "compute.threads"


@pytest.fixture(scope="module")
def mr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mr_files")
    spec = StudySpec(patients=5, modality="MR", task="segmentation", size=16, slices=3)
    write_study(out, dataclasses.replace(spec, series_per_patient=1))
    return out


def binary_masks(study: Path, folder: str, *, rgb255: bool, by_file: bool) -> Path:
    """The study's organ+lesion masks as one foreground class: 0/255 RGB PNGs in a folder
    keyed by file, or 0/1 grey PNGs keyed by SOPInstanceUID (the reference)."""
    rows = list(csv.DictReader((study / "masks.csv").open()))
    path_of = {ds.SOPInstanceUID: rel for rel, ds in _files(study)}
    (study / folder).mkdir()
    table = study / f"{folder}.csv"
    with table.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file" if by_file else "sop_instance_uid", "mask"])
        for n, r in enumerate(rows):
            fg = (np.asarray(Image.open(study / r["mask"])) > 0).astype(np.uint8)
            arr = np.repeat((fg * 255)[..., None], 3, axis=-1) if rgb255 else fg
            Image.fromarray(arr).save(study / folder / f"{n:03d}.png")
            key = path_of[r["sop_instance_uid"]] if by_file else r["sop_instance_uid"]
            w.writerow([key, f"{folder}/{n:03d}.png"])
    return table


def test_a_0_255_rgb_mask_folder_keyed_by_file_trains_as_binary(mr: Path, tmp_path: Path) -> None:
    rgb = binary_masks(mr, "rgb255", rgb255=True, by_file=True)
    ref = binary_masks(mr, "grey01", rgb255=False, by_file=False)
    metrics = []
    for masks in (rgb, ref):
        config = load_config(
            CONFIGS / "mr_segment_mlp.yaml",
            [f"data.source={mr / 'dicom'}", f"data.labels={mr / 'labels.csv'}",
             f"data.masks={masks}", f"output={tmp_path}", "data.class_names=null",
             "train.epochs=1", "convert.workers=1", "preprocess.0.shape=[16,16]"],
        )  # fmt: skip
        run = run_study(config, progress=False).run_dir
        metrics.append(json.loads((run / "metrics.json").read_text()))
    assert metrics[0]["class_names"] == ["background", "class1"]
    assert metrics[0] == metrics[1]


def test_unreadable_masks_stop_the_run_before_converting(mr: Path, tmp_path: Path) -> None:
    table = binary_masks(mr, "bad255", rgb255=True, by_file=True)
    rows = list(csv.DictReader(table.open()))
    grey = np.zeros((16, 16), np.uint8)
    grey[2:5, 2:5], grey[8:12, 8:12] = 128, 255
    Image.fromarray(grey).save(mr / rows[0]["mask"])  # three values: ambiguous
    colour = np.zeros((16, 16, 3), np.uint8)
    colour[4:8, 4:8] = (255, 0, 0)
    Image.fromarray(colour).save(mr / rows[1]["mask"])  # a colour-coded mask
    cut = (mr / rows[2]["mask"]).read_bytes()
    (mr / rows[2]["mask"]).write_bytes(cut[: len(cut) // 2])  # truncated: was a traceback
    out = tmp_path / "runs"
    config = load_config(
        CONFIGS / "mr_segment_mlp.yaml",
        [f"data.source={mr / 'dicom'}", f"data.labels={mr / 'labels.csv'}",
         f"data.masks={table}", f"output={out}", "data.class_names=null"],
    )  # fmt: skip
    with pytest.raises(RadpipeError) as info:
        run_study(config, progress=False)
    text = str(info.value)
    assert f"bad255.csv: 3 of {len(rows)} mask files cannot be read as class indices" in text
    assert "000.png: mask values {0, 128, 255} are neither class indices 0..31" in text
    assert "001.png: a colour mask (its RGB channels differ)" in text
    assert f"{Path(rows[2]['mask']).name}: cannot be read as png (" in text
    assert list(out.iterdir()) == []
    # The explicit map reads the 0/128/255 file; the colour and the truncated one are still
    # refused.
    config.data.mask_values = {0: 0, 128: 1, 255: 1}
    with pytest.raises(RadpipeError, match=r"2 of \d+ mask files") as info:
        run_study(config, progress=False)
    assert "000.png" not in str(info.value)
