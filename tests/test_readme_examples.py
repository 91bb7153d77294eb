"""Every Python example in README.md runs as a user pastes it, and prints what it says it prints.

The README's ```python blocks are read from the file itself (not copied here), so an example
that drifts from the code goes red. They run in order in one fresh process, in a folder that
holds what their comments name: ``demo/dicom`` (a small synthetic CT study), ``SYNTH`` and
``OUT`` (``radpipe synth --modality CR`` and ``radpipe convert ... --format npy``, made
through the CLI as the comment says), ``scan/0001.dcm`` and ``scans/a/{1,2,3}.dcm`` (three
slices of one series). A ``print(...)`` followed by a comment, on its line or alone on the
next, is checked: each number in the comment (up to a ``:`` or ``;`` outside brackets, which
starts prose) must equal the printed number to the comment's decimals, in order.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Sketches, not programs: shown in the README with an elided argument (``for ...``).
SKETCHES = ("for ...]",)
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def readme_blocks(text: str) -> list[tuple[int, str]]:
    """``(first code line number, code)`` of each ```python block of ``text``."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start(1)) + 1
        blocks.append((line, match.group(1)))
    return blocks


def comment_claim(comment: str) -> str:
    """The part of a ``# ...`` comment that states a value: up to a ``:``/``;`` at depth 0."""
    depth, quote = 0, ""
    for i, ch in enumerate(comment):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ":;" and depth == 0:
            return comment[:i]
    return comment


def printed_claims(code: str) -> dict[int, str]:
    """Line number (in ``code``, 1-based) of each ``print(`` with a comment -> the claim."""
    lines = code.splitlines()
    claims = {}
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("print("):
            continue
        inline = re.search(r"\)\s+#\s?(.*)$", line)
        if inline:
            claims[i + 1] = comment_claim(inline.group(1))
        elif i + 1 < len(lines) and lines[i + 1].lstrip().startswith("# "):
            claims[i + 1] = comment_claim(lines[i + 1].lstrip()[2:])
    return claims


def numbers_agree(claim: str, printed: str) -> bool:
    """Each number of ``claim`` equals the printed one to the claim's decimals, in order."""
    want, got = NUMBER.findall(claim), NUMBER.findall(printed)
    if len(want) != len(got):
        return False
    for w, g in zip(want, got, strict=True):
        decimals = len(w.split(".")[1]) if "." in w and "e" not in w else None
        if decimals is None and "e" not in w and float(g) != float(w):
            return False
        if decimals is not None and round(float(g), decimals) != float(w):
            return False
        if "e" in w and abs(float(g) - float(w)) > 1e-12 * max(1.0, abs(float(w))):
            return False
    return True


def test_comment_claims_are_read_as_written() -> None:
    """The checker itself: claims and their numbers, worked out by hand."""
    assert comment_claim("0.6: pooled counts") == "0.6"
    assert comment_claim("0.722; + sensitivity") == "0.722"
    assert comment_claim("[0.5 0.  0.5]: rows sum to 1") == "[0.5 0.  0.5]"
    assert comment_claim("{'mean': 1.75, 'n': 2}") == "{'mean': 1.75, 'n': 2}"
    assert numbers_agree("[0.857 0.667]", "[0.85714286 0.66666667]")
    assert not numbers_agree("[0.857 0.667]", "[0.85714286 0.6]")
    assert numbers_agree("(10, 2) float32", "torch.Size([10, 2]) torch.float32")
    assert not numbers_agree("1 val_accuracy 1.0", "2 val_accuracy 1.0")
    assert not numbers_agree("0.83 0.737", "0.83")
    code = "x = 1\nprint(x)  # 1: one\nprint(x)\n# 2\nprint(x)\n"
    assert printed_claims(code) == {2: "1", 3: "2"}


def _fixtures(folder: Path) -> None:
    """The files the examples' comments name, made as a user would (CLI, then copies)."""

    def radpipe(*args: str) -> None:
        command = [sys.executable, "-m", "workflows.cli", *args]
        subprocess.run(command, cwd=folder, check=True, capture_output=True)

    radpipe("synth", "demo", "--patients", "2", "--size", "32", "--slices", "4")
    radpipe("synth", "SYNTH", "--patients", "6", "--modality", "CR", "--size", "32")
    radpipe("convert", "SYNTH/dicom", "OUT", "--format", "npy", "--quiet")
    import pydicom

    by_series: dict[str, list[Path]] = {}
    for path in sorted((folder / "demo" / "dicom").rglob("*.dcm")):
        uid = str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)
        by_series.setdefault(uid, []).append(path)
    first = by_series[min(by_series)]
    (folder / "scan").mkdir()
    shutil.copy(first[0], folder / "scan" / "0001.dcm")
    (folder / "scans" / "a").mkdir(parents=True)
    for i, path in enumerate(first[:3], start=1):
        shutil.copy(path, folder / "scans" / "a" / f"{i}.dcm")


@pytest.mark.slow
def test_readme_python_examples_run_and_print_what_they_say(tmp_path: Path) -> None:
    blocks = [
        (line, code)
        for line, code in readme_blocks(README.read_text())
        if not any(s in code for s in SKETCHES)
    ]
    assert len(blocks) >= 10, "the README's examples were not found"
    _fixtures(tmp_path)
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps(blocks))
    # -P: the script's folder (tests/) is not put first on sys.path, where tests/pipeline
    # would hide the package
    done = subprocess.run(
        [sys.executable, "-P", __file__, str(spec)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout.splitlines()[-1])
    wrong = []
    checked = 0
    for (line, code), lines_out in zip(blocks, printed, strict=True):
        for code_line, claim in printed_claims(code).items():
            out = lines_out.get(str(code_line), "<not printed>")
            checked += 1
            if not numbers_agree(claim, out):
                wrong.append(f"README.md:{line + code_line - 1}: says {claim!r}, prints {out!r}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 10


def _run_blocks(spec: Path) -> None:
    """Run each block as a script of its own (``runpy``, as ``python block.py`` runs it, with
    ``print`` recorded); print one JSON line: per block, line -> output."""
    import runpy

    results: list[dict[str, str]] = []
    real_print = builtins.print
    for line, code in json.loads(spec.read_text()):
        out: dict[str, str] = {}

        def recording_print(*args: object, _out: dict[str, str] = out, **kwargs: object) -> None:
            buffer = io.StringIO()
            real_print(*args, file=buffer, end="")
            frame = sys._getframe(1)
            _out[str(frame.f_lineno)] = buffer.getvalue()

        script = spec.parent / f"README_line_{line}.py"
        script.write_text(code)
        try:
            runpy.run_path(str(script), {"print": recording_print}, run_name="__main__")
        except Exception as error:
            raise SystemExit(
                f"README.md block at line {line} failed: {type(error).__name__}: {error}"
            ) from error
        results.append(out)
    real_print(json.dumps(results))


if __name__ == "__main__":
    _run_blocks(Path(sys.argv[1]))


# The README's terminal sessions that make their own input (`radpipe synth`), in order, in
# one folder: each is run as written and must print what the README shows (timings aside).
CONSOLE_SESSIONS = ("$ radpipe synth demo --patients 2", "$ radpipe convert demo/dicom out")


def console_blocks(text: str) -> list[str]:
    """The text of each ```console block of ``text``."""
    return re.findall(r"^```console\n(.*?)^```", text, re.S | re.M)


def session_script(block: str) -> str:
    """A bash script that echoes each ``$ `` line of ``block`` and runs it, keeping ``$?``."""
    lines = ["set +e", "exec 2>&1", "__rc=0"]  # (a command's own ``# comment`` ends its line)
    for line in block.splitlines():
        if line.startswith("$ "):
            command = line[2:]
            quoted = "'" + line.replace("'", "'\\''") + "'"
            lines += [f"printf '%s\\n' {quoted}", f"(exit $__rc); {command}", "__rc=$?"]
    return "\n".join(lines) + "\n"


def _timings(text: str) -> str:
    return re.sub(r" in \d+\.\d s;", " in _ s;", text)


@pytest.mark.slow
def test_readme_terminal_sessions_print_what_they_show(tmp_path: Path) -> None:
    blocks = console_blocks(README.read_text())
    sessions = [next((b for b in blocks if b.startswith(s)), None) for s in CONSOLE_SESSIONS]
    assert all(sessions), f"a README session was not found: {CONSOLE_SESSIONS}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr in the order they are written
    }
    for block in sessions:
        assert block is not None
        done = subprocess.run(
            ["bash", "-c", session_script(block)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert _timings(done.stdout) == _timings(block), done.stdout + done.stderr
