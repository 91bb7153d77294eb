"""Datasets over converted images: a conversion manifest, or a plain folder with a labels CSV."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cells import csv_label, csv_rows, csv_spacing
from pipeline.data.base import SampleDataset
from pipeline.data.io import (
    IMAGE_SUFFIXES,
    csv_path,
    csv_text,
    in_no_volume,
    load_array,
    load_image,
    load_mask,
    nifti_spacing,
    read_labels_csv,
    read_manifest,
    read_masks_csv,
    unpositioned,
)
from pipeline.data.masks import MAX_CLASSES
from pipeline.data.orient import align_nifti_mask, is_nifti
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.names import series_name, series_sources
from pipeline.sample import Sample
from pipeline.stage import Pipeline

__all__ = ["SAMPLE_ORDER", "FolderDataset", "ManifestDataset", "sample_order"]


class ManifestDataset(SampleDataset):
    """Items from a conversion manifest (``radpipe convert``'s ``manifest.csv``).

    Parameters
    ----------
    root
        The conversion output folder; manifest ``output`` paths are relative to it.
    manifest
        The manifest file, relative to ``root`` (or absolute).
    mode
        ``"image"``: one item per manifest row (a slice ``(C, H, W)``, or a per-series volume
        ``(C, D, H, W)``). ``"series"``: one item per series, slices stacked along D in
        ``slice_index`` order (then ``frame``), ``(C, D, H, W)``, for recurrent models.
    labels
        A labels CSV (``series_uid`` or ``series_key``, ``label``); joined on ``series_key``.
    masks
        A masks CSV (``sop_instance_uid`` or ``instance_key``, ``frame``, ``mask``); mask
        files (PNG/NPY/NIfTI) are relative to the CSV's folder; joined on
        ``(instance_key, frame)``. Every image of the dataset must then have a mask.
    series_keys
        Keep only these series (e.g. the training rows of a ``split.csv``).
    mask_values, max_classes
        How mask values become class indices; see :func:`pipeline.data.io.load_mask`.
    pipeline, seed, cache_dir
        See :class:`~pipeline.data.base.SampleDataset`.

    Notes
    -----
    Items are in :func:`sample_order`: by source file path, then frame, a key that does not
    change when the same images are exported again with fresh UIDs (the item index seeds
    the augmentation and the shuffled batches, so the order must not follow hashed UIDs).
    Item ids are opaque: ``instance_key`` (``:frame`` when > 0) in image mode, ``series_key``
    in series mode (``series_key:vN`` for volume N > 0 of a series that assembles into several).
    ``meta`` carries ``patient_key``, ``series_key`` and ``spacing`` (from the manifest; a
    stacked series gets ``(z, y, x)`` with z the manifest's ``slice_spacing``, NaN when that is
    empty: uneven or unknown).
    """

    def __init__(
        self,
        root: str | Path,
        manifest: str | Path = "manifest.csv",
        *,
        mode: str = "image",
        labels: str | Path | None = None,
        masks: str | Path | None = None,
        series_keys: Collection[str] | None = None,
        pipeline: Pipeline | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        mask_values: Mapping[int, int] | None = None,
        max_classes: int = MAX_CLASSES,
    ) -> None:
        super().__init__(pipeline=pipeline, seed=seed, cache_dir=cache_dir)
        self.mask_values = None if mask_values is None else dict(mask_values)
        self.max_classes = max_classes
        if mode not in ("image", "series"):
            raise ValueError(f"mode must be 'image' or 'series'; got {mode!r}.")
        self.root = Path(root)
        self.mode = mode
        self.manifest_path = self.root / manifest
        rows = sorted(read_manifest(self.manifest_path), key=sample_order)
        if series_keys is not None:
            wanted = set(series_keys)
            rows = [r for r in rows if r["series_key"] in wanted]
        self.labels = read_labels_csv(labels) if labels is not None else None
        self.masks = read_masks_csv(masks) if masks is not None else None
        self.items: list[list[dict[str, Any]]] = (
            [[r] for r in rows] if mode == "image" else _group_series(rows)
        )

    def __len__(self) -> int:
        return len(self.items)

    def item_key(self, index: int) -> str:
        """A stable, opaque key of item ``index`` (its cache file name)."""
        rows = self.items[index]
        return hash_key("|".join(r["output"] for r in rows) + f"|{self.mode}")

    def source_id(self) -> str:
        """What identifies the dataset's inputs (part of the cache fingerprint)."""
        masks = f"{self.masks}|{self.mask_values}|{self.max_classes}"
        return f"{self.manifest_path.resolve()}|{self.mode}|{self.labels}|{masks}"

    def input_files(self) -> Iterable[Path]:
        """The manifest, then each item's image files and mask files."""
        yield self.manifest_path
        masks = self.masks or {}
        for rows in self.items:
            for r in rows:
                yield self.root / r["output"]
                mask = masks.get((r["instance_key"], r["frame"]))
                if mask is not None:
                    yield mask

    def _label(self, series_key: str) -> int | None:
        if self.labels is None:
            return None
        if series_key not in self.labels:
            raise RadpipeError(f"Series {series_key} has no row in the labels CSV.")
        return self.labels[series_key]

    def _mask(self, row: dict[str, Any], spatial: tuple[int, ...]) -> np.ndarray | None:
        if self.masks is None:
            return None
        if row["slice_index"] is None:
            raise RadpipeError(f"{row['output']}: masks are joined per slice; got a series row.")
        path = self.masks.get((row["instance_key"], row["frame"]))
        if path is None:
            raise RadpipeError(f"{row['output']}: no mask for instance {row['instance_key']}.")
        mask = load_mask(path, self.mask_values, self.max_classes)
        if mask.shape != spatial:
            raise RadpipeError(f"{path.name}: mask shape {mask.shape} != image shape {spatial}.")
        return mask

    def _read_row(self, row: dict[str, Any]) -> np.ndarray:
        spatial_ndim = len(row["shape"].split("x")) if row["shape"] else None
        if row["slice_index"] is not None and spatial_ndim == 3:  # a colour frame (H, W, 3|4)
            rgb = load_array(self.root / row["output"])[..., :3]
            return np.ascontiguousarray(np.moveaxis(rgb, -1, 0), dtype=np.float32)
        return load_image(self.root / row["output"], spatial_ndim)

    def _load(self, index: int) -> Sample:
        rows = self.items[index]
        first = rows[0]
        meta: dict[str, Any] = {
            "patient_key": first["patient_key"],
            "series_key": first["series_key"],
            "spacing": tuple(first["spacing"]) or None,
        }
        if len(rows) == 1 and (self.mode == "image" or first["slice_index"] is None):
            image = self._read_row(first)
            if image.ndim == 4:  # a per-series volume: one item either way
                if self.masks is not None:
                    raise RadpipeError(f"{first['output']}: masks are joined per slice.")
                mask, meta["id"] = None, _volume_id(first)
            else:
                mask = self._mask(first, image.shape[1:])
                frame = f":{first['frame']}" if first["frame"] else ""
                meta["id"] = (first["instance_key"] or first["series_key"]) + frame
                meta["slice_index"] = first["slice_index"]
                meta["slice_spacing"] = first.get("slice_spacing")  # its volume's slice step
                meta["unpositioned"] = unpositioned(first)  # a 2-D picture, not a slice
        else:
            image, mask = self._stack(rows)
            meta["id"] = _volume_id(first)
            if meta["spacing"] is not None:
                z = first.get("slice_spacing")
                meta["spacing"] = (float("nan") if z is None else z, *meta["spacing"])
        return Sample(image=image, mask=mask, label=self._label(first["series_key"]), meta=meta)

    def _stack(self, rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray | None]:
        """Slices of one series stacked along D: image ``(C, D, H, W)``, mask ``(D, H, W)``."""
        images = [self._read_row(r) for r in rows]
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            name = series_name(rows[0]["series_key"], series_sources(rows))
            raise RadpipeError(f"Series of {name}: slices differ in shape {sorted(shapes)}.")
        image = np.stack(images, axis=1)
        if self.masks is None:
            return image, None
        spatial = images[0].shape[1:]
        masks = [self._mask(r, spatial) for r in rows]
        return image, np.stack([m for m in masks if m is not None])


def _volume_id(row: dict[str, Any]) -> str:
    """``series_key``, ``series_key:vN`` for volume N > 0 of a series with several."""
    volume = row.get("volume") or ""
    return row["series_key"] + (f":v{volume}" if volume not in ("", "0") else "")


SAMPLE_ORDER = "source path, then frame"


def sample_order(row: dict[str, Any]) -> tuple[str, int, str]:
    """The sort key of manifest rows: source path (relative to the DICOM folder), frame."""
    return (row["source"], int(row["frame"] or 0), row["output"])


def _group_series(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by series and assembled volume, in first-seen order.

    The manifest's ``volume`` keeps a localizer's planes or a run's time points apart; each
    group is sorted by slice then frame.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["series_key"], r.get("volume") or "")].append(r)
    out = []
    for (key, _), members in groups.items():
        per_series = [r for r in members if r["slice_index"] is None]
        name = series_name(key, series_sources(members))
        if per_series and len(members) > 1:
            raise RadpipeError(f"Series of {name}: both a per-series output and slice outputs.")
        if len(members) > 1 and any(in_no_volume(r) for r in members):
            raise RadpipeError(
                f"Series of {name}: {len(members)} images in no volume (the series was refused per "
                "series, or holds undivided mosaics; see the manifest's problems column): they "
                "cannot be stacked in series mode."
            )
        out.append(sorted(members, key=lambda r: (r["slice_index"] or 0, r["frame"])))
    return out


class FolderDataset(SampleDataset):
    """Already converted images (PNG/NPY/NIfTI) in a folder, with an optional labels CSV.

    Parameters
    ----------
    root
        The folder.
    labels
        A CSV with an ``image`` column (path relative to ``root``), a ``label`` column and
        optionally a ``mask`` column (path relative to ``root``). ``None``: every image file
        directly in ``root``, sorted by name, unlabelled.
    spatial_ndim
        2 (every file is one plane) or 3 (volumes ``(D, H, W)``); ``None`` guesses from the
        array (see :func:`pipeline.data.io.load_image`).
    mask_values, max_classes
        How mask values become class indices; see :func:`pipeline.data.io.load_mask`.
    pipeline, seed, cache_dir
        See :class:`~pipeline.data.base.SampleDataset`.

    Notes
    -----
    Item ids are ``hash_key`` of the relative path (file names may carry patient data);
    ``meta["source"]`` keeps the relative path. A NIfTI image's ``meta["spacing"]`` is its
    voxel size in mm (:func:`pipeline.data.io.nifti_spacing`; ``None`` when its units are
    unknown); PNG and NPY files have none, so surface distances are in voxels, unless the
    CSV's ``spacing`` column gives the pixel size in mm (:func:`pipeline.cells.csv_spacing`;
    it wins over a NIfTI's zooms).
    """

    def __init__(
        self,
        root: str | Path,
        labels: str | Path | None = None,
        *,
        spatial_ndim: int | None = None,
        pipeline: Pipeline | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        mask_values: Mapping[int, int] | None = None,
        max_classes: int = MAX_CLASSES,
    ) -> None:
        super().__init__(pipeline=pipeline, seed=seed, cache_dir=cache_dir)
        self.root = Path(root)
        self.spatial_ndim = spatial_ndim
        self.mask_values = None if mask_values is None else dict(mask_values)
        self.max_classes = max_classes
        self.labels_path = None if labels is None else self.root / labels
        self.rows: list[dict[str, str]] = (
            _read_folder_csv(self.labels_path) if self.labels_path else _list_folder(self.root)
        )

    def __len__(self) -> int:
        return len(self.rows)

    def item_key(self, index: int) -> str:
        """A stable, opaque key of item ``index`` (its cache file name)."""
        return hash_key(self.rows[index]["image"])

    def source_id(self) -> str:
        """What identifies the dataset's inputs (part of the cache fingerprint)."""
        masks = f"{self.mask_values}|{self.max_classes}"
        return f"{self.root.resolve()}|{self.labels_path}|{self.spatial_ndim}|{masks}"

    def input_files(self) -> Iterable[Path]:
        """The list CSV, then each item's image file and mask file."""
        if self.labels_path is not None:
            yield self.labels_path
        for row in self.rows:
            yield csv_path(self.root, row["image"])
            if row.get("mask"):
                yield csv_path(self.root, row["mask"])

    def _load(self, index: int) -> Sample:
        row = self.rows[index]
        image_path = csv_path(self.root, row["image"])  # Windows backslashes too
        image = load_image(image_path, self.spatial_ndim)
        mask = None
        if row.get("mask"):
            mask_path = csv_path(self.root, row["mask"])
            mask = load_mask(mask_path, self.mask_values, self.max_classes)
            mask = align_nifti_mask(image_path, mask_path, mask, row["mask"])
            if mask.shape != image.shape[1:]:
                raise RadpipeError(
                    f"{row['mask']}: mask shape {mask.shape} != image shape {image.shape[1:]}."
                )
        label = int(row["label"]) if row.get("label", "") != "" else None
        meta: dict[str, Any] = {"id": hash_key(row["image"]), "source": row["image"]}
        if (row.get("spacing") or "").strip():  # the list's pixel size (mm) wins
            where = row.get("where") or row["image"]
            meta["spacing"] = csv_spacing(row["spacing"], image.ndim - 1, where)
        elif is_nifti(row["image"]):  # mm, so distances are in mm
            meta["spacing"] = nifti_spacing(image_path, image.ndim - 1)
        return Sample(image=image, mask=mask, label=label, meta=meta)


def _read_folder_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a folder's labels CSV, each ``label`` a class index (``1.0`` is ``1``).

    A label that is none is refused naming the file and its line, before any image is read.
    """
    reader = csv.DictReader(csv_text(path))
    if "image" not in (reader.fieldnames or []):
        raise RadpipeError(f"{path.name}: needs an 'image' column; got {reader.fieldnames}.")
    rows = []
    for r in csv_rows(reader):
        label = csv_label(r.get("label"))
        if label and not label.lstrip("-").isdigit():
            raise RadpipeError(f"{path.name} line {r.line}: label {r['label']!r} is not a class "
                               "index (0, 1, ...).")  # fmt: skip
        where = f"{path.name} line {r.line}"
        cell = r.get("spacing") or ""
        csv_spacing(cell, max(2, len(cell.split("x"))), where)  # numbers, before any image
        rows.append(
            {**r, "label": label, "where": where} if "label" in r else {**r, "where": where}
        )
    return rows


def _list_folder(root: Path) -> list[dict[str, str]]:
    names = sorted(
        p.name for p in root.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)
    )
    if not names:
        raise RadpipeError(f"{root}: no .png, .npy or .nii(.gz) images found.")
    return [{"image": n} for n in names]
