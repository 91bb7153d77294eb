"""Differential fuzzer of radpipe's metrics against scikit-learn, MONAI and hand formulas.

Usage: ``python benchmarks/fuzz_metrics.py [--cases 300] [--seed 0] [--only overlap,roc,...]``

Each round draws a small random case, biased to the edges (empty truth, empty prediction,
both empty, one voxel, all foreground, classes absent from both, anisotropic spacing, 2-D and
3-D, tied and constant scores, NaN/inf scores, one class only in the truth), scores it with
radpipe and with an independent reference, and lists every disagreement (``--show`` of each
kind). References: scikit-learn (confusion matrix, F1/Jaccard, precision/recall, balanced
accuracy, ROC AUC and curve, Brier, calibration curve), MONAI (Dice, IoU, HD95 with spacing,
symmetric average surface distance, surface Dice), and hand formulas (specificity, NPV, ECE,
Clopper-Pearson at 0 and n of n). Known conventions are applied before comparing (MONAI's NaN
for an empty truth with ``ignore_empty=True`` is compared with ``ignore_empty=False``, whose
values radpipe's ``empty="one"`` gives; masks with an axis of size 1 are not drawn: radpipe
scores them as the image they are, MONAI in 3-D; MONAI's HD95 of a class in one mask only is
replaced by the definition, infinite). :mod:`benchmarks.fuzz_metrics_eval` checks the run's
evaluation (``evaluate_segmentation`` per volume, per patient and in summary, with shuffled
slices of a series; ``evaluate_classification``) and the accumulator, DeLong's AUC, average
precision and Youden's threshold. Exit status 1 when anything differs that is not marked
``known`` (float32-saturated probabilities, which radpipe's ``ovr_ranks`` ranks on purpose).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fuzz_metrics_draw import Finding, close, draw_k, draw_labels, draw_scores, one_hot
from benchmarks.fuzz_metrics_eval import check_classification, check_evaluation, check_misc
from pipeline import metrics as rp


def check_overlap(rng: np.random.Generator) -> list[Finding]:
    """Dice/Jaccard per class and averaged: MONAI and scikit-learn."""
    from monai.metrics import compute_dice, compute_iou
    from sklearn.metrics import f1_score, jaccard_score

    k = draw_k(rng)
    t, p, what = draw_labels(rng, k)
    out: list[Finding] = []
    for ours_f, monai_f, sk_f, name, zero, policy in (
        (rp.dice_score, compute_dice, f1_score, "dice", np.nan, "nan"),
        (rp.jaccard_index, compute_iou, jaccard_score, "jaccard", 1.0, "one"),
    ):
        ours = ours_f(t, p, k, average="none", empty="one")
        ref = monai_f(one_hot(p, k), one_hot(t, k), include_background=True, ignore_empty=False)
        if not close(ours, ref.numpy()[0], 1e-6):
            out.append((f"{name} vs MONAI", f"{what}: {ours} vs {ref.numpy()[0]}"))
        labels = list(range(k))
        for average in ("none", "macro", "weighted", "micro"):
            sk_avg = None if average == "none" else average
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref2 = sk_f(t.ravel(), p.ravel(), labels=labels, average=sk_avg, zero_division=zero)
            ours2 = ours_f(t, p, k, average=average, empty=policy)
            if not close(ours2, ref2):
                out.append((f"{name} {average} vs sklearn", f"{what}: {ours2} vs {ref2}"))
    return out


def check_rates(rng: np.random.Generator) -> list[Finding]:
    """Confusion matrix and rates: scikit-learn and hand specificity/NPV."""
    from sklearn.metrics import (
        balanced_accuracy_score,
        confusion_matrix,
        multilabel_confusion_matrix,
        precision_recall_fscore_support,
    )

    k = draw_k(rng)
    n = int(rng.integers(1, 30))
    t, p = rng.integers(0, k, n), rng.integers(0, k, n)
    if rng.random() < 0.3:
        t[:] = int(rng.integers(0, k))  # one class only in the truth
    if rng.random() < 0.3:
        p[:] = int(rng.integers(0, k))
    what = f"n={n} K={k} true={t.tolist()} pred={p.tolist()}"
    out: list[Finding] = []
    cm = rp.confusion_matrix(t.astype(np.uint8), p.astype(np.uint8), k)  # PNG masks' dtype
    if not np.array_equal(cm, confusion_matrix(t, p, labels=list(range(k)))):
        out.append(("confusion matrix", what))
    r = rp.rates_from_confusion(cm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prec, rec, f1, sup = precision_recall_fscore_support(
            t, p, labels=list(range(k)), zero_division=np.nan
        )
        present = sorted(set(t.tolist()) | set(p.tolist()))
        mprec, mrec, mf1, _ = precision_recall_fscore_support(
            t, p, labels=present, average="macro", zero_division=0
        )
        bal = balanced_accuracy_score(t, p)
    mcm = multilabel_confusion_matrix(t, p, labels=list(range(k)))  # [[tn, fp], [fn, tp]]
    tn, fp, fn = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        spec = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), np.nan)
        npv = np.where(tn + fn > 0, tn / np.maximum(tn + fn, 1), np.nan)
    occurs = (mcm[:, 1, 1] + fp + fn) > 0
    # a class that every case is of has no negative: its 0/0 specificity (and an NPV of 0/0
    # then) is left out of the macro mean, not counted 0
    negatives = (tn + fp) > 0
    spec_kept, npv_kept = occurs & negatives, occurs & (negatives | (tn + fn > 0))
    for name, ours, ref in (
        ("precision", r["precision"], prec),
        ("sensitivity", r["sensitivity"], rec),
        ("f1", r["f1"], f1),
        ("support", r["support"], sup),
        ("specificity", r["specificity"], spec),
        ("npv", r["npv"], npv),
        ("precision_macro", r["precision_macro"], mprec),
        ("sensitivity_macro", r["sensitivity_macro"], mrec),
        ("f1_macro", r["f1_macro"], mf1),
        ("specificity_macro", r["specificity_macro"], _mean0(spec[spec_kept])),
        ("npv_macro", r["npv_macro"], _mean0(npv[npv_kept])),
        ("balanced_accuracy", r["balanced_accuracy"], bal),
        ("accuracy", r["accuracy"], float((t == p).mean())),
    ):
        if not close(ours, ref):
            out.append((name, f"{what}: {ours} vs {ref}"))
    return out


def _mean0(values: np.ndarray) -> float:
    """Mean with undefined values as 0; NaN of no values."""
    return float(np.nan_to_num(values).mean()) if values.size else float("nan")


def check_roc(rng: np.random.Generator) -> list[Finding]:
    """Binary and one-vs-rest ROC AUC and the curve: scikit-learn."""
    from sklearn.metrics import roc_auc_score, roc_curve

    out: list[Finding] = []
    n = int(rng.integers(2, 25))
    t = rng.integers(0, 2, n)
    if rng.random() < 0.2:
        t[:] = int(rng.integers(0, 2))
    s = draw_scores(rng, n)
    what = f"true={t.tolist()} scores={s.round(3).tolist()}"
    if rng.random() < 0.15:  # NaN/inf: both must refuse
        s[int(rng.integers(0, n))] = rng.choice([np.nan, np.inf, -np.inf])
        for name, f in (("auc", rp.roc_auc_score), ("curve", rp.roc_curve)):
            try:
                f(t, s)
                out.append((f"{name} accepted non-finite", what))
            except ValueError:
                pass
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = roc_auc_score(t, s)
        except ValueError:
            ref = np.nan
        ours = rp.roc_auc_score(t, s)
        if not close(ours, ref):
            out.append(("binary AUC", f"{what}: {ours} vs {ref}"))
        f0, t0, th0 = rp.roc_curve(t, s)
        f1, t1, th1 = roc_curve(t, s, drop_intermediate=False)
    if 0 < t.sum() < n and not (close(f0, f1) and close(t0, t1) and close(th0, th1)):
        out.append(("roc_curve", f"{what}: {f0, t0, th0} vs {f1, t1, th1}"))
    # (N, 2) probabilities and K-class one-vs-rest
    k = int(rng.integers(2, 5))
    raw = rng.random((n, k)) if rng.random() < 0.5 else np.round(rng.random((n, k)), 1) + 0.1
    probs = raw / raw.sum(axis=1, keepdims=True)
    if rng.random() < 0.3:  # written with 3 decimals: rows sum to 1 within about 1e-3
        probs = np.round(probs, 3)
    tk = rng.integers(0, k, n)
    what = f"K={k} true={tk.tolist()} probs={probs.round(3).tolist()}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_pc = rp.roc_auc_score(tk, probs, average="none") if k > 2 else None
        try:
            if k == 2:
                ref = roc_auc_score(tk, probs[:, 1])
            else:  # scikit-learn's ovr macro, class by class (it refuses rounded rows)
                ref = np.mean([roc_auc_score(tk == c, probs[:, c]) for c in range(k)])
        except ValueError:
            ref = np.nan
        ours = rp.roc_auc_score(tk, probs)
    if not close(ours, ref, 1e-7):
        out.append(
            (f"AUC of (N, {'2' if k == 2 else 'K'}) probabilities", f"{what}: {ours} vs {ref}")
        )
    if ours_pc is not None:
        for c in range(k):
            pos = tk == c
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ref_c = roc_auc_score(pos, probs[:, c])
                except ValueError:
                    ref_c = np.nan
            if not close(ours_pc[c], ref_c, 1e-7):
                out.append(("per-class OvR AUC", f"{what} class {c}: {ours_pc[c]} vs {ref_c}"))
    return out


def check_calibration(rng: np.random.Generator) -> list[Finding]:
    """Brier, calibration curve, ECE (hand): scikit-learn."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    n, k = int(rng.integers(2, 30)), int(rng.integers(2, 4))
    raw = rng.random((n, k)) ** 3
    if rng.random() < 0.3:
        raw = np.round(raw * 10) + 0.5  # edge values such as 0.5 exactly
    probs = raw / raw.sum(axis=1, keepdims=True)
    t = rng.integers(0, k, n)
    if rng.random() < 0.2:
        t[:] = int(rng.integers(0, k))
    what = f"K={k} true={t.tolist()} probs={probs.round(3).tolist()}"
    out: list[Finding] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = rp.calibration_summary(t, probs)
        if k == 2:
            ref_brier = brier_score_loss(t == 1, probs[:, 1])
            event, score = t == 1, probs[:, 1]
        else:
            ref_brier = brier_score_loss(t, probs, labels=list(range(k)))
            event, score = probs.argmax(1) == t, probs.max(1)
        obs, conf = calibration_curve(event, score, n_bins=10)
    if not close(summary["brier"], ref_brier):
        out.append(("brier", f"{what}: {summary['brier']} vs {ref_brier}"))
    if not (close(summary["bins"]["observed"], obs) and close(summary["bins"]["confidence"], conf)):
        out.append(("calibration curve", what))
    conf_top, correct = probs.max(1), (probs.argmax(1) == t)
    ece = 0.0
    for b in range(10):  # bins (b/10, (b+1)/10], the first closed: as scikit-learn
        lo, hi = b / 10, (b + 1) / 10
        inside = (conf_top > lo) & (conf_top <= hi) if b else (conf_top <= hi)
        if inside.any():
            ece += inside.sum() * abs(correct[inside].mean() - conf_top[inside].mean())
    if not close(summary["ece"], ece / n):
        out.append(("ece", f"{what}: {summary['ece']} vs {ece / n}"))
    return out


def check_surface(rng: np.random.Generator) -> list[Finding]:
    """HD95, symmetric ASSD and surface Dice with spacing: MONAI; empty cases by definition."""
    from monai.metrics import (
        compute_average_surface_distance,
        compute_hausdorff_distance,
        compute_surface_dice,
    )

    k = int(rng.integers(2, 4))
    t, p, what = draw_labels(rng, k)
    spacing = tuple(float(v) for v in rng.choice([0.5, 1.0, 2.5, 4.0], size=t.ndim))
    what += f" spacing={spacing}"
    tol = float(rng.choice([0.5, 1.0, 2.0]))
    ours = rp.surface_metrics_per_class(t, p, k, spacing, tolerance=tol)
    out: list[Finding] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yp, yt = one_hot(p, k), one_hot(t, k)
        hd = compute_hausdorff_distance(yp, yt, percentile=95, spacing=spacing)[0].numpy()
        asd = compute_average_surface_distance(yp, yt, symmetric=True, spacing=spacing)[0].numpy()
        nsd = compute_surface_dice(yp, yt, [tol] * (k - 1), spacing=spacing)[0].numpy()
    for c in range(1, k):
        in_t, in_p = bool((t == c).any()), bool((p == c).any())
        i = c - 1
        if in_t and in_p:
            for name, mine, ref in (
                ("hd95", ours["hd95"][i], hd[i]),
                ("msd", ours["msd"][i], asd[i]),
                ("nsd", ours["nsd"][i], nsd[i]),
            ):
                if not close(mine, ref, 1e-5):  # MONAI's float32
                    out.append((f"{name} vs MONAI", f"{what} class {c}: {mine} vs {ref}"))
        else:  # by definition: undefined (NaN) in neither, infinite (NSD 0) in one
            want = (np.nan, np.nan, np.nan) if not (in_t or in_p) else (np.inf, np.inf, 0.0)
            got = (ours["hd95"][i], ours["msd"][i], ours["nsd"][i])
            if not close(got, want):
                out.append(("surface empty convention", f"{what} class {c}: {got} vs {want}"))
    return out


def check_intervals(rng: np.random.Generator) -> list[Finding]:
    """Clopper-Pearson at n of n and 0 of n: ``(alpha/2) ** (1/n)`` by hand."""
    from pipeline.metrics.proportions import exact_proportion_ci

    n, level = int(rng.integers(1, 60)), float(rng.choice([0.9, 0.95, 0.99]))
    low = ((1 - level) / 2) ** (1 / n)
    out: list[Finding] = []
    top, bottom = exact_proportion_ci(n, n, level=level), exact_proportion_ci(0, n, level=level)
    if not (close(top["low"], low, 1e-6) and top["high"] == 1.0):
        out.append(("clopper-pearson n of n", f"n={n} {top} vs low {low}"))
    if not (close(bottom["high"], 1 - low, 1e-6) and bottom["low"] == 0.0):
        out.append(("clopper-pearson 0 of n", f"n={n} {bottom} vs high {1 - low}"))
    return out


CHECKS: dict[str, Callable[[np.random.Generator], list[Finding]]] = {
    "overlap": check_overlap,
    "rates": check_rates,
    "roc": check_roc,
    "calibration": check_calibration,
    "surface": check_surface,
    "intervals": check_intervals,
    "evaluation": check_evaluation,
    "classification": check_classification,
    "misc": check_misc,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="cases per family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=",".join(CHECKS))
    parser.add_argument("--show", type=int, default=2, help="examples shown per kind")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    kinds: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for family in args.only.split(","):
        for _ in range(args.cases):
            for kind, what in CHECKS[family](rng):
                kinds[f"{family}: {kind}"] += 1
                examples.setdefault(f"{family}: {kind}", []).append(what)
        found = sum(v for f, v in kinds.items() if f.startswith(family))
        print(f"{family}: {args.cases} cases, {found} differences")
    for kind, count in kinds.most_common():
        print(f"\n{kind}: {count}")
        for what in examples[kind][: args.show]:
            print(f"  {what[:600]}")
    return 1 if any(not kind.split(": ", 1)[1].startswith("known") for kind in kinds) else 0


if __name__ == "__main__":
    raise SystemExit(main())
