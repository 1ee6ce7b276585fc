"""Notebook 07: the Feedback Transformer and a decoder Transformer writing Dijkstra's trace, on
graphs small enough (n in {4..6}) for the Transformer to learn it in distribution, then on larger graphs.

At n in {4..8} (the previous design), the Transformer trained 16,000 steps stayed at 92% pointer
accuracy at n = 8; probes on the validation graphs (n = 6, seed 0: 92.5% after 4,000 steps, 96.6%
after 16,000) chose the smaller graphs. Every arm of one seed trains on the same draw of graphs, so
the arms are paired by seed. The conclusion reads pointer accuracy (tie-aware, of the pointers
decoded from the generated trace) beside its floor (no answer: every node points to itself) and
ceiling (exact Dijkstra on the binned weights the model reads).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..samplers import SPLITS
from ..statistics import mean_ci, paired, verdict
from .code_execution_study import FEEDBACK, LEARNED, TRANSFORMER
from .sequence_models import PROFILES as SEQUENCE_PROFILES
from .sequence_models import SequenceConfig, trace_bounds

#: Notebook 07's sizes: graphs of 4 to 6 nodes, tested at n = 6 (in distribution) and 8, 12, 16.
SMALL = {"trace_train_split": "trace_train_6", "trace_val_split": "trace_val_6", "tasks": ("trace",)}
PROFILES = {
    "full": dataclasses.replace(SEQUENCE_PROFILES["full"], **SMALL,
                                trace_splits=("trace_test_6", "trace_test_8", "trace_test_12", "trace_test_16")),
    "smoke": dataclasses.replace(SEQUENCE_PROFILES["smoke"], **SMALL, trace_splits=("trace_test_6", "trace_test_8")),
}


def training_configs(cfg: SequenceConfig) -> list:
    """Every run notebook 07 trains under ``cfg``."""
    return cfg.trace_configs()


def _per_seed(results: pd.DataFrame, model: str, splits) -> pd.Series:
    d = results[(results.model == model) & results.split.isin(splits)]
    return d.groupby("seed").pointer_accuracy.mean()


def _paired(results: pd.DataFrame, a: str, b: str, splits) -> dict | None:
    """`paired` on the seeds both arms have (None with fewer than two)."""
    x, y = _per_seed(results, a, splits).align(_per_seed(results, b, splits), join="inner")
    return paired(x, y) if len(x) >= 2 else None


def conclusion(results: pd.DataFrame, cfg: SequenceConfig) -> str:
    """Did the models learn the trace in distribution (pointer accuracy at the training size at least
    `LEARNED`), and does feedback memory help out of distribution (mean pointer accuracy over the
    larger sizes, paired by seed) against each Transformer arm? Feedback memory is said to help only
    when its advantage is significant against every Transformer arm that learned; otherwise the
    text says which arm it does not survive, or that the comparison is inconclusive, with its numbers."""
    if not cfg.trace_splits:
        raise ValueError("trace_splits is empty: the conclusion needs the training size's split first")
    home, *away = cfg.trace_splits
    floor, ceiling = trace_bounds(home, cfg)
    ind = results[results.split == home].groupby("model", sort=False).pointer_accuracy
    lines = [f"In distribution ({home}, n = {SPLITS[home].sizes[0]}, {cfg.eval_graphs} graphs per seed), pointer "
             "accuracy: " + "; ".join(f"{m} {100 * mean_ci(v)[0]:.1f} ± {100 * mean_ci(v)[1]:.1f}%" for m, v in ind)
             + f" (floor {100 * floor:.1f}, ceiling {100 * ceiling:.1f})."]
    missing = [m for m in (FEEDBACK, TRANSFORMER) if m not in ind.groups]
    arms = [m for m in ind.groups if m != FEEDBACK]
    diffs = {m: _paired(results, FEEDBACK, m, away) for m in arms} if away and not missing else {}
    if missing or not away or any(d is None for d in diffs.values()):
        why = f"{', '.join(missing)} not trained" if missing else "no larger graphs" if not away else "under two seeds"
        return "\n".join([*lines, f"Inconclusive: {why}."])
    sizes = ", ".join(str(SPLITS[s].sizes[0]) for s in away)
    lines += [verdict(d, f"Feedback Transformer - {m}, mean pointer accuracy at n = {sizes}", test="paired")
              for m, d in diffs.items()]
    learned = {m: ind.get_group(m).mean() >= LEARNED for m in ind.groups}
    rivals = [m for m in arms if learned[m]]
    if not learned[FEEDBACK] or not rivals:
        short = [m for m in (FEEDBACK, *arms) if not learned[m]]
        names = " and ".join([", ".join(short[:-1]), short[-1]] if len(short) > 1 else short)
        last = (f"Inconclusive: {names} {'stay' if len(short) > 1 else 'stays'} below {100 * LEARNED:.0f}% "
                "pointer accuracy at the training size, short of having learned the trace (rules of evidence); "
                "the differences above are indicative only.")
        if rivals:
            last += f" {rivals[0]} does clear the bar" + ("." if rivals[0] == TRANSFORMER else
                                                          ": the trace is learnable at this size with more training.")
        return "\n".join([*lines, last])
    lost = [m for m in rivals if not (diffs[m]["p"] < 0.05 and diffs[m]["diff"] > 0)]
    if lost:
        last = (f"No significant out-of-distribution advantage from feedback memory over {lost[0]} "
                f"({100 * diffs[lost[0]]['diff']:+.1f} points): the essay's 'modest help' at most.")
    else:
        last = ("Feedback memory helps out of distribution here: significant against every Transformer arm that "
                "learned (" + ", ".join(f"{100 * diffs[m]['diff']:+.1f} points over {m}" for m in rivals) + ").")
    return "\n".join([*lines, last])


__all__ = ["PROFILES", "conclusion", "training_configs"]
