"""Image grids of the report keep each case's title clear of the images above it.

With ``tight_layout`` the first line of a second-row title (the case's key) was drawn under
the bottom of the image above it in "Most confident mistakes", "Examples per class" and the
saliency maps (28x28 BreastMNIST images), so which case a thumbnail showed could not be read.
Checked here on the saved figure's own geometry: no title's box meets another axes' box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workflows.report import plots

CAPTION = "true benign_or_normal, predicted malignant (p = 0.90)"


def _clashes(fig: Figure) -> list[tuple[int, int]]:
    """(title's axes, axes it meets) for every title that meets another axes' box."""
    FigureCanvasAgg(fig)
    fig.set_dpi(110)  # as _save writes it
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw(renderer)
    found = []
    for i, a in enumerate(fig.axes):
        for title in (a.title, a._left_title, a._right_title):
            if not title.get_text():
                continue
            box = title.get_window_extent(renderer)
            found += [(i, j) for j, b in enumerate(fig.axes)
                      if j != i and box.overlaps(b.get_window_extent(renderer))]  # fmt: skip
    return found


def _draw(name: str, path: Path) -> None:
    rng = np.random.default_rng(0)
    if name == "thumbnails":
        items = [(f"{k:016x}", rng.random((1, 28, 28)), CAPTION) for k in range(8)]
        plots.plot_thumbnails(items, path, title="Most confident mistakes")
    elif name == "saliency":
        maps = {"occlusion": rng.random((28, 28)), "integrated_gradients": rng.random((28, 28))}
        rows = [(f"{k:016x}", rng.random((1, 28, 28)), maps, "evidence for: malignant")
                for k in range(2)]  # fmt: skip
        plots.plot_saliency(rows, path)
    else:
        true = np.zeros((28, 28), np.uint8)
        true[8:20, 8:20] = 1
        cases = [(f"{k:016x}", rng.random((28, 28)), true, true, 0.5) for k in range(4)]
        plots.plot_overlays(cases, path, class_names=["background", "head"])


@pytest.mark.parametrize("name", ["thumbnails", "saliency", "overlays"])
def test_no_title_meets_another_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    saved: list[Figure] = []
    real = plots._save

    def keep(fig: Figure, path: Any) -> Path:
        saved.append(fig)
        return real(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    _draw(name, tmp_path / "f.png")
    assert (tmp_path / "f.png").is_file()
    assert _clashes(saved[0]) == []
