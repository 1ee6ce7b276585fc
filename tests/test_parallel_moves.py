"""The parallel local search: with the exact checker it is Bellman-Ford, so it must reach the truth
in hop-depth rounds from the far start, on any depth, with a budget that grows with the instance."""

import numpy as np
import pytest
import torch

from lib.batching import collate
from lib.graphs import Graph
from lib.metrics import Prediction, evaluate_predictions
from lib.oracle import dijkstra, hop_depth
from lib.samplers import sample_split
from lib.search.parallel_moves import option_values, parallel_descent, start_candidate
from lib.verifier.exact_checker import ExactChecker


def _path(n: int) -> Graph:
    edges = [[i, i + 1, 0.5] for i in range(n - 1)] + [[i + 1, i, 0.5] for i in range(n - 1)]
    return Graph.from_edges(n, 0, edges)


def _solve(graphs, start="far", cap=None):
    b = collate(graphs)
    found = parallel_descent(ExactChecker(), b, start_candidate(b, start, torch.Generator().manual_seed(0)), cap)
    pis = b.split_nodes(found.parent - b.offsets[b.node_graph])
    return found, evaluate_predictions(graphs, [Prediction(p.astype(np.int64)) for p in pis])


def test_a_path_deeper_than_any_fixed_budget_is_solved_in_depth_rounds():
    g = _path(300)
    found, m = _solve([g])
    assert m["exact_match"] == 1.0
    assert int(found.rounds[0]) == 299 and bool(found.settled[0])  # one round per hop, then a fixed point
    assert torch.allclose(found.y, torch.from_numpy(dijkstra(g)[0]).float(), atol=1e-3)


def test_rounds_equal_the_deepest_shortest_path_on_sampled_graphs():
    graphs = sample_split("test_16", 12) + sample_split("maze_dfs_side8", 4) + sample_split("salsa_er_160", 2)
    found, m = _solve(graphs)
    assert m["exact_match"] == 1.0
    depth = [int(hop_depth(g, g.pi).max()) for g in graphs]
    assert found.rounds.tolist() == depth


def test_a_cap_stops_the_search_and_is_reported_as_unsettled():
    found, m = _solve([_path(40)], cap=10)
    assert int(found.rounds[0]) == 10 and not bool(found.settled[0]) and m["exact_match"] == 0.0


def test_an_isolated_source_leaves_every_other_node_unreachable():
    g = Graph.from_edges(4, 0, [[1, 2, 1.0], [2, 1, 1.0], [2, 3, 1.0], [3, 2, 1.0]])
    found, m = _solve([g])
    assert m["exact_match"] == 1.0 and found.parent.tolist() == [0, 1, 2, 3]
    assert torch.isinf(found.y[1:]).all()


def test_option_values_are_parent_sums_and_the_node_itself():
    b = collate([_path(3)])
    y = torch.tensor([0.0, 0.5, 1.0])
    v = option_values(b, y)
    for c in range(len(v)):
        dst, src, is_self = int(b.cand_dst[c]), int(b.cand_src[c]), bool(b.cand_is_self[c])
        expected = (0.0 if dst == 0 else float("inf")) if is_self else float(y[src] + b.cand_weight[c])
        assert float(v[c]) == pytest.approx(expected)


def test_unknown_start_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown search start"):
        start_candidate(collate([_path(3)]), "uniform")


def test_the_moves_explorer_replays_every_round():
    from lib.widgets import MovesExplorer
    g = _path(6)
    ex = MovesExplorer(ExactChecker(), g, name="checker")
    traj, preds = ex.run("far")
    assert traj.steps == 5 and len(preds) == 6  # one frame per round, the start included
    assert preds[-1].pi.tolist() == [0, 0, 1, 2, 3, 4]
    fig = ex.figure(2)
    assert "round 2 of 5" in fig._suptitle.get_text()


def test_the_search_benchmark_prints_a_row_per_split(capsys):
    from lib.bench import bench_search
    rows = bench_search(splits=("test_16",), graphs=2, repeats=1)
    assert [r["split"] for r in rows] == ["test_16"]
    assert {"exact checker ms/graph/round", "verifier_aligned ms/graph/round", "verifier_generic ms/graph/round",
            "Dijkstra ms/graph (whole run)"} <= set(rows[0])
    assert "test_16" in capsys.readouterr().out
