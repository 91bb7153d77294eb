"""The run configuration: a YAML file validated into typed models before any work starts.

``yaml.safe_load``, then pydantic. Every error names the key path (``train.lr``) and the valid
choices; unknown keys are errors. Stage and model specs name a registered ``type`` and the
remaining keys must be parameters of its constructor. ``--set key.path=value`` overrides are
applied to the raw mapping and validated with it.

This module must stay light to import (no torch, no MONAI): a bad config should fail in well
under a second.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from workflows.run import spec_checks as sc
from workflows.run.class_names import check_unique_names
from workflows.run.config_errors import describe
from workflows.run.config_model import Strict
from workflows.run.overrides import apply_override, override_for, read_config
from workflows.run.paths import anchor_paths, pick_base, relative_paths, said
from workflows.run.split_column import SplitConfig
from workflows.run.threads import MAX_THREADS
from workflows.train.config import CHOICES as TRAIN_CHOICES
from workflows.train.config import MAX_SEED, TrainConfig, epoch_metrics


class DataConfig(Strict):
    """Where the images and ground truth are."""

    source: Path = Field(description="DICOM folder, or a folder of converted images")
    kind: Literal["dicom", "images"] = Field("dicom", description="raw DICOM or converted images")
    labels: Path | None = Field(None, description="CSV of labels (series_uid or file, label)")
    masks: Path | None = Field(None, description="CSV mapping sop_instance_uid/file to a mask")
    label_column: str = Field(
        "label", description="the labels CSV column with the class (an index or a class name)"
    )
    unit: Literal["image", "series"] = Field(
        "image", description="one sample per image (2-D) or per series (a slice sequence)"
    )
    slices: int | None = Field(
        None, ge=1, description="for unit=series: bring every series to this many slices"
    )
    class_names: list[str] | None = None
    missing_labels: Literal["error", "warn", "drop"] = Field(
        "warn", description="series without a label: stop, leave out with a warning, or quietly"
    )
    mask_values: dict[int, int] | None = Field(
        None, description="stored mask value -> class index, e.g. {0: 0, 128: 1, 255: 2}"
    )
    max_classes: int = Field(
        32, ge=2, le=255, description="most segmentation classes (and mask value read as one)"
    )
    allow_outside_paths: bool = Field(
        False, description="let CSV paths (masks, images) point outside the CSV's folder"
    )

    @model_validator(mode="after")
    def _mask_classes(self) -> DataConfig:
        top = self.max_classes
        if self.mask_values and not all(0 <= c < top for c in self.mask_values.values()):
            raise ValueError(f"mask_values must map to class indices 0..{top - 1} (max_classes)")
        if self.class_names and len(self.class_names) > top:
            raise ValueError(f"{len(self.class_names)} class_names; max_classes is {top}")
        check_unique_names(self.class_names)
        return self


class ConvertConfig(Strict):
    """How DICOM becomes arrays (cached: the same options reuse the same conversion)."""

    format: Literal["npy", "png", "png16"] = "npy"
    window: sc.WindowText = Field("none", description="none | header | PRESET | C,W")
    workers: int = Field(2, ge=1)
    max_pixels: int = Field(2**28, ge=1)


_TRAIN = TrainConfig()  # the defaults; the rules live in TrainConfig.__post_init__


def _choice(key: str, description: str | None = None) -> Any:
    enum = list(TRAIN_CHOICES[key])  # None (null) included where it is a choice
    return Field(getattr(_TRAIN, key), description=description, json_schema_extra={"enum": enum})


class TrainSection(Strict):
    """Optimisation: the fields of :class:`workflows.train.config.TrainConfig` (whose
    ``__post_init__`` holds every rule; see :meth:`_rules`) less ``seed`` (the run's top-level
    seed) and ``progress``, plus transfer learning (``init_from``, ``freeze``)."""

    epochs: int = _TRAIN.epochs
    batch_size: int = _TRAIN.batch_size
    optimizer: str = _choice("optimizer")
    lr: float = _TRAIN.lr
    momentum: float = _TRAIN.momentum
    nesterov: bool = _TRAIN.nesterov
    weight_decay: float = Field(_TRAIN.weight_decay, description="L2 regularisation")
    l1: float = Field(_TRAIN.l1, description="L1 regularisation")
    schedule: str = _choice("schedule")
    step_size: int = Field(_TRAIN.step_size, description="epochs between steps (schedule: step)")
    gamma: float = Field(_TRAIN.gamma, description="decay factor (schedule: step/plateau)")
    loss: str | None = _choice("loss", "default: ce for classification, dice_ce for segmentation")
    class_weights: list[float] | None = _TRAIN.class_weights
    grad_clip: float | None = _TRAIN.grad_clip
    early_stopping: int | None = Field(_TRAIN.early_stopping, description="patience in epochs")
    monitor: str | None = Field(_TRAIN.monitor, description="validation metric for early stopping")
    mode: str = _choice("mode")
    checkpoint_every: int = _TRAIN.checkpoint_every
    checkpoint_interval_s: float = Field(
        _TRAIN.checkpoint_interval_s, description="min seconds between checkpoint writes"
    )
    device: str = _choice("device")
    amp: bool = _TRAIN.amp
    num_workers: int = _TRAIN.num_workers
    init_from: Path | None = Field(None, description="local checkpoint to start from")
    freeze: list[str] = Field(default_factory=list, description="parameter name patterns")
    warmup_epochs: int = Field(_TRAIN.warmup_epochs, description="linear LR ramp (epochs)")
    label_smoothing: float = Field(_TRAIN.label_smoothing, description="cross-entropy smoothing")
    monitor_ema: float = Field(_TRAIN.monitor_ema, description="EMA factor of the monitor")
    min_epochs: int = Field(_TRAIN.min_epochs, description="epochs before early stopping")
    average_epochs: int = Field(_TRAIN.average_epochs, description="epochs averaged (0: off)")
    average_anchor: str = _choice("average_anchor")
    dice_batch: bool = Field(
        _TRAIN.dice_batch, description="soft Dice pooled over the batch (true) or per image"
    )
    boundary_weight: float = Field(_TRAIN.boundary_weight, description="CE weight at outlines")
    boundary_width: int = Field(_TRAIN.boundary_width, description="outline band (pixels)")

    @model_validator(mode="after")
    def _rules(self) -> TrainSection:
        try:  # the rules are TrainConfig's
            self.train_config(seed=0)
        except ConfigError as err:
            raise ValueError(str(err)) from None
        return self

    def train_config(self, seed: int, **overrides: Any) -> TrainConfig:
        """The :class:`TrainConfig` of this section with the run's ``seed``.

        Raises
        ------
        ConfigError
            A setting breaks a rule of :class:`TrainConfig` (the message names its key).
        """
        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        values = {k: v for k, v in self.model_dump().items() if k in fields}
        return TrainConfig(**(values | {"seed": seed} | overrides))


class EvaluateConfig(Strict):
    empty: Literal["nan", "one"] = Field(
        "nan", description="Dice/Jaccard when truth and prediction are both empty for a class"
    )
    include_background: bool = False
    tta_flip: bool = False
    upsample: Literal["nearest", "linear"] = Field("nearest", description="radpipe predict and "
        "segmentation scores: how the class probabilities are resized back onto the source "
        "pixels before the argmax (linear: smooth boundaries)")  # fmt: skip
    surface_failures: Literal["exclude", "diagonal"] = Field("exclude", description="a structure "
        "in one mask only (infinite HD95): left out of the mean and counted, or scored as the "
        "image diagonal")  # fmt: skip
    bootstrap: int = Field(1000, ge=0, description="bootstrap resamples over patients (0: none)")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="level of every interval")
    operating_point: Literal["youden", "sensitivity"] = Field(
        "youden", description="binary threshold chosen on validation: Youden's J or a target"
    )
    target_sensitivity: float = Field(0.9, gt=0.0, le=1.0)
    positive_class: str | int | None = Field(None, description="two classes: the class whose "
        "sensitivity, specificity, PPV, NPV and operating point are given (name or index; "
        "default: class 1)")  # fmt: skip
    explain: int = Field(2, ge=0, description="test cases shown with saliency maps (0: none)")
    nsd_tolerance_mm: float | None = Field(None, description="segmentation: also the normalized "
        "surface Dice at this tolerance in mm (boundary within it counts as agreeing); null: "
        "none")  # fmt: skip

    @field_validator("nsd_tolerance_mm", mode="before")
    @classmethod
    def _nsd_tolerance(cls, value: Any) -> Any:
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if value is None or (numeric and math.isfinite(value) and value > 0):
            return value
        text = str(value).strip().lower()
        number = text.removesuffix("mm").strip()
        unit = f" without its unit ({number})" if text.endswith("mm") and number else ""
        raise ValueError(f"must be a distance in mm above 0, written as a number{unit} (e.g. "
                         f"2.0: boundaries within 2 mm agree); got {value!r}")  # fmt: skip


class ReportConfig(Strict):
    enabled: bool = True
    overlays: int = Field(4, ge=0, description="best and worst segmentation cases shown")
    images: bool = Field(
        True,
        description="figures that show test images (example and mistaken thumbnails, overlays, "
        "saliency maps); false: none, e.g. for images with text burned into the pixels",
    )
    burned_in_images: bool = Field(
        False,
        description="show test images whose series has an image with BurnedInAnnotation YES "
        "in those figures (default: they are left out, and the report says how many)",
    )


class ComputeConfig(Strict):
    scheduler: str | None = Field(None, description="Dask scheduler address or local:N")
    threads: int | None = Field(
        None,
        ge=1,
        le=MAX_THREADS,
        description="torch threads; default: cores / (ranks x (1 + num_workers))",
    )


class RunConfig(Strict):
    """A whole study: data to report."""

    name: str = Field("run", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    output: Path = Path("runs")
    task: Literal["classification", "segmentation"]
    data: DataConfig
    convert: ConvertConfig = Field(default_factory=ConvertConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    preprocess: list[dict[str, Any]] = Field(default_factory=list)
    augment: list[dict[str, Any]] = Field(default_factory=list)
    model: dict[str, Any]
    train: TrainSection = Field(default_factory=TrainSection)
    postprocess: list[dict[str, Any]] = Field(
        default_factory=list,
        description="segmentation: steps applied in order to every predicted label map "
        "(largest_component, fill_holes; fit_ellipse for one elliptic object per class) in the "
        "evaluation, `radpipe evaluate` and predict",
    )
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)

    @field_validator("preprocess", "augment")
    @classmethod
    def _stages(cls, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import pipeline.stages  # noqa: F401  (registers the stages)
        from pipeline.registry import STAGES

        sc.check_specs(specs, STAGES, extra=("name",))
        return specs

    @field_validator("postprocess")
    @classmethod
    def _postprocess(cls, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from pipeline.postprocess import POSTPROCESS

        sc.check_specs(specs, POSTPROCESS)
        return specs

    @field_validator("model")
    @classmethod
    def _model(cls, spec: dict[str, Any]) -> dict[str, Any]:
        from models.specs import MODEL_SPECS

        sc.check_spec(spec, sorted(MODEL_SPECS), MODEL_SPECS.__getitem__)
        sc.check_model_values(spec, MODEL_SPECS[spec["type"]])
        return spec

    @model_validator(mode="after")
    def _task_fits_model(self) -> RunConfig:
        wanted = sc.model_task(str(self.model.get("type", "")))
        if wanted is not None and wanted != self.task:
            raise ValueError(
                f"model.type {self.model['type']!r} is a {wanted} model but task is "
                f"{self.task!r}; choose a {self.task} model or change task"
            )
        if self.evaluate.positive_class is not None and self.task != "classification":
            raise ValueError("evaluate.positive_class is for classification (two classes)")
        if self.evaluate.nsd_tolerance_mm is not None and self.task != "segmentation":
            raise ValueError("evaluate.nsd_tolerance_mm (normalized surface Dice) is for "
                             "segmentation; remove it from a classification config")  # fmt: skip
        if self.postprocess and self.task != "segmentation":
            raise ValueError("postprocess acts on predicted label maps: segmentation only")
        sc.check_images_window(self.data.kind, self.convert.window, self.convert.format)
        sc.check_preprocess(self.preprocess, self.evaluate.tta_flip)
        monitor = self.train.monitor or ""
        split = self.split
        if split.column and self.data.labels is None:
            raise ValueError(f"split.column {split.column!r} is a column of data.labels; give it")
        if monitor and monitor not in (logged := epoch_metrics(self.task)):  # was: at epoch 1
            raise ValueError(f"train.monitor {monitor!r} is no metric a {self.task} run logs "
                             f"each epoch; choose one of {', '.join(logged)}")  # fmt: skip
        if monitor.startswith("val_") and split.val == 0 and not (split.folds or split.column):
            raise ValueError(
                f"train.monitor {monitor!r} needs a validation split, but split.val is 0; "
                "set split.val > 0, or train.monitor: train_loss"
            )
        return self


# -- loading ------------------------------------------------------------------------------
def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override and validate a YAML config; ``ConfigError`` names the key and choices.

    Relative paths written in the file (``data.source``, ``data.labels``, ``data.masks``,
    ``output``, ``train.init_from``) are taken from the config file's folder, so a config
    works from any current directory; relative paths given with ``--set`` are taken from the
    current directory, as everywhere on the command line. Both are resolved to absolute paths.
    """
    path = Path(path)
    raw = read_config(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    base, note = pick_base(raw, path.resolve().parent, Path.cwd())
    if note:  # the file as given (its name alone until 2026-12-04: a.yaml for sub/a.yaml)
        logging.getLogger("radpipe").warning("%s: %s", said(path), note)
    anchor_paths(raw, base)
    for item in overrides or []:
        apply_override(raw, item)
    config = validate_config(raw, source=str(path), overrides=overrides)
    return _resolve_paths(config, Path.cwd())


def validate_config(
    raw: dict[str, Any], source: str = "config", overrides: list[str] | None = None
) -> RunConfig:
    """Validate a raw mapping; errors name the key path, and the ``--set`` override that set
    it (rather than the file) when there is one."""
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        parts = []
        for e in err.errors():
            item = override_for(e["loc"], overrides or [])
            why = describe(e, RunConfig)
            parts.append(f"--set {item}: {why}" if item else f"{source}: {why}")
        raise ConfigError("; ".join(parts)) from None


def _resolve_paths(config: RunConfig, base: Path) -> RunConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None else (base / p).resolve()

    data = config.data
    updates = {
        k: fix(getattr(data, k))
        for k in ("source", "labels", "masks")
        if getattr(data, k) is not None
    }
    config.data = data.model_copy(update={k: v for k, v in updates.items() if v is not None})
    config.output = (base / config.output).resolve()
    if config.train.init_from is not None:
        config.train.init_from = (base / config.train.init_from).resolve()
    return config


def _plain(config: RunConfig) -> dict[str, Any]:
    """The config as plain types, every default filled in, except the split fractions
    beside ``split.column``: the column gives the parts, and ``test: 0.2, val: 0.2`` shown
    beside it (in ``config.yaml``, the report, ``radpipe config show``) read as the split."""
    plain: dict[str, Any] = json.loads(config.model_dump_json())
    if plain["split"].get("column"):
        plain["split"] = {k: v for k, v in plain["split"].items() if k not in ("test", "val")}
    return plain


def portable(config: RunConfig, base: Path) -> dict[str, Any]:
    """The config as plain types with its path settings relative to ``base`` (a run
    directory), so that no absolute path of this machine is stored in the run."""
    return relative_paths(_plain(config), base)


def dump_config(config: RunConfig, relative_to: Path | None = None) -> str:
    """The resolved config as YAML; with ``relative_to`` (the run directory, for the copy
    kept in a run) its paths are relative to that folder (see :func:`portable`)."""
    plain = portable(config, relative_to) if relative_to else _plain(config)
    return yaml.safe_dump(plain, sort_keys=False)


def load_saved_config(path: Path) -> RunConfig:
    """A config saved by :func:`dump_config` with ``relative_to=path.parent``."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    base = path.resolve().parent
    anchor_paths(raw, base)
    sc.saved_images_convert(raw)
    return _resolve_paths(validate_config(raw, source=str(path)), base)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the config, for editors."""
    return RunConfig.model_json_schema()
