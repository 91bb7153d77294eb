"""Which images of a new folder the run has already seen (``predict`` and ``evaluate``).

Keys are HMAC of the DICOM UIDs with the project secret, so a series (or patient) of SRC whose
key is in the run's ``split.csv`` is the very series (patient) the run split. Scoring a model
on its own training or validation images gives figures that say nothing about new patients;
``radpipe evaluate`` and ``radpipe predict`` say so instead of reporting them as external.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.words import are

log = logging.getLogger("radpipe")


@dataclass(frozen=True)
class Seen:
    """Overlap of a new folder with the run's own split.

    Attributes
    ----------
    series : int
        Series of the folder that are series the run trained on or validated with
        (``split.csv`` rows with ``split`` ``train`` or ``val``; every cross-validation row).
    patients : int
        Series of the folder, not themselves seen, whose patient had series in those splits.
    total : int
        Series of the folder looked at.
    unit, same, patient : str
        What is counted, what makes one the run's own, and what names a patient, in words:
        ``data.kind: images`` counts images, the same file contents and ``patient_id``.
    """

    series: int
    patients: int
    total: int
    unit: str = "series"
    same: str = "the same SeriesInstanceUID"
    patient: str = "PatientID"

    def note(self) -> str:
        """Why SRC is not new to the model (empty when no series of it was trained on):
        series UIDs are unique, so the same key is the same images."""
        if not self.series:
            return ""
        n = self.series
        return (f"{n} of the {self.total} {self.unit} {are(n, 'was', 'were')} in the run's own "
                f"training/validation split ({self.same})")  # fmt: skip

    def caution(self) -> str:
        """Series of patients the run trained on (empty when none): the same patient, unless
        another site's PatientIDs collide with the run's."""
        if not self.patients:
            return ""
        n = self.patients
        return (f"{n} of the {self.total} {self.unit} {are(n)} new but {are(n, 'has', 'have')} "
                f"the {self.patient} of a patient in the run's training/validation split: the "
                "same patient (unless the IDs of another site collide), so not an independent "
                "case")  # fmt: skip

    def as_dict(self) -> dict[str, int]:
        return {"series": self.total, "series_seen_in_training": self.series,
                "series_of_patients_seen_in_training": self.patients}  # fmt: skip


def secret_problem(run_dir: Path) -> str | None:
    """Why the keys of ``run_dir`` cannot be compared with keys made now, or ``None``.

    Every key (file names, ``split.csv``) is an HMAC with the project secret
    (:mod:`pipeline.keys`); ``provenance.json`` records the secret's fingerprint (``keys``,
    :func:`pipeline.keys.key_fingerprint`, not the secret). Under another secret the run's own
    series get other keys, so none of them would be found again: its training images would be
    scored as new ones. ``None`` when the fingerprints agree, and for runs made before
    2026-12-03, which did not record it.
    """
    from workflows.run.provenance import read_provenance

    provenance = read_provenance(run_dir)
    return key_problem(None if provenance is None else provenance.keys)


def key_problem(recorded: str | None) -> str | None:
    """:func:`secret_problem` of a run whose ``provenance.json`` recorded ``recorded``."""
    if recorded is None:
        return None
    from pipeline.keys import SECRET_ENV, key_fingerprint

    now = key_fingerprint()
    if recorded == now:
        return None
    return (f"the run was made under another project secret than the one in use now (key "
            f"fingerprint {recorded}, now {now}; set by {SECRET_ENV}, else "
            "~/.config/radpipe/secret), so every key differs and radpipe cannot tell which "
            "images the run trained on")  # fmt: skip


def refuse_other_secret(run_dir: Path) -> None:
    """``radpipe evaluate``'s refusal of a run made under another project secret.

    Raises
    ------
    ConfigError
        When :func:`secret_problem` finds one: SRC's figures could be those of the run's own
        training images.
    """
    secret = secret_problem(run_dir)
    if secret is not None:
        from pipeline.errors import ConfigError

        raise ConfigError(f"Cannot evaluate RUN on SRC: {secret}, so SRC's figures could be "
                          "those of its own training images. Set RADPIPE_SECRET_FILE to the "
                          "secret file the run was made with, and evaluate again.")  # fmt: skip


def seen_by_run(run_dir: Path, rows: Iterable[Mapping[str, str]]) -> Seen:
    """Count the series of ``rows`` (dicts with ``series_key`` and ``patient_key``) that the run
    at ``run_dir`` trained on or validated with, by series and by patient.

    A run without ``split.csv`` (none written yet) has seen nothing.
    """
    split = run_dir / "split.csv"
    fitted_series: set[str] = set()
    fitted_patients: set[str] = set()
    if split.is_file():
        from pipeline.split import read_split_csv  # a split.csv saved from Excel has a BOM

        for row in read_split_csv(split):
            if row["split"] != "test":
                fitted_series.add(row["series_key"])
                fitted_patients.add(row["patient_key"])
    series: dict[str, str] = {r["series_key"]: r.get("patient_key", "") for r in rows}
    same = sum(k in fitted_series for k in series)
    kin = sum(k not in fitted_series and p in fitted_patients for k, p in series.items())
    return Seen(series=same, patients=kin, total=len(series))


def warn_seen(seen: Seen) -> None:
    """``radpipe predict``'s warnings of images the run trained on, or of their patients."""
    if seen.series:
        log.warning("SRC holds images the run trained on: %s. Their predictions are no guide "
                    "to how the model does on new patients.", seen.note())  # fmt: skip
    if seen.patients:
        log.warning("%s.", seen.caution())
