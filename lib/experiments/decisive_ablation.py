"""The parent moves ablated (notebook 05): each prior's learned verifier searched without them, by
backtracking gradient descent on the candidate distances (`lib.search.continuous`), from the random
start, for n steps; pointers are read out as the search's are (each node's best option under the
verifier). Beside it, the same verifier with parent moves from the same start and from the far
start, on the same graphs (read from the results), and the energies where descent stops against the
truth's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..metrics import Prediction, fully_right
from ..runs import RunCache
from ..samplers import sample_split
from ..search.continuous import gradient_descent
from ..search.parallel_moves import best_options, start_candidate
from ..verifier.candidates import truth
from .decisive_search import PRIORS, ROUTE_LABELS, DecisiveConfig, cached_cells, num_graphs
from .decisive_tables import BASELINE, _interval, shortcut_exact

SPLITS = ("test_16", "test_64", "maze_dfs_side8")  # the 2 x 2 table's split, training size, a deep family
LR = 0.05  # first step size; backtracking then adapts it per graph (not tuned)
LABEL = "learned verifier + gradient descent (no parent moves), random start"


def _descend(verifier, graphs, seed: int, batch_size: int = 32) -> dict:
    """Exact graphs, and mean energies where descent stops and at the truth."""
    exact, stop, true = 0, [], []
    rng = torch.Generator().manual_seed(seed)
    for lo in range(0, len(graphs), batch_size):
        part = graphs[lo:lo + batch_size]
        batch = collate(part)
        y0 = start_candidate(batch, "random", rng)
        steps = int(batch.sizes.max())
        y = gradient_descent(lambda y, batch=batch: verifier(batch, y), y0, steps, LR, project=lambda y: y.clamp(min=0),
                             groups=batch.node_graph, backtrack=True).candidates[-1]
        with torch.no_grad():
            best, _, _ = best_options(verifier, batch, y)
            stop += verifier(batch, y).tolist()
            true += verifier(batch, truth(batch)).tolist()
        pis = batch.split_nodes(batch.chosen_pointers(best) - batch.offsets[batch.node_graph])
        exact += sum(fully_right(g, Prediction(p.astype(np.int64))) for g, p in zip(part, pis))
    return {"exact": int(exact), "energy_stop": float(np.mean(stop)), "energy_truth": float(np.mean(true))}


def _cell(split: str, n: int, run, seed: int, key: str, root: str) -> None:
    RunCache(root).cached_result(key, lambda: _descend(run.model("cpu"), sample_split(split, n), seed))


def table(runs: dict, cfg: DecisiveConfig, dec: pd.DataFrame, cache: RunCache | None = None) -> pd.DataFrame:
    """Per split and prior: exact match (%, seeds pooled, 95% Wilson interval) with and without parent
    moves, on the same graphs (the prior's graph count on that split), and the mean energies where
    descent stops and at the truth."""
    cache = cache or RunCache()
    splits = [s for s in SPLITS if s in cfg.splits] or list(cfg.splits[:1])
    specs = [(s, prior, num_graphs(s, cfg, prior == "generic"), seed) for s in splits for prior in PRIORS
             if not (prior == "generic" and s in cfg.generic_skip) for seed in cfg.seeds]
    cells = [(s, n, runs["verifier", prior, seed], seed,
              f"decisive-descent|{s}|{n}|{runs['verifier', prior, seed].name}|lr={LR}") for s, prior, n, seed in specs]
    done = cached_cells(_cell, cells, [c[4] for c in cells], cache, cfg.workers,
                        "decisive experiment: search without parent moves")
    rows = []
    for split, prior in dict.fromkeys((s, prior) for s, prior, _, _ in specs):
        results = [r for spec, r in zip(specs, done) if spec[:2] == (split, prior)]
        graphs = sum(spec[2] for spec in specs if spec[:2] == (split, prior))
        row = {"split": split, "prior": prior, "graphs": graphs}
        for route in ("verifier_far", "verifier_random"):
            d = dec[(dec.split == split) & (dec.route == route) & (dec.prior == prior)]
            row[ROUTE_LABELS[route]] = _interval(int(d.exact.sum()), int(d.graphs.sum())) if len(d) else "—"
        row[LABEL] = _interval(sum(r["exact"] for r in results), graphs)
        row[BASELINE] = round(shortcut_exact(dec, split), 1)
        row["energy where descent stops"] = float(np.mean([r["energy_stop"] for r in results]))
        row["energy of the truth"] = float(np.mean([r["energy_truth"] for r in results]))
        rows.append(row)
    return pd.DataFrame(rows).set_index(["split", "prior"])


__all__ = ["LABEL", "LR", "SPLITS", "table"]
