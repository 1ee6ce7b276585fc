"""Seeded graph samplers: the CLRS-compatible Erdős–Rényi distribution and other families.

Every sampler takes an explicit `numpy.random.Generator`. Each named split has its own
fixed seed (`SPLITS`), independent of any training seed, so test sets never move.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .edge_weights import nx_seed, weighted_undirected
from .graphs import Graph
from .oracle import dijkstra
from .sparse_families import SALSA_TEST_SIZES, SPARSE_FAMILIES

#: CLRS training sizes and edge probabilities (the "generalist learner" distribution).
TRAIN_SIZES = (4, 7, 11, 13, 16)
TRAIN_PROBS = tuple(round(0.1 * k, 1) for k in range(1, 10))


def er_weight_matrix(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """CLRS's ``_random_er_graph(directed=False, weighted=True)``: an ``[n, n]`` weight matrix.

    Each ordered pair is kept with probability p, then symmetrised by multiplying with the
    transpose (so an undirected edge exists with probability p²); weights are
    ``sqrt(u_ij * u_ji + 1e-3)`` with u ~ U(0, 1). Zero means no edge. The diagonal may be
    non-zero; self-loops are dropped when the `Graph` is built.
    """
    mat = rng.binomial(1, p, size=(n, n))
    mat = mat * mat.T
    weights = rng.uniform(0.0, 1.0, size=(n, n))
    weights = np.sqrt(weights * weights.T + 1e-3)
    return mat.astype(float) * weights


def graph_from_matrix(W: np.ndarray, source: int, **kw) -> Graph:
    """A `Graph` with an edge u -> v wherever ``W[u, v] > 0``."""
    u, v = np.nonzero(W)
    return Graph.from_arrays(W.shape[0], source, u, v, W[u, v], **kw)


def sample_er(n: int, p: float, rng: np.random.Generator) -> Graph:
    """One CLRS-compatible Dijkstra instance: ER graph, then a uniformly drawn source."""
    W = er_weight_matrix(n, p, rng)
    source = int(rng.choice(n))
    return graph_from_matrix(W, source, meta={"family": "er", "p": p})


def sample_watts_strogatz(n: int, rng: np.random.Generator, k: int = 4, beta: float = 0.2) -> Graph:
    """Small-world ring lattice (each node joined to its k nearest), rewired with prob. beta."""
    import networkx as nx

    G = nx.watts_strogatz_graph(n, min(k, n - 1), beta, seed=nx_seed(rng))
    return weighted_undirected(n, G.edges(), rng, "watts_strogatz", k=k, beta=beta)


def sample_delaunay(n: int, rng: np.random.Generator) -> Graph:
    """Delaunay triangulation of n uniform points in the unit square; weights are lengths."""
    from scipy.spatial import Delaunay

    pts = rng.uniform(size=(n, 2))
    if n < 4:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:
        tri = Delaunay(pts)
        pairs = {tuple(sorted((int(a), int(b)))) for s in tri.simplices for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))}
    pairs = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    w = np.linalg.norm(pts[pairs[:, 0]] - pts[pairs[:, 1]], axis=1) + 1e-3
    u = np.concatenate([pairs[:, 0], pairs[:, 1]])
    v = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return Graph.from_arrays(n, int(rng.integers(n)), u, v, np.concatenate([w, w]),
                             meta={"family": "delaunay", "pos": pts})


def sample_grid(n: int, rng: np.random.Generator) -> Graph:
    """A 2-D grid of about n nodes (rows × cols with rows = floor(sqrt(n)))."""
    rows = max(1, int(np.floor(np.sqrt(n))))
    cols = int(np.ceil(n / rows))
    pairs = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if i >= n:
                continue
            if c + 1 < cols and i + 1 < n:
                pairs.append((i, i + 1))
            if i + cols < n:
                pairs.append((i, i + cols))
    return weighted_undirected(n, pairs, rng, "grid", rows=rows, cols=cols)


def sample_maze(n: int, rng: np.random.Generator) -> Graph:
    """A perfect maze: a uniform random spanning tree of the grid (randomised Kruskal)."""
    grid = sample_grid(n, rng)
    keep = grid.senders < grid.receivers
    pairs = np.stack([grid.senders[keep], grid.receivers[keep]], 1)
    pairs = pairs[rng.permutation(len(pairs))]
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    tree = []
    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            tree.append((a, b))
    return weighted_undirected(n, tree, rng, "maze", rows=grid.meta["rows"], cols=grid.meta["cols"])


def sample_tree(n: int, rng: np.random.Generator) -> Graph:
    """A uniform random labelled tree (random Prüfer sequence)."""
    if n == 1:
        return weighted_undirected(1, [], rng, "tree")
    if n == 2:
        return weighted_undirected(2, [(0, 1)], rng, "tree")
    import networkx as nx

    G = nx.from_prufer_sequence(rng.integers(0, n, size=n - 2).tolist())
    return weighted_undirected(n, G.edges(), rng, "tree")


#: Real graphs that networkx ships (node count in the name's comment), for a split of real structure.
REAL_GRAPHS = ("karate_club_graph",  # 34 nodes: Zachary's karate club
               "florentine_families_graph",  # 15 nodes: marriage ties of Renaissance Florentine families
               "davis_southern_women_graph",  # 32 nodes: women and the social events they attended
               "les_miserables_graph")  # 77 nodes: co-appearance of the novel's characters


def sample_nx_real(rng: np.random.Generator) -> Graph:
    """One of `REAL_GRAPHS` (drawn uniformly; each has its own size), its nodes shuffled, with
    CLRS-style weights (the graphs' own weights are dropped) and a uniform source."""
    import networkx as nx

    name = REAL_GRAPHS[int(rng.integers(len(REAL_GRAPHS)))]
    G = nx.convert_node_labels_to_integers(getattr(nx, name)())
    perm = rng.permutation(G.number_of_nodes())
    pairs = [(int(perm[u]), int(perm[v])) for u, v in G.edges() if u != v]
    return weighted_undirected(G.number_of_nodes(), pairs, rng, "nx_real", graph=name)


#: Structural-OOD families: name -> sampler(n, rng).
FAMILIES: dict[str, Callable[[int, np.random.Generator], Graph]] = {
    "er": lambda n, rng: sample_er(n, 0.5, rng),
    "watts_strogatz": sample_watts_strogatz,
    "delaunay": sample_delaunay,
    "grid": sample_grid,
    "maze": sample_maze,
    "tree": sample_tree,
    **SPARSE_FAMILIES,
}
#: Families of fixed graphs, whose size is the graph's own: name -> sampler(rng).
FIXED_FAMILIES: dict[str, Callable[[np.random.Generator], Graph]] = {"nx_real": sample_nx_real}


@dataclass(frozen=True)
class Split:
    """A named, fixed-seed data split: which family, which sizes, which p values."""

    seed: int  # this split's own seed, independent of any training seed
    sizes: tuple[int, ...]  # node counts, drawn uniformly per graph
    probs: tuple[float, ...] = (0.5,)  # ER edge probabilities, drawn uniformly per graph
    family: str = "er"  # a key of FAMILIES; "er" uses `probs`
    mix: tuple[str, ...] = ()  # if given, each graph's family is drawn uniformly from these instead
    weights: str = "own"  # a key of REWEIGHTS: the family's own weights, or those changed after drawing
    description: str = field(default="", compare=False)

    def __post_init__(self):
        if self.weights not in REWEIGHTS:
            raise ValueError(f"unknown weights {self.weights!r}; choose from {sorted(REWEIGHTS)}")


#: How a split changes its graphs' weights after drawing them: the structure (and the source) stays
#: that of the split with the same seed, so a reweighted split pairs graph by graph with its base.
#: A shortest-path tree does not change when every weight is multiplied by one constant.
REWEIGHTS = {"own": "the family's own weights", "unit": "every weight 1", "x10": "every weight times 10",
             "div10": "every weight divided by 10"}
_FACTORS = {"x10": 10.0, "div10": 0.1}  # the reweightings that multiply every weight by one factor


#: The named splits. Each has its own seed, so test sets never depend on training seeds.
SPLITS: dict[str, Split] = {
    "train": Split(1, TRAIN_SIZES, TRAIN_PROBS, description="CLRS train: n in {4..16}, p in {0.1..0.9}"),
    "val": Split(2, (16,), description="validation, n = 16, p = 0.5"),
    "test_16": Split(3, (16,), description="in distribution, n = 16, p = 0.5"),
    "test_32": Split(4, (32,), description="OOD size, n = 32"),
    "test_64": Split(5, (64,), description="OOD size, n = 64 (CLRS test size)"),
    "test_128": Split(6, (128,), description="OOD size, n = 128"),
    **{
        f"{fam}_64": Split(100 + i, (64,), family=fam, description=f"structural OOD: {fam}, n = 64")
        for i, fam in enumerate(["watts_strogatz", "delaunay", "grid", "maze", "tree"])
    },
    # -- the long-path regime: train where paths are short, test where hop depth grows ----------
    "train_short_paths": Split(200, TRAIN_SIZES, mix=("salsa_er", "maze_dfs", "grid"),
                               description="sparse ER, depth-first mazes and grids at n in {4..16}"),
    "val_short_paths": Split(201, (16,), mix=("salsa_er", "maze_dfs", "grid"),
                             description="validation for the long-path regime, n = 16"),
    "test_short_paths": Split(202, (16,), mix=("salsa_er", "maze_dfs", "grid"),
                              description="in-distribution test for the long-path regime, n = 16"),
    **{
        f"{fam}_{n}": Split(300 + 10 * i + j, (n,), family=fam, description=f"SALSA-CLRS sparse {fam[6:]}, n = {n}")
        for i, fam in enumerate(["salsa_er", "salsa_ws", "salsa_delaunay"]) for j, n in enumerate(SALSA_TEST_SIZES)
    },
    **{
        f"{fam}_side{side}": Split(400 + 10 * i + j, (side * side,), family=fam,
                                   description=f"{fam.replace('_', ' ')} {side}x{side} (hop depth grows with the side)")
        for i, fam in enumerate(["maze_dfs", "grid"]) for j, side in enumerate((4, 8, 16, 32))
    },
    # -- units: the same graphs with their weights changed (same seeds as test_64 and maze_dfs_side16) --
    **{f"test_64_{how}": Split(5, (64,), weights=how, description=f"test_64's graphs, {REWEIGHTS[how]}")
       for how in ("unit", "x10", "div10")},
    "maze_dfs_side16_unit": Split(402, (256,), family="maze_dfs", weights="unit",
                                  description="maze_dfs_side16's mazes with unit weights (distances reach the hop depth)"),
    "tree_256": Split(500, (256,), family="tree", description="uniform random tree, n = 256 (deep, no cycles)"),
    # -- Dijkstra written as a trace (notebook 07): small graphs, so that sequence models can learn it --
    "trace_train": Split(700, (4, 5, 6, 7, 8), TRAIN_PROBS, description="trace training: n in {4..8}, p in {0.1..0.9}"),
    "trace_val": Split(701, (8,), description="trace validation, n = 8, p = 0.5"),
    **{f"trace_test_{n}": Split(702 + i, (n,), description=f"trace test, n = {n}, p = 0.5")
       for i, n in enumerate((8, 12, 16))},
    # shrunk again (at n <= 8, 16,000 steps left the Transformer at 92% pointer accuracy): n in {4..6}
    "trace_train_6": Split(710, (4, 5, 6), TRAIN_PROBS, description="trace training: n in {4..6}, p in {0.1..0.9}"),
    "trace_val_6": Split(711, (6,), description="trace validation, n = 6, p = 0.5"),
    "trace_test_6": Split(712, (6,), description="trace test, n = 6, p = 0.5"),
    "nx_real_graphs": Split(600, (77,), family="nx_real",
                            description="real graphs networkx ships (15 to 77 nodes), shuffled, CLRS weights"),
}


def sample_graph(split: Split, rng: np.random.Generator) -> Graph:
    """One graph from a split's distribution (without ground truth)."""
    n = int(rng.choice(split.sizes))
    family = split.mix[int(rng.integers(len(split.mix)))] if split.mix else split.family
    if family == "er":
        return _reweight(sample_er(n, float(rng.choice(split.probs)), rng), split.weights)
    if family in FIXED_FAMILIES:
        return _reweight(FIXED_FAMILIES[family](rng), split.weights)
    if family not in FAMILIES:
        raise KeyError(f"unknown graph family {family!r}; choose from {sorted(FAMILIES) + sorted(FIXED_FAMILIES)}")
    return _reweight(FAMILIES[family](n, rng), split.weights)


def _reweight(g: Graph, how: str) -> Graph:
    """``g`` with its weights changed as `REWEIGHTS` names (``"own"``: ``g`` itself)."""
    if how == "own":
        return g
    w = np.ones_like(g.weights) if how == "unit" else g.weights * _FACTORS[how]
    return Graph.from_arrays(g.num_nodes, g.source, g.senders, g.receivers, w, meta={**g.meta, "weights": how})


def sample_split(split: str | Split, num_graphs: int, seed_offset: int = 0, with_pi: bool = True) -> list[Graph]:
    """``num_graphs`` graphs from a named split, with oracle ``pi`` attached by default.

    The same (split, num_graphs, seed_offset) always gives the same graphs; a longer
    request extends a shorter one (graph i depends only on the split seed and i's stream).
    A process draws each request once and hands out the same (immutable) graphs in a new list
    each time: an evaluation loop over runs draws each of its splits once per worker.
    """
    if isinstance(split, str):
        if split not in SPLITS:
            raise KeyError(f"unknown split {split!r}; choose from {sorted(SPLITS)}")
        name, split = split, SPLITS[split]
    else:
        name = f"{split.family}{'-'.join(map(str, split.sizes))}"
    return list(_draw(name, split, num_graphs, seed_offset, with_pi))


@functools.lru_cache(maxsize=32)  # more than any loop's splits (01 evaluates 20), so a loop over runs reuses them
def _draw(name: str, split: Split, num_graphs: int, seed_offset: int, with_pi: bool) -> tuple[Graph, ...]:
    streams = np.random.SeedSequence([split.seed, seed_offset]).spawn(num_graphs)
    graphs = []
    for i, ss in enumerate(streams):
        g = sample_graph(split, np.random.default_rng(ss))
        g.name = f"{name}-{seed_offset}-{i}"
        if with_pi:
            g.pi = dijkstra(g)[1]
        graphs.append(g)
    return tuple(graphs)
