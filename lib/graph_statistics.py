"""Descriptive statistics of graph distributions (used by notebook 00 and the sampler tests)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .graphs import Graph
from .oracle import dijkstra, hop_depth


def graph_statistics(graphs: Sequence[Graph]) -> dict[str, np.ndarray]:
    """Pooled per-node, per-edge and per-graph statistics.

    * ``degree``: out-degree of every node;
    * ``weight``: weight of every undirected edge (counted once);
    * ``hops``, ``dist``: hop count and distance of every reachable non-source node;
    * ``density``: per graph, directed edges / (n (n - 1));
    * ``unreachable``: per graph, fraction of nodes the source cannot reach.
    """
    out: dict[str, list] = {k: [] for k in ("degree", "weight", "hops", "dist", "density", "unreachable")}
    for g in graphs:
        n = g.num_nodes
        dist, pi = dijkstra(g)
        hops = hop_depth(g, pi)
        reach = np.isfinite(dist)
        reach[g.source] = False
        out["degree"].append(np.bincount(g.senders, minlength=n))
        out["weight"].append(g.weights[g.senders < g.receivers])
        out["hops"].append(hops[reach])
        out["dist"].append(dist[reach])
        out["density"].append([g.num_edges / max(n * (n - 1), 1)])
        out["unreachable"].append([1.0 - np.isfinite(dist).mean()])
    return {k: np.concatenate(v) if v else np.array([]) for k, v in out.items()}


def summarize(stats: dict[str, np.ndarray]) -> dict[str, float]:
    """Means of each statistic, for a compact table."""
    return {f"mean_{k}": float(np.mean(v)) if v.size else float("nan") for k, v in stats.items()}
