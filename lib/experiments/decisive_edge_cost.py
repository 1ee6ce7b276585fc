"""Notebook 05: each aligned verifier seed's learned edge cost, beside its exact match at scale.

The aligned verifier compares a node's candidate distance with ``min_u (y_u + phi_c(w_uv))`` in each of its
channels c. The exact local check needs one channel whose learned cost is a pure scaling of the weight,
``phi_c(w) = a w`` with a > 0: then the comparison orders the offers to a node by path length however many
hops lie behind them. Any other shape (an intercept, a curve) can misorder offers whose lengths are close.
Per seed, the table gives the channel nearest a pure scaling over the training weight range, and the seed's
exact match beside it. It shows an association across seeds, not a cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..edge_weights import WEIGHT_RANGE

#: The splits whose exact match the table shows beside each seed's edge cost (small, dense, large, paths).
SPLITS = ("test_16", "test_64", "test_128", "salsa_er_1600", "salsa_delaunay_1600", "maze_dfs_side16")
ERROR = "edge cost: largest deviation from a*w (% of a*w_max)"


def scaling_error(verifier, points: int = 200) -> tuple[float, float]:
    """(error, slope a) of the channel whose learned cost ``phi_c`` is nearest a pure scaling ``a w``
    (a > 0, fitted by least squares through the origin) over the training weight range, the error
    being max |phi_c(w) - a w| / (a w_max); (inf, nan) when no channel increases with w."""
    w = torch.linspace(*WEIGHT_RANGE, points)
    with torch.no_grad():
        phi = verifier.cost(w.unsqueeze(1)).double().numpy()  # [points, channels]
    x = w.double().numpy()
    slopes = x @ phi / (x @ x)
    errors = np.abs(phi - np.outer(x, slopes)).max(0) / (np.abs(slopes) * x.max())
    errors[slopes <= 0] = np.inf  # a cost that falls with the weight is no length
    best = int(errors.argmin())
    return (float(errors[best]), float(slopes[best])) if np.isfinite(errors[best]) else (float("inf"), float("nan"))


def table(runs: dict, claims: pd.DataFrame, prior: str = "aligned") -> pd.DataFrame:
    """Per seed of ``claims`` (`decisive_search.claim_results`): the verifier's nearest-to-scaling edge
    cost (error, slope), its last validation exact match at training sizes, and its far-start exact
    match (%) on `SPLITS`."""
    far = claims[(claims.route == "verifier_far") & (claims.prior == prior)]
    rows = []
    for seed in sorted(far.seed.unique()):
        run = runs["verifier", prior, seed]
        error, slope = scaling_error(run.model("cpu"))
        row = {"seed": int(seed), ERROR: round(100 * error, 2), "slope a": round(slope, 3),
               "validation exact % (n <= 16)": round(100 * run.metrics["curve"]["val_exact_match"][-1], 1)}
        for split in SPLITS:
            d = far[(far.seed == seed) & (far.split == split)]
            if len(d):
                row[f"exact % {split}"] = round(100 * float(d.exact.sum() / d.graphs.sum()), 1)
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


__all__ = ["ERROR", "SPLITS", "scaling_error", "table"]
