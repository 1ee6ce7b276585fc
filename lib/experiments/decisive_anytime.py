"""Compute-matched over overlapping FLOP ranges (notebook 05): exact match as each learned route is
given more compute, on the same graphs.

* The generator runs its loop for T = 1, 2, 4, ... iterations (no halting), so its cost grows with T,
  until it costs more than the whole search (the min-plus loop is cheap per iteration, so it runs up
  to thousands of iterations; it reached its fixed point long before).
* The verifier's search from the far start is read out after r = 0, 1, 2, ... rounds: what it
  returns when capped at r rounds. A graph whose search settled after R rounds costs R + 1 rounds
  from then on (`decisive_cost.search_round_flops` each; the last one is the read-out), so the
  curve's last point costs what `decisive_cost.route_flops` charges the route.

FLOPs are counted with message passing's aggregations (`lib.flops`, ``aggregations=True``): matrix
products alone would leave out the min-plus generator's whole loop, which is a min over messages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..batching import collate
from ..flops import flops_per_graph
from ..graphs import Graph
from ..metrics import Prediction, graph_scores
from ..models.predict import predict_along
from ..oracle import dijkstra
from ..runs import RunCache
from ..samplers import sample_split
from ..search.parallel_moves import FINE, parallel_descent, start_candidate
from ..statistics import wilson
from .decisive_cost import search_round_flops
from .decisive_search import PRIORS, DecisiveConfig, cached_cells, num_graphs
from .decisive_tables import BASELINE, shortcut_exact

#: Splits of the comparison (the 2 x 2 table's), the cap on the generator's iterations, and the
#: graphs on which FLOPs are counted (they depend on the graphs, not the weights).
ANYTIME_SPLITS = ("test_64",)
MAX_ITERATIONS = 4096
FLOP_GRAPHS = 4
ROUTES = ("imitation", "verifier_far")


def _right(graph: Graph, dist: np.ndarray, pi: np.ndarray) -> bool:
    s = graph_scores(graph, Prediction(pi), dist)
    return s["correct"] == s["total"]


def _generator_curve(gen, graphs: list[Graph], dists, flops_to_cover: float) -> list[dict]:
    """Exact match of the generator run for T = 1, 2, 4, ... iterations, until its cost passes
    ``flops_to_cover`` (or T reaches `MAX_ITERATIONS`)."""
    model, budgets, flops = gen.model("cpu"), [], []
    while (t := 2 ** len(budgets)) <= MAX_ITERATIONS and (not flops or flops[-1] < flops_to_cover):
        budgets.append(t)
        flops.append(flops_per_graph(model, graphs[:FLOP_GRAPHS], aggregations=True, iterations=t))
    preds = predict_along(model, graphs, budgets, device="cpu")
    exact = {t: sum(_right(g, d, p.pi) for g, d, p in zip(graphs, dists, preds[t])) for t in budgets}
    return [{"route": "imitation", "budget": t, "exact": exact[t], "flops_per_graph": f} for t, f in zip(budgets, flops)]


def _search_curve(verifier, graphs: list[Graph], dists, batch_size: int = 32) -> list[dict]:
    """Exact match and FLOPs per graph of the far-start search's read-out after each round."""
    round_flops = search_round_flops(verifier, collate(graphs[:FLOP_GRAPHS], with_targets=False))
    right: list[list[bool]] = []  # per graph: right after round 0, 1, ..., until it settled
    for lo in range(0, len(graphs), batch_size):
        part, part_d = graphs[lo:lo + batch_size], dists[lo:lo + batch_size]
        batch = collate(part, with_targets=False)
        found = parallel_descent(verifier, batch, start_candidate(batch, "far"), margins=FINE, record=True)
        pis = [batch.split_nodes(p - batch.offsets[batch.node_graph]) for p in found.parents]
        right += [[_right(g, d, pis[r][i]) for r in range(int(found.rounds[i]) + 1)]
                  for i, (g, d) in enumerate(zip(part, part_d))]
    settled = np.array([len(r) - 1 for r in right])  # each graph's rounds
    return [{"route": "verifier_far", "budget": r, "exact": sum(g[min(r, len(g) - 1)] for g in right),
             "flops_per_graph": float(np.mean(np.minimum(r, settled) + 1)) * round_flops}
            for r in range(int(settled.max()) + 1)]


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
                key = f"decisive-anytime|{split}|{n}|{gen.name}|{ver.name}|margins=fine|aggregations|node-terms"
                cells.append((split, n, gen, ver, key, prior, seed))
    results = cached_cells(_cell, [c[:5] for c in cells], [c[4] for c in cells], cache, cfg.workers,
                           "decisive experiment: compute-matched curves",
                           first=lambda c: c[3].config.model == "generic_verifier")  # the slow cells first
    rows = []
    for (split, _, _, _, _, prior, seed), r in zip(cells, results):
        rows += [{"split": split, "prior": prior, "seed": seed, "graphs": r["graphs"], **row} for row in r["rows"]]
    return pd.DataFrame(rows)


def _aligned_budgets(df: pd.DataFrame) -> pd.DataFrame:
    """Every seed of a (split, prior, route) at the same budgets: a search curve ends when its last
    graph settled, so it is carried on at its final read-out (same answer, same cost) up to the
    longest seed's; the generator keeps the iteration counts that every seed ran."""
    parts = []
    for (_, _, route), d in df.groupby(["split", "prior", "route"], sort=False):
        seeds = [x.set_index("budget").sort_index() for _, x in d.groupby("seed", sort=False)]
        if route == "imitation":
            budgets = sorted(set.intersection(*(set(x.index) for x in seeds)))
            parts += [x.loc[budgets] for x in seeds]
        else:
            parts += [x.reindex(range(int(d.budget.max()) + 1), method="ffill") for x in seeds]
    return pd.concat(parts).rename_axis("budget").reset_index()


def pooled(df: pd.DataFrame) -> pd.DataFrame:
    """Seeds pooled at each budget (`_aligned_budgets`): exact match with its Wilson 95% interval,
    FLOPs per graph the seeds' mean."""
    g = _aligned_budgets(df).groupby(["split", "prior", "route", "budget"], sort=False).agg(
        exact=("exact", "sum"), graphs=("graphs", "sum"), flops_per_graph=("flops_per_graph", "mean")).reset_index()
    if not g.groupby(["split", "prior", "route"]).graphs.nunique().eq(1).all():
        raise ValueError("a curve's budgets were measured on different numbers of graphs")
    bounds = [wilson(int(e), int(n)) for e, n in zip(g.exact, g.graphs)]
    g["exact_match"] = g.exact / g.graphs
    g["low"], g["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return g


def matched(df: pd.DataFrame, dec: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per split and prior, each route's exact match (%) at its largest budget within the shared
    FLOP range (up to the lower of the two routes' largest costs), with the budget and its FLOPs;
    and the generator's best exact match at any iteration count tried, inside the range or not.
    With ``dec`` (`decisive_search.results`), also the no-learning fewest-hops tree on the split."""
    p, rows = pooled(df), []
    for (split, prior), g in p.groupby(["split", "prior"], sort=False):
        top = min(g[g.route == r].flops_per_graph.max() for r in ROUTES)
        generator_best = 100 * float(g[g.route == "imitation"].exact_match.max())
        for route in ROUTES:
            d = g[(g.route == route) & (g.flops_per_graph <= top)].sort_values("budget")
            if d.empty:
                continue
            best = d.iloc[-1]  # budgets rise with FLOPs
            rows.append({"split": split, "prior": prior, "route": route, "shared FLOPs up to": top,
                         "budget": f"{'T' if route == 'imitation' else 'r'} = {int(best.budget)}",
                         "FLOPs per graph": float(best.flops_per_graph), "graphs": int(best.graphs),
                         "exact match %": 100 * float(best.exact_match),
                         "95% CI": f"[{100 * best.low:.1f}, {100 * best.high:.1f}]",
                         "generator best %": generator_best})
    out = pd.DataFrame(rows)
    if dec is not None:
        out[BASELINE] = [round(shortcut_exact(dec, split), 1) for split in out.split]
    return out


__all__ = ["ANYTIME_SPLITS", "MAX_ITERATIONS", "ROUTES", "curves", "matched", "pooled"]
