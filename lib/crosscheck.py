"""Cross-check the exact oracle against networkx's Dijkstra."""

from __future__ import annotations

from typing import Sequence

import networkx as nx
import numpy as np

from .graphs import Graph
from .oracle import RTOL, dijkstra, pointer_correct, verify


def networkx_distances(graph: Graph) -> np.ndarray:
    """Distances from the source by `networkx.single_source_dijkstra_path_length` (inf if unreachable)."""
    lengths = nx.single_source_dijkstra_path_length(graph.to_networkx(), graph.source, weight="weight")
    dist = np.full(graph.num_nodes, np.inf)
    for v, d in lengths.items():
        dist[v] = d
    return dist


def agreement(graph: Graph) -> dict[str, bool]:
    """Does our oracle agree with networkx on this graph?

    * ``distances``: equal within relative tolerance, inf in the same places;
    * ``pointers``: every pointer of ours is on a shortest path under networkx's distances;
    * ``verified``: our Bellman verifier accepts our answer.
    """
    dist, pi = dijkstra(graph)
    ref = networkx_distances(graph)
    same_inf = np.array_equal(np.isinf(dist), np.isinf(ref))
    fin = np.isfinite(ref)
    close = np.allclose(dist[fin], ref[fin], rtol=1e3 * RTOL, atol=1e-12)
    return {
        "distances": bool(same_inf and close),
        "pointers": bool(pointer_correct(graph, pi, ref).all()),
        "verified": verify(graph, pi, dist).ok,
    }


def agreement_table(graphs: Sequence[Graph]) -> dict[str, dict[str, float]]:
    """Per family: number of graphs and the fraction agreeing on each check."""
    rows: dict[str, dict[str, list]] = {}
    for g in graphs:
        fam = g.meta.get("family", "file")
        a = agreement(g)
        row = rows.setdefault(fam, {k: [] for k in a})
        for k, v in a.items():
            row[k].append(v)
    return {fam: {"graphs": len(next(iter(r.values()))), **{k: float(np.mean(v)) for k, v in r.items()}}
            for fam, r in rows.items()}
