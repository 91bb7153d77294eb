"""Shared by the benchmark scripts: alternating timed runs and the table row they print.

Every method of a row runs in turn (A, B, C, A, B, C, ...) in one process, so the noise of a
shared machine hits them alike; the row reports the median rate of each method, the spread
(min..max of the rates) and the ratio of medians. The ratio is the figure to compare, not
the absolute rates.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from datetime import date

HEADER = (
    "| work | radpipe | peer | floor | radpipe / peer | radpipe / floor | target |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
)


def machine() -> str:
    """One line: date, CPU count, Python, torch, for the README tables."""
    import os

    import torch  # here, so that memory measurements of scripts without torch stay honest

    return (
        f"{date.today().isoformat()}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads"
    )


def alternate(methods: dict[str, Callable[[], int]], rounds: int) -> dict[str, list[float]]:
    """Rates (units/s) of each method over ``rounds`` alternating calls; each call returns
    how many units (samples, files, images) it processed. One untimed warm-up call each."""
    for run in methods.values():
        run()
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, run in methods.items():
            t0 = time.perf_counter()
            units = run()
            rates[name].append(units / (time.perf_counter() - t0))
    return rates


def fmt(rates: list[float] | None, unit: str = "/s") -> str:
    """``median (min..max)`` with thousands separators; ``-`` when not measured."""
    if not rates:
        return "-"
    med = statistics.median(rates)
    return f"{_num(med)}{unit} ({_num(min(rates))}..{_num(max(rates))})"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def ratio(a: list[float] | None, b: list[float] | None) -> str:
    """Ratio of the medians, and the spread of the per-round ratios."""
    if not a or not b:
        return "-"
    per_round = sorted(x / y for x, y in zip(a, b))
    med = statistics.median(a) / statistics.median(b)
    return f"{med:.2f}x ({per_round[0]:.2f}..{per_round[-1]:.2f})"


def row(
    work: str,
    rates: dict[str, list[float]],
    radpipe: str,
    peer: str | None,
    floor: str | None,
    target: str,
) -> str:
    """A table row: the named methods' rates, and radpipe's ratio to the peer and floor."""
    mine = rates[radpipe]
    other = rates.get(peer) if peer else None
    low = rates.get(floor) if floor else None
    return (
        f"| {work} | {fmt(mine)} | {fmt(other)} | {fmt(low)} | {ratio(mine, other)} | "
        f"{ratio(mine, low)} | {target} |"
    )
