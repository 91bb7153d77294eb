"""Fuzz the user's inputs other than DICOM bytes through the ``radpipe`` command line.

Usage: ``python benchmarks/fuzz_inputs.py [--only SUBSTRING] [--list] [--keep DIR]``

Starts from ``radpipe synth`` studies (12 CR patients for classification, 6 MR patients for
segmentation, 32x32 images) and copies of ``configs/xray_classify.yaml`` and
``configs/mr_segment_mlp.yaml`` cut to one epoch, then runs each case of
:mod:`fuzz_inputs_cases` (a mutated config, labels CSV, masks CSV, images list or command-line
flag) as a user would, ``radpipe ...`` in a subprocess with relative paths, and sorts what
came back:

- ``ok``: accepted, as the case expects;
- ``refused``: exit 1 or 2 with a message that names the input the case mutated;
- ``FAULT``: a traceback, a Python class name in the message (``KeyError``), an absolute path
  in the message, an exit code other than 0/1/2, a refusal that does not name the mutated
  input, or a clearly wrong input accepted (exit 0).

Prints one line per case and the counts; exits 1 when any case is a FAULT. A benchmark, not a
test: one case that trains takes about 20 s on the 2-core VM (most are refused in a second).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzz_inputs_nifti  # noqa: E402, F401  (adds the NIfTI masks' and more labels' cases)
from fuzz_inputs_cases import CASES, Case  # noqa: E402

#: Python exception class names that a user should never read in radpipe's messages.
CLASS_NAMES = re.compile(r"\b(?:[A-Z][A-Za-z]*(?:Error|Exception)|StopIteration)\b")
#: radpipe's own words that end in "Error" are none; these are not Python class names.
ALLOWED_WORDS = {"StageError"}  # named on purpose by research-code messages (README)


@dataclass
class Outcome:
    case: str
    kind: str  # ok | refused | FAULT
    rc: int
    why: str
    seconds: float


def radpipe(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    cmd = [sys.executable, "-m", "workflows.cli", *args]
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
            errors="replace",
        )  # fmt: skip
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else ""
        return -999, out + f"\n[fuzz: timed out after {timeout} s]"
    return proc.returncode, proc.stdout + proc.stderr


def _config(src: Path, dest: Path, edits: dict[str, object], data: dict[str, object]) -> None:
    """A shipped config cut to one quick epoch, pointed at the synthetic study."""
    cfg = yaml.safe_load(src.read_text())
    cfg["output"] = "runs"
    cfg["data"].update(data)
    train = cfg["train"]
    train.update(epochs=1, min_epochs=1, warmup_epochs=0, average_epochs=0, early_stopping=1)
    cfg.setdefault("evaluate", {})["explain"] = 0
    cfg["evaluate"]["bootstrap"] = 0
    cfg.setdefault("report", {})["overlays"] = 1
    for key, value in edits.items():
        cfg[key] = value
    dest.write_text(yaml.safe_dump(cfg, sort_keys=False))


def prepare(work: Path) -> None:
    """Synthetic studies, their configs, and one trained run of each task for predict/evaluate."""
    for args in (
        ["synth", "cr", "--modality", "CR", "--patients", "12", "--size", "32"],
        ["synth", "seg", "--task", "segmentation", "--modality", "MR", "--patients", "6",
         "--size", "32", "--slices", "4", "--series-per-patient", "1"],
    ):  # fmt: skip
        rc, out = radpipe(args, work)
        if rc:
            raise SystemExit(f"setup failed: radpipe {' '.join(args)}\n{out}")
    _config(
        ROOT / "configs/xray_classify.yaml", work / "cls.yaml", {},
        {"source": "cr/dicom", "labels": "cr/labels.csv"},
    )  # fmt: skip
    _config(
        ROOT / "configs/mr_segment_mlp.yaml", work / "seg.yaml",
        {"preprocess": [{"type": "z_score", "mode": "image"}]},
        {"source": "seg/dicom", "labels": "seg/labels.csv", "masks": "seg/masks.csv"},
    )  # fmt: skip
    for name in ("cls", "seg"):
        rc, out = radpipe(["run", f"{name}.yaml", "--quiet"], work)
        if rc:
            raise SystemExit(f"setup failed: radpipe run {name}.yaml\n{out}")
        run = next(line.split(": ", 1)[1] for line in out.splitlines() if "run directory:" in line)
        run = run.split(" (")[0].strip()
        (work / f"{name}_run").symlink_to(run)


def classify(case: Case, rc: int, out: str, work: Path) -> tuple[str, str]:
    absolute = str(work.resolve())
    text = out if case.args[:2] != ["config", "show"] or rc else ""
    if "Traceback (most recent call last)" in out:
        return "FAULT", "traceback: " + _last_lines(out)
    names = {m for m in CLASS_NAMES.findall(text)} - ALLOWED_WORDS
    if names:
        return "FAULT", f"Python class name {sorted(names)}: " + _line_with(text, names)
    if absolute in text or "/tmp/" in text:
        return "FAULT", "absolute path: " + _line_with(text, {absolute, "/tmp/"})
    if rc not in (0, 1, 2):
        return "FAULT", f"exit {rc}: " + _last_lines(out)
    if rc == 0:
        if case.expect == "refuse":
            return "FAULT", "accepted a wrong input: " + _last_lines(out)
        if case.warn and not re.search(case.warn, out, re.I):
            return "FAULT", f"accepted without a word matching {case.warn!r}: " + _last_lines(out)
        return "ok", ""
    if case.expect == "accept":
        return "FAULT", f"refused a valid input (exit {rc}): " + _last_lines(out)
    if case.names and not any(n in out for n in case.names):
        return "FAULT", f"refusal does not name {case.names[0]!r}: " + _last_lines(out)
    return "refused", _last_lines(out)


def _last_lines(out: str, n: int = 2) -> str:
    lines = [line for line in out.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])[:400]


def _line_with(text: str, needles: set[str]) -> str:
    for line in text.splitlines():
        if any(n in line for n in needles):
            return line.strip()[:400]
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp one)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.only in c.name]
    if args.list:
        for c in cases:
            print(f"{c.name:40s} expect {c.expect}")
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="fuzz_inputs_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if not (work / "cls_run").exists():
            prepare(work)
        outcomes = []
        for case in cases:
            cdir = work / "cases" / case.name
            shutil.rmtree(cdir, ignore_errors=True)
            cdir.mkdir(parents=True)
            case.build(work, cdir)
            start = time.perf_counter()
            rc, out = radpipe(case.args, work, case.timeout)
            (cdir / "output.txt").write_text(f"$ radpipe {' '.join(case.args)}\nexit {rc}\n{out}")
            kind, why = classify(case, rc, out, work)
            outcomes.append(Outcome(case.name, kind, rc, why, time.perf_counter() - start))
            o = outcomes[-1]
            print(f"{o.kind:8s} {o.case:40s} rc={o.rc:<4d} {o.seconds:5.1f}s  {o.why}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    counts = {k: sum(o.kind == k for o in outcomes) for k in ("ok", "refused", "FAULT")}
    print(f"\n{len(outcomes)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["FAULT"] else 0


if __name__ == "__main__":
    sys.exit(main())
