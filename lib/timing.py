"""Wall-clock measurements that print figures (never asserted in tests)."""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from .graphs import Graph
from .oracle import dijkstra, verify
from .samplers import Split, sample_split


def time_per_graph(fn: Callable[[Graph], object], graphs: Sequence[Graph], repeats: int = 3) -> dict:
    """Run ``fn`` over all graphs ``repeats`` times; seconds per graph (median, min, max)."""
    fn(graphs[0])  # warm up: imports, caches
    per = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for g in graphs:
            fn(g)
        per.append((time.perf_counter() - t0) / len(graphs))
    return {"seconds_per_graph": float(np.median(per)), "min": float(min(per)), "max": float(max(per))}


def scipy_dijkstra(graph: Graph):
    """SciPy's compiled Dijkstra (``scipy.sparse.csgraph``), building the CSR matrix included."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra as sp_dijkstra

    A = csr_matrix((graph.weights, (graph.senders, graph.receivers)), shape=(graph.num_nodes,) * 2)
    return sp_dijkstra(A, indices=graph.source, return_predecessors=True)


def verify_vs_generate(sizes: Sequence[int], graphs_per_size: int, p: float = 0.5, repeats: int = 3,
                       seed: int = 7) -> list[dict]:
    """Time per graph of generating (Dijkstra) against verifying (Bellman check) as n grows.

    Three methods: our pure-Python heap Dijkstra, SciPy's compiled Dijkstra, and our
    vectorised O(E) verifier applied to the correct answer.
    """
    records = []
    for n in sizes:
        graphs = sample_split(Split(seed + n, (n,), (p,)), graphs_per_size, with_pi=False)
        answers = {id(g): dijkstra(g) for g in graphs}
        methods = {
            "generate: Dijkstra (pure Python heap)": dijkstra,
            "generate: Dijkstra (SciPy, compiled)": scipy_dijkstra,
            "verify: Bellman check (NumPy)": lambda g: verify(g, answers[id(g)][1], answers[id(g)][0]),
        }
        edges = float(np.mean([g.num_edges for g in graphs]))
        for name, fn in methods.items():
            records.append({"n": n, "method": name, "mean_edges": edges, **time_per_graph(fn, graphs, repeats)})
    return records
