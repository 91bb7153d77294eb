"""The report rendered by a real headless browser (Chromium), offline; skipped without one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.workflows.test_report import _classification_run
from workflows.report.results import write_report

_BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def _screenshot(page: Path, out: Path) -> np.ndarray:
    assert _BROWSER is not None
    cmd = [
        _BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--disable-extensions", "--no-first-run", "--proxy-server=127.0.0.1:9",  # offline
        f"--user-data-dir={out.parent / 'profile'}", "--window-size=1200,4000",
        f"--screenshot={out}", page.resolve().as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(out).convert("RGB")).astype(np.int16)


@pytest.mark.skipif(_BROWSER is None, reason="no Chromium on this machine")
def test_report_renders_with_its_figures_offline(tmp_path: Path) -> None:
    run = _classification_run(tmp_path)
    page = write_report(run, title="Browser check")
    shot = _screenshot(page, tmp_path / "page.png")
    assert shot.shape[:2] == (4000, 1200)
    blue = _blue(shot)  # figures: the Blues heat map, ROC and PR curves
    # the same page with its figures cut out: the images, not the CSS, make the blue
    text = page.read_text()
    start = text.index("<h2>Figures</h2>")
    bare = page.with_name("bare.html")
    bare.write_text(text[:start] + text[text.index("</section>", start) + len("</section>") :])
    blue_bare = _blue(_screenshot(bare, tmp_path / "bare.png"))
    assert blue > 20_000 and blue > 5 * max(blue_bare, 1)


def _blue(shot: np.ndarray) -> int:
    return int((shot[..., 2] - shot[..., 0] > 60).sum())
