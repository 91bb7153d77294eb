"""Config-time checks of the stage and model specs of a run config (``{"type": ..., ...}``).

Used by the validators of :class:`workflows.run.config.RunConfig`; they raise ``ValueError``,
which pydantic reports with the key path.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, ValidationError

from pipeline.errors import ConfigError
from pipeline.words import did_you_mean
from workflows.run.config_model import yes_no_refusal


def model_task(name: str) -> str | None:
    """The task a registered model does, from its name (``None``: not known)."""
    if name == "unet" or name.endswith("_segmenter"):
        return "segmentation"
    if name.endswith("_classifier"):
        return "classification"
    return None


#: Stand-ins for the model sizes the runner takes from the data, to check the rest early.
_DATA_SIZES = {"in_features": 1, "num_classes": 2, "in_channels": 1}


def check_model_values(spec: dict[str, Any], factory: type) -> None:
    """Build the model's config dataclass from ``spec``: wrong types and values (``dropout:
    null``, a negative size) fail here, before any data is read."""
    from dataclasses import fields

    from pydantic import TypeAdapter

    names = {f.name for f in fields(factory)}
    refuse_yes_no(spec, factory, f"{spec['type']} parameter ")
    values = {k: v for k, v in _DATA_SIZES.items() if k in names}
    values |= {k: v for k, v in spec.items() if k != "type"}
    try:
        TypeAdapter(factory).validate_python(values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{spec['type']} parameter {where!r}: {first['msg']}") from None
    except ConfigError as err:
        raise ValueError(str(err)) from None


def check_spec(
    spec: dict[str, Any], names: list[str], lookup: Any, extra: tuple[str, ...] = ()
) -> None:
    """Check ``{"type": name, **params}`` against the registered names and their parameters."""
    if "type" not in spec:
        raise ValueError(f"needs a 'type' key, one of: {', '.join(names)}")
    if spec["type"] not in names:
        raise ValueError(f"unknown type {spec['type']!r}; choose one of: {', '.join(names)}"
                         f"{did_you_mean(spec['type'], names)}")  # fmt: skip
    params = param_names(lookup(spec["type"]))
    unknown = sorted(set(spec) - set(params) - {"type", *extra})
    if unknown:
        raise ValueError(
            f"{spec['type']} has no parameter {unknown[0]!r}; valid: {', '.join(params) or '-'}"
            f"{did_you_mean(unknown[0], params)}"
        )


def check_specs(specs: list[dict[str, Any]], registry: Any, extra: tuple[str, ...] = ()) -> None:
    """Check every ``{"type": ...}`` item of a list against ``registry`` and build it once:
    constructors check their parameters' values, and building these is cheap. The keys in
    ``extra`` (a stage's ``name``) are not constructor parameters."""
    for i, spec in enumerate(specs):
        check_spec(spec, registry.names(), registry.get, extra=extra)
        refuse_yes_no(spec, registry.get(spec["type"]), f"item {i} ({spec['type']}): ")
        try:
            registry.build({k: v for k, v in spec.items() if k not in extra})
        except Exception as err:
            raise ValueError(f"item {i} ({spec['type']}): {err}") from None


def refuse_yes_no(spec: dict[str, Any], factory: Any, where: str) -> None:
    """A yes/no value for a numeric parameter (``p: yes``, ``hidden: [256, on]``) refused:
    constructors and lax pydantic took it as 1 or 0."""
    init = getattr(factory, "__init__", factory) if isinstance(factory, type) else factory
    hints = get_type_hints(factory if dataclasses.is_dataclass(factory) else init)
    for key, value in spec.items():
        why = yes_no_refusal(value, hints[key]) if key in hints else None
        if why:
            raise ValueError(f"{where}{key!r}: {why}")


def param_names(factory: Any) -> list[str]:
    """A stage's, config dataclass's or factory's parameter names."""
    if hasattr(factory, "param_names"):
        return list(factory.param_names())
    if hasattr(factory, "__dataclass_fields__"):
        return list(factory.__dataclass_fields__)
    sig = inspect.signature(factory)
    return [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]


def check_window(text: str) -> str:
    """``convert.window`` as written, once :func:`pipeline.ops.voi.parse_window` reads it
    (an unknown preset, a width <= 0: refused with the config, not after the run started)."""
    from pipeline.ops.voi import parse_window

    parse_window(text)
    return text


#: A ``convert.window`` value: ``none``, ``header``, a preset name or ``C,W``.
WindowText = Annotated[str, AfterValidator(check_window)]


def check_images_window(kind: str, window: str, fmt: str = "npy") -> None:
    """``convert.window`` (a preset, ``C,W`` or ``header``) or ``convert.format`` of a
    ``data.kind: images`` run, which uses its images as stored (nothing is converted), is
    refused instead of being ignored; for a window the error gives the ``window`` preprocess
    stage that applies it. ``header`` was let pass unsaid until 2026-12-03: an image file has
    no DICOM header, so no window was applied. ``none`` (the default) passes."""
    from pipeline.ops.voi import parse_window

    if kind != "images":
        return
    spec = parse_window(window)
    if spec.mode == "header":
        raise ValueError(
            "convert.window 'header' windows DICOM by each file's own WindowCenter/"
            "WindowWidth as it is converted, but data.kind: images uses the images as "
            "stored, which have no DICOM header: nothing would be windowed; set "
            "convert.window: none (or window in preprocess, {type: window, preset: ...})"
        )
    if spec.mode != "explicit":
        if fmt != "npy":
            raise ValueError(
                f"convert.format {fmt!r} is the format DICOM is converted to, but data.kind: "
                "images uses the images as stored (nothing is converted), so it would be "
                "ignored; remove it"
            )
        return
    stage = (f"{{type: window, preset: {spec.name}}}" if "," not in spec.name else
             f"{{type: window, center: {spec.center:g}, width: {spec.width:g}}}")  # fmt: skip
    raise ValueError(
        f"convert.window {window!r} windows DICOM as it is converted, but data.kind: images "
        f"uses the images as stored, so it would be ignored; window them in preprocess "
        f"({stage}) or remove it"
    )


def saved_images_convert(raw: dict[str, Any]) -> None:
    """A ``data.kind: images`` run saved before 2026-12-03 with ``convert.window: header`` or
    a ``convert.format`` (both ignored then: its images were used as stored) is read as it ran
    (``none``, ``npy``), so ``predict``, ``evaluate`` and ``--resume`` still take it; a new
    config is refused them (:func:`workflows.run.spec_checks.check_images_window`)."""
    convert = raw.get("convert")
    data = raw.get("data")
    if not (isinstance(convert, dict) and isinstance(data, dict) and data.get("kind") == "images"):
        return
    if str(convert.get("window", "")).strip().lower() == "header":
        convert["window"] = "none"
    convert.pop("format", None)


#: MONAI dictionary-transform arguments that name the key whose values place a crop.
_MONAI_SOURCE_ARGS = ("source_key", "label_key")


def check_preprocess(preprocess: list[dict[str, Any]], tta_flip: bool) -> None:
    """What runs on the test images: no crop by the truth (:func:`check_truth_free`), and no
    test-time flip of PCA scores.

    ``evaluate.tta_flip`` mirrors each preprocessed test image along its last axis; a ``pca``
    stage makes the image a score vector ``(K, 1, 1)``, which the mirror leaves as it is: the
    run averaged one prediction with itself and called it test-time augmentation, unsaid.
    """
    check_truth_free(preprocess)
    pca = [i for i, spec in enumerate(preprocess) if spec.get("type") == "pca"]
    if tta_flip and pca:
        raise ValueError(
            f"evaluate.tta_flip mirrors each test image after preprocessing, but preprocess "
            f"item {pca[0]} (pca) makes it a vector of scores (K, 1, 1), which a mirror leaves "
            "unchanged: it would average one prediction with itself; set evaluate.tta_flip: "
            "false"
        )


def check_truth_free(preprocess: list[dict[str, Any]]) -> None:
    """Refuse a preprocess stage that places its crop by the mask (the truth).

    Preprocessing runs on the validation and test images too (and in ``radpipe predict``,
    which has no mask): ``crop_foreground`` with ``source: mask``, or a MONAI transform
    cropping by ``source_key``/``label_key: mask``, cut each test image to the box of its own
    true mask. The evaluation then never saw the image outside the truth's box (false
    positives there uncounted) and the model was told where the object is: every test figure
    was optimistic, without a word (a Dice of 0.40 for 0.01 uncropped, 2 epochs).
    """
    for i, spec in enumerate(preprocess):
        args = spec.get("args") or {}
        by_mask = (spec.get("type") == "crop_foreground" and spec.get("source") == "mask") or (
            spec.get("type") == "monai" and any(args.get(k) == "mask" for k in _MONAI_SOURCE_ARGS)
        )
        if by_mask:
            raise ValueError(
                f"preprocess item {i} ({spec['type']}) crops each image to the box of its mask, "
                "but preprocessing runs on the test images too: they would be cut to where "
                "their truth is (false positives outside it never counted) and radpipe "
                "predict has no mask. Crop by the image (crop_foreground source: image with a "
                "threshold), or move it to augment (training only)"
            )
