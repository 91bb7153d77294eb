"""What the run's conversion did, told to the user: images ``convert.window: header`` left
unwindowed (issue 18.5), stacks without one slice spacing (:func:`note_uneven_stacks`), and
series a run cannot use as they are (:func:`usable_series_rows`).

``header`` applies each file's own window; a file without window tags stays unwindowed
(recorded as ``none`` in the manifest): NPY then holds modality values and PNG the full
stored range, while windowed images hold [0, 1]. The run says so rather than mixing scales
silently.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("radpipe")

__all__ = [
    "UNWINDOWED", "WINDOWED", "note_preset_windows", "note_uneven_stacks", "note_unwindowed",
    "scale_problem", "trained_scale", "usable_series_rows",
]  # fmt: skip

#: Why ``predict`` skips (and ``evaluate`` refuses) an image without a header window for a
#: model trained on header-windowed images only.
UNWINDOWED = (
    "no window in its header: converted unwindowed (modality values), but the run's model was "
    "trained on images their header window mapped to [0, 1] (convert.window: header), so its "
    "prediction would not mean anything"
)


#: The mirror case: an image with a header window for a model trained on unwindowed images only.
WINDOWED = (
    "a window in its header: converted to [0, 1] by it, but the run's model was trained on "
    "images without one (modality values; convert.window: header found no window in any of "
    "them), so its prediction would not mean anything; train with convert.window: none (or a "
    "preset or C,W) for one scale everywhere"
)


def trained_scale(run_dir: Path, window: str) -> str | None:
    """``"windowed"`` when ``window: header`` windowed every image of the run's conversion,
    ``"unwindowed"`` when it windowed none of them (no header had a window: the model saw
    modality values only), ``None`` otherwise (another window, a mix, or nothing known).

    From ``provenance.json`` (``unwindowed_images``, and ``windowed_images`` for runs since
    2026-11-30), else from the run's conversion manifest while it is still there.
    """
    if window.strip().lower() != "header":
        return None
    from workflows.run.provenance import Provenance, read_provenance

    info = read_provenance(run_dir) or Provenance()
    bare, windowed = info.unwindowed_images, info.windowed_images
    if bare is None or (windowed is None and bare > 0):
        manifest = run_dir / (info.conversion or "") / "manifest.csv"
        if not info.conversion or not manifest.is_file():
            return "windowed" if bare is not None and bare == 0 else None
        from pipeline.data.io import read_manifest

        found = [r["window"] != "none" for r in read_manifest(manifest)]
        bare, windowed = found.count(False), found.count(True)
    if int(bare) == 0:
        return "windowed"
    return "unwindowed" if windowed is not None and int(windowed) == 0 else None


def scale_problem(row: dict[str, Any], scale: str | None) -> str | None:
    """Why a converted image (manifest ``row``) cannot go through a model trained on
    ``scale`` (:func:`trained_scale`): :data:`UNWINDOWED` or :data:`WINDOWED`, else ``None``."""
    if scale == "windowed" and row.get("window") == "none":
        return UNWINDOWED
    if scale == "unwindowed" and row.get("window") not in (None, "", "none"):
        return WINDOWED
    return None


def note_unwindowed(rows: list[dict[str, Any]], window: str, *, trains: bool = True) -> int:
    """Warn when ``window: header`` left some images of the conversion (its manifest
    ``rows``, :func:`pipeline.data.io.read_manifest`) unwindowed; returns how many.

    Images none of which has a window are one scale: said (not warned about) only of the data
    a run ``trains`` on. ``radpipe evaluate`` said it again of the run's own data, read for
    the operating point, and of SRC, whose scale it then checks against the run's.
    """
    if window.strip().lower() != "header":
        return 0
    bare = sum(1 for r in rows if r["window"] == "none")
    if bare and bare == len(rows):  # one scale for all: said, not warned about
        if trains:
            log.info("window 'header': none of the %d images has a window in its header, so "
                     "the model learns their unwindowed values (one scale); this run's predict "
                     "and evaluate will refuse images that have one", bare)  # fmt: skip
    elif bare:
        log.warning(
            "window 'header': %d of %d images have no window in their header (manifest "
            "window 'none'); they hold unwindowed values (modality values in NPY, the full "
            "stored range in PNG), the others the window's [0, 1]. Set convert.window to a "
            "preset or C,W for one scale, or normalise per image (z_score mode: image).",
            bare,
            len(rows),
        )
    return bare


def note_preset_windows(rows: list[dict[str, Any]], preprocess: list[dict[str, Any]]) -> int:
    """Warn about each ``window`` stage of ``preprocess`` whose named preset (a CT window in
    HU) meets images of the conversion (its manifest ``rows``) that do not hold HU: values
    the conversion already windowed to [0, 1] (manifest ``window`` not ``none``), or an
    MR, ultrasound, radiograph... image's modality values (:func:`pipeline.ops.voi.
    preset_note`). Such a stage trained silently on images it had turned all black or all
    white. Returns how many warnings were given."""
    from collections import Counter

    from pipeline.ops.voi import parse_window, preset_note

    warned = 0
    for i, spec in enumerate(preprocess):
        if spec.get("type") != "window" or not spec.get("preset"):
            continue
        window = parse_window(str(spec["preset"]))
        name = spec.get("name", f"window_{i}")
        done = sum(r["window"] != "none" for r in rows)
        bare = [r["modality"] or "unknown" for r in rows if r["window"] == "none"]
        other = Counter(m for m in bare if preset_note(window, m))
        if done:
            log.warning(
                "preprocess %s: preset %r is a CT window in HU, but %d of %d images were "
                "windowed to [0, 1] by the conversion (convert.window); set convert.window: "
                "none to window their modality values", name, window.name, done, len(rows),
            )  # fmt: skip
        if other:
            said = ", ".join(f"{n} {m}" for m, n in sorted(other.items()))
            log.warning(
                "preprocess %s: preset %r is a CT window in HU (%g, %g) applied to values that "
                "are not HU (images: %s of %d): it maps them by numbers that mean nothing "
                "there; use z_score or rescale_intensity, or a C,W in their units",
                name, window.name, window.center, window.width, said, len(rows),
            )  # fmt: skip
        warned += bool(done) + bool(other)
    return warned


def note_uneven_stacks(rows: list[dict[str, Any]]) -> None:
    """Masks are joined per slice, so ``unit: series`` with masks stacks per-instance slices
    without resampling: say which series of the conversion (its manifest ``rows``) then have
    no single z spacing (distances in the report fall back to voxels)."""
    uneven = sorted({r["series_key"] for r in rows
                     if r["slice_index"] is not None and r["num_slices"] > 1
                     and r["slice_spacing"] is None})  # fmt: skip
    if uneven:
        log.warning(
            "%d series have no single slice spacing (uneven, tilted or unknown; see the "
            "problems column of manifest.csv), so volume distances are reported in voxels: %s",
            len(uneven),
            ", ".join(uneven[:5]) + (" ..." if len(uneven) > 5 else ""),
        )


def usable_series_rows(
    rows: list[dict[str, Any]], unit: str, *, split: bool = True
) -> list[dict[str, Any]]:
    """The manifest ``rows`` of the series a run of ``unit`` can use.

    With ``split`` (a run, not ``predict``), a series whose images carry several patient keys
    (PatientID differs within one SeriesInstanceUID: merged or re-identified exports;
    ``convert`` refuses it per series) cannot be placed by a patient-level split: an error.
    With ``unit: series``, a series whose several per-instance images are in no volume
    (refused per series, or undivided mosaics) cannot be stacked: it is left out, with a
    warning naming it (as ``--per series`` leaves a refused series out of the manifest).

    Raises
    ------
    RadpipeError
        Some series hold images of several patients.
    """
    from collections import defaultdict

    from pipeline.data.io import in_no_volume
    from pipeline.errors import RadpipeError
    from pipeline.names import name_keys, series_sources

    patients: dict[str, set[str]] = defaultdict(set)
    unplaced: dict[str, int] = defaultdict(int)
    for r in rows:
        patients[r["series_key"]].add(r["patient_key"])
        if r["slice_index"] is not None and in_no_volume(r):
            unplaced[r["series_key"]] += 1
    mixed = sorted(k for k, found in patients.items() if len(found) > 1)
    if mixed and split:
        raise RadpipeError(
            f"{len(mixed)} series hold images of several patients (PatientID differs within one "
            "SeriesInstanceUID: merged or re-identified exports), so no patient-level split can "
            f"place them: {name_keys(mixed, series_sources(rows))}. Fix their PatientID or "
            "remove their files "
            "(`radpipe inspect` lists them as refused)."
        )
    dropped = sorted(k for k, n in unplaced.items() if n > 1) if unit == "series" else []
    if dropped:
        log.warning(
            "%d series left out: their images are in no volume (refused per series, or "
            "undivided mosaics; see the problems column of manifest.csv), so they cannot be "
            "stacked: %s",
            len(dropped),
            name_keys(dropped, series_sources(rows)),
        )
    left_out = set(dropped)
    return [r for r in rows if r["series_key"] not in left_out]
