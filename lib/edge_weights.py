"""CLRS-style edge weights for undirected families, shared by every sampler."""

from __future__ import annotations

import numpy as np

from .graphs import Graph


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
