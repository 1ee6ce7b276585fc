"""Notebook 07: the Feedback Transformer and a decoder Transformer writing Dijkstra's trace, on
graphs small enough (n in {4..6}) for the Transformer to learn it in distribution, then on larger graphs.

At n in {4..8} (the previous design), the Transformer trained 16,000 steps stayed at 92% pointer
accuracy at n = 8; probes on the validation graphs (n = 6, seed 0: 92.5% after 4,000 steps, 96.6%
after 16,000) chose the smaller graphs; two more validation probes (seeds 0 and 1: 96.9% and 95.5%)
showed the Feedback Transformer learns it in 16,000 steps too, so both models train 4,000 and
16,000 steps, 5 seeds each. Every arm of one seed trains on the same draw of graphs, so the arms
are paired by seed. The conclusion reads pointer accuracy (tie-aware, of the pointers decoded from
the generated trace) beside its floor (no answer: every node points to itself) and ceiling (exact
Dijkstra on the binned weights the model reads), and compares the models trained as long.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..samplers import SPLITS
from ..statistics import mean_ci, paired, verdict
from .code_execution_study import FEEDBACK, LEARNED, TRANSFORMER
from .sequence_models import PROFILES as SEQUENCE_PROFILES
from .sequence_models import MODELS, SequenceConfig, trace_bounds

#: Notebook 07's sizes: graphs of 4 to 6 nodes, tested at n = 6 (in distribution) and 8, 12, 16.
SMALL = {"trace_train_split": "trace_train_6", "trace_val_split": "trace_val_6", "tasks": ("trace",)}
PROFILES = {
    "full": dataclasses.replace(SEQUENCE_PROFILES["full"], **SMALL, seeds=(0, 1, 2, 3, 4), trace_long_models=MODELS,
                                trace_splits=("trace_test_6", "trace_test_8", "trace_test_12", "trace_test_16")),
    "smoke": dataclasses.replace(SEQUENCE_PROFILES["smoke"], **SMALL, trace_long_models=MODELS,
                                 trace_splits=("trace_test_6", "trace_test_8")),
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


def matched_arms(cfg: SequenceConfig) -> dict[int, tuple[str, str]]:
    """Training steps -> (Feedback Transformer arm, Transformer arm) trained that long, shortest first."""
    pairs = {cfg.trace_steps: (FEEDBACK, TRANSFORMER)}
    if cfg.trace_long_steps is not None:
        pairs[cfg.trace_long_steps] = tuple(f"{m}, {cfg.trace_long_steps} steps" for m in (FEEDBACK, TRANSFORMER))
    return pairs


def _names(arms: list[str]) -> str:
    return " and ".join([", ".join(arms[:-1]), arms[-1]] if len(arms) > 1 else arms)


def conclusion(results: pd.DataFrame, cfg: SequenceConfig) -> str:
    """Did the models learn the trace in distribution (pointer accuracy at the training size at least
    `LEARNED`), and does feedback memory help out of distribution (mean pointer accuracy over the
    larger sizes, paired by seed) against the Transformer trained the same number of steps? The
    longest-trained pair in which both models learned decides; with no such pair the comparison is
    inconclusive and the differences are printed as indicative only. Under 5 seeds the text says
    that the rules ask 5 for a claim about a difference."""
    if not cfg.trace_splits:
        raise ValueError("trace_splits is empty: the conclusion needs the training size's split first")
    home, *away = cfg.trace_splits
    floor, ceiling = trace_bounds(home, cfg)
    ind = results[results.split == home].groupby("model", sort=False).pointer_accuracy
    lines = [f"In distribution ({home}, n = {SPLITS[home].sizes[0]}, {cfg.eval_graphs} graphs per seed), pointer "
             "accuracy: " + "; ".join(f"{m} {100 * mean_ci(v)[0]:.1f} ± {100 * mean_ci(v)[1]:.1f}%" for m, v in ind)
             + f" (floor {100 * floor:.1f}, ceiling {100 * ceiling:.1f})."]
    missing = [m for m in (FEEDBACK, TRANSFORMER) if m not in ind.groups]
    pairs = {steps: p for steps, p in matched_arms(cfg).items() if all(m in ind.groups for m in p)}
    diffs = {p: _paired(results, *p, away) for p in pairs.values()} if away and not missing else {}
    if missing or not away or any(d is None for d in diffs.values()):
        why = f"{', '.join(missing)} not trained" if missing else "no larger graphs" if not away else "under two seeds"
        return "\n".join([*lines, f"Inconclusive: {why}."])
    sizes = ", ".join(str(SPLITS[s].sizes[0]) for s in away)
    lines += [verdict(d, f"{a} - {b} (the same training steps), mean pointer accuracy at n = {sizes}", test="paired")
              for (a, b), d in diffs.items()]
    seeds = results[results.model == FEEDBACK].seed.nunique()
    power = "" if seeds >= 5 else f" ({seeds} seeds: the rules ask 5 for a claim about a difference.)"
    learned = {m: ind.get_group(m).mean() >= LEARNED for m in ind.groups}
    decisive = [steps for steps, (a, b) in pairs.items() if learned[a] and learned[b]]
    if not decisive:
        short = [m for m in ind.groups if not learned[m]]
        last = (f"Inconclusive: {_names(short)} {'stay' if len(short) > 1 else 'stays'} below {100 * LEARNED:.0f}% "
                "pointer accuracy at the training size, short of having learned the trace (rules of evidence), so "
                "no pair trained the same number of steps has both models trained; the differences above are "
                "indicative only.")
        cleared = [m for m in ind.groups if learned[m]]
        if cleared:
            last += f" {_names(cleared)} {'do' if len(cleared) > 1 else 'does'} clear the bar."
        return "\n".join([*lines, last])
    (a, b), steps = pairs[decisive[-1]], decisive[-1]
    d, both = diffs[(a, b)], f"both models learned in {steps} steps"
    if d["p"] < 0.05 and d["diff"] > 0:
        last = f"Feedback memory helps out of distribution here ({both}): {100 * d['diff']:+.1f} points over {b}."
    elif d["p"] < 0.05:
        last = (f"Feedback memory does worse out of distribution here ({both}): {100 * d['diff']:+.1f} points against "
                f"{b}, the opposite of the paper's advantage.")
    else:
        last = (f"No significant out-of-distribution difference from feedback memory ({both}): "
                f"{100 * d['diff']:+.1f} points against {b}; the essay's 'modest help' at most.")
    return "\n".join([*lines, last + power])


__all__ = ["PROFILES", "conclusion", "matched_arms", "training_configs"]
