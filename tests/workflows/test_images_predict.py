"""``radpipe predict`` and ``radpipe evaluate`` of runs trained on converted images
(``data.kind: images``), through the command line as a user runs them.

Both refused such a run ("reads a DICOM folder"). Now a folder (or list CSV) of PNGs goes
through the run's fitted stages (never refitted) and model. Expected values are worked out
here: the images read with Pillow, the stored z-score applied with numpy, the checkpoint's
model called with torch, the metrics recomputed with scikit-learn and numpy.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflows.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _main(*args: str | Path) -> int:
    """``radpipe ARGS`` in this process (refusals, and the fixtures' training runs)."""
    from workflows.cli import main

    return main([str(a) for a in args])


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _pairs(folder: Path, n: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """``n`` 8x8 grey PNGs (class 1 brighter) and their masks (the bright pixels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        label = i % 2
        image = (rng.random((8, 8)) * 60 + 40 + 100 * label).astype(np.uint8)
        mask = (image > 150).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{prefix}{i}.png")
        Image.fromarray(mask).save(folder / f"{prefix}{i}_m.png")
        rows.append({"image": f"{folder.name}/{prefix}{i}.png", "label": label,
                     "mask": f"{folder.name}/{prefix}{i}_m.png"})  # fmt: skip
    return rows


def _train(tmp: Path, task: str) -> Path:
    src = tmp / "train"
    rows = [r | {"spacing": 0.5} for r in _pairs(src / "img", 24, 0, "i")]  # mm
    columns = ["image", "label", "spacing"] + (["mask"] if task == "segmentation" else [])
    raw = {
        "task": task,
        "output": str(tmp / task),
        "data": {
            "kind": "images",
            "source": str(src),
            "labels": str(_write_csv(src / f"{task}.csv", rows, columns)),
        },
        "split": {"test": 0.25, "val": 0.25},
        "preprocess": [{"type": "z_score", "mode": "dataset"}],
        "model": {"type": "mlp_classifier", "hidden": [8]},
        "train": {"epochs": 8, "batch_size": 8, "device": "cpu"},
        "report": {"enabled": False},
        "evaluate": {"bootstrap": 0, "explain": 0, "tta_flip": task == "classification"},
    }
    if task == "segmentation":
        raw["model"] = {"type": "mlp_segmenter", "hidden": [8], "context": 0}
    (tmp / f"{task}.yaml").write_text(json.dumps(raw))
    assert _main("run", tmp / f"{task}.yaml", "--quiet") == 0  # not what is tested: in-process
    return next((tmp / task).glob("*/metrics.json")).parent


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A classification and a segmentation run on 24 PNGs of 0.5 mm pixels; a labelled
    external set of 10 (no pixel size)."""
    tmp = tmp_path_factory.mktemp("images_predict")
    ext = tmp / "ext"
    rows = _pairs(ext / "a", 10, 2, "e")
    _write_csv(ext / "cls.csv", rows, ["image", "label"])
    _write_csv(ext / "seg.csv", rows, ["image", "label", "mask"])
    return {"tmp": tmp, "ext": ext, "cls": _train(tmp, "classification"),
            "seg": _train(tmp, "segmentation")}  # fmt: skip


def _by_hand(
    run: Path, images: list[np.ndarray], stats: tuple[float, float] | None = None
) -> np.ndarray:
    """Softmax of the run's best model on the images z-scored with its stored statistics
    (or ``stats``: mean, std), averaged with the mirrored images' when the run tests with
    ``tta_flip``."""
    import torch

    from workflows.train.infer import load_model_from_checkpoint

    state = np.load(run / "stages" / "z_score_0.npz")
    mean, std = stats or (float(state["mean_"]), float(state["std_"]))
    x = (np.stack(images)[:, None].astype(np.float64) - mean) / std
    model = load_model_from_checkpoint(run / "checkpoints" / "best.pt")
    config = (run / "config.yaml").read_text()
    with torch.no_grad():
        t = torch.from_numpy(x.astype(np.float32))
        probs = model(t).softmax(dim=1)
        if "tta_flip: true" in config:
            flipped = model(t.flip(-1)).softmax(dim=1)
            probs = (probs + (flipped.flip(-1) if flipped.ndim > 2 else flipped)) / 2
    return probs.numpy()


def _new_folder(folder: Path) -> list[str]:
    """4 brighter PNGs (two in a subfolder), a broken PNG, a colour PNG and a text file."""
    rng = np.random.default_rng(1)
    (folder / "sub").mkdir(parents=True)
    names = ["n0.png", "n2.png", "sub/n1.png", "sub/n3.png"]
    for name in names:
        Image.fromarray((rng.random((8, 8)) * 100 + 120).astype(np.uint8)).save(folder / name)
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot a whole PNG")
    Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).save(folder / "rgb.png")
    (folder / "notes.txt").write_text("not an image")
    return names


def test_predict_images_folder_applies_the_stored_stages_and_lists_bad_files(
    data: dict[str, Path],
) -> None:
    """Every image below SRC predicted with the run's stored z-score (not one refitted on the
    new, brighter images: their own statistics give other numbers, checked below) and its
    model with TTA; the broken and the colour PNG listed with the reason, exit 1."""
    new = data["tmp"] / "new"
    names = _new_folder(new)
    out = data["tmp"] / "pred-cls"
    proc = _cli("predict", data["cls"], new, "--out", out, "--quiet")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "4 predictions" in proc.stdout and "2 images" in proc.stdout
    assert ("4 images of 4 have no pixel size (no PixelSpacing or other spacing in the header, "
            "nor a spacing column in the image list; e.g. n0.png)") in proc.stderr  # fmt: skip
    rows = _read(out / "predictions.csv")
    assert [r["image"] for r in rows] == names
    images = [np.asarray(Image.open(new / n), dtype=np.float64) for n in names]
    expected = _by_hand(data["cls"], images)
    got = np.array([[float(r["prob_0"]), float(r["prob_1"])] for r in rows])
    np.testing.assert_allclose(got, expected, atol=2e-6)
    assert [int(r["pred"]) for r in rows] == list(expected.argmax(axis=1))
    # the test tells a refitted stage: statistics of the new images move the probabilities
    pooled = np.stack(images)
    refit = _by_hand(data["cls"], images, (float(pooled.mean()), float(pooled.std())))
    assert np.abs(refit - got).max() > 1e-3
    skipped = {r["source"]: r["reason"] for r in _read(out / "skipped.csv")}
    assert sorted(skipped) == ["bad.png", "rgb.png"]
    assert skipped["bad.png"].startswith("bad.png: cannot be read as png")
    assert skipped["rgb.png"].startswith("3 channels (colour); the run's model takes 1")
    written = "".join(p.read_text() for p in out.rglob("*.csv"))
    assert str(new.resolve()) not in written and str(data["tmp"]) not in written


def test_predict_images_hashed_keys_only_names_no_file(data: dict[str, Path]) -> None:
    """``--hashed-keys-only``: each row and mask by the key of its path, no path."""
    from pipeline.keys import hash_key

    out = data["tmp"] / "pred-hashed"
    code = _main("predict", data["seg"], data["ext"] / "seg.csv", "--out", out,
                 "--hashed-keys-only", "--quiet")  # fmt: skip
    assert code == 0
    rows = _read(out / "predictions.csv")
    keys = [hash_key(f"a/e{i}.png") for i in range(10)]
    assert [r["image_key"] for r in rows] == keys and "image" not in rows[0]
    assert [r["mask"] for r in rows] == [f"masks/{k}.png" for k in keys]


def test_segmentation_masks_and_evaluate_agree_with_numpy(data: dict[str, Path]) -> None:
    """A list CSV as SRC (its mask column unused): each mask is the argmax of the model on
    the stored z-score, at the image's size; ``evaluate`` scores those masks (Dice by numpy
    against the truth masks)."""
    ext, out = data["ext"], data["tmp"] / "pred-seg"
    proc = _cli("predict", data["seg"], ext / "seg.csv", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = _read(out / "predictions.csv")
    assert [r["image"] for r in rows] == [f"a/e{i}.png" for i in range(10)]
    images = [np.asarray(Image.open(ext / r["image"]), dtype=np.float64) for r in rows]
    expected = _by_hand(data["seg"], images).argmax(axis=1)
    masks = np.stack([np.asarray(Image.open(out / r["mask"])) for r in rows])
    assert [r["mask"] for r in rows] == [f"masks/a/e{i}.png" for i in range(10)]
    np.testing.assert_array_equal(masks, expected)
    for r, m in zip(rows, masks):
        assert float(r["fraction_class1"]) == pytest.approx((m == 1).mean(), abs=1e-6)
    proc = _cli("evaluate", data["seg"], ext, "--labels", ext / "seg.csv", "--out",
                data["tmp"] / "eval-seg", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((data["tmp"] / "eval-seg" / "metrics.json").read_text())
    assert metrics["num_cases"] == 10
    dice = {c["file"]: c["dice"]["class1"] for c in metrics["per_case"]}
    for r, pred in zip(rows, masks):
        truth = np.asarray(Image.open(ext / r["image"].replace(".png", "_m.png"))) == 1
        if truth.any():
            want = 2 * (truth & (pred == 1)).sum() / (truth.sum() + (pred == 1).sum())
            assert dice[r["image"]] == pytest.approx(want, abs=1e-6), r["image"]


def test_evaluate_images_metrics_equal_sklearn_on_the_predictions(data: dict[str, Path]) -> None:
    """``evaluate`` of an images run on a labelled external list: every case's
    probabilities are ``predict``'s, and accuracy and ROC AUC are scikit-learn's on them."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    ext, out = data["ext"], data["tmp"] / "eval-cls"
    proc = _cli("evaluate", data["cls"], ext, "--labels", ext / "cls.csv", "--out", out,
                "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "10 external test cases" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert "external test set (10 images)" in metrics["evaluated"]
    assert (
        _main("predict", data["cls"], ext / "cls.csv", "--out", data["tmp"] / "p", "--quiet") == 0
    )
    rows = _read(data["tmp"] / "p" / "predictions.csv")
    truth = [i % 2 for i in range(10)]
    prob1 = [float(r["prob_1"]) for r in rows]
    scored = {c["file"]: c["probs"][1] for c in metrics["per_case"]}
    assert [scored[r["image"]] for r in rows] == pytest.approx(prob1, abs=2e-6)
    summary = metrics["summary"]
    pred = [int(r["pred"]) for r in rows]
    assert summary["accuracy"] == pytest.approx(accuracy_score(truth, pred))
    assert summary["roc_auc_macro"] == pytest.approx(roc_auc_score(truth, prob1), abs=1e-5)
    assert not list(data["cls"].glob("images-test-*.csv"))[1:]  # the run's own list only


def test_sources_of_the_other_kind_are_refused(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A DICOM folder given to an images run, PNGs given to a DICOM run, ``--masks`` for an
    images run: exit 2 with what SRC holds, nothing predicted."""
    from pipeline.synth import StudySpec, write_study

    dicom = data["tmp"] / "dicom_study"
    write_study(dicom, StudySpec(patients=1, modality="CR", size=16, series_per_patient=1))
    capsys.readouterr()
    assert _main("predict", data["cls"], dicom / "dicom", "--out", data["tmp"] / "x") == 2
    said = capsys.readouterr().err
    assert "holds DICOM files (e.g. " in said and "data.kind: images" in said
    assert not (data["tmp"] / "x").exists()
    ext = data["ext"]
    code = _main("evaluate", data["cls"], ext, "--labels", ext / "cls.csv", "--masks",
                 ext / "seg.csv")  # fmt: skip
    assert code == 2 and "no --masks (masks are the list's mask" in capsys.readouterr().err
    fake = data["tmp"] / "dicom_run"
    fake.mkdir()
    config = (data["cls"] / "config.yaml").read_text()
    assert "kind: images" in config
    (fake / "config.yaml").write_text(config.replace("kind: images", "kind: dicom"))
    assert _main("predict", fake, ext / "a") == 2
    said = capsys.readouterr().err
    assert "holds PNG, NPY or NIfTI images only (20 files, e.g. e0.png)" in said
    assert _main("predict", fake, ext / "cls.csv") == 2
    assert "is a CSV file" in capsys.readouterr().err


def test_predict_into_the_output_of_another_folder_is_refused(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """OUT holding another SRC's predictions (and masks) is refused, nothing written."""
    out = data["tmp"] / "pred-other"
    assert _main("predict", data["cls"], data["ext"] / "cls.csv", "--out", out, "--quiet") == 0
    before = (out / "predictions.csv").read_bytes()
    capsys.readouterr()
    assert _main("predict", data["cls"], data["ext"] / "a", "--out", out, "--quiet") == 1
    assert "holds the predictions of another SRC" in capsys.readouterr().err
    assert (out / "predictions.csv").read_bytes() == before


def test_evaluate_refuses_a_mask_class_the_model_cannot_output(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A list's mask holding class 2 for a model of classes 0..1 refuses the set, naming the
    mask by its path relative to SRC and its line (as ``--masks`` of a DICOM run)."""
    ext = data["tmp"] / "ext2"
    rows = _pairs(ext / "b", 2, 3, "x")
    Image.fromarray(np.full((8, 8), 2, np.uint8)).save(ext / "b" / "x1_m.png")
    listed = _write_csv(ext / "l.csv", rows, ["image", "label", "mask"])
    capsys.readouterr()
    assert _main("evaluate", data["seg"], ext, "--labels", listed, "--quiet") == 1
    said = capsys.readouterr().err
    assert "--labels (l.csv): 1 of 2 masks hold a class the run's model cannot output" in said
    assert "b/x1_m.png (line 3): class 2" in said


def test_the_runs_own_images_are_told_by_their_bytes_not_their_names(
    data: dict[str, Path], said: list[str]
) -> None:
    """Four training/validation images copied under other names are the run's own; a new
    image named as a training image (``img/i4.png``) is not, nor a copy of a test image. An
    image's key is the hash of its path, so a new set named like the run's was called the
    run's own ("NOT an external test set"), and copies under other names went unsaid."""
    import shutil

    from pipeline.keys import hash_key
    from pipeline.split import read_split_csv

    train, copy = data["cls"].parents[1] / "train" / "img", data["tmp"] / "copies"
    split = {r["series_key"]: r["split"] for r in read_split_csv(data["cls"] / "split.csv")}
    *own, fresh = [i for i in range(24) if split[hash_key(f"img/i{i}.png")] != "test"][:5]
    tested = next(i for i in range(24) if split[hash_key(f"img/i{i}.png")] == "test")
    (copy / "img").mkdir(parents=True)
    rows = [{"image": f"k{i}.png", "label": i % 2} for i in own]
    for i in own:
        shutil.copyfile(train / f"i{i}.png", copy / f"k{i}.png")
    shutil.copyfile(train / f"i{tested}.png", copy / "t.png")
    name = f"img/i{fresh}.png"  # the name of a training/validation image, other bytes
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(copy / name)
    rows += [{"image": "t.png", "label": tested % 2}, {"image": name, "label": fresh % 2}]
    listed = _write_csv(copy / "l.csv", rows, ["image", "label"])
    assert _main("predict", data["cls"], listed, "--out", data["tmp"] / "p-copies") == 0
    want = ("4 of the 6 images were in the run's own training/validation split (the same file "
            "contents)")  # fmt: skip
    assert [m for m in said if "the run trained on" in m] == [
        f"SRC holds images the run trained on: {want}. Their predictions are no guide to how "
        "the model does on new patients."
    ]
    assert _main("evaluate", data["cls"], copy, "--labels", listed, "--out",
                 data["tmp"] / "e-copies", "--quiet") == 0  # fmt: skip
    metrics = json.loads((data["tmp"] / "e-copies" / "metrics.json").read_text())
    assert metrics["seen_by_run"]["series_seen_in_training"] == 4
    assert metrics["evaluated"].endswith(f"6 images, NOT an external test set: {want}")


def test_a_list_naming_files_outside_its_folder_is_refused(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As a run's own list is: a CSV from elsewhere must not make radpipe read any file; and
    (``data.allow_outside_paths``) such an image's mask is named by its key, never by a path
    that would leave ``masks/``."""
    from pipeline.keys import hash_key
    from workflows.run.predict_images import _mask_names

    listed = tmp_path / "l.csv"
    listed.write_text("image\na/e0.png\n../x.png\n")
    assert _main("predict", data["cls"], listed, "--out", tmp_path / "out") == 2
    said = capsys.readouterr().err
    assert "SRC l.csv: 1 image path points outside its folder (../x.png)" in said
    assert not (tmp_path / "out").exists()
    names = ["../a.png", "/abs/b.png", "c/d.png", "c/d.npy", "e.nii.gz"]
    assert _mask_names(names, False) == [hash_key("../a.png"), hash_key("/abs/b.png"),
                                         "c/d.png", "c/d.npy", "e"]  # fmt: skip


def test_evaluate_says_images_of_another_pixel_size(data: dict[str, Path]) -> None:
    """As for DICOM: external images whose pixel size (the list's spacing) is not the
    training images' 0.5 mm are said and counted (``unlike_training``); it was not judged."""
    ext = data["ext"]
    rows = [{"image": f"a/e{i}.png", "label": i % 2, "spacing": 1.0 if i < 3 else 0.5}
            for i in range(10)]  # fmt: skip
    listed = _write_csv(ext / "spaced.csv", rows, ["image", "label", "spacing"])
    out = data["tmp"] / "e-spaced"
    assert _main("evaluate", data["cls"], ext, "--labels", listed, "--out", out, "--quiet") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["unlike_training"]["other_pixel_size"] == 3
    assert metrics["evaluated"].endswith("unlike the training images: 3 images of another "
                                         "pixel size")  # fmt: skip


def test_images_stored_unlike_the_training_images_are_said(data: dict[str, Path]) -> None:
    """The run trained on 8-bit PNGs (24, of which 18 train and validation); two 16-bit PNGs
    (the same pictures, 257x the values: 0..65535) and one 8-bit PNG are predicted all the
    same, and predict says the two (it said nothing: a 16-bit image scored class 1 at
    probability 1.000); evaluate records them in metrics.json."""
    src = data["tmp"] / "deep"
    rows = _pairs(src / "b", 3, 5, "d")
    for row in rows:
        (src / row["mask"]).unlink()  # the images alone in SRC
    for row in rows[:2]:  # 8-bit 0..255 -> 16-bit 0..65535 (x 257), as a 16-bit export
        path = src / row["image"]
        Image.fromarray(np.asarray(Image.open(path)).astype(np.uint16) * 257).save(path)
    proc = _cli("predict", data["cls"], src, "--out", data["tmp"] / "deep_out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ("2 of the 3 images predicted are stored unlike every training image of the run "
            "(2 as 16-bit PNG; the training images: 8-bit PNG: 18)") in proc.stderr  # fmt: skip
    assert len(_read(data["tmp"] / "deep_out" / "predictions.csv")) == 3
    listed = _write_csv(src / "cls.csv", rows, ["image", "label"])
    out = data["tmp"] / "deep_eval"
    proc = _cli("evaluate", data["cls"], src, "--labels", listed, "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stored_unlike_training"] == {"16-bit PNG": 2}
    # the list is --labels, not the run's data.labels (the warning named data.labels)
    assert ("--labels: the images named in cls.csv are stored in ways whose values span "
            "different ranges (2 16-bit PNG (e.g. b/d0.png), 1 8-bit PNG (e.g. b/d2.png)") \
        in proc.stderr  # fmt: skip
    assert "data.labels" not in proc.stderr
