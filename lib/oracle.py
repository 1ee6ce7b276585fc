"""Exact Dijkstra, the O(E) Bellman-optimality verifier, and the algorithm's trace.

Conventions follow CLRS: ``pi[s] = s`` for the source, ``pi[v] = v`` and ``d[v] = inf``
for nodes the source cannot reach.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .graphs import Graph

#: Relative tolerance for "tight" edges: path sums in different orders differ by ULPs.
RTOL = 1e-9
ATOL = 1e-12


def _out_csr(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-neighbour lists in CSR form: (offsets [n+1], neighbours [E], weights [E])."""
    order = np.argsort(graph.senders, kind="stable")
    counts = np.bincount(graph.senders, minlength=graph.num_nodes)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return offsets, graph.receivers[order], graph.weights[order]


def dijkstra(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Exact single-source shortest paths: ``(dist, pi)``.

    Ties are broken as in CLRS's reference implementation: the queued node with the
    smallest distance (then the smallest id) is popped, and a predecessor is replaced only
    by a strictly shorter path.
    """
    dist, pi, _ = _dijkstra(graph)
    return dist, pi


def solve_cached(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """`dijkstra`, memoised on the graph object (graphs are treated as immutable)."""
    sol = graph.meta.get("_dijkstra")
    if sol is None:
        sol = graph.meta["_dijkstra"] = dijkstra(graph)
    return sol


def dijkstra_trace(graph: Graph) -> list[tuple[int, int]]:
    """The algorithm's trace: reachable nodes in pop order, each with its predecessor."""
    return _dijkstra(graph)[2]


def _dijkstra(graph: Graph):
    n = graph.num_nodes
    offsets, nbrs, wts = _out_csr(graph)
    offsets, nbrs, wts = offsets.tolist(), nbrs.tolist(), wts.tolist()
    dist = [float("inf")] * n
    pi = list(range(n))
    done = [False] * n
    dist[graph.source] = 0.0
    heap = [(0.0, graph.source)]
    trace = []
    while heap:
        d_u, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        trace.append((u, pi[u]))
        for k in range(offsets[u], offsets[u + 1]):
            v = nbrs[k]
            if done[v]:
                continue
            alt = d_u + wts[k]
            if alt < dist[v]:
                dist[v] = alt
                pi[v] = u
                heapq.heappush(heap, (alt, v))
    return np.array(dist), np.array(pi, dtype=np.int64), trace


def _edge_lookup(graph: Graph, senders: np.ndarray, receivers: np.ndarray) -> np.ndarray:
    """Index of edge ``senders[i] -> receivers[i]`` in the graph's arrays, or -1 if absent."""
    n = graph.num_nodes
    keys = graph.receivers * n + graph.senders  # sorted: edges are ordered by (receiver, sender)
    query = np.asarray(receivers, dtype=np.int64) * n + np.asarray(senders, dtype=np.int64)
    pos = np.searchsorted(keys, query)
    pos_c = np.minimum(pos, max(keys.size - 1, 0))
    found = (pos < keys.size) & (keys[pos_c] == query) if keys.size else np.zeros(query.shape, bool)
    return np.where(found, pos_c, -1)


def _gather(values: np.ndarray, idx: np.ndarray, missing):
    """``values[idx]`` where ``idx >= 0``, else ``missing`` (safe on graphs with no edges)."""
    if values.size == 0:
        return np.full(idx.shape, missing, dtype=values.dtype)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], missing)


def tree_distances(graph: Graph, pi: np.ndarray) -> np.ndarray:
    """Length of the path that following ``pi`` from each node back to the source traces.

    ``inf`` where the pointer chain uses a non-edge, loops, or never reaches the source.
    Computed by pointer doubling in O(n log n).
    """
    n, s = graph.num_nodes, graph.source
    parent = np.asarray(pi, dtype=np.int64).copy()
    idx = _edge_lookup(graph, parent, np.arange(n))
    step = _gather(graph.weights, idx, np.inf)
    parent[s], step[s] = s, 0.0
    acc, anc = step.copy(), parent.copy()
    for _ in range(max(1, int(np.ceil(np.log2(max(n, 2))))) + 1):
        acc = acc + acc[anc]
        anc = anc[anc]
    acc[anc != s] = np.inf
    return acc


@dataclass
class Verdict:
    """Result of `verify`: ``ok`` iff the candidate is an exact shortest-path tree."""

    ok: bool
    node_violations: np.ndarray  # bool [n]: the node breaks some Bellman condition

    @property
    def num_violations(self) -> int:
        return int(self.node_violations.sum())


def verify(graph: Graph, pi: np.ndarray, dist: np.ndarray | None = None, rtol: float = RTOL) -> Verdict:
    """Exact O(E) check (plus O(n log n) pointer chasing) of Bellman optimality.

    Let ``t`` be the distances along the candidate's pointer tree (`tree_distances`). The
    candidate is optimal iff ``pi[s] = s``, every node off the tree points to itself, and
    ``t[v] <= t[u] + w(u, v)`` for every edge: then ``t`` is a feasible potential realised by
    real paths, i.e. the shortest distances, and every ``pi[v]`` is a tight edge. If
    ``dist`` is given it must also equal ``t`` (``d[s] = 0``, inf exactly where unreachable).
    Violations are reported per node (an edge violation is charged to its receiver).
    """
    n, s = graph.num_nodes, graph.source
    pi = np.asarray(pi, dtype=np.int64)
    if pi.shape != (n,):
        raise ValueError(f"pi must have shape ({n},), got {pi.shape}")
    t = tree_distances(graph, pi)
    bad = np.zeros(n, dtype=bool)
    bad[s] |= pi[s] != s
    off_tree = ~np.isfinite(t)
    bad |= off_tree & (pi != np.arange(n))
    cand = t[graph.senders] + graph.weights
    tv = t[graph.receivers]
    slack_ok = (tv <= cand + rtol * np.abs(cand) + ATOL) | ~np.isfinite(cand)
    np.logical_or.at(bad, graph.receivers[~slack_ok], True)
    if dist is not None:
        dist = np.asarray(dist, dtype=np.float64)
        if dist.shape != (n,):
            raise ValueError(f"dist must have shape ({n},), got {dist.shape}")
        both = np.isfinite(t) & np.isfinite(dist)
        mismatch = np.isfinite(t) != np.isfinite(dist)
        mismatch[both] = np.abs(dist[both] - t[both]) > rtol * np.abs(t[both]) + ATOL
        bad |= mismatch
    return Verdict(ok=not bad.any(), node_violations=bad)


def optimal_predecessors(graph: Graph, dist: np.ndarray) -> np.ndarray:
    """Per edge: does ``u -> v`` lie on some shortest path to ``v`` (``d[u] + w = d[v]``)?"""
    du, dv = dist[graph.senders], dist[graph.receivers]
    with np.errstate(invalid="ignore"):
        close = np.abs(du + graph.weights - dv) <= RTOL * np.abs(dv) + ATOL
    return np.isfinite(dv) & np.isfinite(du) & close


def pointer_correct(graph: Graph, pred_pi: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Tie-aware per-node correctness of predicted pointers, given the true distances.

    A reachable ``v`` is correct when ``pred_pi[v] -> v`` is an edge on *some* shortest
    path; an unreachable ``v`` is correct when it points to itself; the source when it
    points to itself.
    """
    n = graph.num_nodes
    pred_pi = np.asarray(pred_pi, dtype=np.int64)
    nodes = np.arange(n)
    idx = _edge_lookup(graph, pred_pi, nodes)
    ok = _gather(optimal_predecessors(graph, dist), idx, False)
    ok = np.where(np.isfinite(dist), ok, pred_pi == nodes)
    ok[graph.source] = pred_pi[graph.source] == graph.source
    return ok


def hop_depth(graph: Graph, pi: np.ndarray) -> np.ndarray:
    """Number of edges from the source along the pointer tree ``pi`` (-1 if unreachable)."""
    n, s = graph.num_nodes, graph.source
    depth = np.full(n, -1, dtype=np.int64)
    depth[s] = 0
    children: list[list[int]] = [[] for _ in range(n)]
    for v, u in enumerate(np.asarray(pi).tolist()):
        if v != s and u != v:
            children[u].append(v)
    stack = [s]
    while stack:
        u = stack.pop()
        for v in children[u]:
            if depth[v] < 0:
                depth[v] = depth[u] + 1
                stack.append(v)
    return depth
