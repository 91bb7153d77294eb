"""Evaluation-level checks of :mod:`benchmarks.fuzz_metrics`: ``evaluate_segmentation`` and
``evaluate_classification`` against per-case references, and the accumulator, DeLong's AUC,
average precision, Youden's threshold and HD at other percentiles."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from benchmarks.fuzz_metrics_draw import Finding, close, draw_k, draw_labels, draw_scores, one_hot
from pipeline import metrics as rp


def check_evaluation(rng: np.random.Generator) -> list[Finding]:
    """``evaluate_segmentation``'s per-volume and summary figures, from references per case.

    Half the rounds give each volume as shuffled 2-D slices of one series (``slice_index``,
    in-plane spacing and the slice step), to be stacked back with the (z, y, x) spacing.
    """
    from monai.metrics import compute_dice, compute_hausdorff_distance
    from sklearn.metrics import f1_score

    from workflows.report.segmentation import SegmentationCase, evaluate_segmentation
    from workflows.report.undefined import reason_for

    k, n_cases = int(rng.integers(2, 4)), int(rng.integers(1, 5))
    sliced = bool(rng.random() < 0.5)
    empty = "nan" if rng.random() < 0.6 else "one"
    failures = "exclude" if rng.random() < 0.6 else "diagonal"
    cases: list[Any] = []
    ref_dice, ref_hd, what, diagonals = [], [], [], []
    patients = [f"p{i // 2}" if rng.random() < 0.5 else f"q{i}" for i in range(n_cases)]
    for i in range(n_cases):
        t, p, w = draw_labels(rng, k)
        while sliced and t.ndim != 3:
            t, p, w = draw_labels(rng, k)
        spacing = tuple(float(v) for v in rng.choice([0.5, 1.0, 3.0], size=t.ndim))
        what.append(f"{w} spacing={spacing}")
        if sliced:
            order = rng.permutation(t.shape[0])
            cases += [
                SegmentationCase(
                    f"v{i}s{z}", t[z], p[z], spacing[1:], patients[i], f"v{i}", int(z), spacing[0]
                )
                for z in order
            ]
        else:
            cases.append(SegmentationCase(f"v{i}", t, p, spacing, patients[i]))
        diagonals.append(float(np.sqrt(((np.array(t.shape) * np.array(spacing)) ** 2).sum())))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if empty == "nan":  # MONAI's ignore_empty=True differs (NaN for FP on empty truth)
                ref_dice.append(
                    f1_score(
                        t.ravel(),
                        p.ravel(),
                        labels=list(range(1, k)),
                        average=None,
                        zero_division=np.nan,
                    )
                )
            else:
                d = compute_dice(
                    one_hot(p, k), one_hot(t, k), include_background=False, ignore_empty=False
                )
                ref_dice.append(d[0].numpy().astype(np.float64))
            hd = compute_hausdorff_distance(
                one_hot(p, k), one_hot(t, k), percentile=95, spacing=spacing
            )[0].numpy()
        for c in range(1, k):  # MONAI's empty cases by definition: NaN in neither, inf in one
            in_t, in_p = bool((t == c).any()), bool((p == c).any())
            if not (in_t and in_p):
                hd[c - 1] = np.inf if in_t or in_p else np.nan
        ref_hd.append(hd.astype(np.float64))
    names = [f"c{c}" for c in range(k)]
    with warnings.catch_warnings(record=True) as raw:
        warnings.simplefilter("always")
        m = evaluate_segmentation(cases, k, names, n_resamples=0, empty=empty, failures=failures)
    leaks = [f"{w.category.__name__}: {w.message}" for w in raw]
    leaks += [
        f"null {key} without a reason"
        for key, value in m["summary"].items()
        if isinstance(value, float) and np.isnan(value) and not reason_for(key, m)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dice, hd = np.array(ref_dice), np.array(ref_hd)
        case_macro = np.array([np.nanmean(d) if np.isfinite(d).any() else np.nan for d in dice])
        if failures == "diagonal":
            hd = np.where(np.isinf(hd), np.array(diagonals)[:, None], hd)
        finite_hd = np.where(np.isfinite(hd), hd, np.nan)
        by_patient = {
            q: np.nanmean(case_macro[[j for j, r in enumerate(patients) if r == q]])
            for q in set(patients)
        }
        class_hd = np.nanmean(finite_hd, axis=0)
        want = {
            "dice_case_mean": np.nanmean(case_macro),
            "hd95_mean": np.nanmean(class_hd),
            "hd95_failed": int(np.isinf(np.array(ref_hd)).sum()),
            "hd95_absent": int(np.isnan(hd).sum()),
            "dice_patient_mean": np.nanmean(list(by_patient.values())),
        }
    got = {key: m["summary"][key] for key in want}
    got_case = np.array([[r["dice"][n] for n in names[1:]] for r in m["per_case"]], np.float64)
    got_hd = np.array([[r["hd95"][n] for n in names[1:]] for r in m["per_case"]], np.float64)
    hd = np.array(ref_hd)  # per case: infinite where failed, whatever the policy
    label = f"{'slices' if sliced else 'volumes'} empty={empty} failures={failures} "
    label += f"patients={patients}: {'; '.join(what)}"
    out: list[Finding] = [(leak.split(":")[0], label) for leak in leaks]
    if m["distance_unit"] != "mm":
        out.append(("distance unit", f"{label}: {m['distance_unit']}"))
    if not close(got_case, dice, 1e-6):
        out.append(("per-case Dice", f"{label}: {got_case} vs {dice}"))
    if not close(got_hd, hd, 1e-5):
        out.append(("per-case HD95", f"{label}: {got_hd} vs {hd}"))
    for key in want:
        if not close(got[key], want[key], 1e-5):
            out.append((f"summary {key}", f"{label}: {got[key]} vs {want[key]}"))
    return out


def check_classification(rng: np.random.Generator) -> list[Finding]:
    """``evaluate_classification``'s summary and per-class figures against scikit-learn."""
    from sklearn import metrics as skm

    from workflows.report.classification import evaluate_classification
    from workflows.report.undefined import reason_for

    k, n = int(rng.integers(2, 5)), int(rng.integers(2, 25))
    logits = rng.normal(size=(n, k)) * float(rng.choice([0.1, 1.0, 20.0]))
    if rng.random() < 0.3:
        logits = np.round(logits)  # tied top classes
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    if rng.random() < 0.3:
        probs = probs.astype(np.float32)
    t = rng.integers(0, k, n)
    if rng.random() < 0.2:
        t[:] = int(rng.integers(0, k))
    names = [f"c{c}" for c in range(k)]
    what = f"K={k} true={t.tolist()} probs={np.asarray(probs).round(3).tolist()}"
    p64 = np.asarray(probs, np.float64)
    pred = p64.argmax(1)
    with warnings.catch_warnings(record=True) as raw:
        warnings.simplefilter("always")
        m = evaluate_classification(t, probs, names, n_resamples=0)
    out: list[Finding] = [
        ("raw warning", f"{what}: {w.category.__name__}: {w.message}")
        for w in raw
        if w.category.__name__ != "UndefinedMetricWarning"  # ROC AUC's, said as documented
    ]
    out += [
        (f"null {key} without a reason", what)
        for key, value in m["summary"].items()
        if isinstance(value, float) and np.isnan(value) and not reason_for(key, m)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        present = sorted(set(t.tolist()) | set(pred.tolist()))
        _, _, f1m, _ = skm.precision_recall_fscore_support(
            t, pred, labels=present, average="macro", zero_division=0
        )
        try:
            auc = (
                skm.roc_auc_score(t, p64[:, 1])
                if k == 2
                else skm.roc_auc_score(t, p64, multi_class="ovr", labels=list(range(k)))
            )
        except ValueError:
            auc = np.nan
        pn = p64 / p64.sum(1, keepdims=True)
        brier = (
            skm.brier_score_loss(t == 1, pn[:, 1])
            if k == 2
            else skm.brier_score_loss(t, pn, labels=list(range(k)))
        )
        want = {
            "accuracy": float((pred == t).mean()),
            "balanced_accuracy": skm.balanced_accuracy_score(t, pred),
            "f1_macro": f1m,
            "roc_auc_macro": auc,
            "brier": brier,
        }
    for key, ref in want.items():
        got = m["summary"].get(key, np.nan)
        got = np.nan if got is None else got
        if close(got, ref, 1e-6):
            continue
        if key == "roc_auc_macro" and close(got, _auc_of_ranks(t, p64), 1e-6):
            # probabilities saturated at 1.0 ranked by the others' sum (README: ovr_ranks)
            out.append(("known: AUC of saturated probabilities", f"{what}: {got} vs {ref}"))
        else:
            out.append((f"summary {key}", f"{what}: {got} vs {ref}"))
    return out


def _auc_of_ranks(t: np.ndarray, probs: np.ndarray) -> float:
    """scikit-learn's AUC of radpipe's documented ranking of the probabilities."""
    from sklearn.metrics import roc_auc_score

    ranks = rp.ovr_ranks(probs)
    try:
        if probs.shape[1] == 2:
            return float(roc_auc_score(t, ranks[:, 1]))
        return float(np.mean([roc_auc_score(t == c, ranks[:, c]) for c in range(probs.shape[1])]))
    except ValueError:
        return float("nan")


def check_misc(rng: np.random.Generator) -> list[Finding]:
    """Accumulator, DeLong's AUC, average precision, Youden's threshold, HD at q, binary rates."""
    from monai.metrics import compute_hausdorff_distance
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score, roc_curve

    from workflows.report.classification import evaluate_classification

    out: list[Finding] = []
    k, n = draw_k(rng), int(rng.integers(1, 5))
    pairs = [draw_labels(rng, k)[:2] for _ in range(n)]
    acc = rp.ConfusionAccumulator(k, per_case=True, include_background=False)
    other = rp.ConfusionAccumulator(k, per_case=True, include_background=False)
    for i, (t, p) in enumerate(pairs):
        (acc if i % 2 else other).update(t, p)
    result = acc.merge(other).compute()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        order = [i for i in range(n) if i % 2] + [i for i in range(n) if not i % 2]
        per = [
            f1_score(
                pairs[i][0].ravel(),
                pairs[i][1].ravel(),
                labels=list(range(1, k)),
                average="macro",
                zero_division=np.nan,
            )
            for i in order
        ]
        pooled = f1_score(
            np.concatenate([t.ravel() for t, _ in pairs]),
            np.concatenate([p.ravel() for _, p in pairs]),
            labels=list(range(1, k)),
            average="macro",
            zero_division=np.nan,
        )
    if not close(result["per_case"]["dice_macro"], per):
        out.append(("accumulator per case", f"{result['per_case']['dice_macro']} vs {per}"))
    if not close(result["dice_macro"], pooled):
        out.append(("accumulator pooled", f"{result['dice_macro']} vs {pooled}"))
    # binary scores: DeLong's estimate, AP, Youden's threshold
    m = int(rng.integers(2, 20))
    t = rng.integers(0, 2, m)
    s = draw_scores(rng, m)
    what = f"true={t.tolist()} scores={s.round(3).tolist()}"
    if 0 < t.sum() < m:
        est = rp.delong_roc_ci(t, s)["estimate"]
        if not close(est, roc_auc_score(t, s)):
            out.append(("DeLong estimate", f"{what}: {est} vs {roc_auc_score(t, s)}"))
        probs = np.stack([1 - s, s], axis=1)
        ap = rp.precision_recall(t, probs)["average_precision_macro"]
        if not close(ap, average_precision_score(t, s)):
            out.append(("average precision", f"{what}: {ap} vs {average_precision_score(t, s)}"))
        fpr, tpr, th = roc_curve(t, s, drop_intermediate=False)
        j = tpr[1:] - fpr[1:]
        best = th[1:][np.flatnonzero(j >= j.max() - 1e-12)].max()
        got = rp.choose_threshold(t, s)["threshold"]
        if not close(got, best):
            out.append(("youden threshold", f"{what}: {got} vs {best}"))
        positive = int(rng.integers(0, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mm = evaluate_classification(t, probs, ["a", "b"], n_resamples=0, positive=positive)
        pred = probs.argmax(1)
        pos, called = t == positive, pred == positive
        sens = (pos & called).sum() / pos.sum() if pos.any() else np.nan
        spec = (~pos & ~called).sum() / (~pos).sum() if (~pos).any() else np.nan
        if not close([mm["summary"]["sensitivity"], mm["summary"]["specificity"]], [sens, spec]):
            out.append(
                (
                    "binary rates of the positive class",
                    f"{what} positive={positive}: {mm['summary']} vs {sens, spec}",
                )
            )
    # HD at another percentile, background included
    t, p, what = draw_labels(rng, 2)
    q = float(rng.choice([50.0, 90.0, 100.0]))
    if t.any() and p.any() and (~t.astype(bool)).any() and (~p.astype(bool)).any():
        ours = rp.surface_metrics_per_class(t, p, 2, include_background=True, percentile=q)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = compute_hausdorff_distance(
                one_hot(p, 2),
                one_hot(t, 2),
                include_background=True,
                percentile=q if q < 100 else None,
            )[0].numpy()
        if not close(ours["hd95"], ref, 1e-4):  # MONAI interpolates in float32
            out.append((f"HD at percentile {q}", f"{what}: {ours['hd95']} vs {ref}"))
    return out
