"""Discrete search over predecessor pointers, for one graph at a time.

A *score* maps a list of pointer arrays for the same graph to one number each (lower is
better): the exact Bellman verifier's violation count (an oracle score, giving the upper
bound of what a search can do), or a learned energy (`energy_score`). Every routine
returns a `lib.search.Trajectory` over its accepted states, so plots and widgets replay it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from ..batching import collate
from ..graphs import Graph
from ..oracle import tree_distances, verify
from .trajectory import Trajectory

Score = Callable[[Sequence[np.ndarray]], np.ndarray]


def options(graph: Graph) -> list[np.ndarray]:
    """For each node: the pointers it may take (its in-neighbours, then itself)."""
    by_node = np.split(graph.senders, np.cumsum(np.bincount(graph.receivers, minlength=graph.num_nodes))[:-1])
    return [np.append(b, v) for v, b in enumerate(by_node)]


def oracle_score(graph: Graph, kind: str = "tree_length") -> Score:
    """The exact verifier as a score (lower is better), for the upper bound of search.

    * ``"tree_length"``: the sum of distances along the pointer tree, a node off the tree
      costing more than any path. Its unique minimum is the shortest-path tree, and a tree
      is optimal exactly when no single pointer change lowers it — the Bellman conditions —
      so first-improvement search on it cannot get stuck (it performs Bellman-Ford relaxations).
    * ``"violations"``: the number of nodes breaking a Bellman condition. Zero exactly at an
      optimal tree, but with plateaus: from a bad start, local moves often cannot lower it.
    """
    if kind == "violations":
        return lambda pis: np.array([verify(graph, pi).num_violations for pi in pis], dtype=float)
    if kind != "tree_length":
        raise ValueError(f"unknown oracle score {kind!r}; choose 'tree_length' or 'violations'")
    off_tree = 2.0 * graph.num_nodes * (float(graph.weights.max()) if graph.num_edges else 1.0) + 1.0

    def score(pis):
        out = []
        for pi in pis:
            t = tree_distances(graph, pi)
            out.append(float(np.where(np.isfinite(t), t, off_tree).sum()))
        return np.array(out)

    return score


def energy_score(graph: Graph, model, unreachable: float | None = None) -> Score:
    """A learned distance energy as a pointer score: E(graph, distances along the tree).

    Nodes whose pointer chain misses the source get ``unreachable`` (default: one more than
    the largest finite tree distance) as their distance.
    """
    def score(pis):
        batch = collate([graph] * len(pis), with_targets=False)
        ds = []
        for pi in pis:
            d = tree_distances(graph, pi)
            fin = np.isfinite(d)
            d[~fin] = unreachable if unreachable is not None else (d[fin].max() + 1.0 if fin.any() else 1.0)
            ds.append(d)
        with torch.no_grad():
            return model(batch, torch.tensor(np.concatenate(ds), dtype=torch.float32)).numpy().astype(float)

    return score


def _trajectory(states: list[np.ndarray], scores: list[float], accepted: list[bool], **info) -> Trajectory:
    return Trajectory([torch.from_numpy(s).unsqueeze(0) for s in states], torch.tensor(scores).unsqueeze(1),
                      torch.tensor(accepted).unsqueeze(1) if accepted else None, info)


def hill_climb(graph: Graph, score: Score, pi0: np.ndarray, steps: int, rng: np.random.Generator) -> Trajectory:
    """First-improvement local search: visit a random non-source node, move its pointer to the
    best-scoring option if that lowers the score. A step is one node visit."""
    opts = options(graph)
    pi = np.asarray(pi0, dtype=np.int64).copy()
    pi[graph.source] = graph.source
    cur = float(score([pi])[0])
    states, scores, acc = [pi.copy()], [cur], []
    nodes = [v for v in range(graph.num_nodes) if v != graph.source]
    for _ in range(steps):
        if not nodes:
            break
        v = nodes[int(rng.integers(len(nodes)))]
        cands = [np.where(np.arange(graph.num_nodes) == v, u, pi) for u in opts[v]]
        vals = score(cands)
        best = int(np.argmin(vals))
        ok = vals[best] < cur
        if ok:
            pi, cur = cands[best], float(vals[best])
        states.append(pi.copy())
        scores.append(cur)
        acc.append(bool(ok))
    return _trajectory(states, scores, acc)


def move_scale(graph: Graph, score: Score, pi: np.ndarray, rng: np.random.Generator, moves: int = 16) -> float:
    """The median |score change| of random single-pointer moves from ``pi``: a temperature
    scale for `simulated_annealing` that does not depend on the score's units (1.0 if flat)."""
    opts = options(graph)
    nodes = [v for v in range(graph.num_nodes) if v != graph.source and len(opts[v]) > 1]
    if not nodes:
        return 1.0
    cands = []
    for _ in range(moves):
        v = nodes[int(rng.integers(len(nodes)))]
        cands.append(np.where(np.arange(graph.num_nodes) == v, rng.choice(opts[v]), pi))
    deltas = np.abs(score(cands) - score([pi])[0])
    deltas = deltas[deltas > 0]
    return float(np.median(deltas)) if deltas.size else 1.0


def simulated_annealing(graph: Graph, score: Score, pi0: np.ndarray, steps: int, rng: np.random.Generator,
                        t_start: float = 1.0, t_end: float = 0.01) -> Trajectory:
    """Random single-pointer moves accepted with the Metropolis rule under a geometric
    temperature schedule from ``t_start`` to ``t_end``. The trajectory records the state
    after every step (``info["temperature"]``); use `Trajectory.best` for the answer."""
    opts = options(graph)
    pi = np.asarray(pi0, dtype=np.int64).copy()
    pi[graph.source] = graph.source
    cur = float(score([pi])[0])
    states, scores, acc, temps = [pi.copy()], [cur], [], []
    nodes = [v for v in range(graph.num_nodes) if v != graph.source]
    for k in range(steps):
        temp = t_start * (t_end / t_start) ** (k / max(1, steps - 1))
        v = nodes[int(rng.integers(len(nodes)))]
        u = int(rng.choice(opts[v]))
        cand = pi.copy()
        cand[v] = u
        val = float(score([cand])[0])
        ok = val <= cur or rng.random() < np.exp(-(val - cur) / temp)
        if ok:
            pi, cur = cand, val
        states.append(pi.copy())
        scores.append(cur)
        acc.append(bool(ok))
        temps.append(temp)
    return _trajectory(states, scores, acc, temperature=temps)


def best_of_n(graph: Graph, score: Score, probs: Sequence[np.ndarray], n: int, rng: np.random.Generator,
              greedy_first: bool = True) -> Trajectory:
    """Rerank ``n`` pointer trees sampled from per-node distributions ``probs[v]`` (over
    `options` order) by ``score``. The trajectory lists samples in order; `best` picks."""
    opts = options(graph)
    samples = []
    if greedy_first:
        samples.append(np.array([opts[v][int(np.argmax(p))] for v, p in enumerate(probs)]))
    while len(samples) < n:
        samples.append(np.array([opts[v][int(rng.choice(len(p), p=p))] for v, p in enumerate(probs)]))
    for s in samples:
        s[graph.source] = graph.source
    vals = score(samples)
    return _trajectory(samples, list(vals), [])


def beam_search(step_logprobs: Callable[[torch.Tensor], torch.Tensor], prompt: torch.Tensor, steps: int,
                beam: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Beam search for a sequence model: ``step_logprobs(prefixes [K, T]) -> [K, V]`` gives
    next-token log-probabilities. Returns the best ``beam`` sequences [beam, T0 + steps] and
    their total log-probabilities, best first."""
    seqs = prompt.unsqueeze(0) if prompt.dim() == 1 else prompt[:1]
    total = torch.zeros(1)
    for _ in range(steps):
        lp = step_logprobs(seqs)  # [K, V]
        cand = (total.unsqueeze(1) + lp).reshape(-1)
        top = torch.topk(cand, min(beam, cand.numel()))
        k, tok = top.indices // lp.shape[1], top.indices % lp.shape[1]
        seqs = torch.cat([seqs[k], tok.unsqueeze(1)], 1)
        total = top.values
    return seqs, total
