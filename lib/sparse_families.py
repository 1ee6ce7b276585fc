"""Sparse size-OOD families: SALSA-CLRS's three test families and depth-first mazes.

CLRS's own sampler keeps the edge probability fixed as n grows, so its large graphs get
denser while hop depth barely moves. These families keep the degree low instead.

SALSA-CLRS (Minder et al. 2023), as read in ``jkminder/SALSA-CLRS`` at commit 3c12bde:
``salsaclrs/data.py`` (``SALSA_CLRS_DATASETS["test"]``, test sizes 16, 80, 160, 800, 1600)
and ``salsaclrs/sampler.py`` (``Sampler._create_graph`` and the generators it calls).

* ``salsa_er``: p ~ U(ln n / n, 3 ln n / n), drawn once per graph; G(n, p) graphs (each
  undirected edge with probability p, not p² as in CLRS) are redrawn *with that same p*
  until one is connected.
* ``salsa_ws``: k drawn uniformly from {4, 6, 8}, rewiring p ~ U(0.05, 0.2), then
  ``networkx.connected_watts_strogatz_graph(n, k, p)`` (rewire, retry until connected).
* ``salsa_delaunay``: the Delaunay triangulation of n uniform points in the unit square.
  Edge weights are *not* the Euclidean lengths (unlike `lib.samplers.sample_delaunay`).

SALSA graphs are undirected (the sampler asserts it) and weighted as in CLRS,
``sqrt(u * u' + 1e-3)`` with u, u' ~ U(0, 1) independent. The source is uniform.
Here the numbers come from one `numpy.random.Generator`. SALSA draws k, p, the
weights and the source from its seeded RNG, but the ER/WS structure from networkx with
no seed and the Delaunay points from numpy's global RNG.

``maze_dfs``: a perfect maze built like Deep Thinking's (``aks2203/easy-to-hard-data``,
``make_mazes.py``, ``Maze.make_maze``): a randomised depth-first backtracker on the grid of
cells. It starts at the maze's start cell, moves to a uniformly chosen unvisited
neighbour and knocks the wall between them down, and backtracks along a stack at dead ends.
Deep Thinking uses square mazes; here the grid is the one `lib.samplers.sample_grid` uses
(rows = floor(sqrt(n)), the last row possibly partial), so n is exact. The start cell is
uniform and becomes the Dijkstra source, as Deep Thinking's start cell is where the maze
is grown from. Passages get CLRS weights like the other families.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from .edge_weights import nx_seed, weighted_undirected
from .graphs import Graph

#: SALSA-CLRS test sizes (``salsaclrs/data.py``).
SALSA_TEST_SIZES = (16, 80, 160, 800, 1600)
#: Watts–Strogatz neighbourhood sizes and rewiring range (``salsaclrs/data.py``).
SALSA_WS_K = (4, 6, 8)
SALSA_WS_P_RANGE = (0.05, 0.2)
#: How often a disconnected ER graph is redrawn before giving up (SALSA loops forever).
MAX_ER_TRIES = 10_000


def salsa_er_p_range(n: int) -> tuple[float, float]:
    """SALSA's ``er_probabilities(n)``: (ln n / n, 3 ln n / n)."""
    base = math.log(n) / n
    return base, 3.0 * base


def sample_salsa_er(n: int, rng: np.random.Generator) -> Graph:
    """SALSA-CLRS Erdős–Rényi: p ~ U(ln n/n, 3 ln n/n), G(n, p) redrawn until connected."""
    import networkx as nx

    if n < 2:
        return weighted_undirected(n, [], rng, "salsa_er", p=0.0, tries=1)
    p = float(min(1.0, rng.uniform(*salsa_er_p_range(n))))
    for tries in range(1, MAX_ER_TRIES + 1):
        G = nx.fast_gnp_random_graph(n, p, seed=nx_seed(rng))
        if nx.is_connected(G):
            return weighted_undirected(n, G.edges(), rng, "salsa_er", p=p, tries=tries)
    raise RuntimeError(f"no connected G({n}, {p:.4g}) in {MAX_ER_TRIES} tries")


def sample_salsa_ws(n: int, rng: np.random.Generator) -> Graph:
    """SALSA-CLRS Watts–Strogatz: k uniform in {4, 6, 8}, rewiring p ~ U(0.05, 0.2), connected."""
    import networkx as nx

    k = int(rng.choice(SALSA_WS_K))
    p = float(rng.uniform(*SALSA_WS_P_RANGE))
    if n <= k:  # too small for a k-ring lattice (SALSA never asks): the complete graph
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        return weighted_undirected(n, pairs, rng, "salsa_ws", k=k, p=p)
    G = nx.connected_watts_strogatz_graph(n, k, p, tries=100, seed=nx_seed(rng))
    return weighted_undirected(n, G.edges(), rng, "salsa_ws", k=k, p=p)


def _delaunay_pairs(pts: np.ndarray) -> np.ndarray | None:
    """Undirected edges of the Delaunay triangulation, or None if some point was left out."""
    from scipy.spatial import Delaunay, QhullError

    try:
        tri = Delaunay(pts)
    except QhullError:  # e.g. three collinear points
        return None
    s = tri.simplices
    if np.unique(s).size != len(pts):  # a duplicate or coplanar point is in no triangle
        return None
    pairs = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    return np.unique(np.sort(pairs, axis=1), axis=0)


def sample_salsa_delaunay(n: int, rng: np.random.Generator) -> Graph:
    """SALSA-CLRS Delaunay: triangulate n uniform points in the unit square; CLRS weights."""
    while True:
        pts = rng.uniform(size=(n, 2))
        if n < 3:
            pairs = np.array([(0, 1)] if n == 2 else [], dtype=np.int64).reshape(-1, 2)
            break
        pairs = _delaunay_pairs(pts)
        if pairs is not None:
            break
    return weighted_undirected(n, pairs, rng, "salsa_delaunay", pos=pts)


def _grid_shape(n: int) -> tuple[int, int]:
    """`lib.samplers.sample_grid`'s layout: rows = floor(sqrt(n)), row-major, last row partial."""
    rows = max(1, math.isqrt(n))
    return rows, -(-n // rows)


def sample_dfs_maze(n: int, rng: np.random.Generator) -> Graph:
    """A perfect maze on about sqrt(n) x sqrt(n) cells by randomised depth-first backtracking.

    Iterative (an explicit stack), so large mazes are fine. The source is the cell the
    maze was grown from, drawn uniformly.
    """
    rows, cols = _grid_shape(n)
    start = int(rng.integers(n))
    picks = rng.random(max(n - 1, 0))  # exactly n - 1 moves into unvisited cells
    visited = bytearray(n)
    visited[start] = 1
    stack = [start]
    tree: list[tuple[int, int]] = []
    while stack:
        cur = stack[-1]
        r, c = divmod(cur, cols)
        nbrs = []
        if c > 0 and not visited[cur - 1]:
            nbrs.append(cur - 1)
        if c + 1 < cols and cur + 1 < n and not visited[cur + 1]:
            nbrs.append(cur + 1)
        if r > 0 and not visited[cur - cols]:
            nbrs.append(cur - cols)
        if cur + cols < n and not visited[cur + cols]:
            nbrs.append(cur + cols)
        if not nbrs:
            stack.pop()  # dead end: backtrack
            continue
        nxt = nbrs[int(picks[len(tree)] * len(nbrs))]
        visited[nxt] = 1
        tree.append((cur, nxt))
        stack.append(nxt)
    g = weighted_undirected(n, tree, rng, "maze_dfs", rows=rows, cols=cols)
    return dataclasses.replace(g, source=start)


#: Sparse size-OOD families: name -> sampler(n, rng).
SPARSE_FAMILIES: dict[str, Callable[[int, np.random.Generator], Graph]] = {
    "salsa_er": sample_salsa_er,
    "salsa_ws": sample_salsa_ws,
    "salsa_delaunay": sample_salsa_delaunay,
    "maze_dfs": sample_dfs_maze,
}
