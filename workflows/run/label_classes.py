"""The classes of a classification's labels CSV, checked before a run directory is made.

The class-name refusals of :func:`workflows.run.labels.read_label_table` (indices mixed with
names, a ``class_name`` column that disagrees with the indices or gives two of them one name,
a value that is not in ``data.class_names``) and :func:`check_indices_used` (a class index
skipped) need only the label column, not the converted data. Until 2026-12-03 they were
made once the run directory existed and its data were being prepared: the run directory was
made, then removed, and the refusal exited 1, unlike every other refusal of a config's
tables (exit 2, nothing written).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError, RadpipeError
from workflows.run.class_names import check_indices_used
from workflows.run.config import RunConfig
from workflows.run.labels import class_index, read_rows, stored_class_names

__all__ = ["check_label_classes"]


def check_label_classes(config: RunConfig, run_dir: Path | None = None) -> None:
    """Refuse the classes of ``data.labels`` as the run would once its data are prepared.

    ``run_dir``: a run being resumed, whose ``classes.json`` (when written) gives the class
    order, as it does for the resumed run.

    Raises
    ------
    ConfigError
        With the message the run would stop with (a usage error: exit 2).
    """
    d = config.data
    if config.task != "classification" or d.labels is None or not d.labels.is_file():
        return  # segmentation; no CSV: check_inputs has said so
    try:
        rows, columns = read_rows(d.labels)
        if d.label_column not in columns:
            return  # check_inputs has said so
        stored = stored_class_names(run_dir) if run_dir is not None else None
        names, index = class_index(d.labels.name, rows, d.label_column, stored or d.class_names)
        if not stored and not d.class_names:  # the CSV's own order: a skipped index
            unit = "image" if d.kind == "images" else "series"
            source = f"{d.labels.name} column {d.label_column!r}"
            check_indices_used(source, names, set(index.values()), unit)
    except RadpipeError as err:
        raise ConfigError(str(err)) from None
