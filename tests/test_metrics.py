"""Tie-aware metrics."""

import numpy as np
import pytest

from lib.graphs import Graph, read_jsonl
from lib.metrics import Prediction, errors_by_hop_depth, evaluate_predictions
from lib.oracle import dijkstra
from lib.solvers import get_solver, evaluate_solver


def tie_graph():
    """Source 0; node 3 is reached equally well via 1 or via 2; node 4 is unreachable."""
    e = [[0, 1, 1.0], [0, 2, 1.0], [1, 3, 1.0], [2, 3, 1.0], [0, 3, 3.0]]
    return Graph.from_edges(5, 0, e + [[v, u, w] for u, v, w in e])


def test_either_tied_predecessor_counts_as_correct():
    g = tie_graph()
    for p3 in (1, 2):
        m = evaluate_predictions([g], [Prediction(np.array([0, 0, 0, p3, 4]))])
        assert m["pointer_accuracy"] == 1.0 and m["exact_match"] == 1.0


def test_non_tight_and_unreachable_errors_count():
    g = tie_graph()
    m = evaluate_predictions([g], [Prediction(np.array([0, 0, 0, 0, 3]))])  # 3 <- 0 is not tight; 4 must be self
    assert m["pointer_accuracy"] == pytest.approx(2 / 4) and m["exact_match"] == 0.0


def test_source_is_excluded_from_pointer_accuracy():
    g = tie_graph()
    m = evaluate_predictions([g], [Prediction(np.array([3, 0, 0, 1, 4]))])
    assert m["pointer_accuracy"] == 1.0


def test_pooled_over_nodes_and_exact_match_over_graphs():
    g = tie_graph()
    good, bad = Prediction(np.array([0, 0, 0, 1, 4])), Prediction(np.array([0, 2, 0, 1, 4]))
    m = evaluate_predictions([g, g], [good, bad])
    assert m["pointer_accuracy"] == pytest.approx(7 / 8) and m["exact_match"] == 0.5
    assert m["num_graphs"] == 2 and m["mean_num_nodes"] == 5.0


def test_distance_error_is_relative_over_reachable_non_source_nodes():
    g = tie_graph()
    dist, pi = dijkstra(g)
    d = dist.copy()
    d[3] *= 1.5  # 50% off on one of three reachable non-source nodes
    d[4] = 123.0  # unreachable: ignored
    m = evaluate_predictions([g], [Prediction(pi, d)])
    assert m["mean_relative_distance_error"] == pytest.approx(0.5 / 3) and m["distance_missed_fraction"] == 0.0
    assert evaluate_predictions([g], [Prediction(pi)])["mean_relative_distance_error"] is None


def test_a_reachable_node_predicted_unreachable_is_counted_apart_not_averaged_as_infinity():
    g = tie_graph()
    dist, pi = dijkstra(g)
    d = dist.copy()
    d[3] = np.inf
    m = evaluate_predictions([g], [Prediction(pi, d)])
    assert m["mean_relative_distance_error"] == 0.0 and m["distance_missed_fraction"] == pytest.approx(1 / 3)


def test_oracle_scores_one_on_clrs_reference_and_with_ties(reference_files):
    for path in reference_files.values():
        m = evaluate_solver(get_solver("oracle"), read_jsonl(path))
        assert m["pointer_accuracy"] == 1.0 and m["exact_match"] == 1.0
    assert evaluate_solver(get_solver("oracle"), [tie_graph()])["pointer_accuracy"] == 1.0


def test_errors_by_hop_depth():
    g = tie_graph()
    table = errors_by_hop_depth([g], [Prediction(np.array([0, 0, 1, 1, 4]))])  # 2 <- 1 is wrong
    assert table == {1: (1, 2), 2: (1, 1)}


def test_mismatched_lengths_and_shapes_are_errors():
    g = tie_graph()
    with pytest.raises(ValueError, match="1 graphs but 2"):
        evaluate_predictions([g], [Prediction(np.zeros(5, int))] * 2)
    with pytest.raises(ValueError, match="shape"):
        evaluate_predictions([g], [Prediction(np.zeros(3, int))])


def test_precomputed_true_distances_give_the_same_metrics():
    from lib.samplers import sample_split
    graphs = sample_split("test_16", 5)
    preds = [Prediction(np.arange(g.num_nodes)) for g in graphs[:2]] + [Prediction(g.pi) for g in graphs[2:]]
    dists = [dijkstra(g)[0] for g in graphs]
    assert evaluate_predictions(graphs, preds, dists) == evaluate_predictions(graphs, preds)
    with pytest.raises(ValueError, match="true distance"):
        evaluate_predictions(graphs, preds, dists[:4])
