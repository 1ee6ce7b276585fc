"""CLRS-style edge weights for undirected families, shared by every sampler."""

from __future__ import annotations

import numpy as np

from .graphs import Graph


#: The range of ``weighted_undirected``'s weights: every training split's (CLRS-style) weights lie in it.
WEIGHT_RANGE = (float(np.sqrt(1e-3)), float(np.sqrt(1 + 1e-3)))


def outside_weight_range(graphs) -> float:
    """The fraction of edge weights, over ``graphs``, outside `WEIGHT_RANGE` (0.0 for no edges)."""
    w = np.concatenate([g.weights for g in graphs] + [np.zeros(0)])
    return float(((w < WEIGHT_RANGE[0]) | (w > WEIGHT_RANGE[1])).mean()) if len(w) else 0.0


def weighted_undirected(n: int, pairs, rng: np.random.Generator, family: str, **meta) -> Graph:
    """Undirected edges with CLRS-style weights ``sqrt(u*u' + 1e-3)``, a uniform source."""
    pairs = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    w = np.sqrt(rng.uniform(size=len(pairs)) * rng.uniform(size=len(pairs)) + 1e-3)
    u = np.concatenate([pairs[:, 0], pairs[:, 1]])
    v = np.concatenate([pairs[:, 1], pairs[:, 0]])
    source = int(rng.integers(n))
    return Graph.from_arrays(n, source, u, v, np.concatenate([w, w]), meta={"family": family, **meta})


def nx_seed(rng: np.random.Generator) -> int:
    """A seed for networkx drawn from ``rng`` (so networkx draws stay reproducible)."""
    return int(rng.integers(2**31 - 1))


def to_training_scale(g: Graph) -> Graph:
    """``g`` with every weight multiplied by one positive factor, so that its largest weight is the
    training range's largest (a graph without a positive weight is returned as it is). A shortest-path
    tree, and so ``pi``, does not change under such a scaling: this is a hand-written input rule, and
    the routes that use it say so in their label."""
    top = float(g.weights.max()) if len(g.weights) else 0.0
    if top <= 0.0:
        return g
    return Graph.from_arrays(g.num_nodes, g.source, g.senders, g.receivers, g.weights * (WEIGHT_RANGE[1] / top),
                             g.pi, g.name, {**g.meta, "rescaled_by": WEIGHT_RANGE[1] / top})
