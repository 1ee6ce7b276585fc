"""Notebook 05: how well each learned verifier ranks the truth above hard negatives (AUC): the matched
generator's wrong outputs, and the wrong states where the verifier's own search stops from a random start."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..runs import RunCache
from ..samplers import sample_split
from .decisive_search import PRIORS, DecisiveConfig, cached_cells, num_graphs

#: Splits for the verifiers' AUC on hard negatives, and graphs per split.
AUC_SPLITS, AUC_GRAPHS = ("test_16", "test_64", "salsa_er_160", "maze_dfs_side8"), 64


def _auc_cell(split: str, n: int, ver, gen, seed: int, key: str, root: str) -> None:
    """One verifier's AUC on the hard negatives of one split, into the run cache at ``root``."""
    import torch

    from ..batching import collate
    from ..search.parallel_moves import parallel_descent, start_candidate
    from ..verifier.candidates import is_right, truth
    from ..verifier.solver import generator_distances

    def compute():
        graphs = sample_split(split, n)
        batch, model = collate(graphs), ver.model("cpu")
        negatives = {"generator's wrong outputs": torch.cat(generator_distances(gen, graphs, "cpu")),
                     "search stops (random start)": parallel_descent(model, batch, start_candidate(
                         batch, "random", torch.Generator().manual_seed(seed))).y}
        with torch.no_grad():
            e_true = model(batch, truth(batch)).numpy()
            out = {}
            for kind, y in negatives.items():
                wrong = ~is_right(batch, y).numpy()
                e = model(batch, y).numpy()[wrong]
                out[kind] = {"negatives": int(wrong.sum()), "auc": _auc(e_true, e)}
        return out
    RunCache(root).cached_result(key, compute)


def hard_negative_auc(runs: dict, cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """Each learned verifier's AUC at ranking the truth below hard negatives: the matched generator's
    wrong outputs, and the wrong states where its own search stops from a random start (pooled over
    graphs; 0.5 for ties). One row per (split, prior, seed, negative kind), cached; missing cells
    are computed in parallel like `results`."""
    cache = cache or RunCache()
    cells = []
    for split in [s for s in AUC_SPLITS if s in cfg.splits] or cfg.splits[:1]:
        for prior in PRIORS:
            for seed in cfg.seeds:
                ver, gen = runs["verifier", prior, seed], runs["generator", prior, seed]
                n = min(AUC_GRAPHS, num_graphs(split, cfg, prior == "generic"))
                cells.append((split, n, ver, gen, seed, f"decisive-auc|{split}|{n}|{ver.name}|{gen.name}|margins=fine", prior))
    results = cached_cells(_auc_cell, [c[:6] for c in cells], [c[5] for c in cells], cache, cfg.workers,
                           "decisive experiment: hard negatives")
    rows = []
    for (split, _, _, _, seed, _, prior), result in zip(cells, results):
        for kind, r in result.items():
            rows.append({"split": split, "prior": prior, "seed": seed, "negatives": kind,
                         "count": r["negatives"], "auc": r["auc"]})
    return pd.DataFrame(rows)


def _auc(e_true: np.ndarray, e_wrong: np.ndarray) -> float | None:
    """P(a wrong candidate scores above a true one), ties counted half; None without negatives."""
    if not len(e_wrong):
        return None
    diff = e_wrong[None, :] - e_true[:, None]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def table(auc: pd.DataFrame) -> pd.DataFrame:
    """AUC on hard negatives per split and prior (mean over seeds, and the seeds' range) with the number
    of negatives behind it, one column group per kind of negative."""
    g = auc.groupby(["split", "prior", "negatives"], sort=False)
    out = g.agg(auc=("auc", "mean"), low=("auc", "min"), high=("auc", "max"), negatives=("count", "sum"))
    out["AUC (seed range)"] = [f"{a:.3f} ({lo:.3f}-{hi:.3f})" if pd.notna(a) else "— (no negatives)"
                               for a, lo, hi in zip(out.auc, out.low, out.high)]
    return out[["AUC (seed range)", "negatives"]].unstack("negatives")


__all__ = ["AUC_GRAPHS", "AUC_SPLITS", "hard_negative_auc", "table"]
