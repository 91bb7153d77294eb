"""Images unlike those the run's model learnt, said by ``radpipe predict`` and ``evaluate``.

A model scores images of the modality and the pixel size (after preprocessing) it trained on.
An MR image through a radiograph model, or a radiograph of twice the training pixel size, is
still predicted (and scored, in an external evaluation), but never silently: a warning says
how many, and ``radpipe evaluate`` records them in ``metrics.json`` and its evaluated line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.words import are, counted
from workflows.run.scale import in_plane_mm, note_other_scale

__all__ = ["Foreign", "other_modalities", "say_foreign", "unlike_training"]

log = logging.getLogger("radpipe")

_RADIOGRAPHY = {"DX": "CR"}  # computed and digital radiography: one kind of image


def other_modalities(rows: Iterable[tuple[str, str]], modalities: set[str]) -> dict[str, list[str]]:
    """``modality -> names`` of the ``(name, modality)`` rows whose modality the run never
    trained on (``modalities``); empty when either is unknown."""
    trained = {_RADIOGRAPHY.get(m, m) for m in modalities}
    foreign: dict[str, list[str]] = {}
    for name, modality in rows:
        if trained and modality and _RADIOGRAPHY.get(modality, modality) not in trained:
            foreign.setdefault(modality, []).append(name)
    return foreign


def say_foreign(foreign: dict[str, list[str]], modalities: set[str], verb: str) -> None:
    """Warn, per modality, about the images ``verb`` ("predicted", "scored") by a model that
    never saw their kind (an MR image through a CT or radiograph model)."""
    for modality, names in sorted(foreign.items()):
        log.warning(
            "%s of modality %s %s %s by a model trained on %s only; "
            "check these predictions (e.g. %s)", counted(len(names), "image"), modality,
            are(len(names), "was", "were"), verb, ", ".join(sorted(modalities)), names[0],
        )  # fmt: skip


@dataclass
class Foreign:
    """The evaluated images unlike the training ones: per modality, of another scale (pixel
    size, slice step), and per plane the training series had not (``radpipe evaluate``'s
    ``metrics.json``, ``unlike_training``: the warnings of predict and evaluate, recorded)."""

    modalities: dict[str, int] = field(default_factory=dict)
    other_scale: int = 0
    other_slices: int = 0
    other_planes: dict[str, int] = field(default_factory=dict)  # plane -> images

    def note(self) -> str:
        """``""``, or what the evaluated line adds (``"unlike the training images: ..."``)."""
        modalities = sorted(self.modalities.items())
        parts = [f"{counted(n, 'image')} of modality {m}" for m, n in modalities]
        if self.other_scale:
            parts.append(f"{counted(self.other_scale, 'image')} of another pixel size")
        if self.other_slices:
            parts.append(f"{counted(self.other_slices, 'series')} of another slice step")
        parts += [
            f"{counted(n, 'image')} in the {p} plane" for p, n in sorted(self.other_planes.items())
        ]
        return f"unlike the training images: {', '.join(parts)}" if parts else ""

    def as_dict(self) -> dict[str, Any]:
        return {"other_modality": dict(self.modalities), "other_pixel_size": self.other_scale,
                "other_slice_step": self.other_slices,
                "other_plane": dict(self.other_planes)}  # fmt: skip


def unlike_training(
    named: Sequence[tuple[str, str, Any]],
    modalities: set[str],
    pixel_mm: Sequence[float] | None,
    verb: str,
    slice_mm: Sequence[float] | None = None,
) -> Foreign:
    """Say the images ``(name, modality, spacing after preprocessing)`` of another modality
    than ``modalities`` or another pixel size than ``pixel_mm`` (the run's
    ``stages/data.json``), or, for series, another slice step than ``slice_mm``, the images
    ``verb`` ("predicted", "scored") all the same."""
    from workflows.run.planes import note_other_slices

    foreign = other_modalities(((n, m) for n, m, _ in named), modalities)
    say_foreign(foreign, modalities, verb)
    other = note_other_scale([(n, in_plane_mm(mm)) for n, _, mm in named], pixel_mm)
    other_slices = note_other_slices([(n, mm) for n, _, mm in named], slice_mm)
    return Foreign({m: len(v) for m, v in foreign.items()}, other, other_slices)
