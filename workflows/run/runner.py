"""``radpipe run``: one configured study from DICOM to report, readable top to bottom.

1. run directory: resolved ``config.yaml``, ``provenance.json``
2. data: cached conversion, patient-grouped stratified ``split.csv`` (``workflows.run.study``)
3. per fold (one fold without cross-validation): fit preprocessing on the training split only,
   save it to ``stages/``, build the model from the data's shape, train with early stopping
4. evaluate on the test split (each fold, the folds' ensemble), metrics.json, plots, report

Resumable: ``radpipe run --resume RUN/`` reuses the split, fitted stages and last checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError, RadpipeError
from pipeline.io_atomic import atomic_copy, atomic_write_text
from pipeline.stage import Pipeline
from pipeline.words import counted
from workflows.run.augment_check import check_model_and_augment, stage_failures_refused
from workflows.run.checks import (
    check_before_run,
    check_class_weights,
    check_validation_split,
    training_shapes,
)
from workflows.run.config import RunConfig, dump_config, portable
from workflows.run.config_edits import started_config
from workflows.run.failure import (
    announce_run_dir,
    clear_failure,
    drop_untrained,
    note_earlier_failure,
    record_failure,
    remove_unstarted,
)
from workflows.run.padding import marked_validation
from workflows.run.paths import shown
from workflows.run.planes import trained_planes, trained_slice_range
from workflows.run.provenance import write_provenance
from workflows.run.run_models import fold_checkpoint
from workflows.run.rundir import fold_dir, hold_run, new_run_dir
from workflows.run.scale import representatives, trained_pixel_range
from workflows.run.seg_classes import run_classes
from workflows.run.study import prepare_study
from workflows.run.study_data import Study, make_dataset
from workflows.run.summary import Figure, headline

if TYPE_CHECKING:
    from workflows.train.ddp import DistributedContext

log = logging.getLogger("radpipe")


@dataclass
class RunOutcome:
    """What ``radpipe run`` says at the end (:func:`workflows.commands.run.print_outcome`)."""

    run_dir: Path
    metrics: dict[str, Any]
    headline: dict[str, Figure]
    reused_conversion: bool
    failed_files: int = 0  # source files that could not be converted (errors.csv)
    conversion: Path | None = None  # the conversion folder (its errors.csv)
    no_test: str | None = None  # why there is no internal test set (no metrics), else None
    kind: str = "dicom"  # data.kind: how a run without a test set is scored ("images": not)


def run_study(
    config: RunConfig,
    *,
    run_dir: Path | None = None,
    progress: bool = True,
    ctx: DistributedContext | None = None,
    inputs_checked: bool = False,
) -> RunOutcome | None:
    """Run (or, given an existing ``run_dir``, resume) the study ``config`` describes.

    With ``ctx`` (DDP under torchrun, see :mod:`workflows.commands.train_ddp`), rank 0 alone creates
    the run directory, converts, splits, fits the preprocessing, evaluates and writes; the
    other ranks read its results from the run directory after a barrier, and every rank
    trains its shard. Rank 0 returns the outcome, the others ``None``. ``inputs_checked``: the
    caller ran :func:`workflows.run.checks.check_before_run` (``radpipe run`` does, sans torch).
    """
    main = ctx is None or ctx.is_main
    resume = run_dir is not None
    if not inputs_checked:  # before a run directory is made or anything converted
        check_before_run(config, run_dir)
    if main and run_dir is None:
        run_dir = new_run_dir(config.output, config.name)
        atomic_write_text(run_dir / "config.yaml", dump_config(config, relative_to=run_dir))
    if main and run_dir is not None:
        announce_run_dir(run_dir)  # radpipe run --nproc records a failure rank 0 cannot
    stage = ""  # "prepare", then "train": how far this process got in the run directory
    try:
        with hold_run(run_dir if main else None):  # one process per run directory
            stage = "prepare"
            if main and run_dir is not None:  # said once held: a refused resume says only that
                from workflows.run.paths import shown

                log.info("%s %s", "resuming" if resume else "run directory:", shown(run_dir))
                note_earlier_failure(run_dir)
            run_dir, study = _prepare(config, run_dir, resume, progress, ctx)
            stage = "train"
            outcome = _train_and_evaluate(config, study, run_dir, resume, progress, ctx)
            if main:
                clear_failure(run_dir)
            return outcome
    except KeyboardInterrupt:
        if run_dir is None:
            raise
        raise RunInterrupted(run_dir) from None
    except Exception as err:  # a run directory left behind says what happened (failed.json)
        refused = resume and stage == "prepare" and isinstance(err, RadpipeError)  # not run
        if main and stage == "train" and not resume and isinstance(err, ConfigError):
            refused = drop_untrained(run_dir)  # its config refused: a new run, not a resume
        if main and stage and not refused and run_dir is not None and run_dir.is_dir():
            record_failure(run_dir, err)
        raise


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``run_dir`` is what ``radpipe run --resume`` continues."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir


def _prepare(
    config: RunConfig, run_dir: Path | None, resume: bool, progress: bool,
    ctx: DistributedContext | None,
) -> tuple[Path, Study]:  # fmt: skip
    """Rank 0 converts, splits and writes provenance; other ranks then read its results."""
    main = ctx is None or ctx.is_main
    if main:
        assert run_dir is not None
        try:
            study = prepare_study(config, run_dir, progress=progress)
            if study.failures:  # said again at the end, with the exit code it gives
                log.warning("%s could not be converted; see %s", counted(len(study.failures),
                            "file"), shown(study.root / "errors.csv"))  # fmt: skip
            check_validation_split(config, study)
            if config.task == "classification":  # segmentation: classes found in the masks
                check_class_weights(config, study.class_names)
        except RadpipeError:
            if not resume:
                remove_unstarted(run_dir)
            raise
        if (study.root / "index.csv").exists():  # hashed keys only, no patient data
            atomic_copy(study.root / "index.csv", run_dir / "index.csv")
        extra = {
            "compute": _set_threads(config, ctx),
            "sample_order": _sample_order(),
            "reused_conversion": study.reused_conversion,
            "conversion": os.path.relpath(study.root, run_dir),
            "failed_files": len(study.failures),
        }
        if config.data.kind == "dicom":  # images `window: header` found (no) window for
            extra |= {"unwindowed_images": study.unwindowed, "windowed_images": study.windowed}
        if study.label_table is not None:  # counts of series with and without labels
            extra["labels"] = study.label_table.summary
        if study.mask_summary is not None:  # masks CSV rows, and those naming no image
            extra["masks"] = study.mask_summary
        if ctx is not None:
            extra |= {"world_size": ctx.world_size, "backend": ctx.backend}
        from workflows.run import rundir

        truth = rundir.truth_fingerprint([config.data.labels, config.data.masks])
        masks = rundir.mask_files_fingerprint(study.masks, study.image_rows, study.root)
        if resume:
            rundir.check_resume_inputs(run_dir, study.fingerprint, truth, study.root, masks)
        extra |= {"truth_fingerprint": truth, "mask_files_fingerprint": masks}
        extra["config"] = started_config(run_dir)  # an edited config.yaml is told from it
        write_provenance(run_dir, seed=config.seed, fingerprint=study.fingerprint, extra=extra)
    if ctx is not None:
        run_dir = Path(ctx.broadcast(None if run_dir is None else str(run_dir)))
        ctx.barrier()  # rank 0 has converted and split: the others read its results
        if not main:
            _set_threads(config, ctx)
            study = prepare_study(config, run_dir, progress=False)
    assert run_dir is not None
    return run_dir, study


def _train_and_evaluate(
    config: RunConfig, study: Study, run_dir: Path, resume: bool, progress: bool,
    ctx: DistributedContext | None,
) -> RunOutcome | None:  # fmt: skip
    main = ctx is None or ctx.is_main
    resolved = portable(config, run_dir)  # stored in checkpoints: no absolute paths
    from workflows.train.optim import settings_said_once

    folds = range(config.split.folds) if config.split.folds else [None]
    with settings_said_once():  # the folds' one config: its warnings said once, not per fold
        checkpoints = [_train_fold(config, study, run_dir, fold, resolved, resume, progress, ctx)
                       for fold in folds]  # fmt: skip
    if not main:
        assert ctx is not None
        ctx.barrier()  # wait for rank 0's evaluation
        return None
    from workflows.run.evaluate import evaluate_run

    metrics = evaluate_run(config, study, run_dir, checkpoints) or {}
    if config.report.enabled and metrics:
        from workflows.report.results import write_report

        write_report(run_dir)
    if ctx is not None:
        ctx.barrier()
    return RunOutcome(
        run_dir=run_dir,
        metrics=metrics,
        headline=headline(metrics),
        reused_conversion=study.reused_conversion,
        failed_files=len(study.failures),
        conversion=study.root,
        no_test=None if metrics else config.split.no_test_reason(),
        kind=study.kind,
    )


def epoch_reporter(config: RunConfig, fold: int | None) -> Any:
    """``on_epoch_end`` for :func:`train`: one line per epoch, ``epoch k/N``, the training
    loss and the monitored validation metric (the training loss when there is none)."""
    default = "val_dice" if config.task == "segmentation" else "val_accuracy"
    monitor = config.train.monitor or default
    prefix = "" if fold is None else f"fold {fold}: "

    def report(epoch: int, row: dict[str, Any]) -> None:
        shown = f"  {monitor} {row[monitor]:.4f}" if monitor in row else ""  # none without val
        log.info("%sepoch %d/%d  train_loss %.4f%s", prefix, epoch, config.train.epochs,
                 row["train_loss"], shown)  # fmt: skip

    return report


def _set_threads(config: RunConfig, ctx: DistributedContext | None) -> dict[str, Any]:
    from workflows.run.threads import set_threads

    ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if ctx is not None else 1
    return set_threads(config.compute.threads, config.train.num_workers, ranks)


def _sample_order() -> str:
    from pipeline.data.datasets import SAMPLE_ORDER

    return SAMPLE_ORDER


def split_keys(study: Study, fold: int | None) -> dict[str, list[str]]:
    """Series keys of train/val/test for a fold (``None``: the ratio split)."""
    from pipeline.split import select_fold

    if fold is None:
        parts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
        for r in study.split:
            parts[r["split"]].append(r["series_key"])
        return parts
    return {k: [r["series_key"] for r in v] for k, v in select_fold(study.split, fold).items()}


def fitted_preprocessing(
    config: RunConfig, study: Study, folder: Path, train_keys: list[str]
) -> tuple[Pipeline, dict[str, Any]]:
    """The preprocessing pipeline fitted on the training series only (or loaded if saved)."""
    stages_dir = folder / "stages"
    info_path = stages_dir / "data.json"
    if (stages_dir / "pipeline.json").exists() and info_path.exists():
        return Pipeline.load(stages_dir), json.loads(info_path.read_text())
    specs = list(config.preprocess)
    if config.data.unit == "series" and config.data.slices:
        specs.insert(0, {"name": "fit_depth", "type": "fit_depth", "depth": config.data.slices})
    pipe = Pipeline.from_config(specs)
    dataset = make_dataset(study, config, train_keys, None, folder=folder, part="train")
    raw = list(dataset.raw_samples())
    if not raw:
        raise RadpipeError("The training split is empty; add data or lower split.test/val.")
    with stage_failures_refused(dataset, raw, "preprocess"):  # the config's, not a resume's
        pipe.fit(raw)
        groups = representatives(pipe, raw)  # one image preprocessed per shape and pixel size
    shapes = training_shapes(pipe, raw, config.train.batch_size, groups)  # refused if they differ
    fold = folder.name if folder.parent.name == "folds" else None
    info = {"shape": shapes[0], "shapes": shapes, "slice_mm": trained_slice_range(groups),
            "pixel_mm": trained_pixel_range(pipe, raw, groups),
            "planes": trained_planes(config, study, train_keys),
            **run_classes(config, study, raw, fold)}  # fmt: skip
    pipe.save(stages_dir)
    atomic_write_text(info_path, json.dumps(info))
    return pipe, info


def build_model(spec: dict[str, Any], shape: list[int], num_classes: int) -> Any:
    """The configured model, with the data-dependent sizes filled in where not set."""
    from models import MODELS
    from models.specs import MODEL_SPECS

    fields = {f.name for f in dataclasses.fields(MODEL_SPECS[spec["type"]])}
    spatial = shape[1:]
    per_slice = shape[0] * math.prod(spatial[-2:])
    derived = {
        "num_classes": num_classes,
        "in_channels": shape[0],
        "spatial_dims": len(spatial),
        "in_features": per_slice if spec["type"].startswith("recurrent") else math.prod(shape),
        "image_size": list(spatial[-2:]),
    }
    full = {k: v for k, v in derived.items() if k in fields} | dict(spec)
    return MODELS.build(full)


def train_config(config: RunConfig) -> Any:
    return config.train.train_config(seed=config.seed)


def _train_fold(
    config: RunConfig,
    study: Study,
    run_dir: Path,
    fold: int | None,
    resolved: dict[str, Any],
    resume: bool,
    progress: bool,
    ctx: DistributedContext | None = None,
) -> Path:
    from workflows.run.checks import check_training_classes
    from workflows.train.checkpoint import seed_everything
    from workflows.train.infer import init_from_checkpoint
    from workflows.train.loop import train

    main = ctx is None or ctx.is_main
    folder = fold_dir(run_dir, fold)
    keys = split_keys(study, fold)
    if resume and (folder / "train_done.json").exists():
        if main:  # said: a resume of a finished run otherwise only re-scored, unsaid
            log.info("%straining had finished (train_done.json): not trained again, its model "
                     "is evaluated", "" if fold is None else f"fold {fold}: ")  # fmt: skip
        return fold_checkpoint(folder)
    if main:
        prep, info = fitted_preprocessing(config, study, folder, keys["train"])
    if ctx is not None:
        ctx.barrier()
        if not main:  # load what rank 0 fitted
            prep, info = fitted_preprocessing(config, study, folder, keys["train"])
    augment = Pipeline.from_config(config.augment)
    cache = config.output / ".cache" / "samples"
    train_ds = make_dataset(
        study, config, keys["train"], Pipeline(prep.steps + augment.steps), cache=cache,
        folder=folder, part="train",
    )  # fmt: skip
    val_ds = marked_validation(  # padding is not scored, as in evaluation
        make_dataset(study, config, keys["val"], prep, cache=cache, folder=folder, part="val"),
        config.task,
    ) if keys["val"] else None  # fmt: skip
    seed_everything(config.seed)  # initial weights: part of the run, the same on every rank
    model = build_model(config.model, info["shape"], info["num_classes"])
    check_model_and_augment(model, info.get("shapes", [info["shape"]]), config.model["type"],
                            augment, train_ds, config.train.batch_size)  # fmt: skip
    absent = check_training_classes(config, study, keys["train"], info["num_classes"], fold)
    if config.train.init_from:
        transfer = init_from_checkpoint(model, config.train.init_from, config.train.freeze,
                                        class_names=study.class_names)  # fmt: skip
        log.info("init_from %s: %s", config.train.init_from.name, transfer.summary())
        if main:
            atomic_write_text(folder / "transfer.json", json.dumps(transfer.to_dict(), indent=2))
    tc = dataclasses.replace(train_config(config), progress=progress and main)
    if ctx is not None and (
        tc.device == "auto" or (tc.device == "cuda") != (ctx.device.type == "cuda")
    ):
        tc = dataclasses.replace(tc, device=ctx.device.type)
    result = train(
        model, train_ds, val_ds, tc, folder, {**resolved, "fold": fold},
        resume=resume, distributed=ctx,
        on_epoch_end=epoch_reporter(config, fold),
    )  # fmt: skip
    if main:
        done = {
            "best_epoch": result.best_epoch,
            "epochs": result.epochs_run,
            "stopped_early": result.stopped_early,
            "device": result.device,
        }
        if result.averaged is not None:
            done["averaged_epochs"] = result.averaged["epochs"]
        done |= {"classes_absent_from_training": absent} if absent else {}
        if ctx is not None:
            done["world_size"] = ctx.world_size
        atomic_write_text(folder / "train_done.json", json.dumps(done))
    if ctx is not None:
        ctx.barrier()
    return fold_checkpoint(folder)
