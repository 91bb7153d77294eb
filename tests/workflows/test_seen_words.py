"""The counts of ``radpipe evaluate``/``predict``'s "not new to the model" lines agree with
their verbs: BreastMNIST's one test image that is a training image's copy was said as
``1 of the 156 images were in the run's own training/validation split``."""

from __future__ import annotations

from workflows.run.seen import Seen


def test_one_seen_image_is_said_in_the_singular() -> None:
    seen = Seen(series=1, patients=1, total=156, unit="images", same="the same file contents",
                patient="patient_id")  # fmt: skip
    assert seen.note() == ("1 of the 156 images was in the run's own training/validation split "
                           "(the same file contents)")  # fmt: skip
    assert seen.caution().startswith("1 of the 156 images is new but has the patient_id of a "
                                     "patient in the run's training/validation split")  # fmt: skip


def test_several_stay_plural() -> None:
    seen = Seen(series=3, patients=2, total=10)
    assert seen.note() == ("3 of the 10 series were in the run's own training/validation split "
                           "(the same SeriesInstanceUID)")  # fmt: skip
    assert seen.caution().startswith("2 of the 10 series are new but have the PatientID")
