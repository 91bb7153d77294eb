"""A run's ``provenance.json``: written as its data are prepared, read by one reader.

It records what the run was made from and with: the seed, the fingerprints of its source
files, ground-truth CSVs and mask files, its conversion folder, the project secret's
fingerprint (``keys``), the config it started with, versions, git commit and platform. A
resume, ``predict`` and ``evaluate`` read it back through :func:`read_provenance` alone
(until 2026-12-03 six places read it by hand, each in its own way: a file cut short was a
``JSONDecodeError`` traceback in one, unsaid in another, and a resume read it twice).
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_text
from pipeline.keys import key_fingerprint

__all__ = ["PROVENANCE", "Provenance", "read_provenance", "write_provenance"]

PROVENANCE = "provenance.json"

_PACKAGES = (
    "radpipe", "numpy", "torch", "pydicom", "monai", "scikit-image", "pydantic", "nibabel",
    "pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle", "pyjpegls",
    "highdicom", "dask", "distributed",
)  # fmt: skip


@dataclass(frozen=True)
class Provenance:
    """What ``provenance.json`` recorded (:meth:`of` a JSON object); an entry a run did not
    record (an older radpipe), or of another type, is ``None``.

    Attributes
    ----------
    data
        The whole record.
    input_fingerprint, truth_fingerprint, mask_files_fingerprint
        The stat facts of the files of ``data.source``; the contents of ``data.labels`` and
        ``data.masks``; those of the mask files the masks CSV (or list CSV) names.
    conversion
        The run's conversion folder, relative to the run directory.
    keys
        The fingerprint of the project secret the run's keys were made with.
    unwindowed_images, windowed_images
        Converted images that ``window: header`` found no window for, and found one for.
    config
        The config the run started with (a mapping); ``None`` before 2026-12-02.
    """

    data: dict[str, Any] = field(default_factory=dict)
    input_fingerprint: str | None = None
    truth_fingerprint: str | None = None
    mask_files_fingerprint: str | None = None
    conversion: str | None = None
    keys: str | None = None
    unwindowed_images: int | None = None
    windowed_images: int | None = None
    config: Any = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Provenance:
        texts = ("input_fingerprint", "truth_fingerprint", "mask_files_fingerprint",
                 "conversion", "keys")  # fmt: skip
        found: dict[str, Any] = {k: v for k in texts if isinstance(v := data.get(k), str) and v}
        for k in ("unwindowed_images", "windowed_images"):
            if isinstance(v := data.get(k), int) and not isinstance(v, bool):
                found[k] = v
        return cls(data, **found, config=data.get("config"))


def read_provenance(run_dir: Path) -> Provenance | None:
    """The ``provenance.json`` of ``run_dir``; ``None`` when the run has none (it stopped
    before its data were prepared: nothing was made from them).

    Raises
    ------
    RadpipeError
        It is there but cannot be read, is cut short or damaged (not JSON), or holds no
        JSON object: named, with what to do.
    """
    path = run_dir / PROVENANCE
    name = f"{run_dir.name}/{PROVENANCE}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise RadpipeError(_damaged(name, f"it cannot be read: {why}")) from None
    try:
        data = json.loads(text)
    except ValueError as err:  # JSONDecodeError: "Expecting value: line 1 column 1 (char 0)"
        raise RadpipeError(_damaged(name, f"cut short or damaged: {err}")) from None
    if not isinstance(data, dict):
        raise RadpipeError(_damaged(name, f"it holds a JSON {type(data).__name__}, not an object"))
    return Provenance.of(data)


def _damaged(name: str, why: str) -> str:
    return (
        f"{name} is not usable ({why}): it records what the run was made from (its data's "
        "fingerprints, its conversion, the config it started with, the project secret's "
        "fingerprint), so the run cannot be checked or continued without it; restore it "
        "from a copy of the run directory, or start a new run"
    )


def write_provenance(
    run_dir: Path, *, seed: int, fingerprint: str, extra: dict[str, Any] | None = None
) -> None:
    """Write ``run_dir/provenance.json`` atomically (a rename: never seen cut short)."""
    info = {
        "seed": seed,
        "input_fingerprint": fingerprint,
        "git_commit": git_commit(),
        "versions": package_versions(),
        "platform": platform.platform(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "keys": key_fingerprint(),  # which project secret made split.csv's keys (not the secret)
        **(extra or {}),
    }
    atomic_write_text(run_dir / PROVENANCE, json.dumps(info, indent=2))


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit of the radpipe checkout, when it is a git checkout (else ``None``)."""
    here = cwd or Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    status = ["git", "status", "--porcelain", "--untracked-files=no"]
    dirty = subprocess.run(status, cwd=here, capture_output=True, text=True, timeout=5,
                           check=False).stdout.strip()  # fmt: skip
    return res.stdout.strip() + ("-dirty" if dirty else "")
