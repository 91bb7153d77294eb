"""`radpipe evaluate` on an external labelled test set, `split.test: 0`, and the join-back
columns of predictions.csv."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import pydicom
import pytest

from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.run.config import load_config
from workflows.run.runner import run_study

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture(scope="module")
def trained_without_test(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained on all of its data (split.test: 0): no internal test set."""
    data = tmp_path_factory.mktemp("train")
    write_study(data, StudySpec(patients=24, modality="CR", size=32, series_per_patient=1))
    config = load_config(
        CONFIGS / "xray_classify.yaml",
        [f"data.source={data / 'dicom'}", f"data.labels={data / 'labels.csv'}",
         f"output={data / 'runs'}", "train.epochs=2", "convert.workers=1", "split.test=0",
         "evaluate.bootstrap=50", "evaluate.explain=1"],
    )  # fmt: skip
    outcome = run_study(config, progress=False)
    assert outcome is not None and outcome.metrics == {}
    return outcome.run_dir


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Path:
    new = tmp_path_factory.mktemp("external")
    write_study(new, StudySpec(patients=6, modality="CR", size=32, series_per_patient=1, seed=9))
    for path in (new / "dicom").rglob("*.dcm"):  # other patients than the run's (SYNCR0000...)
        ds = pydicom.dcmread(path)
        ds.PatientID = f"EXT{ds.PatientID}"
        ds.save_as(path)
    with (new / "labels.csv").open() as fh:
        text = fh.read()
    (new / "labels.csv").write_text(text.replace("SYNCR", "EXTSYNCR"))
    return new


def test_external_test_set_gets_the_same_metrics_and_report(
    trained_without_test: Path, external: Path, tmp_path: Path
) -> None:
    run = trained_without_test
    assert not (run / "metrics.json").exists()  # nothing was held out, nothing scored
    out = tmp_path / "ext"
    args = ["evaluate", str(run), str(external / "dicom"), "--labels",
            str(external / "labels.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    labels = list(csv.DictReader((external / "labels.csv").open()))
    assert metrics["num_cases"] == len(labels) == 6
    assert "external" in metrics["evaluated"]
    # every case is one of the external images (one per patient here), with its own label
    truth = {hash_key(r["patient_id"]): int(r["label"]) for r in labels}
    assert metrics["seen_by_run"]["series_of_patients_seen_in_training"] == 0
    assert {c["patient"]: c["true"] for c in metrics["per_case"]} == truth
    assert metrics["intervals"]["accuracy"]["n_resamples"] == 50
    assert metrics["operating_point"]["chosen_on"] == "validation split"  # the run's own
    assert metrics["model"]["checkpoints"][0]["checkpoint"] == "checkpoints/best.pt"
    assert (out / "report.html").is_file() and (out / "plots" / "explanations.png").is_file()
    assert "external test set" in (out / "report.html").read_text()


def test_predictions_join_back_to_the_users_files(
    trained_without_test: Path, external: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = external / "dicom"
    uids = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
            for p in src.rglob("*.dcm")}  # fmt: skip
    # By default: hashed keys and the source path, never a raw UID (patient-linked).
    out = tmp_path / "pred"
    assert main(["predict", str(trained_without_test), str(src), "--out", str(out), "--quiet"]) == 0
    text = (out / "predictions.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and "sop_instance_uid" not in rows[0] and "series_instance_uid" not in rows[0]
    assert not [uid for uid in uids if uid in text]
    for row in rows:
        ds = pydicom.dcmread(src / row["source"], stop_before_pixels=True)
        assert row["instance_key"] == hash_key(ds.SOPInstanceUID)
    # The user opts in to the raw UIDs.
    with_uids = tmp_path / "uids"
    args = ["predict", str(trained_without_test), str(src), "--out", str(with_uids), "--quiet",
            "--with-uids"]  # fmt: skip
    assert main(args) == 0
    rows = list(csv.DictReader((with_uids / "predictions.csv").open()))
    for row in rows:
        ds = pydicom.dcmread(src / row["source"], stop_before_pixels=True)
        assert row["sop_instance_uid"] == ds.SOPInstanceUID
        assert row["series_key"] == hash_key(ds.SeriesInstanceUID)
    # a name with a control character is shown escaped: its UID cannot be read again, which
    # left the cell empty without a word
    odd = tmp_path / "odd"
    odd.mkdir()
    shutil.copyfile(src / rows[0]["source"], odd / "a\x01b.dcm")
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        code = main(["predict", str(trained_without_test), str(odd), "--out",
                     str(tmp_path / "odd-out"), "--quiet", "--with-uids"])  # fmt: skip
    assert code == 0
    (row,) = csv.DictReader((tmp_path / "odd-out" / "predictions.csv").open())
    assert row["source"] == "a\\x01b.dcm" and row["sop_instance_uid"] == ""
    assert "1 of 1 rows have an empty sop_instance_uid" in caplog.text
    hashed = tmp_path / "hashed"
    args = ["predict", str(trained_without_test), str(src), "--out", str(hashed), "--quiet",
            "--hashed-keys-only"]  # fmt: skip
    assert main(args) == 0
    header = next(csv.reader((hashed / "predictions.csv").open()))
    assert "source" not in header and "sop_instance_uid" not in header


def test_evaluate_refuses_clearly(trained_without_test: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    missing = tmp_path / "nope"
    args = ["evaluate", str(trained_without_test), str(missing), "--labels", str(missing)]
    assert main(args) == 2  # a usage error, as for convert and run
    assert f"SRC {missing}: no such folder." in capsys.readouterr().err
    (tmp_path / "a.dcm").write_bytes(b"")  # an empty SRC is refused first
    args = ["evaluate", str(trained_without_test), str(tmp_path), "--labels", str(missing)]
    assert main(args) == 2
    assert f"--labels {missing}: no such file." in capsys.readouterr().err
    # SRC a file (one DICOM), or missing: predict said NotADirectoryError in a traceback;
    # both commands left their --out behind
    one = next((trained_without_test.parents[1] / "dicom").rglob("*.dcm"))
    for command in ("predict", "evaluate"):
        for src, why in ((one, "not a folder"), (missing, "no such folder")):
            out = tmp_path / f"out-{command}"
            args = [command, str(trained_without_test), str(src), "--out", str(out),
                    "--labels", str(one)][: 5 if command == "predict" else 7]  # fmt: skip
            assert main(args) == 2
            err = capsys.readouterr().err
            assert f"SRC {src}: {why}" in err and "Traceback" not in err
            assert not out.exists()
    # a classification run without --labels (optional only for segmentation): a usage error
    assert main(["evaluate", str(trained_without_test), str(tmp_path)]) == 2
    assert "This run needs --labels (a CSV with the classes" in capsys.readouterr().err


def _relabelled(external: Path, path: Path, change: dict[str, dict[str, str]]) -> Path:
    """The external labels.csv with each row's fields replaced by ``change[row's label]``."""
    rows = [{**r, **change[r["label"]]} for r in csv.DictReader((external / "labels.csv").open())]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_evaluate_refuses_class_names_that_disagree_with_the_runs_indices(
    trained_without_test: Path, external: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Another site's order: 0 round_lesion, 1 no_lesion. Scored by index, every case of both
    # classes counted as the other class (before: accepted, accuracy 1 - the true one).
    swapped = {"0": {"label": "1", "class_name": "no_lesion"},
               "1": {"label": "0", "class_name": "round_lesion"}}  # fmt: skip
    labels = _relabelled(external, tmp_path / "swapped.csv", swapped)
    out = tmp_path / "ext"
    args = ["evaluate", str(trained_without_test), str(external / "dicom"), "--labels",
            str(labels), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "0 is 'round_lesion' (the run's class 0 is 'no_lesion')" in err
    assert not (out / "metrics.json").exists()


def test_evaluate_maps_class_names_to_the_runs_own_order(
    trained_without_test: Path, external: Path, tmp_path: Path
) -> None:
    # A run whose classes are not in alphabetical order (as data.class_names or a class_name
    # column give): external labels given by name take the run's indices, not the
    # alphabetical ones an external CSV of names would get on its own.
    run = tmp_path / "run"
    shutil.copytree(trained_without_test, run)
    (run / "classes.json").write_text('{"class_names": ["round_lesion", "no_lesion"]}')
    names = {
        v: {"label": n, "class_name": n} for v, n in (("0", "no_lesion"), ("1", "round_lesion"))
    }
    labels = _relabelled(external, tmp_path / "names.csv", names)
    out = tmp_path / "ext"
    (out).mkdir()
    (out / "classes.json").write_text('{"class_names": ["no_lesion", "round_lesion"]}')  # stale
    args = ["evaluate", str(run), str(external / "dicom"), "--labels", str(labels),
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    truth = {hash_key(r["patient_id"]): 1 - int(r["label"])
             for r in csv.DictReader((external / "labels.csv").open())}  # fmt: skip
    assert {c["patient"]: c["true"] for c in metrics["per_case"]} == truth
    assert metrics["class_names"] == ["round_lesion", "no_lesion"]


def _without_window(external: Path, dest: Path) -> tuple[Path, str]:
    """A copy of the external study with the window tags of one file removed."""
    shutil.copytree(external, dest)
    bare = sorted((dest / "dicom").rglob("*.dcm"))[0]
    ds = pydicom.dcmread(bare)
    for keyword in ("WindowCenter", "WindowWidth", "VOILUTSequence", "VOILUTFunction"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.save_as(bare)
    return dest, bare.relative_to(dest / "dicom").as_posix()


def test_images_without_a_header_window_are_not_fed_to_a_header_windowed_model(
    trained_without_test: Path, external: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run was trained with `window: header` on images that all had a window ([0, 1]);
    an image without one would reach the model in modality values: predict skips it and
    says why, naming the file; evaluate refuses the set."""
    run = trained_without_test
    assert json.loads((run / "provenance.json").read_text())["unwindowed_images"] == 0
    study, rel = _without_window(external, tmp_path / "study")
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(study / "dicom"), "--out", str(out), "--quiet"]) == 1
    predicted = [r["source"] for r in csv.DictReader((out / "predictions.csv").open())]
    assert len(predicted) == 5 and rel not in predicted
    (skipped,) = list(csv.DictReader((out / "skipped.csv").open()))
    assert skipped["source"] == rel
    assert skipped["reason"].startswith("no window in its header: converted unwindowed")
    hashed = tmp_path / "hashed"
    args = ["predict", str(run), str(study / "dicom"), "--out", str(hashed), "--quiet",
            "--hashed-keys-only"]  # fmt: skip
    assert main(args) == 1
    (row,) = list(csv.DictReader((hashed / "skipped.csv").open()))
    assert row["source"] == "" and row["output"] == skipped["output"]
    capsys.readouterr()
    args = ["evaluate", str(run), str(study / "dicom"), "--labels", str(study / "labels.csv"),
            "--out", str(tmp_path / "ext"), "--quiet"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"1 labelled image of SRC has no window in their header (e.g. {rel})" in err
    assert not (tmp_path / "ext" / "metrics.json").exists()


def test_which_runs_count_as_trained_on_header_windows(tmp_path: Path) -> None:
    from workflows.run.windows import trained_scale

    def trained_windowed(run: Path, window: str) -> bool:
        return trained_scale(run, window) == "windowed"

    run = tmp_path / "run"
    run.mkdir()
    assert not trained_windowed(run, "header")  # nothing known: no check
    (run / "provenance.json").write_text(json.dumps({"unwindowed_images": 0}))
    assert trained_windowed(run, "header") and trained_windowed(run, " Header ")
    assert not trained_windowed(run, "lung") and not trained_windowed(run, "none")
    (run / "provenance.json").write_text(json.dumps({"unwindowed_images": 2}))
    assert not trained_windowed(run, "header")  # the model saw unwindowed images too
    # a run from before the count: its conversion's manifest, while it is there
    conv = tmp_path / "cache" / "convert-1"
    conv.mkdir(parents=True)
    (run / "provenance.json").write_text(json.dumps({"conversion": "../cache/convert-1"}))
    assert not trained_windowed(run, "header")

    def manifest(*windows: str) -> None:
        from workflows.convert.tasks import MANIFEST_COLUMNS

        with (conv / "manifest.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
            writer.writeheader()
            for i, window in enumerate(windows):
                writer.writerow({**dict.fromkeys(MANIFEST_COLUMNS, ""), "output": f"{i}.npy",
                                 "source": f"{i}.dcm", "frame": 0, "slice_index": 0,
                                 "num_slices": 1, "modality": "CR", "shape": "8x8",
                                 "window": window, "format": "npy"})  # fmt: skip

    manifest("header")
    assert trained_windowed(run, "header")
    manifest("header", "none")
    assert not trained_windowed(run, "header")


def test_predict_keeps_one_folder_per_source_by_default(
    trained_without_test: Path, external: Path, tmp_path: Path
) -> None:
    from workflows.commands.predict import default_out

    other = tmp_path / "other"
    shutil.copytree(external / "dicom", other)
    run = trained_without_test
    for src in (external / "dicom", other, external / "dicom"):
        assert main(["predict", str(run), str(src), "--quiet"]) == 0
    folders = sorted(p.name for p in run.glob("predictions*"))
    expected = {default_out(run, external / "dicom").name, default_out(run, other).name}
    assert folders == sorted(expected)
    assert len(folders) == 2 and all(f.startswith("predictions-") and len(f) == 20 for f in folders)
    for folder in folders:
        assert len(list(csv.DictReader((run / folder / "predictions.csv").open()))) == 6


def test_predict_refuses_an_out_holding_another_folders_predictions(
    trained_without_test: Path, external: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """One --out for two folders would leave the first folder's masks/ and seg/ files (other
    patients) beside the second's predictions.csv: refused; the same folder again is fine."""
    other = tmp_path / "other"
    shutil.copytree(external / "dicom", other)
    (next(other.rglob("*.dcm"))).unlink()
    out = tmp_path / "pred"
    run = trained_without_test
    assert main(["predict", str(run), str(external / "dicom"), "--out", str(out), "--quiet"]) == 0
    assert main(["predict", str(run), str(other), "--out", str(out), "--quiet"]) == 1
    assert "holds the predictions of another folder than" in capsys.readouterr().err
    assert len(list(csv.DictReader((out / "predictions.csv").open()))) == 6  # untouched
    assert main(["predict", str(run), str(external / "dicom"), "--out", str(out), "--quiet"]) == 0


def test_the_external_folder_keeps_the_runs_config_with_paths_that_resolve(
    trained_without_test: Path, external: Path, tmp_path: Path
) -> None:
    """OUT/config.yaml is the run's config with its paths relative to OUT (a copy of
    RUN/config.yaml kept them relative to RUN: wrong from OUT, in the report too)."""
    from workflows.run.config import load_saved_config
    from workflows.run.rundir import load_run_config

    out = tmp_path / "deeper" / "ext"
    args = ["evaluate", str(trained_without_test), str(external / "dicom"), "--labels",
            str(external / "labels.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    own = load_run_config(trained_without_test).data
    saved = load_saved_config(out / "config.yaml").data
    assert (saved.source, saved.labels) == (own.source, own.labels)
    assert str(tmp_path) not in (out / "config.yaml").read_text()  # relative, as in RUN


def _with_training_images(run: Path, external: Path, dest: Path) -> Path:
    """External's folder plus 3 of the run's training series and a new series (fresh UIDs)
    of a 4th training patient; its labels CSV lists every one of the 10 series."""
    train = run.parents[1]
    shutil.copytree(external / "dicom", dest / "dicom")
    studies = sorted(p for p in (train / "dicom").iterdir() if p.is_dir())
    for study in studies[:3]:
        shutil.copytree(study, dest / "dicom" / f"seen_{study.name}")
    ds = pydicom.dcmread(next(studies[3].glob("*.dcm")))
    ds.SeriesInstanceUID, ds.SOPInstanceUID = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dest / "dicom" / "followup.dcm")
    rows = [*csv.DictReader((external / "labels.csv").open()),
            *csv.DictReader((train / "labels.csv").open())]  # fmt: skip
    present = {str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID)
               for p in (dest / "dicom").rglob("*.dcm")}  # fmt: skip
    label = next(r["label"] for r in rows if r["patient_id"] == ds.PatientID)
    with (dest / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["series_uid", "label"])
        writer.writerows([r["series_uid"], r["label"]] for r in rows if r["series_uid"] in present)
        writer.writerow([ds.SeriesInstanceUID, label])
    return dest


def test_training_images_are_never_scored_as_an_external_test_set(
    trained_without_test: Path, external: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """`evaluate` and `predict` on a folder holding some of the run's own training series
    (the same UIDs) and a new series of a training patient say so, with the counts."""
    mixed = _with_training_images(trained_without_test, external, tmp_path / "mixed")
    out = tmp_path / "ext"
    args = ["evaluate", str(trained_without_test), str(mixed / "dicom"), "--labels",
            str(mixed / "labels.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_cases"] == 10
    assert metrics["seen_by_run"] == {"series": 10, "series_seen_in_training": 3,
                                      "series_of_patients_seen_in_training": 1}  # fmt: skip
    said = capsys.readouterr()
    # said once, by the warning; the figures line points to it (it said it twice more)
    assert "10 test cases (3 from the run's own training/validation split: see the warning" in (
        said.out
    )
    assert "external" not in said.out
    assert "SRC is not an external test set for this run: 3 of the 10 series" in caplog.text
    assert "1 of the 10 series is new but has the PatientID of a patient" in caplog.text
    assert "3 of the 10 series were in the run's own training" in metrics["evaluated"]
    assert "3 of the 10 series" in (out / "report.html").read_text()
    args = ["predict", str(trained_without_test), str(mixed / "dicom"), "--out",
            str(tmp_path / "pred"), "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert "SRC holds images the run trained on: 3 of the 10 series" in caplog.text
    # a folder of new patients only: nothing said, nothing counted
    caplog.clear()
    assert (
        main(
            [
                "evaluate",
                str(trained_without_test),
                str(external / "dicom"),
                "--labels",
                str(external / "labels.csv"),
                "--out",
                str(tmp_path / "new"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "NOT" not in capsys.readouterr().out and "PatientID" not in caplog.text
    fresh = json.loads((tmp_path / "new" / "metrics.json").read_text())["seen_by_run"]
    assert fresh == {"series": 6, "series_seen_in_training": 0,
                     "series_of_patients_seen_in_training": 0}  # fmt: skip


def _strip_windows(folder: Path) -> None:
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword in ("WindowCenter", "WindowWidth", "VOILUTSequence", "VOILUTFunction"):
            if keyword in ds:
                delattr(ds, keyword)
        ds.save_as(path)


def test_images_with_a_header_window_are_not_fed_to_a_model_that_saw_none(
    tmp_path_factory: pytest.TempPathFactory, external: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The mirror case (ultrasound and other exports without window tags): trained with
    `window: header` on images none of which had a window (modality values, one scale, said
    but not warned about); a new image with a window would reach the model in [0, 1]:
    predict skips it with the reason, evaluate refuses the set."""
    data = tmp_path_factory.mktemp("bare")
    write_study(data, StudySpec(patients=12, modality="CR", size=32, series_per_patient=1))
    _strip_windows(data / "dicom")
    config = load_config(
        CONFIGS / "xray_classify.yaml",
        [f"data.source={data / 'dicom'}", f"data.labels={data / 'labels.csv'}",
         f"output={data / 'runs'}", "train.epochs=1", "convert.workers=1", "split.test=0",
         "evaluate.explain=0"],
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="radpipe"):
        outcome = run_study(config, progress=False)
    assert outcome is not None
    assert "none of the 12 images has a window in its header" in caplog.text
    assert "12 of 12 images have no window" not in caplog.text  # not the mixed-scale warning
    run = outcome.run_dir
    provenance = json.loads((run / "provenance.json").read_text())
    assert (provenance["unwindowed_images"], provenance["windowed_images"]) == (12, 0)
    study, rel = _without_window(external, tmp_path / "study")  # 1 of 6 without, as trained
    out = tmp_path / "pred"
    assert main(["predict", str(run), str(study / "dicom"), "--out", str(out), "--quiet"]) == 1
    assert [r["source"] for r in csv.DictReader((out / "predictions.csv").open())] == [rel]
    skipped = list(csv.DictReader((out / "skipped.csv").open()))
    assert len(skipped) == 5 and rel not in {r["source"] for r in skipped}
    assert all(r["reason"].startswith("a window in its header: converted to [0, 1]")
               for r in skipped)  # fmt: skip
    args = ["evaluate", str(run), str(external / "dicom"), "--labels",
            str(external / "labels.csv"), "--out", str(tmp_path / "ext"), "--quiet"]  # fmt: skip
    assert main(args) == 1
    assert "6 labelled images of SRC have a window in their header" in capsys.readouterr().err


def test_evaluate_exits_1_when_source_files_failed(
    trained_without_test: Path, external: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: exit 1 when some work failed, as `radpipe run` and `predict` do when files of
    SRC cannot be converted; evaluate scored the others and exited 0 without a word."""
    src = tmp_path / "src"
    shutil.copytree(external / "dicom", src)
    (src / "broken.dcm").write_bytes(b"DICM" * 8)
    out = tmp_path / "ext"
    args = ["evaluate", str(trained_without_test), str(src), "--labels",
            str(external / "labels.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    # said once, at the end, with the file and its reason (it was said twice, naming neither)
    assert err.count("could not be converted") == 1, err
    tail = err[err.index("1 source file could not be converted and was left out") :]
    assert tail.splitlines()[1].startswith("  broken.dcm: ")
    assert "errors.csv" in tail.splitlines()[0]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["failed_files"] == 1 and metrics["num_cases"] == 6


def test_predict_names_the_source_files_it_could_not_convert(
    trained_without_test: Path, external: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """predict said only "1 file could not be converted; see <absolute path>" on stdout; now
    as evaluate and run say it: on stderr, the count, errors.csv and each file's reason."""
    src = tmp_path / "src"
    shutil.copytree(external / "dicom", src)
    (src / "broken.dcm").write_bytes(b"DICM" * 8)
    out = tmp_path / "pred"
    monkeypatch.chdir(tmp_path)  # paths said relative to it (never absolute: 2026-12-03)
    assert main(["predict", str(trained_without_test), str(src), "--out", str(out),
                 "--quiet"]) == 1  # fmt: skip
    captured = capsys.readouterr()
    assert "could not be converted" not in captured.out
    tail = captured.err[captured.err.index("1 source file could not be converted") :]
    first, second = tail.splitlines()[:2]
    assert first.endswith("left out of the predictions; see pred/converted/errors.csv:"), first
    assert first.startswith("1 source file could not be converted and was"), first
    assert second.startswith("  broken.dcm: ")
    with (out / "predictions.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 6


def test_a_run_split_by_its_own_column_is_scored_on_labels_without_it(
    external: Path, tmp_path: Path
) -> None:
    """README's way with an official test set (train and validation rows in a ``split.column``,
    the test set apart): ``radpipe evaluate`` asked the external CSV for the run's column
    (``labels.csv: no split.column column 'official'``), though every labelled series of SRC is
    a test case."""
    data = tmp_path / "train"
    write_study(data, StudySpec(patients=12, modality="CR", size=16, series_per_patient=1))
    with (data / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (data / "official.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, [*rows[0], "official"])
        writer.writeheader()
        writer.writerows({**r, "official": "val" if i % 4 == 0 else "train"}
                         for i, r in enumerate(rows))  # fmt: skip
    config = load_config(
        CONFIGS / "xray_classify.yaml",
        [f"data.source={data / 'dicom'}", f"data.labels={data / 'official.csv'}",
         f"output={data / 'runs'}", "train.epochs=1", "convert.workers=1",
         "split={column: official}", "evaluate.bootstrap=10", "evaluate.explain=0",
         "preprocess=[{type: resize, shape: [16, 16]}, {type: z_score}]"],
    )  # fmt: skip
    outcome = run_study(config, progress=False)
    assert outcome is not None and outcome.metrics == {}  # no row marked test
    out = tmp_path / "ext"
    args = ["evaluate", str(outcome.run_dir), str(external / "dicom"), "--labels",
            str(external / "labels.csv"), "--out", str(out), "--quiet"]  # fmt: skip
    assert "official" not in (external / "labels.csv").read_text().splitlines()[0]
    assert main(args) == 0
    assert json.loads((out / "metrics.json").read_text())["num_cases"] == 6
