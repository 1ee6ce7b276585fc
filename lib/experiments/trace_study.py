"""Notebook 07: the Feedback Transformer and a decoder Transformer writing Dijkstra's trace, on
graphs small enough (n in {4..8}) for both to learn it in distribution, then on larger graphs.

Both models of one seed train on the same draw of graphs, so they are paired by seed. The
conclusion reads pointer accuracy (tie-aware, of the pointers decoded from the generated trace)
beside its floor (no answer: every node points to itself) and ceiling (exact Dijkstra on the
binned weights the model reads).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import Prediction, evaluate_predictions
from ..samplers import SPLITS, sample_split
from ..sequence.dijkstra_trace import TraceCoding, quantisation_ceiling
from ..statistics import mean_ci, paired, verdict
from .code_execution_study import FEEDBACK, LEARNED, TRANSFORMER
from .sequence_models import SequenceConfig


def bounds(split: str, cfg: SequenceConfig, metric: str = "pointer_accuracy") -> tuple[float, float]:
    """(floor, ceiling) of ``metric`` on a split's evaluation graphs: no answer, and exact
    Dijkstra on the binned weights."""
    graphs = sample_split(split, cfg.eval_graphs)
    floor = evaluate_predictions(graphs, [Prediction(np.arange(g.num_nodes)) for g in graphs])[metric]
    return floor, quantisation_ceiling(graphs, TraceCoding(cfg.bins, cfg.id_vocab))[metric]


def _per_seed(results: pd.DataFrame, model: str, splits) -> pd.Series:
    d = results[(results.model == model) & results.split.isin(splits)]
    return d.groupby("seed").pointer_accuracy.mean()


def conclusion(results: pd.DataFrame, cfg: SequenceConfig) -> str:
    """Did both models learn the trace in distribution (pointer accuracy at the training size at
    least `LEARNED`), and does feedback memory help out of distribution (mean pointer accuracy
    over the larger sizes, paired by seed)? Supported, refuted or inconclusive, with its numbers."""
    home, *away = cfg.trace_splits
    floor, ceiling = bounds(home, cfg)
    ind = results[results.split == home].groupby("model", sort=False).pointer_accuracy
    lines = [f"In distribution ({home}, n = {SPLITS[home].sizes[0]}, {cfg.eval_graphs} graphs per seed), pointer "
             "accuracy: " + "; ".join(f"{m} {100 * mean_ci(v)[0]:.1f} ± {100 * mean_ci(v)[1]:.1f}%" for m, v in ind)
             + f" (floor {100 * floor:.1f}, ceiling {100 * ceiling:.1f})."]
    missing = [m for m in (FEEDBACK, TRANSFORMER) if m not in ind.groups]
    if missing or not away or results.seed.nunique() < 2:
        why = f"{', '.join(missing)} not trained" if missing else "no larger graphs" if not away else "one seed"
        return "\n".join([*lines, f"Inconclusive: {why}."])
    diff = paired(_per_seed(results, FEEDBACK, away), _per_seed(results, TRANSFORMER, away))
    sizes = ", ".join(str(SPLITS[s].sizes[0]) for s in away)
    lines.append(verdict(diff, f"Feedback Transformer - Transformer, mean pointer accuracy at n = {sizes}",
                         test="paired"))
    unlearned = [m for m in (FEEDBACK, TRANSFORMER) if ind.get_group(m).mean() < LEARNED]
    if unlearned:
        both = len(unlearned) > 1
        last = (f"Inconclusive: {' and '.join(unlearned)} {'stay' if both else 'stays'} below {100 * LEARNED:.0f}% "
                f"pointer accuracy at the training size, so {'neither has' if both else 'it has not'} learned the "
                "trace (rules of evidence); the difference above is indicative only.")
    elif diff["p"] < 0.05 and diff["diff"] > 0:
        last = ("Feedback memory helps out of distribution here: a significant advantage of "
                f"{100 * diff['diff']:+.1f} points on the larger graphs.")
    else:
        last = (f"No significant out-of-distribution advantage from feedback memory ({100 * diff['diff']:+.1f} "
                "points): the essay's 'modest help' at most.")
    return "\n".join([*lines, last])


__all__ = ["bounds", "conclusion"]
