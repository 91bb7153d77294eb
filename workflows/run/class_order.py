"""The class names of a run's model, in the order of its outputs, for ``radpipe predict`` and
``radpipe evaluate`` alike: the order the run indexed its labels in (``classes.json``).

Until 2026-12-03 ``evaluate`` took them from ``data.class_names`` (else ``metrics.json``)
while ``predict`` took ``classes.json`` first, and a resumed run named its classes from the
config while its labels kept ``classes.json``'s indices: a run whose config lists the classes
in another order than its ``classes.json`` (started before its config was recorded, resumed
after an edit) had its scores given to the wrong class names, without a word.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

__all__ = ["class_names", "say_other_order"]

log = logging.getLogger("radpipe")


def class_names(config: Any, run_dir: Path, k: int | None) -> list[str]:
    """The model's class names, in the order of its outputs: the order the run indexed its
    labels in (``classes.json``), else ``data.class_names``, its ``metrics.json``'s, else
    ``0..k-1`` (``k``: the model's number of classes; ``None``: not known, and ``[]`` when
    nothing names them). ``radpipe predict`` and ``evaluate`` both take them from here.

    A ``data.class_names`` or ``metrics.json`` that lists other names or another order than
    ``classes.json`` (a run started before its config was recorded, resumed after an edit)
    is said: the labels were indexed, so the model trained, in ``classes.json``'s order.
    Until 2026-12-03 ``evaluate`` took them from the config first: such a run's external
    scores were given to the wrong class names.
    """
    import json

    from workflows.run.labels import stored_class_names

    stored = stored_class_names(run_dir)  # the order the run trained with
    metrics = run_dir / "metrics.json"
    listed = [("data.class_names (config.yaml)", config.data.class_names),
              ("metrics.json", json.loads(metrics.read_text()).get("class_names")
               if metrics.is_file() else None)]  # fmt: skip
    if stored and (k is None or len(stored) == k):
        say_other_order(stored, [(w, list(n)) for w, n in listed if n])
        return stored
    for where, names in listed:
        if names and (where != "metrics.json" or k is None or len(names) == k):
            return list(names)
    return [str(i) for i in range(k or 0)]


_SAID: set[tuple[str, ...]] = set()


def say_other_order(stored: list[str], listed: list[tuple[str, list[str]]]) -> None:
    """Warn (once a process) of each listing of a run's classes unlike its ``classes.json``
    (``stored``), which is the order used."""
    for where, names in listed:
        said = (where, *names, "|", *stored)
        if list(names) != stored and said not in _SAID:
            _SAID.add(said)
            log.warning(
                "%s lists the classes as %s, but the run indexed its labels (and its model's "
                "outputs) as %s (its classes.json): classes.json's order is used",
                where, ", ".join(names), ", ".join(stored),
            )  # fmt: skip
