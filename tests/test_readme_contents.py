"""README.md's Contents list links every ``##`` section by its GitHub anchor, in order, and the
short "Your own study in five steps" stays short and free of dated notes."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
STEPS = "Your own study in five steps"


def github_anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (letters, digits, ``_``, ``-``
    and spaces stay), each space a ``-``."""
    kept = [c for c in title.lower() if c in " -_" or unicodedata.category(c)[0] in "LNM"]
    return "".join(kept).replace(" ", "-")


def headings(text: str) -> list[tuple[int, str]]:
    """``(level, title)`` of each Markdown heading outside fenced code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6}) (.+?)\s*$", line)):
            found.append((len(m.group(1)), m.group(2)))
    return found


def test_anchors_are_github_s() -> None:
    """Worked out by hand from GitHub's rule (a ``+`` dropped leaves its two spaces)."""
    assert github_anchor("From your DICOM folder to a report: `radpipe run`") == (
        "from-your-dicom-folder-to-a-report-radpipe-run"
    )
    assert github_anchor("Benchmark: Dice + Jaccard + confusion matrix") == (
        "benchmark-dice--jaccard--confusion-matrix"
    )
    assert github_anchor("Converting DICOM to PNG, NPY or NIfTI: `radpipe convert`") == (
        "converting-dicom-to-png-npy-or-nifti-radpipe-convert"
    )


def test_contents_lists_every_section_in_order() -> None:
    text = README.read_text(encoding="utf-8")
    found = headings(text)
    anchors = [github_anchor(title) for _, title in found]
    assert len(set(anchors)) == len(anchors), "two headings share an anchor (GitHub adds -1)"
    sections = [(t, github_anchor(t)) for level, t in found if level == 2]
    contents = text[text.index("Contents:\n") : text.index("\n## ")]
    listed = re.findall(r"^- \[(.+)\]\(#([^)]+)\)$", contents, re.M)
    assert listed == sections, "README's Contents list: add or fix the ## sections' links"


def test_five_steps_follow_quick_start_short_and_undated() -> None:
    text = README.read_text(encoding="utf-8")
    sections = [t for level, t in headings(text) if level == 2]
    at = sections.index(STEPS)
    assert sections[at - 1 : at + 2] == [
        "Quick start",
        STEPS,
        "From your DICOM folder to a report: `radpipe run`",
    ]
    body = text[text.index(f"## {STEPS}\n") : text.index("\n## From your DICOM folder")]
    assert len(body.splitlines()) <= 60
    assert re.search(r"20\d\d-\d\d-\d\d", body) is None, "no dated notes in the five steps"
    for command in ("inspect", "run", "predict", "evaluate"):
        assert re.search(rf"^radpipe {command} ", body, re.M), command
