"""Runner-level checks that fail when the orchestration is broken (issue 13, "Tests that must
exist"): each test names the mutation it kills. Expected values are worked out here from the
run's own files (split.csv, the converted arrays, the DICOM headers), never read back from the
code under test."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch

import pipeline.stages  # noqa: F401  (registers the stages)
from pipeline.data.io import load_image
from pipeline.keys import hash_key
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.split import read_split_csv, split_by_ratio
from pipeline.stage import Pipeline
from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import (
    assert_predicted_mean,
    assert_scored_mean,
    base_config,
    evaluate_external,
    read_json,
    read_rows,
)
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


def _conversion(run: Path) -> Path:
    return (run / read_json(run / "provenance.json")["conversion"]).resolve()


def _keys(run: Path, part: str) -> set[str]:
    return {r["series_key"] for r in read_split_csv(run / "split.csv") if r["split"] == part}


def test_preprocessing_is_fitted_on_the_training_split_only(cr_run: Path) -> None:
    """Mutation: preprocessing fitted on more than the train split."""
    root = _conversion(cr_run)
    train = _keys(cr_run, "train")
    pixels = np.concatenate([load_image(root / r["output"]).ravel()
                             for r in read_rows(root / "manifest.csv")
                             if r["series_key"] in train])  # fmt: skip
    state = Pipeline.load(cr_run / "stages")[0].state_dict()
    assert float(state["mean_"]) == pytest.approx(pixels.mean(), rel=1e-5)
    assert float(state["std_"]) == pytest.approx(pixels.std(), rel=1e-4)


def test_training_sees_exactly_the_training_split(cr_run: Path) -> None:
    """Mutation: a test (or validation) series added to training."""
    rows = [json.loads(line) for line in (cr_run / "log.jsonl").read_text().splitlines()]
    assert rows and all(r["samples"] == len(_keys(cr_run, "train")) for r in rows)
    parts = [_keys(cr_run, p) for p in ("train", "val", "test")]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_the_run_scores_exactly_the_test_split(cr_run: Path) -> None:
    """Mutation: validation (or training) series scored with the test split (one image per
    series and patient in this study: the scored cases' patients are the test patients)."""
    scored = [c["patient"] for c in read_json(cr_run / "metrics.json")["per_case"]]
    rows = read_split_csv(cr_run / "split.csv")
    assert sorted(scored) == sorted(r["patient_key"] for r in rows if r["split"] == "test")


def test_the_split_keeps_each_patients_series_together(tmp_path: Path) -> None:
    """Mutation: splitting by series instead of patient (checked against PatientID)."""
    study = tmp_path / "study"
    write_study(study, StudySpec(patients=12, modality="CR", size=16, series_per_patient=3))
    patient_of: dict[str, str] = {}
    for path in (study / "dicom").rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        patient_of[hash_key(ds.SeriesInstanceUID)] = str(ds.PatientID)
    (tmp_path / "run").mkdir()
    prepared = prepare_study(validate_config(base_config(study, tmp_path / "out")),
                             tmp_path / "run", progress=False)  # fmt: skip
    splits: dict[str, set[str]] = defaultdict(set)
    for r in prepared.split:
        splits[patient_of[r["series_key"]]].add(r["split"])
    assert len(splits) == 12 and all(len(s) == 1 for s in splits.values()), splits


def _folds(run: Path) -> list[Path]:
    return [run / "folds" / f"fold-{k}" for k in range(2)]


def test_kfold_ensemble_is_scored_with_every_fold(kfold_run: Path) -> None:
    """Mutation: the k-fold ensemble scored with one fold."""
    metrics = read_json(kfold_run / "metrics.json")
    assert metrics["evaluated"].startswith("ensemble of 2") and len(metrics["folds"]) == 2
    assert_scored_mean(metrics, _folds(kfold_run), _conversion(kfold_run), _keys(kfold_run, "test"))


def test_kfold_spread_is_over_the_folds_figures(kfold_run: Path) -> None:
    """Mutations: the spread of the folds' figures with another ``ddof``, or a fold left out.
    ``cross_validation`` holds numpy's population statistics (``ddof=0``, as
    ``cross_val_score(...).std()``) of each figure over ``folds``."""
    metrics = read_json(kfold_run / "metrics.json")
    for key in ("accuracy", "brier", "roc_auc_macro"):
        values = np.array([fold[key] for fold in metrics["folds"]], dtype=np.float64)
        assert key != "brier" or values.std() > 0  # two folds' models: two Brier scores
        expected = {"mean": values.mean(), "std": values.std(), "min": values.min(),
                    "max": values.max(), "n": values.size}  # fmt: skip
        assert metrics["cross_validation"][key] == pytest.approx(expected, abs=1e-12), key


def test_kfold_predict_averages_every_fold(kfold_run: Path, cr16: Path, tmp_path: Path) -> None:
    """Mutation: ``predict`` on a k-fold run using one fold."""
    assert_predicted_mean(kfold_run, _folds(kfold_run), cr16, tmp_path / "pred")


def test_kfold_external_evaluation_averages_every_fold(
    kfold_run: Path, cr16: Path, tmp_path: Path
) -> None:
    """Mutation: ``radpipe evaluate`` on a k-fold run scoring one fold (or the run's own,
    absent ``stages/``: before this test it failed on every k-fold run)."""
    metrics, root = evaluate_external(kfold_run, cr16, tmp_path / "ext")
    # cr16 holds the run's own series: the set is said to be no external one
    assert metrics["evaluated"].startswith("ensemble of 2 fold models on 16 series, NOT an ext")
    assert_scored_mean(metrics, _folds(kfold_run), root, None)


def test_val_dice_is_the_mean_over_foreground_classes() -> None:
    """Mutation: ``val_dice`` including background."""
    from workflows.train.epoch import evaluate

    truth = torch.tensor([[[0, 0, 1, 1], [0, 2, 2, 0]]])  # (1, 2, 4)
    pred = torch.tensor([[[0, 1, 1, 1], [0, 2, 0, 0]]])
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 10

    class Fixed(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return logits

    batch = [{"image": torch.zeros(1, 2, 4), "mask": truth[0]}]
    loader = torch.utils.data.DataLoader(batch, batch_size=1)
    row = evaluate(Fixed(), loader, torch.nn.CrossEntropyLoss(), "segmentation",
                   torch.device("cpu"))  # fmt: skip
    # Dice by hand: class 1: 2*2/(2+3) = 0.8; class 2: 2*1/(2+1) = 2/3 (background: 2*3/(4+4)).
    assert row["val_dice"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert row["val_accuracy"] == pytest.approx(6 / 8)


def test_a_changed_window_converts_afresh(cr16: Path, tmp_path: Path) -> None:
    """Mutation: a changed ``convert.window`` reusing the old cache."""
    found = []
    for i, window in enumerate(["none", "header", "none"]):
        raw = base_config(cr16, tmp_path / "out")
        raw["convert"]["window"] = window
        (tmp_path / f"r{i}").mkdir()
        found.append(prepare_study(validate_config(raw), tmp_path / f"r{i}", progress=False))
    assert [s.reused_conversion for s in found] == [False, False, True]
    assert found[0].root != found[1].root and found[0].root == found[2].root
    first = read_rows(found[0].root / "manifest.csv")[0]["output"]
    raw_values = load_image(found[0].root / first)
    windowed = load_image(found[1].root / first)
    assert raw_values.max() > 1.5 and windowed.max() <= 1.0  # stored values vs [0, 1]


RANDOM = sorted(n for n in STAGES.names() if getattr(STAGES.get(n), "random", False))


@pytest.mark.parametrize("name", RANDOM)
def test_random_stages_draw_from_their_generator(name: str) -> None:
    """Mutation: a random stage ignoring the generator it is given."""
    rng = np.random.default_rng(0)
    image = rng.random((1, 24, 24), dtype=np.float32)
    mask = (image[0] > 0.5).astype(np.int64)
    sample = Sample(image=image, mask=mask, meta={"id": "x", "spacing": (1.0, 1.0)})
    stage = STAGES.get(name).example()
    outputs = [stage(sample, np.random.default_rng(seed)).image.tobytes() for seed in range(12)]
    again = [stage(sample, np.random.default_rng(seed)).image.tobytes() for seed in range(12)]
    assert outputs == again  # the same generator state, the same result
    assert len(set(outputs)) > 1  # and the draws come from it


def test_a_split_csv_that_leaks_a_patient_is_refused(cr16: Path, tmp_path: Path) -> None:
    """Mutation: the leak check of the split (``split.csv`` reused on resume) removed. A
    test series given the patient key of a training series: that patient is in two splits."""
    from pipeline.split import SplitLeakError, write_split_csv

    config = validate_config(base_config(cr16, tmp_path / "out"))
    (tmp_path / "run").mkdir()
    rows = prepare_study(config, tmp_path / "run", progress=False).split
    train = next(r for r in rows if r["split"] == "train")
    test = next(r for r in rows if r["split"] == "test")
    test["patient_key"] = train["patient_key"]
    write_split_csv(rows, tmp_path / "run" / "split.csv")
    with pytest.raises(SplitLeakError, match=f"Patient {train['patient_key']} is in split") as info:
        prepare_study(config, tmp_path / "run", progress=False)
    # each part named by a file of its series (relative), not only by hashed keys
    files = {hash_key(str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID)):
             f.relative_to(cr16 / "dicom").as_posix()
             for f in sorted((cr16 / "dicom").rglob("*.dcm"))}  # fmt: skip
    a, b = sorted((train, test), key=rows.index)  # the order split.csv lists them in
    assert str(info.value) == (
        f"Patient {train['patient_key']} is in split {a['split']!r} (fold -1: "
        f"{files[a['series_key']]} (series {a['series_key']})) and split {b['split']!r} "
        f"(fold -1: {files[b['series_key']]} (series {b['series_key']}))."
    )
    assert str(cr16) not in str(info.value)


def test_the_split_follows_the_configured_fractions_and_seed(cr16: Path, tmp_path: Path) -> None:
    """Mutations: ``split.val``/``split.test`` swapped or off in the ratios, ``seed`` not
    passed (ratio or k-fold split), labels lost when ``stratify`` is off. 16 patients (8 per
    label), val 0.25, test 0.125: 10 / 4 / 2 series, each half of each label; 2 folds after a
    0.25 test: 4 test series, folds of 6 (3 of each label)."""
    labels = {hash_key(r["series_uid"]): int(r["label"]) for r in read_rows(cr16 / "labels.csv")}
    ratio = ({"val": 0.25, "test": 0.125}, {("train", 5), ("val", 2), ("test", 1)})
    folds = ({"folds": 2, "test": 0.25}, {(("train", 0), 3), (("train", 1), 3), (("test", -1), 2)})
    for split, sizes in (ratio, folds):
        found = []
        for seed in (0, 1):
            raw = base_config(cr16, tmp_path / "out") | {"seed": seed, "split": split}
            run = tmp_path / f"{'folds' in split}-{seed}"
            run.mkdir()
            rows = prepare_study(validate_config(raw), run, progress=False).split
            key = [(r["split"], r["fold"]) if "folds" in split else r["split"] for r in rows]
            counts = Counter((k, r["label"]) for k, r in zip(key, rows))
            assert counts == {(k, lab): n for k, n in sizes for lab in (0, 1)}, counts
            assert {r["series_key"]: r["label"] for r in rows} == labels
            found.append(key)
        assert found[0] != found[1]  # the seed decides which patients go where
    raw = base_config(cr16, tmp_path / "out") | {"split": {"val": 0.25, "test": 0.25}}
    raw["split"]["stratify"] = False
    (tmp_path / "flat").mkdir()
    config = validate_config(raw)
    rows = prepare_study(config, tmp_path / "flat", progress=False).split
    assert {r["series_key"]: r["label"] for r in rows} == labels
    # ... and the split is the patient-grouped one of rows without labels (not stratified)
    flat = split_by_ratio([{**r, "label": 0} for r in rows], (0.5, 0.25, 0.25), seed=config.seed)
    assert [r["split"] for r in rows] == [r["split"] for r in flat]


def _youden(truth: list[int], scores: list[float]) -> tuple[float, float, float]:
    """Threshold, sensitivity and specificity maximising sensitivity + specificity - 1 over
    the scores themselves (a case is positive at >= threshold; ties: the highest threshold)."""
    pos = [s for t, s in zip(truth, scores) if t == 1]
    neg = [s for t, s in zip(truth, scores) if t == 0]

    def youden_j(c: float) -> float:
        return sum(s >= c for s in pos) / len(pos) + sum(s < c for s in neg) / len(neg)

    c = max(set(scores), key=lambda c: (round(youden_j(c), 12), c))
    return c, sum(s >= c for s in pos) / len(pos), sum(s < c for s in neg) / len(neg)


def _positive_scores(folder: Path, root: Path, keys: set[str]) -> dict[str, float]:
    """Series key -> probability of class 1 by the model in ``folder`` (one image per series)."""
    from pipeline.data import ManifestDataset
    from workflows.train.infer import load_model_from_checkpoint, predict

    ds = ManifestDataset(root, series_keys=keys, pipeline=Pipeline.load(folder / "stages"))
    probs = predict(load_model_from_checkpoint(folder / "checkpoints" / "best.pt"), ds,
                    device="cpu")  # fmt: skip
    return {ds.items[i][0]["series_key"]: float(p[1]) for i, p in enumerate(probs)}


@pytest.mark.parametrize("kind", ["ratio", "kfold"])
def test_the_operating_point_is_chosen_on_the_validation_predictions(
    kind: str, cr_run: Path, kfold_run: Path
) -> None:
    """Mutations: the threshold chosen on the training split's predictions (ratio split), or
    on each fold's training part instead of its held-out fold (k-fold: every development
    series once, scored by the fold model that did not train on it)."""
    run = cr_run if kind == "ratio" else kfold_run
    rows = read_split_csv(run / "split.csv")
    label = {r["series_key"]: int(r["label"]) for r in rows}
    scores: dict[str, float] = {}
    if kind == "ratio":
        scores = _positive_scores(run, _conversion(run), _keys(run, "val"))
    else:
        for k, folder in enumerate(_folds(run)):
            held_out = {r["series_key"] for r in rows
                        if r["split"] != "test" and int(r["fold"]) == k}  # fmt: skip
            scores |= _positive_scores(folder, _conversion(run), held_out)
    keys = sorted(scores)
    threshold, sensitivity, specificity = _youden([label[s] for s in keys],
                                                  [scores[s] for s in keys])  # fmt: skip
    point = read_json(run / "metrics.json")["operating_point"]
    assert point["validation_cases"] == len(keys) == (4 if kind == "ratio" else 12)
    assert point["threshold"] == pytest.approx(threshold, abs=1e-6)
    assert point["validation_sensitivity"] == pytest.approx(sensitivity)
    assert point["validation_specificity"] == pytest.approx(specificity)
    assert point["chosen_on"] == (
        "validation split" if kind == "ratio" else "out-of-fold validation predictions"
    )
    assert ("applied_to" in point) == (kind != "ratio")  # the k-fold ensemble's mismatch, said


def test_predict_names_the_classes_of_a_run_without_a_test_split(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    """Mutation: ``predict`` not reading the run's own class names (``classes.json``): a run
    with ``split.test: 0`` writes no ``metrics.json``, and the columns became ``prob_0``,
    ``prob_1`` with class names ``0``/``1``."""
    from workflows.cli import main
    from workflows.run.runner import run_study

    raw = base_config(cr16, shared_output) | {"split": {"test": 0, "val": 0.25}}
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None and not (outcome.run_dir / "metrics.json").exists()
    out = tmp_path / "pred"
    assert main(["predict", str(outcome.run_dir), str(cr16 / "dicom"), "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    rows = read_rows(out / "predictions.csv")
    names = {r["class_name"] for r in rows} - {""}
    assert names <= {"no_lesion", "round_lesion"} and names
    assert {"prob_no_lesion", "prob_round_lesion"} <= set(rows[0])


def test_the_run_seed_reaches_the_augmentation_draws(cr16: Path, tmp_path: Path) -> None:
    """Mutation: the datasets of a run built without the run's ``seed`` (every seed then
    draws the same augmentation). A random affine (p 1) on the first training image: the same
    for the same seed, other for another seed, and as ``default_rng([seed, epoch, index])``
    draws it (the dataset's documented seeding)."""
    from workflows.run.study import make_dataset

    augment = Pipeline.from_config([{"type": "random_affine", "p": 1.0, "rotation": 30}])
    images = []
    for k, seed in enumerate((3, 3, 4)):
        config = validate_config(base_config(cr16, tmp_path / "out") | {"seed": seed})
        (tmp_path / f"r{k}").mkdir()
        study = prepare_study(config, tmp_path / f"r{k}", progress=False)
        keys = sorted(r["series_key"] for r in study.split)
        plain = make_dataset(study, config, keys, None)
        ds = make_dataset(study, config, keys, augment)
        expected = augment(plain.sample(0), np.random.default_rng([seed, 0, 0])).image
        np.testing.assert_array_equal(ds[0]["image"].numpy(), expected)
        images.append(expected)
    assert np.array_equal(images[0], images[1]) and not np.array_equal(images[0], images[2])


@pytest.mark.parametrize(("test", "held"), [(0.5, 8), (0.125, 2)])
def test_a_kfold_split_holds_out_the_configured_test_fraction(test: float, held: int) -> None:
    """Mutation: the k-fold split's test fraction fixed (the shared configs use 0.25, so a
    constant there went unseen). 16 patients of one series, labels 0/1 alternating: a test
    fraction of 0.5 holds out 8 of them (4 per label), 0.125 holds out 2 (1 per label); the
    rest are in the 3 folds, each non-empty."""
    from workflows.run.split_column import make_split

    raw = {"task": "classification", "data": {"source": "x"},
           "model": {"type": "mlp_classifier"}, "split": {"folds": 3, "test": test}}  # fmt: skip
    series = [{"patient_key": f"p{i:02d}", "series_key": f"s{i:02d}", "label": i % 2}
              for i in range(16)]  # fmt: skip
    rows = make_split(validate_config(raw), series, None)
    tested = [r for r in rows if r["split"] == "test"]
    assert len(tested) == held and Counter(r["label"] for r in tested) == {
        0: held // 2,
        1: held // 2,
    }
    assert sorted({r["fold"] for r in rows if r["split"] != "test"}) == [0, 1, 2]
