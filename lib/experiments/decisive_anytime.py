"""Compute-matched over overlapping FLOP ranges (notebook 05): exact match as each learned route is
given more compute, on the same graphs.

* The generator runs its loop for T = 1, 2, 4, ... iterations (no halting), so its cost grows with T,
  until it costs as much as the search's last round (the min-plus loop is cheap per iteration, so
  it runs up to thousands of iterations; it reached its fixed point long before).
* The verifier's search from the far start is read out after r = 0, 1, 2, ... rounds: what it
  returns when capped at r rounds. Its cost is (r + 1) times one round (every node scoring every
  option; the last scoring is the read-out).

FLOPs are counted with message passing's aggregations (`lib.flops`, ``aggregations=True``): matrix
products alone would leave out the min-plus generator's whole loop, which is a min over messages.

Both curves cover the FLOPs between one step and the search's fixed point, so they share a range,
and `matched` compares them at the top of that shared range.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..batching import collate
from ..flops import count_flops, flops_per_graph
from ..graphs import Graph
from ..oracle import dijkstra, pointer_correct
from ..runs import RunCache
from ..samplers import sample_split
from ..search.parallel_moves import FINE, best_options, parallel_descent, start_candidate
from ..statistics import wilson
from ..sweep import parallel_map
from .decisive_search import PRIORS, DecisiveConfig, num_graphs

#: Splits of the comparison (the 2 x 2 table's), the cap on the generator's iterations, and the
#: graphs on which FLOPs are counted (they depend on the graphs, not the weights).
ANYTIME_SPLITS = ("test_64",)
MAX_ITERATIONS = 4096
FLOP_GRAPHS = 4
ROUTES = ("imitation", "verifier_far")


def _right(graphs: list[Graph], dists: list[np.ndarray], pi: np.ndarray, offsets) -> list[bool]:
    return [bool(pointer_correct(g, pi[o:o + g.num_nodes] - o, d).all()) for g, d, o in zip(graphs, dists, offsets)]


def _generator_curve(gen, graphs: list[Graph], dists, flops_to_cover: float) -> list[dict]:
    """Exact match of the generator run for T = 1, 2, 4, ... iterations, until its cost passes
    ``flops_to_cover`` (or T reaches `MAX_ITERATIONS`)."""
    model, rows, t = gen.model("cpu"), [], 1
    while t <= MAX_ITERATIONS and (not rows or rows[-1]["flops_per_graph"] < flops_to_cover):
        preds = gen.solver("cpu", iterations=t).solve(graphs)
        right = [bool(pointer_correct(g, p.pi, d).all()) for g, p, d in zip(graphs, preds, dists)]
        rows.append({"route": "imitation", "budget": t, "exact": int(sum(right)),
                     "flops_per_graph": flops_per_graph(model, graphs[:FLOP_GRAPHS], aggregations=True, iterations=t)})
        t *= 2
    return rows


def _search_curve(verifier, graphs: list[Graph], dists, batch_size: int = 32) -> list[dict]:
    """Exact match of the far-start search's read-out after each round, and one round's FLOPs."""
    first = collate(graphs[:FLOP_GRAPHS], with_targets=False)
    one_round = partial(best_options, verifier, first, start_candidate(first, "far"))
    round_flops = count_flops(one_round, aggregations=True) / len(graphs[:FLOP_GRAPHS])
    per_round: list[list[bool]] = []  # [batch][round] -> graphs right, padded with the final read-out
    for lo in range(0, len(graphs), batch_size):
        part, part_d = graphs[lo:lo + batch_size], dists[lo:lo + batch_size]
        batch = collate(part, with_targets=False)
        found = parallel_descent(verifier, batch, start_candidate(batch, "far"), margins=FINE, record=True)
        offsets = batch.offsets.tolist()
        per_round.append([_right(part, part_d, p.numpy(), offsets) for p in found.parents])
    rounds = max(len(r) for r in per_round)
    rows = []
    for r in range(rounds):
        exact = sum(sum(b[min(r, len(b) - 1)]) for b in per_round)
        rows.append({"route": "verifier_far", "budget": r, "exact": int(exact), "flops_per_graph": (r + 1) * round_flops})
    return rows


def _cell(split: str, n: int, gen, ver, key: str, root: str) -> None:
    """Both curves of one (split, prior, seed), into the run cache at ``root``."""
    def compute():
        graphs = sample_split(split, n)
        dists = [dijkstra(g)[0] for g in graphs]
        search = _search_curve(ver.model("cpu"), graphs, dists)
        return {"graphs": n, "rows": _generator_curve(gen, graphs, dists, search[-1]["flops_per_graph"]) + search}
    RunCache(root).cached_result(key, compute)


def curves(runs: dict, cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """One row per (split, prior, seed, route, budget): exact match and counted FLOPs per graph, on
    the first graphs of each split (as many as the route's table rows use: fewer for the generic
    search). Cached per cell; missing cells run in parallel, like `decisive_search.results`."""
    cache = cache or RunCache()
    cells = []
    for split in [s for s in ANYTIME_SPLITS if s in cfg.splits] or cfg.splits[:1]:
        for prior in PRIORS:
            n = num_graphs(split, cfg, generic=prior == "generic")
            for seed in cfg.seeds:
                gen, ver = runs["generator", prior, seed], runs["verifier", prior, seed]
                key = f"decisive-anytime|{split}|{n}|{gen.name}|{ver.name}|margins=fine|aggregations|cover"
                cells.append((split, n, gen, ver, key, prior, seed))
    parallel_map(_cell, [(*c[:5], str(cache.root)) for c in cells if not cache.result_path(c[4]).exists()],
                 workers=cfg.workers, desc="decisive experiment: compute-matched curves")
    rows = []
    for split, n, _, _, key, prior, seed in cells:
        r = cache.cached_result(key, lambda key=key: _missing(key))
        rows += [{"split": split, "prior": prior, "seed": seed, "graphs": r["graphs"], **row} for row in r["rows"]]
    return pd.DataFrame(rows)


def _missing(key: str):
    raise RuntimeError(f"the curve {key!r} was not written to the run cache")


def pooled(df: pd.DataFrame) -> pd.DataFrame:
    """Seeds pooled at each budget (the FLOPs of a budget do not depend on the seed): exact match
    with its Wilson 95% interval."""
    g = df.groupby(["split", "prior", "route", "budget"], sort=False).agg(
        exact=("exact", "sum"), graphs=("graphs", "sum"), flops_per_graph=("flops_per_graph", "mean")).reset_index()
    bounds = [wilson(int(e), int(n)) for e, n in zip(g.exact, g.graphs)]
    g["exact_match"] = g.exact / g.graphs
    g["low"], g["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return g


def matched(df: pd.DataFrame) -> pd.DataFrame:
    """Per split and prior, each route's exact match (%) at its largest budget within the shared
    FLOP range (up to the lower of the two routes' largest costs), with the budget and its FLOPs."""
    p, rows = pooled(df), []
    for (split, prior), g in p.groupby(["split", "prior"], sort=False):
        top = min(g[g.route == r].flops_per_graph.max() for r in ROUTES)
        for route in ROUTES:
            d = g[(g.route == route) & (g.flops_per_graph <= top)].sort_values("budget")
            if d.empty:
                continue
            best = d.iloc[-1]  # budgets rise with FLOPs
            rows.append({"split": split, "prior": prior, "route": route, "shared FLOPs up to": top,
                         "budget": f"{'T' if route == 'imitation' else 'r'} = {int(best.budget)}",
                         "FLOPs per graph": float(best.flops_per_graph), "graphs": int(best.graphs),
                         "exact match %": 100 * float(best.exact_match),
                         "95% CI": f"[{100 * best.low:.1f}, {100 * best.high:.1f}]"})
    return pd.DataFrame(rows)


__all__ = ["ANYTIME_SPLITS", "MAX_ITERATIONS", "ROUTES", "curves", "matched", "pooled"]
