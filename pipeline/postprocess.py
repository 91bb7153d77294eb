"""Post-processing of predicted label maps, named by ``type:`` in a run config.

A config's ``postprocess:`` list, e.g. ``[{type: largest_component}, {type: fill_holes}]``,
is applied in order to every predicted label map (the argmax of the model's class
probabilities) by ``radpipe run``'s evaluation, ``radpipe evaluate`` and ``radpipe predict``.
The steps act on the model's output, not on a :class:`~pipeline.sample.Sample` going into it,
so they are not stages and cannot be put in ``preprocess``. Each is a thin class over a pure
operation of :mod:`pipeline.ops.labels`, with keyword-only parameters stored unchanged.

Examples
--------
>>> import numpy as np
>>> post = Postprocess.from_specs([{"type": "largest_component"}, {"type": "fill_holes"}])
>>> x = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 1], [1, 1, 1, 0, 0]])
>>> post(x).tolist()
[[1, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from pipeline.ops.labels import fill_holes, fit_ellipse, keep_largest_component
from pipeline.registry import Registry

__all__ = ["POSTPROCESS", "FillHoles", "FitEllipse", "LargestComponent", "Postprocess"]

POSTPROCESS: Registry[type] = Registry("postprocess")


class _LabelStep:
    """Shared parameters and checks of the label-map steps."""

    def __init__(
        self, *, classes: list[int] | None = None, connectivity: int | None = None
    ) -> None:
        self.classes = classes
        self.connectivity = connectivity
        if classes is not None and not all(isinstance(c, int) and c >= 1 for c in classes):
            raise ValueError(
                f"The 'classes' parameter of {type(self).__name__} must be a list of foreground "
                f"class indices (>= 1); got {classes!r}."
            )
        if connectivity is not None and not (isinstance(connectivity, int) and connectivity >= 1):
            raise ValueError(
                f"The 'connectivity' parameter of {type(self).__name__} must be an int >= 1 or "
                f"null; got {connectivity!r}."
            )

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """The post-processed label map (a new array)."""
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """``{"type": name, **parameters}``, as a config names this step."""
        return {"type": POSTPROCESS.name_of(self), "classes": self.classes,
                "connectivity": self.connectivity}  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(classes={self.classes!r}, connectivity={self.connectivity!r})"
        )


@POSTPROCESS.register("largest_component")
class LargestComponent(_LabelStep):
    """Keep the largest connected component of each foreground class.

    The other components become background; :func:`pipeline.ops.labels.keep_largest_component`.
    """

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """The label map ``labels`` with each class's smaller components removed."""
        return keep_largest_component(labels, self.classes, self.connectivity)


@POSTPROCESS.register("fill_holes")
class FillHoles(_LabelStep):
    """Fill background holes enclosed by one class with that class.

    See :func:`pipeline.ops.labels.fill_holes`.
    """

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """The label map ``labels`` with its enclosed background holes filled."""
        return fill_holes(labels, self.classes, self.connectivity)


@POSTPROCESS.register("fit_ellipse")
class FitEllipse(_LabelStep):
    """Replace each foreground class by its second-moment ellipse (a shape prior, not generic).

    For masks of one elliptic object per class (the fetal heads of HC18, whose circumference
    is measured on an ellipse fitted to the skull; ``configs/us_fetal_head_unet.yaml``). See
    :func:`pipeline.ops.labels.fit_ellipse`; ``connectivity`` is not used.
    """

    def __init__(self, *, classes: list[int] | None = None) -> None:
        super().__init__(classes=classes)

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """The label map ``labels`` with each class replaced by its ellipse."""
        return fit_ellipse(labels, self.classes)

    def spec(self) -> dict[str, Any]:
        """``{"type": "fit_ellipse", "classes": ...}``."""
        return {"type": "fit_ellipse", "classes": self.classes}

    def __repr__(self) -> str:
        return f"FitEllipse(classes={self.classes!r})"


class Postprocess:
    """Steps applied in order to one label map, ``(H, W)`` or ``(D, H, W)``."""

    def __init__(self, steps: Sequence[_LabelStep] = ()) -> None:
        self.steps = list(steps)

    @classmethod
    def from_specs(cls, specs: Iterable[dict[str, Any]]) -> Postprocess:
        """Build from config specs ``[{"type": name, **parameters}, ...]``."""
        return cls([POSTPROCESS.build(spec) for spec in specs])

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """``labels`` after every step, in order."""
        for step in self.steps:
            labels = step(labels)
        return labels

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __repr__(self) -> str:
        return f"Postprocess({self.steps!r})"

    def apply_all(self, maps: Iterable[np.ndarray]) -> tuple[list[np.ndarray], dict[str, Any]]:
        """Every label map of ``maps`` post-processed, and a record of what was done.

        The record holds the steps (as config specs), the number of maps, how many of them
        changed and how many pixels changed in all.
        """
        out, changed, pixels = [], 0, 0
        for labels in maps:
            new = self(labels)
            diff = int(np.count_nonzero(new != labels))
            changed += diff > 0
            pixels += diff
            out.append(new)
        record = {"steps": [s.spec() for s in self.steps], "maps": len(out),
                  "maps_changed": changed, "pixels_changed": pixels}  # fmt: skip
        return out, record
