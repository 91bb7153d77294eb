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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError, RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.postprocess import Postprocess
from pipeline.stage import Pipeline
from workflows.run.class_order import class_names
from workflows.run.image_source import check_source_kind
from workflows.run.labels import spreadsheet_safe
from workflows.run.paths import shown
from workflows.run.planes import note_other_planes, runs_planes
from workflows.run.polarity import note_new_polarity
from workflows.run.predict_folds import fold_probabilities, warn_ties
from workflows.run.skipped import drop_non_finite
from workflows.run.windows import trained_scale

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
    from workflows.run.paths import require_inputs
    from workflows.run.run_models import run_checkpoints
    from workflows.run.rundir import hold_output, load_run_config

    config = load_run_config(run_dir)
    check_source_kind(config.data.kind, src, "predict")
    if config.data.kind == "images":
        return _predict_images(run_dir, config, src, out, hashed_keys_only, with_uids)
    require_inputs(src)
    checkpoints = run_checkpoints(run_dir, config.split.folds)  # each fold's, before any work
    _refuse_other_source(out, src)
    with hold_output(out, "predictions.csv"):
        return _predict_dicom(run_dir, config, src, out, checkpoints, progress,
                              hashed_keys_only, with_uids)  # fmt: skip


def _predict_dicom(
    run_dir: Path, config: Any, src: Path, out: Path, checkpoints: list[Path], progress: bool,
    hashed_keys_only: bool, with_uids: bool,
) -> PredictResult:  # fmt: skip
    """:func:`predict_folder` of a DICOM run, ``out`` held."""
    started = time.time()
    result = _convert(run_dir, src, converted := out / "converted", config, progress)
    found = fold_probabilities(
        run_dir, config, checkpoints, lambda prep: _dataset(converted, config, prep), out,
        hashed_keys_only, trained_scale(run_dir, config.convert.window),
    )  # fmt: skip
    dataset, keep, skipped, fold_dirs = found.dataset, found.keep, found.skipped, found.folders
    _say_seen(run_dir, [dataset.items[i][0] for i in keep], Path(src), fold_dirs, hashed_keys_only)
    keep, probs = drop_non_finite(dataset, keep, found.probs, skipped,
                                  out / "skipped.csv", hashed_keys_only)  # fmt: skip
    names = class_names(config, run_dir, probs[0].shape[0])
    join = None if hashed_keys_only else Path(src)
    post = Postprocess.from_specs(config.postprocess)
    path, planes, record = _write(out, converted, dataset, dict(zip(keep, probs)), names,
                                  config.task, join, post, with_uids)  # fmt: skip
    if planes:  # each series' masks as one DICOM SEG and one NIfTI label map too
        from workflows.run.label_nifti import write_series_masks

        write_series_masks(out, Path(src), planes, names)
    _drop_unwritten(out, started)
    return PredictResult(out=out, predictions=path, items=len(keep),
                         failures=len(result.failures), skipped=len(skipped),
                         postprocess=record)  # fmt: skip


def _predict_images(
    run_dir: Path, config: Any, src: Path, out: Path, hashed: bool, with_uids: bool
) -> PredictResult:
    """A run trained on ``data.kind: images`` applied to a folder or list of images
    (:mod:`workflows.run.predict_images`)."""
    from workflows.run.predict_images import predict_images
    from workflows.run.run_models import run_checkpoints

    if with_uids:
        raise ConfigError("--with-uids: this run was trained on data.kind: images, whose "
                          "files carry no DICOM UIDs.")  # fmt: skip
    checkpoints = run_checkpoints(run_dir, config.split.folds)  # each fold's, before any work
    path, items, skipped, record = predict_images(run_dir, config, src, out, checkpoints, hashed)
    return PredictResult(out=out, predictions=path, items=items, failures=0, skipped=skipped,
                         postprocess=record)  # fmt: skip


def _convert(run_dir: Path, src: Path, converted: Path, config: Any, progress: bool) -> Any:
    """Convert ``src`` as the run converted its own data, with an ``index.csv`` (which tells
    the images' grey polarity, :func:`~workflows.run.polarity.note_new_polarity`)."""
    from workflows.convert.batch import convert_folder
    from workflows.run.convert_cache import run_convert_options

    result = convert_folder(src, converted, run_convert_options(config), progress=progress,
                            index_csv=converted / "index.csv")  # fmt: skip
    if result.outputs == 0:
        raise RadpipeError(result.why_nothing(shown(src), shown(converted / "errors.csv")))
    note_new_polarity(run_dir, converted, config.convert.window)
    return result


def _drop_unwritten(out: Path, started: float) -> None:
    """Remove the masks, SEGs and label maps of an earlier prediction into ``out`` that this
    one, begun at ``started``, did not write again: of images since removed from SRC, or not
    predicted or given no label map now. Unlisted in ``predictions.csv`` and counted in what
    the command said it wrote, they stayed beside the new ones until 2026-12-04. ``out`` is
    held (no other writer); 2 s of margin for file systems with coarse times."""
    from pipeline.words import counted

    found = [f for folder in ("masks", "seg", "labels") for f in (out / folder).rglob("[!.]*")]
    old = sorted(f for f in found if f.is_file() and f.stat().st_mtime < started - 2)
    for f in old:
        f.unlink()
    if old:
        log.warning("removed %s of an earlier prediction into %s that this one did not write "
                    "(of images no longer in SRC or not predicted now)",
                    counted(len(old), "file"), shown(out))  # fmt: skip


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


def _say_seen(
    run_dir: Path, rows: list[dict[str, Any]], src: Path, folders: list[Path], hashed: bool
) -> None:
    """Warn when predicted images are the run's own training/validation series (or their
    patients'): their predictions are not those of an unseen case (:mod:`workflows.run.seen`);
    and when they are cut in another plane than the training series of the fold ``folders``
    (:mod:`workflows.run.planes`; named by their source below ``src`` unless ``hashed``)."""
    note_other_planes(src, rows, runs_planes(folders), not hashed)
    from workflows.run.seen import secret_problem, seen_by_run, warn_seen

    secret = secret_problem(run_dir)
    if secret is not None:  # no image would be found seen: say that nothing could be checked
        log.warning("%s%s: no image of SRC is flagged as one the run trained on, and the "
                    "output names are keys of this secret, not of the run's split.csv.",
                    secret[0].upper(), secret[1:])  # fmt: skip
        return
    warn_seen(seen_by_run(run_dir, rows))


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
