"""A run's ``config.yaml`` edited after the run started.

``radpipe run --resume``, ``predict`` and ``evaluate`` take a run's settings from its
``config.yaml`` (``--set`` is refused on a resume). The config the run started with is kept in
``provenance.json`` (``config``); an edit of a setting that its split, fitted preprocessing,
conversion or checkpoints were made with is refused, naming each key with its old and new
value, and an edit of a setting read only afterwards (``evaluate``, ``report``, ``compute``,
the speed and checkpoint settings of ``train``) is used and said. Until 2026-12-02 an edited
``train.lr`` or ``preprocess`` was taken without a word: a run killed before its first
checkpoint trained again with the new rate beside the stages fitted for the old
preprocessing, and its report showed settings it had not been made with.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

log = logging.getLogger("radpipe")

#: settings read after training (or speed only): an edit is used and said, not refused
TOLD = ("evaluate", "report", "compute", "train.progress", "train.checkpoint_interval_s",
        "train.checkpoint_every", "train.num_workers", "train.device")  # fmt: skip


_SAID: set[tuple[str, str]] = set()


def started_config(run_dir: Path) -> Any:
    """The config the run started with, for ``provenance.json``: the one recorded there
    already (a resume keeps it), else ``config.yaml`` as written when the run began."""
    from workflows.run.provenance import read_provenance

    provenance = read_provenance(run_dir)
    if provenance is not None and provenance.config is not None:
        return provenance.config
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def _flat(value: Any, key: str = "") -> dict[str, Any]:
    """``{"train.lr": 0.001, "preprocess.0.shape": [28, 28], ...}``, as ``--set`` names keys."""
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return {key: value}
    flat: dict[str, Any] = {}
    for name, inner in items:
        flat |= _flat(inner, f"{key}.{name}" if key else name)
    return flat


def check_config_unedited(run_dir: Path, saved: Any) -> None:
    """Refuse a run whose ``config.yaml`` (``saved``, as read) differs from the config it
    started with in a setting its results were made with; say the edits that are used.
    A run without a recorded config (made before 2026-12-02, or stopped before its provenance
    was written: nothing was made from its settings yet) is not checked.

    Raises
    ------
    ConfigError
        Naming every refused key, the value the run started with and the value now.
    """
    from workflows.run.provenance import read_provenance

    provenance = read_provenance(run_dir)
    started = None if provenance is None else provenance.config
    if started is None:
        return
    old, new = _flat(started), _flat(saved)
    gone = "(absent)"
    pairs = [(k, old.get(k, gone), new.get(k, gone)) for k in sorted(set(old) | set(new))]
    changed = [(k, a, b) for k, a, b in pairs if a != b]
    told = [c for c in changed if any(c[0] == t or c[0].startswith(t + ".") for t in TOLD)]
    refused = [c for c in changed if c not in told]
    words = "; ".join(f"{k} {a!r} -> {b!r}" for k, a, b in refused)
    if refused:
        raise ConfigError(
            f"{run_dir.name}/config.yaml was edited since the run started ({words}): its "
            "split, conversion, fitted preprocessing and checkpoints were made with the "
            "settings it started with (provenance.json, 'config'); put config.yaml back as it "
            "was, or start a new run with the new settings (radpipe run CONFIG)."
        )
    said = (str(run_dir.resolve()), str(told))
    if told and said not in _SAID:  # once a process: predict and evaluate read the config twice
        _SAID.add(said)
        log.warning(
            "%s/config.yaml was edited since the run started: %s; used (read only after "
            "training, or speed settings)", run_dir.name,
            "; ".join(f"{k} {a!r} -> {b!r}" for k, a, b in told),
        )  # fmt: skip
