"""``radpipe predict`` of a run trained on converted images (``data.kind: images``).

SRC is a folder of PNG/NPY/NIfTI images (every one below it) or a list CSV (an ``image``
column, paths relative to the CSV's folder). Each image is read as the run read its own
(:class:`~pipeline.data.FolderDataset`), through each fold's fitted stages (never refitted)
and model, as a DICOM folder is (:mod:`workflows.run.predict_folds`). Outputs, under OUT:

- ``predictions.csv``: one row per image: ``image`` (its path relative to SRC; left out with
  ``--hashed-keys-only``), ``image_key`` (the hashed path), and the predicted class, its name
  and a probability per class (segmentation: the mask file and the fraction of each class);
- segmentation: ``masks/<image path without its suffix>.png`` (``.npy`` for a volume;
  ``.nii.gz`` for a NIfTI image: the image's voxel order, affine and header): class indices at
  the source image's size (``masks/<image_key>.png`` with ``--hashed-keys-only``);
- ``skipped.csv``: the images not predicted (unreadable, another channel count or shape than
  the model takes) and why; the command then exits 1, the others predicted.

Every file is written atomically; a rerun into OUT writes them again and removes the masks
it did not write (of images gone from SRC or skipped now, or named by path before
``--hashed-keys-only``). OUT of another SRC is
refused (its masks would stay beside these, unlisted).
"""

from __future__ import annotations

import csv
import gzip
import json
import tempfile
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from pipeline.data import FolderDataset
from pipeline.data.io import IMAGE_SUFFIXES, csv_path
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path, atomic_write_text
from pipeline.keys import hash_key
from pipeline.postprocess import Postprocess
from workflows.run.labels import spreadsheet_safe

__all__ = ["predict_images"]

#: Which SRC the predictions in OUT are of (its hashed absolute path).
_SOURCE = "source.json"


def predict_images(
    run_dir: Path, config: Any, src: Path, out: Path, checkpoints: list[Path], hashed: bool
) -> tuple[Path, int, int, dict[str, Any] | None]:
    """Predict every image of ``src``; returns ``predictions.csv``, the number of images
    predicted and skipped, and (segmentation) what the post-processing changed."""
    from workflows.convert.resume import source_key
    from workflows.run.image_source import image_files
    from workflows.run.rundir import hold_output

    root, names, spacings = image_files(src, bool(config.data.allow_outside_paths))
    key = source_key(src)
    if (out / _SOURCE).is_file() and json.loads((out / _SOURCE).read_text()) != {"key": key}:
        raise RadpipeError(
            f"{out} holds the predictions of another SRC than {src}: their masks/ would be "
            "mixed with these. Give another --out (by default each SRC gets its own "
            "RUN/predictions-<hash>), or remove that folder first."
        )
    with hold_output(out, "predictions.csv"):  # one writer; a killed one's temps gone
        atomic_write_text(out / _SOURCE, json.dumps({"key": key}))
        return _predict_held(run_dir, config, src, out, checkpoints, hashed, root, names, spacings)


def _predict_held(
    run_dir: Path, config: Any, src: Path, out: Path, checkpoints: list[Path], hashed: bool,
    root: Path, names: list[str], spacings: dict[str, tuple[str, int]],
) -> tuple[Path, int, int, dict[str, Any] | None]:  # fmt: skip
    """:func:`predict_images` once ``out`` is held."""
    from workflows.run.class_order import class_names
    from workflows.run.image_storage import say_other_storage, training_storage
    from workflows.run.predict_folds import fold_probabilities, warn_ties
    from workflows.run.seen import warn_seen
    from workflows.run.seen_images import fitted_images, seen_images
    from workflows.run.skipped import drop_non_finite

    with tempfile.TemporaryDirectory() as tmp:  # the list FolderDataset reads, names and all
        listed = Path(tmp) / (src.name if src.is_file() else "images.csv")
        _write_list(listed, names, spacings)

        def dataset_of(prep: Any) -> Any:
            return _ImageFiles(
                root, listed, pipeline=prep, seed=config.seed,
                mask_values=config.data.mask_values, max_classes=config.data.max_classes,
            )  # fmt: skip

        found = fold_probabilities(run_dir, config, checkpoints, dataset_of, out, hashed, None)
    dataset, skipped = found.dataset, found.skipped
    new = {hash_key(names[i]): (csv_path(root, names[i]), "") for i in found.keep}
    own = fitted_images(run_dir, config)  # the run's own images (their bytes, their kinds)
    warn_seen(seen_images(own, new))
    say_other_storage(training_storage(own[1]), [f for f, _ in new.values()], "predicted")
    keep, probs = drop_non_finite(dataset, found.keep, found.probs, skipped,
                                  out / "skipped.csv", hashed)  # fmt: skip
    labels = class_names(config, run_dir, probs[0].shape[0])
    warn_ties(config.task, probs, labels)
    rows, record = _rows(out, config, [names[i] for i in keep], probs, labels, hashed, root)
    path = out / "predictions.csv"
    with atomic_path(path) as tmp_csv, tmp_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _drop_stale_masks(out, {row["mask"] for row in rows if "mask" in row})
    return path, len(keep), len(skipped), record


def _write_list(path: Path, names: list[str], spacings: dict[str, tuple[str, int]]) -> None:
    """The list FolderDataset reads: each image and, from SRC's list, its ``spacing`` (the
    pixel size in mm that the scale check and the masks' distances need; it was dropped, and
    every image said to have none), on its line in SRC's list, so messages name that line."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image", "spacing"] if spacings else ["image"])
        line = 1
        for name in names:
            cell, at = spacings.get(name, ("", 0))
            if at > line + 1:  # blank lines: csv skips them, and counts them
                fh.write("\r\n" * (at - line - 1))
                line = at - 1
            writer.writerow([name, cell] if spacings else [name])
            line += 1


def _drop_stale_masks(out: Path, written: set[str]) -> None:
    """Remove the masks of an earlier prediction into ``out`` that this one did not write.

    They would stay beside these, unlisted in ``predictions.csv``: the mask of an image since
    removed from SRC or now skipped, or every mask named by its source path after a rerun with
    ``--hashed-keys-only`` (the names that option keeps out of OUT).
    """
    import logging

    from pipeline.words import counted

    folder = out / "masks"
    if not folder.is_dir():
        return
    stale = sorted(
        f for f in folder.rglob("*")
        if f.is_file() and f.suffix.lower() in (".png", ".npy", ".nii", ".gz")
        and f.relative_to(out).as_posix() not in written
    )  # fmt: skip
    for f in stale:
        f.unlink()
    for d in sorted((d for d in folder.rglob("*") if d.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    if stale:
        logging.getLogger("radpipe").warning(
            "removed %s of an earlier prediction into %s that this one did not write (of "
            "images no longer in SRC or not predicted now, or named otherwise)",
            counted(len(stale), "mask file"), out,
        )  # fmt: skip


def _rows(
    out: Path, config: Any, names: list[str], probs: list[np.ndarray], labels: list[str],
    hashed: bool, root: Path,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:  # fmt: skip
    """One ``predictions.csv`` row per image (and, segmentation, its mask written)."""
    rows: list[dict[str, Any]] = [
        ({} if hashed else {"image": spreadsheet_safe(n)}) | {"image_key": hash_key(n)}
        for n in names
    ]
    if config.task == "classification":
        for row, p in zip(rows, probs):
            pred = int(p.argmax())
            row |= {"pred": pred, "class_name": spreadsheet_safe(labels[pred]),
                    **{f"prob_{n}": round(float(v), 6) for n, v in zip(labels, p)}}  # fmt: skip
        return rows, None
    post = Postprocess.from_specs(config.postprocess)
    masks, record = post.apply_all(p.argmax(axis=0).astype(np.uint8) for p in probs)
    files = _mask_names(names, hashed)
    for row, image, name, mask in zip(rows, names, files, masks):
        nifti = _nifti_mask(csv_path(root, image), mask)
        suffix = ".nii.gz" if nifti is not None else ".png" if mask.ndim == 2 else ".npy"
        rel = Path("masks") / (name + suffix)
        with atomic_path(out / rel) as tmp:
            if nifti is None:
                _save_mask(tmp, mask)
            else:
                tmp.write_bytes(gzip.compress(nifti.to_bytes(), compresslevel=1))
        fractions = np.bincount(mask.ravel(), minlength=len(labels)) / mask.size
        row["mask"] = rel.as_posix()
        row |= {f"fraction_{n}": round(float(v), 6) for n, v in zip(labels, fractions)}
    return rows, record


def _mask_names(names: list[str], hashed: bool) -> list[str]:
    """Each image's mask name: its path without the image suffix (``img/a.png`` ->
    ``img/a``), the whole path where two images would share one (``a.png``, ``a.npy``), or
    its hashed key (``hashed``, and a path that leaves SRC: ``../a.png``)."""
    if hashed:
        return [hash_key(n) for n in names]
    stems = [next((n[: -len(s)] for s in IMAGE_SUFFIXES if n.lower().endswith(s)), n)
             for n in names]  # fmt: skip
    shared = Counter(stems)  # (a count per name: list.count was quadratic in the images)
    named = [n if shared[s] > 1 else s for n, s in zip(names, stems)]
    # a path outside SRC (data.allow_outside_paths) would name a file outside masks/
    return [hash_key(n) if _leaves(n) else m for n, m in zip(names, named)]


def _leaves(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or PureWindowsPath(name).drive != ""


def _nifti_mask(image: Path, mask: np.ndarray) -> Any:
    """The mask of a NIfTI image as a NIfTI image on its grid, or ``None`` (not NIfTI).

    NIfTI arrays are read with their axes reversed, ``(z, y, x)`` (:mod:`pipeline.data.io`);
    an ``.npy`` of that order beside an ``(x, y, z)`` NIfTI (a PNG of ``(y, x)`` beside a 2-D
    one) was transposed against the image for a user who overlays one on the other
    (silently so for a cubic volume or a square image), and had no affine. The mask goes
    back to the image's voxel order, with its header (affine, zooms, units), as uint8 class
    indices without scaling.
    """
    if not image.name.lower().endswith((".nii", ".nii.gz")):
        return None
    import nibabel as nib

    source: Any = nib.load(image)
    data = np.ascontiguousarray(mask.transpose(tuple(range(mask.ndim))[::-1]), dtype=np.uint8)
    if data.shape != tuple(source.shape):  # a 4-D image (channels): its mask stays .npy
        return None
    header = source.header.copy()
    header.set_data_dtype(np.uint8)
    header.set_slope_inter(1.0, 0.0)
    return nib.Nifti1Image(data, None, header=header)


def _save_mask(path: Path, mask: np.ndarray) -> None:
    if mask.ndim == 2:
        from PIL import Image

        Image.fromarray(mask).save(path, format="PNG")
    else:
        with path.open("wb") as fh:
            np.save(fh, mask)


class _ImageFiles(FolderDataset):
    """The images as :mod:`workflows.run.predict_folds` names items: ``(output, source)``
    rows, the image's hashed key and its path relative to SRC."""

    mode = "image"

    @property
    def items(self) -> list[list[dict[str, str]]]:
        return [[{"output": hash_key(r["image"]), "source": r["image"]}] for r in self.rows]
