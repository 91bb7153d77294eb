"""Bootstrap intervals from few patients: one patient gave NaN bounds with no word why; 2 to 9
patients gave a percentile interval with no word that it is too narrow (it can only reshuffle
the few values seen). Now ``note`` says why there are no bounds and ``caution`` marks an
interval from fewer than 10 patients, in metrics.json, the report's card and its intervals
table."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import bootstrap_ci
from workflows.report.results import evaluate_classification
from workflows.report.sections import cards, intervals_section

VALUES = np.array([0.2, 0.9, 0.4, 0.7, 0.1, 0.8, 0.5, 0.3, 0.6, 1.0, 0.05, 0.95])


def _mean(idx: np.ndarray) -> float:
    return float(VALUES[idx].mean())


def test_one_patient_has_no_interval_and_says_why() -> None:
    ci = bootstrap_ci(_mean, ["p"] * 12, n_resamples=50)
    assert np.isnan(ci["low"]) and np.isnan(ci["high"])
    assert ci["estimate"] == pytest.approx(VALUES.mean())
    assert ci["note"].startswith("no interval: every case is of one patient")
    assert "caution" not in ci


@pytest.mark.parametrize(("patients", "cautioned"), [(2, True), (9, True), (10, False),
                                                     (12, False)])  # fmt: skip
def test_fewer_than_ten_patients_is_cautioned(patients: int, cautioned: bool) -> None:
    groups = [f"p{i % patients}" for i in range(12)]
    ci = bootstrap_ci(_mean, groups, n_resamples=200)
    assert ci["low"] < ci["high"]  # an interval is still given
    assert ("caution" in ci) == cautioned
    if cautioned:
        assert ci["caution"].startswith(f"only {patients} patients: a percentile bootstrap")


def test_the_report_says_the_caution_beside_the_interval() -> None:
    true = np.array([0, 1, 0, 1, 1, 0])
    p1 = np.array([0.3, 0.6, 0.45, 0.9, 0.4, 0.2])
    m = evaluate_classification(true, np.c_[1 - p1, p1], ["neg", "pos"], n_resamples=300)
    assert m["intervals"]["accuracy"]["caution"].startswith("only 6 patients")
    assert "only 6 patients, too few" in cards("classification", m)
    assert "only 6 patients: a percentile bootstrap over fewer than 10" in intervals_section(m)
