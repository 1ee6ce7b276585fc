"""Seeded samplers: determinism, the CLRS statistics, and the structural families."""

from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from scipy import integrate

from lib import samplers
from lib.experiments.task_distribution import reference_comparison
from lib.samplers import FAMILIES, SPLITS, TRAIN_PROBS, TRAIN_SIZES, Split, er_weight_matrix, sample_er, sample_split


def same(a, b):
    return a.to_dict() == b.to_dict()


def test_split_sampling_is_deterministic_and_prefix_stable():
    a = sample_split("train", 30)
    b = sample_split("train", 30)
    c = sample_split("train", 10)
    assert all(same(x, y) for x, y in zip(a, b))
    assert all(same(x, y) for x, y in zip(a, c))
    other = sample_split("train", 10, seed_offset=1)
    assert not all(same(x, y) for x, y in zip(c, other))


def test_a_repeated_request_is_drawn_once_and_handed_out_in_a_new_list():
    a = sample_split("test_16", 6)
    b = sample_split("test_16", 6)
    assert a is not b and all(x is y for x, y in zip(a, b))  # the same immutable graphs, drawn once
    a.pop()  # a caller's list is its own
    assert len(sample_split("test_16", 6)) == 6
    samplers._draw.cache_clear()
    fresh = sample_split("test_16", 6)
    assert all(x is not y and same(x, y) and np.array_equal(x.pi, y.pi) for x, y in zip(b, fresh))


def test_every_split_has_its_own_seed():
    """... except a reweighted split, which shares its base split's seed, family and sizes."""
    seeds = [s.seed for s in SPLITS.values() if s.weights == "own"]
    assert len(seeds) == len(set(seeds))
    for name, split in SPLITS.items():
        if split.weights != "own":
            base = [k for k, s in SPLITS.items() if s == replace(split, weights="own")]
            assert len(base) == 1, name


@pytest.mark.parametrize("how, factor", [("x10", 10.0), ("div10", 0.1), ("unit", None)])
def test_a_reweighted_split_is_its_base_graph_by_graph_with_the_weights_changed(how, factor):
    base, changed = sample_split("test_64", 4), sample_split(f"test_64_{how}", 4)
    for b, c in zip(base, changed):
        assert (b.source, b.num_nodes) == (c.source, c.num_nodes)
        assert np.array_equal(b.senders, c.senders) and np.array_equal(b.receivers, c.receivers)
        assert np.allclose(c.weights, 1.0 if factor is None else factor * b.weights, rtol=1e-12)
        if factor is not None:  # scaling keeps the shortest-path tree
            assert np.array_equal(b.pi, c.pi)
    with pytest.raises(ValueError, match="unknown weights 'x3'"):
        Split(1, (8,), weights="x3")


def test_train_split_covers_clrs_sizes_and_probabilities():
    graphs = sample_split("train", 400, with_pi=False)
    assert {g.num_nodes for g in graphs} == set(TRAIN_SIZES)
    assert {g.meta["p"] for g in graphs} == set(TRAIN_PROBS)


def test_unknown_split_and_family_are_clear_errors():
    with pytest.raises(KeyError, match="unknown split 'tset_16'"):
        sample_split("tset_16", 1)
    with pytest.raises(KeyError, match="unknown graph family"):
        sample_split(Split(1, (8,), family="hexagonal"), 1)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_edge_density_is_p_squared(p):
    """Symmetrising by the transpose keeps an undirected edge with probability p^2 (measured)."""
    rng = np.random.default_rng(int(p * 10))
    dens = np.array([sample_er(16, p, rng).num_edges / (16 * 15) for _ in range(400)])
    se = dens.std(ddof=1) / np.sqrt(dens.size)
    assert abs(dens.mean() - p * p) < 4 * se, (dens.mean(), p * p, se)


def test_weights_are_symmetric_and_follow_the_clrs_law():
    rng = np.random.default_rng(0)
    W = er_weight_matrix(200, 1.0, rng)
    assert np.allclose(W, W.T)
    off = W[~np.eye(200, dtype=bool)]
    assert off.min() >= np.sqrt(1e-3) and off.max() <= np.sqrt(1 + 1e-3)
    expected, _ = integrate.dblquad(lambda u, v: np.sqrt(u * v + 1e-3), 0, 1, 0, 1)
    w = off[: off.size // 2]  # one triangle's worth, roughly independent
    assert abs(w.mean() - expected) < 4 * w.std() / np.sqrt(w.size)


def test_source_is_uniform():
    graphs = sample_split(Split(77, (8,)), 1600, with_pi=False)
    counts = np.bincount([g.source for g in graphs], minlength=8)
    chi2 = ((counts - 200) ** 2 / 200).sum()
    assert chi2 < 24.3  # 99.9th percentile of chi-square with 7 degrees of freedom


@pytest.mark.parametrize("n", [16, 32])
def test_sampler_matches_clrs_reference_statistics(reference_files, n):
    """Edge density, weights, degree, unreachable fraction and hops within sampling error."""
    table = reference_comparison(1000, n=n)
    assert set(table.index) >= {"edge density", "mean degree", "mean weight", "unreachable fraction"}
    assert (table["z"].abs() < 3.5).all(), table


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_families_are_undirected_weighted_and_sized(family):
    rng = np.random.default_rng(5)
    for n in (1, 2, 5, 17, 40):
        g = FAMILIES[family](n, rng)
        assert g.num_nodes == n
        W = g.dense_weights(missing=0.0)
        assert np.array_equal(W, W.T) and (g.weights > 0).all()


@pytest.mark.parametrize("family", ["tree", "maze"])
def test_trees_and_mazes_are_spanning_trees(family):
    rng = np.random.default_rng(6)
    for n in (3, 10, 37):
        G = FAMILIES[family](n, rng).to_networkx().to_undirected()
        assert nx.is_tree(G)


def test_grid_and_delaunay_shapes():
    rng = np.random.default_rng(7)
    grid = FAMILIES["grid"](36, rng)
    assert grid.num_edges // 2 == 2 * 6 * 5
    d = FAMILIES["delaunay"](50, rng)
    assert nx.is_connected(d.to_networkx().to_undirected()) and d.num_edges // 2 <= 3 * 50 - 6


def test_real_graphs_split_draws_the_networkx_graphs_shuffled_with_clrs_weights():
    import networkx as nx

    from lib.samplers import REAL_GRAPHS

    graphs = sample_split("nx_real_graphs", 40)
    assert {g.meta["graph"] for g in graphs} == set(REAL_GRAPHS)
    for g in graphs[:8]:
        original = nx.convert_node_labels_to_integers(getattr(nx, g.meta["graph"])())
        ours = nx.Graph(list(zip(g.senders.tolist(), g.receivers.tolist())))
        assert g.num_nodes == original.number_of_nodes() and nx.is_isomorphic(ours, original)
        assert g.weights.min() >= np.sqrt(1e-3) - 1e-12 and g.weights.max() <= np.sqrt(1 + 1e-3) + 1e-12
    assert [g.meta["graph"] for g in sample_split("nx_real_graphs", 40)] == [g.meta["graph"] for g in graphs]


def test_rescaling_to_the_training_range_keeps_the_tree_and_tops_out_at_its_largest_weight():
    from lib.edge_weights import WEIGHT_RANGE, to_training_scale
    from lib.oracle import dijkstra

    for g in sample_split("test_64_x10", 3) + sample_split("test_64_div10", 3):
        r = to_training_scale(g)
        assert r.weights.max() == pytest.approx(WEIGHT_RANGE[1])
        assert np.array_equal(r.pi, g.pi) and np.array_equal(dijkstra(r)[1], g.pi)
    empty = sample_split("test_16", 1)[0]
    empty = type(empty).from_arrays(3, 0, [0], [1], [0.0])
    assert to_training_scale(empty) is empty  # no positive weight: nothing to scale by
