"""Distance candidates for training a verifier from labels: the truth, its corruptions, and the
label itself (is a candidate the true answer?). A candidate holds inf where a node claims to be
unreachable."""

from __future__ import annotations

import numpy as np
import torch

from ..batching import GraphBatch

#: A candidate distance counts as right within this relative tolerance (float32 sums of weights).
REL_TOL = 1e-4


def truth(batch: GraphBatch) -> torch.Tensor:
    """[N] the true distances (inf where unreachable)."""
    return batch.target_dist.clone()


def same_value(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise: both inf, or equal within REL_TOL."""
    both_inf = ~torch.isfinite(a) & ~torch.isfinite(b)
    close = torch.isfinite(a) & torch.isfinite(b) & ((a - b).abs() <= REL_TOL * (1 + b.abs()))
    return both_inf | close


def is_right(batch: GraphBatch, y: torch.Tensor) -> torch.Tensor:
    """[B] bool: every node's candidate distance equals the truth (both inf, or within REL_TOL)."""
    wrong = (~same_value(y, batch.target_dist)).float()
    return torch.zeros(batch.num_graphs, device=y.device).index_add(0, batch.node_graph, wrong) == 0


def corrupt(batch: GraphBatch, y: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """One random corruption per graph, of one of three kinds, on 1 to 3 nodes (the source included):

    * noise: y_v + N(0, s^2), s in {0.01, 0.1, 0.3};
    * wrong parent: y_v = y_u + w_uv for a random in-neighbour u (often not the best one);
    * unreachable: y_v = inf.
    Some corruptions leave the candidate right (a parent that is also shortest); `is_right` labels them.
    """
    y = y.clone()
    senders, receivers, w = batch.senders.cpu().numpy(), batch.receivers.cpu().numpy(), batch.weights.cpu().numpy()
    starts = np.searchsorted(receivers, np.arange(batch.num_nodes + 1))
    for off, n in zip(batch.offsets.tolist(), batch.sizes.tolist()):
        nodes = range(off, off + n)
        kind = rng.integers(3)
        for v in rng.choice(nodes, size=min(len(nodes), 1 + int(rng.integers(3))), replace=False):
            lo, hi = starts[v], starts[v + 1]
            if kind == 0 or (kind == 1 and hi == lo):
                y[v] = y[v] + float(rng.choice([0.01, 0.1, 0.3]) * rng.standard_normal())
            elif kind == 1:
                e = int(rng.integers(lo, hi))
                y[v] = y[senders[e]] + float(w[e])
            else:
                y[v] = float("inf")
    return y
