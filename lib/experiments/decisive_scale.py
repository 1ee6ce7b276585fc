"""Notebook 05, units: does the headline route care about the scale of the weights?

Multiplying every weight by one constant leaves Dijkstra's tree unchanged, so a solver that learned
the algorithm should not care (DESIGN.md, "Scale"). The units table runs the aligned prior's routes,
every seed of the 2 x 2 table, on splits whose graphs are those of a base split with their weights
changed after drawing (`lib.samplers.REWEIGHTS`: unit weights, times 10, divided by 10), so each row
pairs graph by graph with its base. Beside them: the exact checker (the ceiling), the fewest-hops tree
(exact whenever weights are unit), and the search run on each graph rescaled to the training range's
largest weight, a hand-written input rule named in its label.
"""

from __future__ import annotations

import pandas as pd

from ..runs import RunCache
from ..samplers import SPLITS
from .decisive_search import RESCALED, ROUTE_LABELS, DecisiveConfig, _cells, _frame
from .decisive_tables import _interval, _seeds

ROUTES = ("imitation", "verifier_far", "verifier_far" + RESCALED, "checker_far", "shortcut_min_hop")
LABELS = {**ROUTE_LABELS, "verifier_far" + RESCALED:
          "learned verifier + parent moves, far start, weights rescaled per graph (hand-written)"}


def results(runs: dict, cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """One row per (split, route, seed) of the aligned prior on ``cfg.scale_splits`` (cached per cell;
    the base splits' imitation and far-start cells are those of `decisive_search.claim_results`)."""
    cells = _cells(runs, cfg, cfg.scale_splits, cfg.table_seeds, ROUTES, ("aligned",))
    return _frame(cells, runs, cfg, cache or RunCache())


def table(df: pd.DataFrame) -> pd.DataFrame:
    """Exact match (%) with its 95% Wilson interval, seeds pooled, one row per route and one column per
    split (headed by its weights); the per-seed values of each learned route in the cell beneath."""
    cols, cells = [], {}
    for split, d in df.groupby("split", sort=False):
        col = f"{split} ({SPLITS[split].weights} weights, n = {int(d.n.iloc[0])}, depth {d.hop_depth.iloc[0]:.1f})"
        cols.append(col)
        for route, g in d.groupby("route", sort=False):
            per_seed = "/".join(f"{100 * e / n:.1f}" for e, n in zip(g.exact, g.graphs)) if len(g) > 1 else ""
            cells[LABELS[route], col] = _interval(int(g.exact.sum()), int(g.graphs.sum())) + (
                f" (seeds {per_seed})" if per_seed else "")
    rows = [LABELS[r] for r in ROUTES if any((LABELS[r], c) in cells for c in cols)]
    out = pd.DataFrame([[cells.get((r, c), "—") for c in cols] for r in rows], index=rows, columns=cols)
    out.index.name = f"exact match % [95% CI], {int(df.graphs.max())} graphs per seed"
    return out


def summary(df: pd.DataFrame) -> str:
    """The seeds, then one line per reweighted split: the headline search's pooled exact match there against
    its base split's, and the same with the per-graph rescaling."""
    def pct(split: str, route: str) -> str:
        d = df[(df.split == split) & (df.route == route)]
        return f"{100 * d.exact.sum() / d.graphs.sum():.1f}%" if len(d) else "not run"

    lines = []
    for split in dict.fromkeys(df.split):
        how = SPLITS[split].weights
        base = next((s for s in dict.fromkeys(df.split) if SPLITS[s].weights == "own"
                     and SPLITS[s].seed == SPLITS[split].seed), None)
        if how == "own" or base is None:
            continue
        lines.append(f"{split} ({how}): learned verifier + far-start search {pct(split, 'verifier_far')} exact "
                     f"(on the same graphs with their own weights, {base}: {pct(base, 'verifier_far')}); "
                     f"rescaled per graph first {pct(split, 'verifier_far' + RESCALED)}; imitation "
                     f"{pct(split, 'imitation')}; fewest-hops tree {pct(split, 'shortcut_min_hop')}.")
    return f"{_seeds(df)}:\n" + "\n".join(lines)


__all__ = ["ROUTES", "LABELS", "results", "table", "summary"]
