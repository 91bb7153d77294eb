"""Clopper-Pearson intervals where the patient bootstrap has no spread (5 of 5 found).

Expected values by hand: at n of n the exact interval is [(alpha / 2) ** (1 / n), 1], at 0 of n
[0, 1 - (alpha / 2) ** (1 / n)]; in general the beta quantiles of Clopper & Pearson (1934).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from pipeline.metrics import bootstrap_ci
from pipeline.metrics.proportions import exact_proportion_ci, exact_when_unanimous


@pytest.mark.parametrize(("k", "n"), [(5, 5), (0, 5), (3, 10), (1, 1), (17, 20)])
def test_exact_interval_is_clopper_pearson(k: int, n: int) -> None:
    ci = exact_proportion_ci(k, n, level=0.9)
    low = beta.ppf(0.05, k, n - k + 1) if k > 0 else 0.0
    high = beta.ppf(0.95, k + 1, n - k) if k < n else 1.0
    assert (ci["low"], ci["high"]) == pytest.approx((low, high), rel=1e-9)
    assert ci["estimate"] == k / n and ci["trials"] == n


def test_exact_interval_of_all_and_none() -> None:
    assert exact_proportion_ci(5, 5)["low"] == pytest.approx(0.025 ** (1 / 5))  # 0.478
    assert exact_proportion_ci(0, 5)["high"] == pytest.approx(1 - 0.025 ** (1 / 5))
    assert np.isnan(exact_proportion_ci(0, 0)["low"])
    with pytest.raises(ValueError, match="0 <= successes <= trials"):
        exact_proportion_ci(6, 5)


def test_unanimous_bootstrap_gets_the_exact_interval_on_patients() -> None:
    """5 positives found, of 3 patients (a: 2, b: 2, c: 1): the trials are the 3 patients,
    not the 5 correlated cases: [0.025 ** (1 / 3), 1] = [0.292, 1]."""
    groups = np.array(["a", "a", "b", "b", "c", "d"])
    positive = np.array([True, True, True, True, True, False])
    found = np.ones(5)
    ci = bootstrap_ci(lambda idx: float(found[idx].mean()), groups[:5], n_resamples=100)
    assert np.isnan(ci["low"]) and "note" in ci
    filled = exact_when_unanimous(ci, groups[:5], positive[:5])
    assert (filled["low"], filled["high"]) == pytest.approx((0.025 ** (1 / 3), 1.0))
    assert filled["trials"] == 3 and "3 of 3 patients" in filled["note"]
    assert filled["method"].startswith("Clopper-Pearson")


def test_a_unanimous_fraction_or_one_patient_keeps_no_interval() -> None:
    """Each patient 1 of 2 found: every resample gives 0.5, but no count of patients is 0.5
    of them; one patient: a point. Both stay without bounds, with the bootstrap's note."""
    half = np.array([1.0, 0.0, 1.0, 0.0])
    groups = ["a", "a", "b", "b"]
    ci = bootstrap_ci(lambda idx: float(half[idx].mean()), groups, n_resamples=50)
    assert np.isnan(exact_when_unanimous(ci, groups, np.ones(4, bool))["low"])
    one = bootstrap_ci(lambda idx: 1.0, ["a", "b"], n_resamples=50)
    assert np.isnan(exact_when_unanimous(one, ["a", "a"], np.ones(2, bool))["low"])
    varied = bootstrap_ci(lambda idx: float(half[idx].mean()), ["a", "b", "c", "d"])
    assert exact_when_unanimous(varied, ["a", "b", "c", "d"], np.ones(4, bool)) is varied


def test_delong_says_when_a_patient_has_several_cases() -> None:
    """DeLong's variance takes every case as independent: with 8 cases of 4 patients (two
    alike cases each) its interval is too narrow, and the note says so; one case a patient,
    no note. The figures themselves are unchanged (AUC 0.75 by hand: 12 of 16 pairs)."""
    from pipeline.metrics import delong_roc_ci

    true = [0, 0, 1, 1, 0, 0, 1, 1]
    scores = [0.1, 0.1, 0.35, 0.35, 0.4, 0.4, 0.8, 0.8]
    plain = delong_roc_ci(true, scores)
    paired = delong_roc_ci(true, scores, groups=list("aabbccdd"))
    assert plain["estimate"] == paired["estimate"] == pytest.approx(0.75)
    assert (plain["low"], plain["high"]) == (paired["low"], paired["high"])
    assert "note" not in plain
    assert paired["note"].startswith("cases taken as independent: 8 cases of 4 patients")
    assert "note" not in delong_roc_ci(true, scores, groups=list("abcdefgh"))


def test_youden_says_when_no_threshold_beats_chance() -> None:
    """Validation probabilities ranked in reverse (every positive below every negative): at
    every threshold sensitivity - (1 - specificity) <= 0 by hand, so Youden's best J is 0 at
    'everything positive' (0.1); it was given as an operating point without a word."""
    from pipeline.metrics import choose_threshold

    reversed_ = choose_threshold(np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.1]))
    assert (
        reversed_["threshold"] == 0.1
        and "no threshold does better than chance" in (reversed_["note"])
    )
    tied = choose_threshold(np.array([0, 1, 0, 1]), np.full(4, 0.5))
    assert "note" in tied
    fine = choose_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert fine["threshold"] == 0.8 and "note" not in fine  # J = 0.5 - 0 by hand
