"""Notebook 05: why an aligned verifier seed is exact at n = 1600 or not, read off its learned edge cost.

The aligned verifier compares a node's candidate distance with ``min_u (y_u + phi_c(w_uv))`` in each of its
channels c. The exact local check needs one channel whose learned cost is a pure scaling of the weight,
``phi_c(w) = a w``: then the comparison orders paths by length at any hop count. Any other shape (an
intercept, a curve) adds an error per hop, so paths with many hops can be misordered, at sizes that the
training graphs (n <= 16, few hops) never show. Per seed, the table gives the channel nearest a pure
scaling over the training weight range, and the seed's exact match beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..edge_weights import WEIGHT_RANGE
from .decisive_search import DecisiveConfig

#: The splits whose exact match the table shows beside each seed's edge cost.
SPLITS = ("test_64", "test_128", "salsa_er_1600", "salsa_delaunay_1600")


def scaling_error(verifier, points: int = 200) -> tuple[float, float]:
    """(relative error, slope) of the channel whose learned cost ``phi_c`` is nearest a pure scaling
    ``a w`` over the training weight range: max |phi_c(w) - a w| / |a|, with ``a`` fitted by least
    squares through the origin."""
    w = torch.linspace(*WEIGHT_RANGE, points, dtype=torch.float64)
    with torch.no_grad():
        phi = verifier.cost(w.float().unsqueeze(1)).double().numpy()  # [points, channels]
    x = w.numpy()
    slopes = x @ phi / (x @ x)
    errors = np.abs(phi - np.outer(x, slopes)).max(0) / np.maximum(np.abs(slopes), 1e-12)
    best = int(errors.argmin())
    return float(errors[best]), float(slopes[best])


def table(runs: dict, cfg: DecisiveConfig, claims: pd.DataFrame, prior: str = "aligned") -> pd.DataFrame:
    """Per seed of ``claims`` (`decisive_search.claim_results`): the verifier's nearest-to-scaling edge
    cost (relative error, slope), its last validation exact match at training sizes, and its far-start
    exact match (%) on `SPLITS`."""
    far = claims[(claims.route == "verifier_far") & (claims.prior == prior)]
    rows = []
    for seed in sorted(far.seed.unique()):
        error, slope = scaling_error(runs["verifier", prior, seed].model("cpu"))
        run = runs["verifier", prior, seed]
        row = {"seed": int(seed), "edge cost: error from a w (% of a)": round(100 * error, 2),
               "slope a": round(slope, 3),
               "validation exact % (n <= 16)": round(100 * run.metrics["curve"]["val_exact_match"][-1], 1)}
        for split in SPLITS:
            d = far[(far.seed == seed) & (far.split == split)]
            if len(d):
                row[f"exact % {split}"] = round(100 * float(d.exact.sum() / d.graphs.sum()), 1)
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


__all__ = ["SPLITS", "scaling_error", "table"]
