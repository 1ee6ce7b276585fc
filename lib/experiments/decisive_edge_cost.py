"""Notebook 05: each aligned verifier seed's learned edge cost, beside its exact match at scale, and an
intervention on it.

The aligned verifier compares a node's candidate distance with ``min_u (y_u + phi_c(w_uv))`` in each of its
channels c. The exact local check needs one channel whose learned cost is a pure scaling of the weight,
``phi_c(w) = a w`` with a > 0: then the comparison orders the offers to a node by path length however many
hops lie behind them. Any other shape (an intercept, a curve) can misorder offers whose lengths are close.
Per seed, the table gives the channel nearest a pure scaling over the training weight range, the seed's
exact match beside it, and two interventions on the splits where a seed failed: its exact match when that
one channel is replaced by its fitted ``a w``, every other weight unchanged, and when every channel is
replaced by its own fitted ``a_c w`` (the term network unchanged): the second asks whether the shape of the
learned costs is what breaks a seed, the first whether one channel carries it.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import torch

from ..edge_weights import WEIGHT_RANGE
from ..metrics import fully_right
from ..runs import RunCache
from ..samplers import sample_split
from ..verifier.solver import VerifierSolver
from .decisive_search import DecisiveConfig, cached_cells, num_graphs

#: The splits whose exact match the table shows beside each seed's edge cost (small, dense, large, paths).
SPLITS = ("test_16", "test_64", "test_128", "salsa_er_1600", "salsa_delaunay_1600", "maze_dfs_side16")
#: The splits searched again with the nearest channel replaced by its pure scaling.
INTERVENTION_SPLITS = ("test_128", "salsa_er_1600")
ERROR = "edge cost: largest deviation from a*w (% of a*w_max)"


def _fitted_costs(verifier, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights w [points], learned costs phi [points, channels], each channel's least-squares pure
    scaling a_c through the origin) over the training weight range."""
    w = torch.linspace(*WEIGHT_RANGE, points)
    with torch.no_grad():
        phi = verifier.cost(w.unsqueeze(1)).double().numpy()
    x = w.double().numpy()
    return x, phi, x @ phi / (x @ x)


def channel_slopes(verifier, points: int = 200) -> np.ndarray:
    """Each channel's least-squares pure scaling ``a_c`` (through the origin) over the training weight range."""
    return _fitted_costs(verifier, points)[2]


def nearest_scaling(verifier, points: int = 200) -> tuple[float, float, int]:
    """(error, slope a, channel) of the channel whose learned cost ``phi_c`` is nearest a pure scaling
    ``a w`` (a > 0, fitted by least squares through the origin) over the training weight range, the
    error being max |phi_c(w) - a w| / (a w_max); (inf, nan, -1) when no channel increases with w."""
    x, phi, slopes = _fitted_costs(verifier, points)
    errors = np.abs(phi - np.outer(x, slopes)).max(0) / (np.abs(slopes) * x.max())
    errors[slopes <= 0] = np.inf  # a cost that falls with the weight is no length
    best = int(errors.argmin())
    if not np.isfinite(errors[best]):
        return float("inf"), float("nan"), -1
    return float(errors[best]), float(slopes[best]), best


class NearestScaled(torch.nn.Module):
    """A learned edge cost whose channel nearest a pure scaling is replaced by that scaling ``a w``."""

    def __init__(self, cost: torch.nn.Module, channel: int, slope: float):
        super().__init__()
        self.cost, self.channel, self.slope = cost, channel, slope

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        out = self.cost(w).clone()
        out[:, self.channel] = self.slope * w[:, 0]
        return out


class AllScaled(torch.nn.Module):
    """A learned edge cost with every channel replaced by its fitted pure scaling ``a_c w``."""

    def __init__(self, slopes: np.ndarray):
        super().__init__()
        self.register_buffer("slopes", torch.as_tensor(slopes, dtype=torch.float32))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w * self.slopes


def _intervention_cell(split: str, n: int, run, key: str, root: str, every: bool = False) -> None:
    """Exact match of the far-start search under ``run``'s verifier with its nearest channel (``every``:
    each channel) made its fitted pure scaling, on the first ``n`` graphs of ``split``, into the run cache
    at ``root``."""
    def compute():
        verifier = run.model("cpu")
        _, slope, channel = nearest_scaling(verifier)
        if channel < 0:
            raise ValueError(f"{run.name}: no edge-cost channel grows with the weight")
        verifier.cost = AllScaled(channel_slopes(verifier)) if every else NearestScaled(verifier.cost, channel, slope)
        graphs = sample_split(split, n)
        preds = VerifierSolver(verifier, start="far", device="cpu", seed=run.config.seed).solve(graphs)
        return {"exact": int(sum(fully_right(g, p) for g, p in zip(graphs, preds))), "graphs": len(graphs)}
    RunCache(root).cached_result(key, compute)


def table(runs: dict, cfg: DecisiveConfig, claims: pd.DataFrame, prior: str = "aligned",
          cache: RunCache | None = None) -> pd.DataFrame:
    """Per seed of ``claims`` (`decisive_search.claim_results`): the verifier's nearest-to-scaling edge
    cost (error, slope), its last validation exact match at training sizes, its far-start exact match
    (%) on `SPLITS`, and on `INTERVENTION_SPLITS` with that channel made a pure scaling (same graphs),
    for the seeds not exact there and the first seed as a control ("—" for the others, to save time)."""
    cache = cache or RunCache()
    far = claims[(claims.route == "verifier_far") & (claims.prior == prior)]
    seeds = sorted(int(s) for s in far.seed.unique())
    splits = [s for s in INTERVENTION_SPLITS if s in set(far.split)]
    failing = {(int(r.seed), r.split) for r in far.itertuples() if r.exact < r.graphs}
    cells = [(s, num_graphs(s, cfg), runs["verifier", prior, seed],
              f"decisive-edge-scaled|{s}|{num_graphs(s, cfg)}|{runs['verifier', prior, seed].name}|margins=fine")
             for seed in seeds for s in splits if seed == seeds[0] or (seed, s) in failing]
    scaled = dict(zip([(c[2].config.seed, c[0]) for c in cells], cached_cells(
        _intervention_cell, cells, [c[3] for c in cells], cache, cfg.workers, "decisive experiment: edge costs")))
    every = [(s, n, run, key.replace("decisive-edge-scaled|", "decisive-edge-all-scaled|")) for s, n, run, key in cells]
    all_scaled = dict(zip([(c[2].config.seed, c[0]) for c in every], cached_cells(
        partial(_intervention_cell, every=True), every, [c[3] for c in every], cache, cfg.workers,
        "decisive experiment: edge costs")))
    rows = []
    for seed in seeds:
        run = runs["verifier", prior, seed]
        error, slope, _ = nearest_scaling(run.model("cpu"))
        row = {"seed": seed, ERROR: round(100 * error, 2), "slope a": round(slope, 3),
               "validation exact % (n <= 16)": round(100 * run.metrics["curve"]["val_exact_match"][-1], 1)}
        for split in SPLITS:
            d = far[(far.seed == seed) & (far.split == split)]
            if len(d):
                row[f"exact % {split}"] = round(100 * float(d.exact.sum() / d.graphs.sum()), 1)
        for split in splits:
            r = scaled.get((seed, split))
            row[f"exact % {split}, that channel set to a*w"] = round(100 * r["exact"] / r["graphs"], 1) if r else "—"
        for split in splits:
            r = all_scaled.get((seed, split))
            row[f"exact % {split}, every channel set to its a_c*w"] = (
                round(100 * r["exact"] / r["graphs"], 1) if r else "—")
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


__all__ = ["ERROR", "INTERVENTION_SPLITS", "SPLITS", "AllScaled", "NearestScaled", "channel_slopes", "nearest_scaling",
           "table"]
