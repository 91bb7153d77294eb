"""Series without a PatientID, placed in the split by their study.

A missing or empty PatientID (type 2 in DICOM: anonymised exports often leave it empty) hashes
to one patient key for every such series: the split took them all for ONE patient and put
them in one part together, without a word (54 series of some 27 patients all in the training
split, the test split made of the others). Each study is now taken for a patient of its own
(the series of one study are of one patient, PS3.3 C.7.2.1), and the run warns: studies of one
patient without PatientIDs can still land in two parts of the split, which no key can tell.
"""

from __future__ import annotations

import logging
from typing import Any

from pipeline.keys import hash_key

log = logging.getLogger("radpipe")

__all__ = ["place_unnamed_patients"]


def place_unnamed_patients(
    rows: dict[str, dict[str, Any]], studies: dict[str, str], sources: dict[str, str]
) -> None:
    """Give each series row (``rows`` by series key) whose patient key is that of an empty
    PatientID the key of its study (``studies``: series key -> study key) instead, and warn,
    naming a few series by a file (``sources``)."""
    unnamed = hash_key("")
    series = sorted(k for k, r in rows.items() if r["patient_key"] == unnamed)
    if not series:
        return
    for k in series:
        rows[k]["patient_key"] = hash_key(f"no PatientID, study {studies.get(k, k)}")
    named = ", ".join(sorted(sources.get(k, k) for k in series)[:5])
    more = f" and {len(series) - 5} more" if len(series) > 5 else ""
    count = len({studies.get(k, k) for k in series})
    log.warning(
        "%d of %d series have no PatientID (missing or empty): each of their %d studies is "
        "taken for a patient of its own in the split (one key for all of them made them one "
        "patient); the studies of one patient can then be in two parts of the split: give "
        "them their PatientIDs to keep each patient in one (%s%s)",
        len(series), len(rows), count, named, more,
    )  # fmt: skip
