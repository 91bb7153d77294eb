"""``radpipe predict``: a trained run applied to new DICOM.

The new folder goes through the run's own conversion options, its fitted preprocessing (from
``stages/``, never refitted) and its model (the best checkpoint, or the ensemble of the folds).
Outputs use the hashed names of ``radpipe convert``:

- ``predictions.csv``: one row per item (image or series): keys, predicted class and name,
  and a probability per class (segmentation: the fraction of pixels of each class);
- segmentation: ``masks/<patient_key>/<series_key>/<instance_key>_<frame>.png``, class
  indices at the original image size, and one DICOM Segmentation object per series
  (``seg/<patient_key>/<series_key>.dcm``, via highdicom, PS3.3 A.51) that references the
  source images, for viewers and PACS; and one NIfTI label map per series
  (``labels/<patient_key>/<series_key>.nii.gz``, uint8 class indices on the grid and affine
  ``radpipe convert --format nifti`` gives the series: :mod:`workflows.run.label_nifti`).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.metrics._arrays import tie_example, tied_top
from pipeline.postprocess import Postprocess
from pipeline.stage import Pipeline
from pipeline.words import counted
from workflows.run.checks import check_dicom_run
from workflows.run.labels import spreadsheet_safe
from workflows.run.paths import shown
from workflows.run.planes import note_other_planes, runs_planes
from workflows.run.polarity import note_new_polarity
from workflows.run.rundir import split_index_values
from workflows.run.scale import runs_pixel_range
from workflows.run.skipped import drop_non_finite, write_skipped
from workflows.run.windows import scale_problem, trained_scale

log = logging.getLogger("radpipe")


@dataclass
class PredictResult:
    out: Path
    predictions: Path
    items: int
    failures: int
    skipped: int = 0  # converted images the run's model cannot take (see skipped.csv)
    postprocess: dict[str, Any] | None = None  # steps applied to the masks, what they changed


def predict_folder(
    run_dir: Path,
    src: Path,
    out: Path,
    *,
    progress: bool = True,
    hashed_keys_only: bool = False,
    with_uids: bool = False,
) -> PredictResult:
    """Predict every image (or series) of ``src`` with the run in ``run_dir``, under ``out``.

    ``predictions.csv``: each item's hashed keys and ``source`` path relative to ``src``;
    ``with_uids`` adds its raw SOP/SeriesInstanceUID (opt-in), ``hashed_keys_only`` no source.

    Raises
    ------
    RadpipeError
        Both ``with_uids`` and ``hashed_keys_only``; nothing in ``src`` could be converted or
        used by the model.
    """
    if with_uids and hashed_keys_only:
        raise RadpipeError("--with-uids and --hashed-keys-only contradict each other; give one.")
    from workflows.run.evaluate import predict_with_checkpoint
    from workflows.run.invert import on_source_pixels
    from workflows.run.paths import require_inputs
    from workflows.run.run_models import run_checkpoints
    from workflows.run.rundir import claim_output, fold_dir, load_run_config

    config = load_run_config(run_dir)
    check_dicom_run(config, "predict")
    require_inputs(src)
    checkpoints = run_checkpoints(run_dir, config.split.folds)  # each fold's, before any work
    _refuse_other_source(out, src)
    claim_output(out, "predictions.csv")
    result = _convert(run_dir, src, converted := out / "converted", config, progress)
    folds: list[int | None] = list(range(config.split.folds)) if config.split.folds else [None]
    probs_sum: Any = None
    keep: list[int] | None = None
    fold_dirs = [fold_dir(run_dir, f) for f in folds]
    for fold, checkpoint in zip(folds, checkpoints):
        folder = fold_dir(run_dir, fold)
        prep = Pipeline.load(folder / "stages")
        dataset = _dataset(converted, config, prep)
        if keep is None:  # the images the model can take, the others listed with the reason
            keep, items, skipped = _usable(
                dataset,
                _model_info(folder, fold_dirs),
                split_index_values(run_dir, "modality"),
                trained_scale(run_dir, config.convert.window),
                by_source=not hashed_keys_only,
            )
            shown = [(o, "" if hashed_keys_only else s, why) for o, s, why in skipped]
            write_skipped(out / "skipped.csv", shown)
            if not keep:
                raise RadpipeError(f"None of the {len(dataset)} images can be used; see "
                                   f"{out / 'skipped.csv'}.")  # fmt: skip
        else:
            items = [dataset[i] for i in keep]
        probs: Any = predict_with_checkpoint(config, checkpoint, items)
        if config.task == "segmentation":  # each fold's maps on the source pixels, then the mean
            order = 1 if config.evaluate.upsample == "linear" else 0
            probs = [on_source_pixels(p, prep, dataset.raw_sample(i), order)[0]
                     for i, p in zip(keep, probs)]  # fmt: skip
        probs_sum = probs if probs_sum is None else [a + b for a, b in zip(probs_sum, probs)]
    assert probs_sum is not None and keep is not None
    _say_seen(run_dir, [dataset.items[i][0] for i in keep], Path(src), fold_dirs, hashed_keys_only)
    keep, probs = drop_non_finite(dataset, keep, [p / len(folds) for p in probs_sum], skipped,
                                  out / "skipped.csv", hashed_keys_only)  # fmt: skip
    names = _class_names(config, run_dir, probs[0].shape[0])
    join = None if hashed_keys_only else Path(src)
    post = Postprocess.from_specs(config.postprocess)
    path, planes, record = _write(out, converted, dataset, dict(zip(keep, probs)), names,
                                  config.task, join, post, with_uids)  # fmt: skip
    if planes:  # each series' masks as one DICOM SEG and one NIfTI label map too
        from workflows.run.label_nifti import write_series_masks

        write_series_masks(out, Path(src), planes, names)
    return PredictResult(out=out, predictions=path, items=len(keep),
                         failures=len(result.failures), skipped=len(skipped),
                         postprocess=record)  # fmt: skip


def _convert(run_dir: Path, src: Path, converted: Path, config: Any, progress: bool) -> Any:
    """Convert ``src`` as the run converted its own data, with an ``index.csv`` (which tells
    the images' grey polarity, :func:`~workflows.run.polarity.note_new_polarity`)."""
    from workflows.convert.batch import convert_folder
    from workflows.run.study import run_convert_options

    result = convert_folder(src, converted, run_convert_options(config), progress=progress,
                            index_csv=converted / "index.csv")  # fmt: skip
    if result.outputs == 0:
        raise RadpipeError(result.why_nothing(shown(src), shown(converted / "errors.csv")))
    note_new_polarity(run_dir, converted, config.convert.window)
    return result


def _refuse_other_source(out: Path, src: Path) -> None:
    """Refuse an ``out`` that holds the predictions of another folder: its ``masks/`` and
    ``seg/`` files (of other patients) would stay beside this folder's, unlisted."""
    from workflows.convert.resume import same_source

    if (out / "predictions.csv").exists() and not same_source(out / "converted", src):
        raise RadpipeError(
            f"{out} holds the predictions of another folder than {src}: their masks/ and seg/ "
            "files would be mixed with these. Give another --out (by default each SRC gets "
            "its own RUN/predictions-<hash>), or remove that folder first."
        )


def _model_info(folder: Path, folders: list[Path]) -> dict[str, Any]:
    """What the fold's model was built for (``stages/data.json``): the image ``shape``
    ``(C, *spatial)``; and the training images' ``pixel_mm`` range (runs since 2026-12-01)
    and a series run's ``slice_mm`` range (since 2026-12-02), over every fold's ``folders``."""
    import json

    info = dict(json.loads((folder / "stages" / "data.json").read_text()))
    return info | {key: runs_pixel_range(folders, key) for key in ("pixel_mm", "slice_mm")}


def _usable(
    dataset: Any, model: dict[str, Any], modalities: set[str], scale: str | None = None,
    by_source: bool = True,
) -> tuple[list[int], list[dict[str, Any]], list[tuple[str, str, str]]]:  # fmt: skip
    """Preprocessed items whose shape is ``shape``: (indices, items, [(output, source, why
    not)]).

    Images of a modality the run was not trained on (when both are known) are predicted, and
    a warning says how many, of which modality. With ``scale`` ``"windowed"`` (the model saw
    header-windowed images only) an image without a header window is skipped, with
    ``"unwindowed"`` (it saw none) an image with one (:func:`~workflows.run.windows.scale_problem`).
    Images of another pixel size than the training images (after preprocessing) are predicted,
    and said (:mod:`workflows.run.scale`). Those warnings name an image by its source file
    (``by_source``; it was the hashed output, ``1d4b.../c5e0..._000.npy``), else by its output.
    """
    from pipeline.data.base import sample_to_item
    from workflows.run.foreign import unlike_training

    shape = list(model["shape"])
    keep, items, skipped, named = [], [], [], []
    for i in range(len(dataset)):
        row = dataset.items[i][0]
        name, source = row["output"], row.get("source", "")
        problem = scale_problem(row, scale)  # windowed vs not, unlike the training images
        if problem:
            skipped.append((name, source, problem))
            continue
        try:
            sample = dataset.sample(i)
            item = sample_to_item(sample)
        except RadpipeError as err:
            skipped.append((name, source, _refused(dataset, i, shape[0], err)))
            continue
        got = list(item["image"].shape)
        if got[0] != shape[0]:
            skipped.append((name, source, _channels(got[0], shape[0])))
        elif got != shape:
            why = (f"shape {tuple(got)} after preprocessing; the run's model takes "
                   f"{tuple(shape)} (add a resize stage)")  # fmt: skip
            skipped.append((name, source, why))
        else:
            keep.append(i)
            items.append(item)
            shown = (source or name) if by_source else name
            named.append((shown, row.get("modality") or "", sample.meta.get("spacing")))
    unlike_training(named, modalities, model.get("pixel_mm"), "predicted", model.get("slice_mm"))
    return keep, items, skipped


def _refused(dataset: Any, i: int, takes: int, err: RadpipeError) -> str:
    """Why image ``i`` is skipped when its preprocessing failed: a fitted stage refuses a
    colour image before the model's channel check could; the channels are said first."""
    try:
        got = int(dataset.raw_sample(i).image.shape[0])
    except RadpipeError:
        return str(err)
    return f"{_channels(got, takes)} ({err})" if got != takes else str(err)


def _channels(got: int, takes: int) -> str:
    kind = "colour" if got > 1 else "grey"
    return f"{counted(got, 'channel')} ({kind}); the run's model takes {takes}"


def _say_seen(
    run_dir: Path, rows: list[dict[str, Any]], src: Path, folders: list[Path], hashed: bool
) -> None:
    """Warn when predicted images are the run's own training/validation series (or their
    patients'): their predictions are not those of an unseen case (:mod:`workflows.run.seen`);
    and when they are cut in another plane than the training series of the fold ``folders``
    (:mod:`workflows.run.planes`; named by their source below ``src`` unless ``hashed``)."""
    note_other_planes(src, rows, runs_planes(folders), not hashed)
    from workflows.run.seen import seen_by_run

    seen = seen_by_run(run_dir, rows)
    if seen.series:
        log.warning("SRC holds images the run trained on: %s. Their predictions are no guide "
                    "to how the model does on new patients.", seen.note())  # fmt: skip
    if seen.patients:
        log.warning("%s.", seen.caution())


def _dataset(converted: Path, config: Any, pipe: Pipeline) -> Any:
    from pipeline.data import ManifestDataset
    from pipeline.data.io import read_manifest
    from workflows.run.windows import usable_series_rows

    rows = usable_series_rows(
        read_manifest(converted / "manifest.csv"), config.data.unit, split=False
    )
    keys = {r["series_key"] for r in rows}
    return ManifestDataset(converted, mode=config.data.unit, pipeline=pipe, seed=config.seed,
                           series_keys=keys)  # fmt: skip


def _class_names(config: Any, run_dir: Path, k: int) -> list[str]:
    import json

    from workflows.run.labels import stored_class_names

    stored = stored_class_names(run_dir)  # the order the run trained with
    if stored and len(stored) == k:
        return stored
    if config.data.class_names:
        return list(config.data.class_names)
    metrics = run_dir / "metrics.json"
    if metrics.exists():
        names = json.loads(metrics.read_text()).get("class_names")
        if names and len(names) == k:
            return list(names)
    return [str(i) for i in range(k)]


def _write(
    out: Path,
    converted: Path,
    dataset: Any,
    probs: dict[int, Any],
    names: list[str],
    task: str,
    src: Path | None = None,
    post: Postprocess | None = None,
    with_uids: bool = False,
) -> tuple[Path, list[tuple[dict[str, Any], np.ndarray]], dict[str, Any] | None]:
    """``predictions.csv`` and mask PNGs for the items in ``probs`` (dataset index ->
    probabilities); returns the CSV, (manifest row, mask) per slice and, for segmentation,
    the record of the ``post`` steps applied to each mask on the source pixels. With
    ``src``, each row also names its source file (join-back column), and with ``with_uids``
    its raw DICOM UID."""
    from workflows.run.joinback import source_columns

    rows = []
    planes: list[tuple[dict[str, Any], np.ndarray]] = []
    masks, record = (
        (post or Postprocess()).apply_all(p.argmax(axis=0).astype(np.uint8) for p in probs.values())
        if task == "segmentation"
        else ([], None)
    )
    for pos, (i, p) in enumerate(probs.items()):
        item_rows = dataset.items[i]
        first = item_rows[0]
        row = {
            "patient_key": first["patient_key"],
            "series_key": first["series_key"],
            "instance_key": first["instance_key"] if dataset.mode == "image" else "",
            "frame": first["frame"] if dataset.mode == "image" else "",
        }
        if src is not None:
            row |= source_columns(src, item_rows, dataset.mode, with_uid=with_uids)
        if task == "classification":
            pred = int(p.argmax())
            row |= {
                "pred": pred,
                "class_name": spreadsheet_safe(names[pred]),
                **{f"prob_{n}": round(float(v), 6) for n, v in zip(names, p)},
            }
        else:
            mask = masks[pos]
            written = _write_mask(out, converted, item_rows, mask)
            planes.extend(written)
            row["mask"] = written[0][0]["mask"] if len(written) == 1 else f"{len(written)} slices"
            fractions = np.bincount(mask.ravel(), minlength=len(names)) / mask.size
            row |= {f"fraction_{n}": round(float(v), 6) for n, v in zip(names, fractions)}
        rows.append(row)
    warn_ties(task, list(probs.values()), names)
    uid = "sop_instance_uid" if dataset.mode == "image" else "series_instance_uid"
    if unread := sum(1 for r in rows if r.get(uid) == ""):  # --with-uids, a file not read
        log.warning("%d of %d rows have an empty %s: their source file could not be read again "
                    "(a name with undecodable bytes or control characters, shown escaped in "
                    "'source'; or the file changed since)", unread, len(rows), uid)  # fmt: skip
    path = out / "predictions.csv"
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, planes, record


def warn_ties(task: str, probs: list[np.ndarray], names: list[str]) -> int:
    """Warn of the rows (classification) or mask voxels (segmentation, each ``(K, ...)``)
    whose top probability ties, which the argmax gave to the first tied class, as radpipe
    evaluate calls them (a segmentation's tied voxels went unsaid); returns their count."""
    if task == "classification":
        if ties := tied_top(np.stack(probs)):
            log.warning("%d of %d rows tie on their top probability (%s): 'pred' is the first "
                        "of the tied classes, as radpipe evaluate calls it", ties, len(probs),
                        tie_example(len(probs[0])))  # fmt: skip
        return ties
    tied = [tied_top(p, axis=0) for p in probs]
    if ties := sum(tied):
        log.warning("%d voxels in %d of %d masks tie on their top probability: each is the "
                    "first of the tied classes (%s first), as radpipe evaluate calls them",
                    ties, sum(1 for t in tied if t), len(tied), names[0])  # fmt: skip
    return ties


def _write_mask(
    out: Path, converted: Path, item_rows: list[dict[str, Any]], mask: np.ndarray
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Masks on the source pixels (already inverted), one PNG per slice."""
    from PIL import Image

    from pipeline.data.io import load_image

    planes = mask if mask.ndim == 3 else mask[None]
    if len(planes) != len(item_rows):
        raise RadpipeError(f"{len(planes)} predicted slices for {len(item_rows)} source images.")
    written = []
    for row, plane in zip(item_rows, planes):
        original = load_image(converted / row["output"]).shape[-2:]
        if plane.shape != original:  # never resized to fit: that would misplace the mask
            raise RadpipeError(
                f"{row['output']}: predicted mask {plane.shape} != image {original}."
            )
        rel = Path("masks") / Path(row["output"]).with_suffix(".png")
        with atomic_path(out / rel) as tmp:
            Image.fromarray(plane).save(tmp)
        written.append(({**row, "mask": rel.as_posix()}, plane))
    return written
