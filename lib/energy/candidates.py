"""Candidates for the energy models: starting points, targets, corruptions and decoding.

A distance candidate is decoded into pointers by one fixed, generic rule: each node points
to the in-neighbour u minimising ``y_u + w_uv``; a node whose pointer chain does not reach
the source points to itself (unreachable). A pointer candidate is decoded by its argmax.
"""

from __future__ import annotations

import numpy as np
import torch

from ..batching import GraphBatch, segment_argmax
from ..metrics import Prediction
from ..oracle import tree_distances


def init_candidate(batch: GraphBatch, kind: str, generator: torch.Generator) -> torch.Tensor:
    """A random start: distances ~ U(0, 1) per node; pointer logits ~ N(0, 0.1^2) per candidate."""
    if kind == "distance":
        return torch.rand(batch.num_nodes, generator=generator).to(batch.device)
    return 0.1 * torch.randn(batch.num_edges + batch.num_nodes, generator=generator).to(batch.device)


def target_candidate(batch: GraphBatch, kind: str) -> torch.Tensor:
    """The true solution as a candidate. Unreachable nodes get (largest finite distance + 1)."""
    if kind == "distance":
        d = batch.target_dist.clone()
        finite = torch.isfinite(d)
        far = torch.zeros(batch.num_graphs, device=d.device).scatter_reduce(
            0, batch.node_graph[finite], d[finite], "amax", include_self=False)
        return torch.where(finite, d, far[batch.node_graph] + 1.0)
    logits = torch.full((batch.num_edges + batch.num_nodes,), -5.0, device=batch.device)
    logits[batch.target_candidate()] = 5.0
    return logits


def reachable_mask(batch: GraphBatch) -> torch.Tensor:
    """[N] nodes the source can reach (where distance supervision applies)."""
    return torch.isfinite(batch.target_dist)


def corrupt(batch: GraphBatch, kind: str, y: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """One random corruption of a correct candidate, per graph:

    * distances: Gaussian noise at a random scale, or a shift of one node's whole subtree
      (which breaks the Bellman conditions only on the subtree's boundary);
    * pointers: a few pointers swapped to other in-neighbours (or to the node itself).
    """
    y = y.clone()
    if kind == "distance":
        sigma = torch.from_numpy(rng.choice([0.01, 0.03, 0.1, 0.3], size=batch.num_graphs)).float().to(y.device)
        noise = torch.from_numpy(rng.standard_normal(batch.num_nodes)).float().to(y.device)
        noisy = y + sigma[batch.node_graph] * noise
        shifted = y + _subtree_shift(batch, rng).to(y.device)
        use_shift = torch.from_numpy(rng.random(batch.num_graphs) < 0.5).to(y.device)[batch.node_graph]
        return torch.where(use_shift, shifted, noisy)
    cand_dst = batch.cand_dst.cpu().numpy()
    owners = [np.flatnonzero(cand_dst == v) for v in range(batch.num_nodes)]
    offsets, sizes = batch.offsets.tolist(), batch.sizes.tolist()
    for b in range(batch.num_graphs):
        for v in rng.choice(sizes[b], size=min(sizes[b], 1 + int(rng.integers(3))), replace=False):
            opts = owners[offsets[b] + int(v)]
            hot = opts[int(y[opts].argmax())]
            y[opts] = -5.0
            others = opts[opts != hot]
            y[int(rng.choice(others)) if others.size else hot] = 5.0
    return y


def _subtree_shift(batch: GraphBatch, rng: np.random.Generator) -> torch.Tensor:
    """For each graph, +-delta on the subtree (in the true shortest-path tree) of a random node."""
    shift = np.zeros(batch.num_nodes, dtype=np.float32)
    pi = batch.target_pi.cpu().numpy()
    for b, (off, n) in enumerate(zip(batch.offsets.tolist(), batch.sizes.tolist())):
        local = pi[off:off + n] - off
        v = int(rng.integers(n))
        children: dict[int, list[int]] = {}
        for c, p in enumerate(local.tolist()):
            if c != p:
                children.setdefault(p, []).append(c)
        stack, members = [v], []
        while stack:
            u = stack.pop()
            members.append(u)
            stack.extend(children.get(u, []))
        shift[off + np.array(members)] = rng.choice([-1, 1]) * rng.uniform(0.05, 0.3)
    return torch.from_numpy(shift)


def decode(batch: GraphBatch, kind: str, y: torch.Tensor) -> list[Prediction]:
    """Turn candidates into predictions (pointers; distances too for distance candidates)."""
    y = y.detach()
    if kind == "pointer":
        best, dist = segment_argmax(y, batch.cand_dst, batch.num_nodes), None
    else:
        score = torch.cat([y[batch.senders] + batch.weights, torch.full((batch.num_nodes,), float("inf"),
                                                                        device=y.device)])
        best, dist = segment_argmax(-score, batch.cand_dst, batch.num_nodes), y
    pi = batch.chosen_pointers(best)
    preds = []
    pis = batch.split_nodes(pi - batch.offsets[batch.node_graph])
    ds = batch.split_nodes(dist) if dist is not None else [None] * batch.num_graphs
    for g, p, d in zip(batch.graphs, pis, ds):
        p = p.astype(np.int64)
        off_tree = ~np.isfinite(tree_distances(g, p))  # chains that never reach the source
        p[off_tree] = np.flatnonzero(off_tree)
        if d is not None:
            d = d.astype(np.float64)
            d[off_tree] = np.inf
        preds.append(Prediction(p, d))
    return preds
