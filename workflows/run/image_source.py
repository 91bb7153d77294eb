"""What ``radpipe predict`` and ``evaluate`` read from SRC, by the kind of data the run trained on.

A run trained on DICOM (``data.kind: dicom``) converts a DICOM folder with its own options; a
run trained on converted images (``data.kind: images``) reads PNG/NPY/NIfTI files as stored:
a folder of them (every such file below it) or a list CSV (an ``image`` column, paths relative
to the CSV's folder, as ``data.labels``). SRC of the other kind is refused before anything is
written, saying what it holds and what to do (a folder of PNGs given to a DICOM run failed
on each file as "not a DICOM file"; a DICOM folder given to an images run found no image).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pipeline.data.io import IMAGE_SUFFIXES
from pipeline.dicom.seg_masks import is_dicom_file
from pipeline.errors import ConfigError, RadpipeError
from pipeline.words import are, counted

__all__ = ["check_source_kind", "image_files"]


def check_source_kind(kind: str, src: Path, command: str) -> None:
    """Refuse ``src`` when it holds data of another kind than the run's (``kind``).

    Raises
    ------
    ConfigError
        A DICOM run given a CSV or a folder of images only; an images run given a folder
        of DICOM files and no image (a usage error: exit code 2).
    """
    if kind == "images":
        if not src.exists():
            raise ConfigError(f"SRC {src}: no such file or folder.")
        if src.is_dir() and not _images_in(src):
            dicom = next((f for f in _files(src) if is_dicom_file(src / f)), None)
            what = (f"DICOM files (e.g. {dicom}), no" if dicom else "no") + (
                " PNG, NPY or NIfTI image"
            )  # fmt: skip
            raise ConfigError(
                f"SRC {src} holds {what}; this run was trained on data.kind: images, so "
                f"radpipe {command} reads such images as stored. Convert DICOM with the "
                "run's window first ('radpipe convert SRC OUT --format png'), or use a run "
                "trained on DICOM."
            )
        if src.is_file() and src.suffix.lower() != ".csv":
            raise ConfigError(f"SRC {src}: give a folder of images or a CSV listing them "
                              "(an 'image' column).")  # fmt: skip
        return
    listed = src.is_file() and src.suffix.lower() == ".csv"  # another file: require_inputs
    if listed or (src.is_dir() and (files := _only_images(src))):
        what = "is a CSV file" if listed else (
            f"holds PNG, NPY or NIfTI images only ({counted(len(files), 'file')}, e.g. "
            f"{files[0]})"
        )  # fmt: skip
        raise ConfigError(
            f"SRC {src} {what}; this run "
            f"was trained on DICOM, so radpipe {command} reads a folder of DICOM files. Give "
            "such images to a run trained on them (data.kind: images)."
        )


def image_files(
    src: Path, allow_outside: bool = False
) -> tuple[Path, list[str], dict[str, tuple[str, int]]]:
    """The folder the images' paths are relative to, the paths (POSIX, sorted; each
    image once): every PNG/NPY/NIfTI file below a folder, or the ``image`` column of a
    list CSV (relative to the CSV's folder), and a list's ``spacing`` cells (the pixel size
    in mm, as a run's list gives it) with their lines, by path (none for a folder).

    Raises
    ------
    ConfigError
        A list naming files outside its folder (unless ``allow_outside``: the run's
        ``data.allow_outside_paths``), as a run's list is refused; a ``spacing`` cell that
        is no pixel size (its line named).
    RadpipeError
        No image is found or listed.
    """
    spacings: dict[str, tuple[str, int]] = {}
    if src.is_file():
        from pipeline.cells import csv_spacing
        from pipeline.data.io import csv_path
        from workflows.run.image_list import read_image_list

        rows = read_image_list(src, src.parent, ())
        names = [str(r["image"]) for r in rows if str(r["image"]).strip()]
        for r in rows:  # checked here, by the list's own name and line
            cell = (r.get("spacing") or "").strip()
            if cell and str(r["image"]).strip():
                try:  # an input error (exit 2), as the run's own list refuses the cell
                    csv_spacing(cell, max(2, len(cell.split("x"))), f"{src.name} line {r.line}")
                except RadpipeError as err:
                    raise ConfigError(str(err)) from None
                spacings[str(r["image"])] = (cell, r.line)
        root = src.parent
        base = root.resolve()
        out = [n for n in names if not csv_path(root, n).resolve().is_relative_to(base)]
        if out and not allow_outside:
            more = f" and {len(out) - 3} more" if len(out) > 3 else ""
            raise ConfigError(
                f"SRC {src.name}: {counted(len(out), 'image path')} "
                f"{are(len(out), 'points', 'point')} outside its folder "
                f"({', '.join(out[:3])}{more}); set data.allow_outside_paths: true in the "
                "run's config.yaml if that is intended."
            )
    else:
        names, root = sorted(_images_in(src)), src
    if not names:
        raise RadpipeError(f"SRC {src}: no .png, .npy or .nii(.gz) image found.")
    return root, names, spacings


def _files(src: Path) -> Iterator[str]:
    """Every file below ``src`` (hidden files and folders left out), relative, sorted."""
    for folder, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(folder).relative_to(src)
        yield from ((rel / n).as_posix() for n in sorted(names) if not n.startswith("."))


def _images_in(src: Path) -> list[str]:
    return [f for f in _files(src) if f.lower().endswith(IMAGE_SUFFIXES)]


def _only_images(src: Path) -> list[str]:
    """The files below ``src`` when every one is an image, else ``[]`` (the walk stops at the
    first other file: a DICOM folder is never listed whole)."""
    found = []
    for f in _files(src):
        if not f.lower().endswith(IMAGE_SUFFIXES):
            return []
        found.append(f)
    return found
