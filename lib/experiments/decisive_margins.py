"""Why the search of notebook 05 compares verifier terms with margins at float32 noise: the exact
checker under the same search, from the far start, on the largest splits, with the coarse absolute
margins that the verifiers were trained with and with the fine ones that every search of the
notebook uses (`lib.search.parallel_moves.MARGINS`)."""

from __future__ import annotations

import pandas as pd

from ..metrics import fully_right
from ..runs import RunCache
from ..samplers import SPLITS, sample_split
from ..search.parallel_moves import MARGINS
from ..verifier.exact_checker import ExactChecker
from ..verifier.solver import VerifierSolver
from .decisive_search import DecisiveConfig, cached_cells, num_graphs

MIN_N = 800  # the splits checked: n >= this


def _cell(split: str, n: int, key: str, root: str) -> None:
    def compute():
        graphs = sample_split(split, n)
        return {name: sum(fully_right(g, p) for g, p in zip(graphs, VerifierSolver(
            ExactChecker(), device="cpu", margins=margins).solve(graphs))) for name, margins in MARGINS.items()}
    RunCache(root).cached_result(key, compute)


def ceiling_by_margins(cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """Per split with n >= `MIN_N`: the exact checker's exact match (%) from the far start under
    each margin setting, on the notebook's graphs; cached per split."""
    cache = cache or RunCache()
    splits = [s for s in cfg.splits if max(SPLITS[s].sizes) >= MIN_N]
    cells = [(s, num_graphs(s, cfg), f"decisive-margins|{s}|{num_graphs(s, cfg)}") for s in splits]
    results = cached_cells(_cell, cells, [c[2] for c in cells], cache, cfg.workers,
                           "decisive experiment: the checker under both margins")
    rows = []
    for (split, n, _), r in zip(cells, results):
        rows.append({"split": split, "n": max(SPLITS[split].sizes), "graphs": n,
                     **{f"exact checker, {name} margins (%)": 100 * r[name] / n for name in MARGINS}})
    return pd.DataFrame(rows).set_index("split") if rows else pd.DataFrame()


__all__ = ["MIN_N", "ceiling_by_margins"]
