"""SALSA-CLRS sparse families and depth-first mazes: determinism, structure, weights, depth."""

import math
import time

import networkx as nx
import numpy as np
import pytest

from lib.oracle import dijkstra, hop_depth
from lib.sparse_families import (
    SALSA_WS_K,
    SALSA_WS_P_RANGE,
    SPARSE_FAMILIES,
    salsa_er_p_range,
    sample_dfs_maze,
    sample_salsa_er,
    sample_salsa_ws,
)

FAMILIES = sorted(SPARSE_FAMILIES)
W_MIN, W_MAX = math.sqrt(1e-3), math.sqrt(1 + 1e-3)


def graphs(family, n, count, seed=0):
    return [SPARSE_FAMILIES[family](n, np.random.default_rng([seed, i])) for i in range(count)]


def undirected(g):
    G = nx.Graph()
    G.add_nodes_from(range(g.num_nodes))
    G.add_edges_from(zip(g.senders.tolist(), g.receivers.tolist()))
    return G


def mean_hop_depth(gs):
    """Mean number of edges from the source along Dijkstra's shortest-path tree."""
    return float(np.mean([hop_depth(g, dijkstra(g)[1]).mean() for g in gs]))


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_graph(family):
    f = SPARSE_FAMILIES[family]
    a, b = f(80, np.random.default_rng(7)), f(80, np.random.default_rng(7))
    c = f(80, np.random.default_rng(8))
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()
    assert a.meta["family"] == family


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 80, 160])
def test_every_node_is_reachable_from_the_source(family, n):
    for g in graphs(family, n, 5):
        assert g.num_nodes == n
        assert np.isfinite(dijkstra(g)[0]).all()


@pytest.mark.parametrize("family", FAMILIES)
def test_clrs_weights_symmetric_and_in_range(family):
    for g in graphs(family, 160, 3):
        assert g.weights.min() >= W_MIN and g.weights.max() <= W_MAX
        fwd = dict(zip(zip(g.senders.tolist(), g.receivers.tolist()), g.weights.tolist()))
        assert all(fwd[(v, u)] == w for (u, v), w in fwd.items())
    # sqrt(u u' + 1e-3) with independent uniforms: mean of sqrt(uu') is 4/9
    w = np.concatenate([g.weights for g in graphs(family, 800, 2)])
    assert abs(w.mean() - 4 / 9) < 0.02


def test_sources_are_spread_over_the_nodes():
    for family in FAMILIES:
        sources = [g.source for g in graphs(family, 16, 200)]
        assert len(set(sources)) == 16, family


def test_salsa_er_p_and_degree_follow_ln_n_over_n():
    for n in (16, 800):
        lo, hi = salsa_er_p_range(n)
        gs = graphs("salsa_er", n, 8 if n == 800 else 40)
        assert all(lo <= g.meta["p"] <= hi for g in gs)
        deg = np.mean([g.num_edges / n for g in gs])  # directed edges per node = mean degree
        assert math.log(n) * (n - 1) / n <= deg <= 3 * math.log(n), (n, deg)
    assert salsa_er_p_range(1600) == pytest.approx((math.log(1600) / 1600, 3 * math.log(1600) / 1600))


def test_salsa_er_keeps_p_and_redraws_until_connected():
    # at p near ln n / n about a third of G(n, p) draws are connected, so retries happen
    tries = [sample_salsa_er(160, np.random.default_rng(s)).meta["tries"] for s in range(30)]
    assert max(tries) > 1


def test_salsa_ws_degree_is_k_and_parameters_in_salsa_ranges():
    gs = graphs("salsa_ws", 800, 30)
    assert {g.meta["k"] for g in gs} == set(SALSA_WS_K)
    for g in gs:
        assert SALSA_WS_P_RANGE[0] <= g.meta["p"] <= SALSA_WS_P_RANGE[1]
        assert g.num_edges / g.num_nodes == g.meta["k"]  # rewiring moves edges, never drops them
    small = sample_salsa_ws(16, np.random.default_rng(3))
    assert small.num_edges / 16 == small.meta["k"]


def test_delaunay_degree_is_about_six_and_planar():
    for n in (80, 800):
        for g in graphs("salsa_delaunay", n, 3):
            G = undirected(g)
            assert G.number_of_edges() <= 3 * n - 6
            assert nx.check_planarity(G)[0]
            if n == 800:
                assert 5.8 < 2 * G.number_of_edges() / n < 6


@pytest.mark.parametrize("n", [4, 16, 17, 80, 800, 4096])
def test_dfs_maze_is_a_spanning_tree_of_the_grid(n):
    g = sample_dfs_maze(n, np.random.default_rng(n))
    G = undirected(g)
    assert G.number_of_edges() == n - 1 and nx.is_connected(G)
    rows, cols = g.meta["rows"], g.meta["cols"]
    assert rows == int(np.floor(np.sqrt(n))) and (rows - 1) * cols < n <= rows * cols
    for u, v in G.edges():  # passages join grid neighbours only
        (ru, cu), (rv, cv) = divmod(u, cols), divmod(v, cols)
        assert abs(ru - rv) + abs(cu - cv) == 1


def test_dfs_maze_has_long_corridors():
    # a depth-first backtracker makes few dead ends and long paths, unlike a uniform spanning tree
    g = sample_dfs_maze(1024, np.random.default_rng(0))
    leaves = np.sum(np.bincount(g.senders, minlength=g.num_nodes) == 1)
    assert leaves < 0.2 * g.num_nodes
    assert hop_depth(g, dijkstra(g)[1]).max() > 200


@pytest.mark.parametrize("family,ratio", [("salsa_er", 1.7), ("salsa_ws", 2.5), ("salsa_delaunay", 4.0), ("maze_dfs", 20.0)])
def test_hop_depth_grows_with_n(family, ratio):
    # ER and WS are small worlds: their depth grows only like log n; Delaunay like sqrt n
    small = mean_hop_depth(graphs(family, 16, 20))
    large = mean_hop_depth(graphs(family, 800, 3))
    assert large > ratio * small, (small, large)


@pytest.mark.parametrize("family", FAMILIES)
def test_n1600_is_quick(family):
    SPARSE_FAMILIES[family](16, np.random.default_rng(0))  # warm imports
    t = time.perf_counter()
    g = SPARSE_FAMILIES[family](1600, np.random.default_rng(1))
    assert time.perf_counter() - t < 1.0
    assert g.num_edges < 30 * 1600
