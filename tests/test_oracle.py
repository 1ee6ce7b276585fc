"""The exact oracle against networkx, the Bellman verifier, the trace and tree helpers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.crosscheck import agreement, networkx_distances
from lib.graphs import Graph, read_jsonl
from lib.oracle import dijkstra, dijkstra_trace, hop_depth, pointer_correct, tree_distances, verify
from lib.samplers import FAMILIES, TRAIN_PROBS, sample_er


@st.composite
def small_graphs(draw, min_weight=0):
    """Arbitrary directed graphs with small integer weights: many ties, some zero weights."""
    n = draw(st.integers(1, 9))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(min_weight, 3)),
                          max_size=3 * n))
    source = draw(st.integers(0, n - 1))
    return Graph.from_edges(n, source, [[u, v, float(w)] for u, v, w in pairs])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_oracle_matches_networkx_on_every_family(family):
    rng = np.random.default_rng(sorted(FAMILIES).index(family))
    for _ in range(60):
        g = FAMILIES[family](int(rng.integers(2, 40)), rng)
        assert agreement(g) == {"distances": True, "pointers": True, "verified": True}, g


def test_oracle_matches_networkx_on_er_over_p():
    rng = np.random.default_rng(0)
    for _ in range(150):
        g = sample_er(int(rng.integers(2, 30)), float(rng.choice(TRAIN_PROBS)), rng)
        assert all(agreement(g).values())


@settings(max_examples=300, deadline=None)
@given(small_graphs())
def test_oracle_matches_networkx_with_ties_and_zero_weights(g):
    dist, pi = dijkstra(g)
    assert np.array_equal(dist, networkx_distances(g))
    assert pointer_correct(g, pi, dist).all()
    assert verify(g, pi, dist).ok


def test_oracle_reproduces_clrs_pi_exactly(reference_files):
    """Same tie-breaking as CLRS's reference implementation: identical pointers, not just optimal."""
    for path in reference_files.values():
        for g in read_jsonl(path):
            assert np.array_equal(dijkstra(g)[1], g.pi), g.name


def test_conventions_for_source_and_unreachable():
    g = Graph.from_edges(4, 1, [[1, 0, 2.0], [0, 1, 2.0]])
    dist, pi = dijkstra(g)
    assert pi.tolist() == [1, 1, 2, 3]
    assert dist[1] == 0 and dist[0] == 2 and np.isinf(dist[2:]).all()


def test_trace_pops_in_distance_order_with_predecessors():
    rng = np.random.default_rng(3)
    for _ in range(50):
        g = sample_er(12, 0.4, rng)
        dist, pi = dijkstra(g)
        trace = dijkstra_trace(g)
        assert trace[0] == (g.source, g.source)
        nodes = [v for v, _ in trace]
        assert sorted(nodes) == sorted(np.flatnonzero(np.isfinite(dist)).tolist())
        assert all(p == pi[v] for v, p in trace)
        assert all(np.diff(dist[nodes]) >= 0)


def test_tree_distances_and_hop_depth():
    # path 0 -> 1 -> 2 with weights 1, 2; node 3 unreachable
    g = Graph.from_edges(4, 0, [[0, 1, 1.0], [1, 2, 2.0], [1, 0, 1.0], [2, 1, 2.0]])
    assert tree_distances(g, np.array([0, 0, 1, 3])).tolist() == [0.0, 1.0, 3.0, np.inf]
    assert hop_depth(g, np.array([0, 0, 1, 3])).tolist() == [0, 1, 2, -1]
    # a pointer cycle 1 <-> 2 never reaches the source
    assert np.isinf(tree_distances(g, np.array([0, 2, 1, 3]))[1:]).all()


# --- the verifier -----------------------------------------------------------------------------

def _diamond():
    """0 -> {1, 2} -> 3 with equal path lengths (a tie at 3), and 0 -> 3 directly but longer."""
    e = [[0, 1, 1.0], [0, 2, 1.0], [1, 3, 1.0], [2, 3, 1.0], [0, 3, 5.0], [3, 4, 1.0]]
    return Graph.from_edges(6, 0, e + [[v, u, w] for u, v, w in e])


def test_verifier_accepts_every_tie():
    g = _diamond()
    dist, pi = dijkstra(g)
    alt = pi.copy()
    alt[3] = 2 if pi[3] == 1 else 1
    assert verify(g, pi, dist).ok and verify(g, alt).ok and verify(g, alt, dist).ok


@pytest.mark.parametrize("corrupt, bad_node", [
    (lambda pi, d: pi.__setitem__(3, 0) or (pi, d), 3),  # an edge, but not tight
    (lambda pi, d: pi.__setitem__(4, 1) or (pi, d), 4),  # not an edge at all
    (lambda pi, d: pi.__setitem__(5, 3) or (pi, d), 5),  # unreachable node points elsewhere
    (lambda pi, d: pi.__setitem__(1, 1) or (pi, d), 1),  # reachable node points to itself
    (lambda pi, d: pi.__setitem__(0, 1) or (pi, d), 0),  # source must point to itself
    (lambda pi, d: (pi, d + np.eye(6)[2] * 0.1), 2),  # a distance off by 0.1
    (lambda pi, d: (pi, np.where(np.arange(6) == 5, 7.0, d)), 5),  # finite distance for an unreachable node
])
def test_verifier_rejects_corrupted_solutions(corrupt, bad_node):
    g = _diamond()
    dist, pi = dijkstra(g)
    pi2, d2 = corrupt(pi.copy(), dist.copy())
    v = verify(g, pi2, d2)
    assert not v.ok and v.node_violations[bad_node]


def test_verifier_rejects_pointer_cycles():
    g = _diamond()
    dist, pi = dijkstra(g)
    pi[1], pi[3] = 3, 1  # 1 -> 3 -> 1
    assert not verify(g, pi).ok


def test_verifier_rejects_zero_weight_cycle_off_the_tree():
    # 2 <-> 3 with weight 0 is unreachable from 0, but each "tight" in isolation.
    g = Graph.from_edges(4, 0, [[0, 1, 1.0], [2, 3, 0.0], [3, 2, 0.0]])
    assert not verify(g, np.array([0, 0, 3, 2]), np.array([0.0, 1.0, 0.0, 0.0])).ok


@settings(max_examples=300, deadline=None)
@given(small_graphs(min_weight=1), st.data())
def test_verifier_accepts_exactly_the_tie_aware_correct_pointers(g, data):
    """With positive weights: verify(pi) is ok iff every pointer is on some shortest path."""
    dist, pi = dijkstra(g)
    for _ in range(data.draw(st.integers(0, 3))):
        pi[data.draw(st.integers(0, g.num_nodes - 1))] = data.draw(st.integers(0, g.num_nodes - 1))
    assert verify(g, pi).ok == bool(pointer_correct(g, pi, dist).all())
