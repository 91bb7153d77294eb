"""A masks CSV against the converted data: every image to train on has a mask row of its size.

:func:`check_mask_rows` runs once the series to train on are known, before anything is split
or fitted (moved here from :mod:`workflows.run.truth`, which resolves ``file`` keys).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.cells import name_lines, refuse_spreadsheet_numbers
from pipeline.errors import RadpipeError
from workflows.run.truth_rows import resolved_mask_rows

log = logging.getLogger("radpipe")

__all__ = ["check_mask_rows", "listed_refusal", "per_file"]

_SHOWN = 10  # images named per problem; the rest are counted


def check_mask_rows(
    masks: Path,
    manifest: list[dict[str, Any]],
    series_keys: Iterable[str],
    shown: str | None = None,
    *,
    own_lines: bool = True,
    folder: Path | None = None,
) -> dict[str, int]:
    """Match the masks CSV with the converted data (its ``manifest`` rows,
    :func:`pipeline.data.io.read_manifest`) once the series to train on (``series_keys``) are
    known, before anything is split or fitted.

    Every image (instance and frame) of those series needs a mask row: one without stops the
    run here, naming its source files (relative paths) and frames. Rows whose image is not in
    the converted data are never used: they are counted and a warning names a few by hashed
    line, or (``own_lines`` false: ``masks`` is the copy radpipe resolved from ``file`` keys)
    by the user's line and file. A mask is named by its path below ``folder`` (the user's
    CSV's folder; by default the folder of ``masks`` when it is the user's own). Returns
    ``{"mask_rows", "mask_rows_not_in_data"}`` for ``provenance.json``.

    Raises
    ------
    RadpipeError
        Some image of the kept series has no row in the masks CSV.
    """
    from pipeline.data.io import masks_csv_lines, read_masks_csv

    listed = read_masks_csv(masks)
    name = shown or masks.name
    kept = set(series_keys)
    images = [r for r in manifest if r["slice_index"] is not None]
    converted = {(r["instance_key"], r["frame"]) for r in images}
    lacking = [r for r in images if r["series_key"] in kept
               and (r["instance_key"], r["frame"]) not in listed]  # fmt: skip
    if lacking:
        named = ", ".join(f"{r['source']} frame {r['frame']}" for r in lacking[:_SHOWN])
        more = f" and {len(lacking) - _SHOWN} more" if len(lacking) > _SHOWN else ""
        total = sum(r["series_key"] in kept for r in images)
        shared = sum("SOPInstanceUID shared" in (r["problems"] or "") for r in lacking)
        why = (f" {shared} of them share their SOPInstanceUID with another file, so neither "
               "is matched by sop_instance_uid: give their masks by the manifest's "
               "instance_key, or remove the copies." if shared else "")  # fmt: skip
        why += _counted_from_one(lacking, listed)
        raise RadpipeError(
            f"{name} has no mask row for {len(lacking)} of the {total} converted images to "
            "train and test on (every image of a labelled series needs one, matched by "
            f"sop_instance_uid and frame): {named}{more}.{why}"
        )
    if folder is None and own_lines:
        folder = masks.resolve().parent
    _check_mask_sizes(name, listed, [r for r in images if r["series_key"] in kept], folder)
    unmatched = sorted(k for k in listed if k not in converted)
    if unmatched:
        at = masks_csv_lines(masks) if own_lines else {}
        refuse_spreadsheet_numbers(masks, [at[k] for k in unmatched if k in at], name)
        log.warning(
            "%d of %d rows of %s name an image that is not in the converted data, so their "
            "masks are not used (%s)", len(unmatched), len(listed), name,
            name_lines([at[k] for k in unmatched]) if own_lines else
            resolved_mask_rows(masks, unmatched),
        )  # fmt: skip
    return {"mask_rows": len(listed), "mask_rows_not_in_data": len(unmatched)}


def _counted_from_one(lacking: list[dict[str, Any]], listed: dict[tuple[str, int], Path]) -> str:
    """A hint when every image without a row has a row for its next frame: the CSV counts
    frames from 1 (DICOM's frame numbers) where radpipe counts from 0."""
    if not all((r["instance_key"], r["frame"] + 1) in listed for r in lacking):
        return ""
    return (" Every one of them has a row for the frame after it: the CSV seems to count frames "
            "from 1 (DICOM's frame numbers), radpipe counts them from 0 (the first frame, and "
            "a single-frame image, is frame 0): subtract 1 from the frame column.")  # fmt: skip


def _check_mask_sizes(
    name: str, listed: dict[tuple[str, int], Path], images: list[dict[str, Any]],
    folder: Path | None = None,
) -> None:  # fmt: skip
    """Every PNG/NPY mask has its image's rows x columns (the manifest's ``shape``), checked
    from the files' headers before anything is split: all mismatches listed at once, each
    mask by its path below ``folder`` (the masks CSV's, as the CSV names it; ``p1/m0.png`` and
    ``p2/m0.png`` were both ``m0.png``), else by its file name."""
    from pipeline.data.masks import stored_shape

    wrong: dict[str, list[str]] = {}  # mask -> a line per image it is listed for
    for r in sorted((r for r in images if r["shape"]), key=lambda r: (r["source"], r["frame"])):
        mask = listed[(r["instance_key"], r["frame"])]
        got, want = stored_shape(mask), tuple(int(v) for v in r["shape"].split("x")[:2])
        # an NPY of more axes (a series' volume listed per slice) was taken as its first two
        extra = got is not None and len(got) > 2 and mask.suffix.lower() == ".npy"
        if got is not None and (got[:2] != want or extra):
            shown = (
                mask.resolve().relative_to(folder).as_posix()
                if folder is not None and mask.resolve().is_relative_to(folder)
                else mask.name
            )
            volume = (" (a volume: a PNG/NPY mask is one image's rows x columns; give a series' "
                      "mask as NIfTI, with its affine)" if len(got) > 2 else "")  # fmt: skip
            wrong.setdefault(shown, []).append(
                f"{shown} is {'x'.join(map(str, got))}{volume}, its image {r['source']} frame "
                f"{r['frame']} {want[0]}x{want[1]}")  # fmt: skip
    if wrong:  # one line per mask file: a volume listed per slice hid the other masks
        raise listed_refusal(
            f"{name}: {sum(map(len, wrong.values()))} of {len(images)} masks are not the size "
            "of their image (rows x columns; a mask is drawn on its image's own pixels: not "
            "resized, not cropped, not for another image):", per_file(wrong)
        )  # fmt: skip


def per_file(wrong: dict[str, list[str]]) -> list[str]:
    """One line per mask file of ``wrong`` (mask -> its problem with each image it is listed
    for): the first, and how many more (a series' volume listed per slice)."""
    return [said[0] + (f" (and {len(said) - 1} more of the images it is listed for)"
                       if len(said) > 1 else "") for said in wrong.values()]  # fmt: skip


def listed_refusal(head: str, wrong: list[str]) -> RadpipeError:
    """``head`` and the first problems of ``wrong``, one a line (the rest counted)."""
    more = f"\n  and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
    return RadpipeError(head + "\n  " + "\n  ".join(wrong[:_SHOWN]) + more)
