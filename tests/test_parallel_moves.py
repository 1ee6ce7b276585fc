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
from lib.search.parallel_moves import COARSE, FINE, option_values, parallel_descent, start_candidate
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


def _near_tie() -> Graph:
    """Node 3 is reached first by a direct edge, then by a two-hop path shorter by about 4e-7."""
    return Graph.from_edges(4, 0, [[0, 3, 0.5000004], [0, 1, 0.3], [1, 3, 0.2], [0, 2, 0.9]])


def test_fine_margins_resolve_a_near_tied_path_that_coarse_margins_miss():
    g = _near_tie()
    b = collate([g], with_targets=False)
    for margins, parent_of_3 in ((COARSE, 0), (FINE, 1)):
        found = parallel_descent(ExactChecker(), b, start_candidate(b, "far"), margins=margins)
        assert int(found.parent[3]) == parent_of_3
    assert dijkstra(g)[1][3] == 1  # the truth: the two-hop path


def test_a_recorded_search_reads_out_each_round_as_a_capped_search_would():
    graphs = [_path(9), _near_tie()] + sample_split("test_16", 3)
    b = collate(graphs, with_targets=False)
    for cap in (None, torch.tensor([3, 9, 1, 9, 2])):  # with per-graph caps, some graphs stop on their cap
        found = parallel_descent(ExactChecker(), b, start_candidate(b, "far"), cap=cap, record=True)
        assert len(found.parents) == len(found.states) == int(found.rounds.max()) + 1
        assert torch.equal(found.parents[-1], found.parent)
        for r in range(len(found.parents)):
            limit = r if cap is None else torch.minimum(cap, torch.tensor(r))
            assert torch.equal(found.parents[r], parallel_descent(ExactChecker(), b, start_candidate(b, "far"), limit).parent)


def test_relative_margins_ignore_infinite_and_nan_terms():
    terms = torch.tensor([1.0, float("inf"), float("nan"), -2.0])
    assert torch.equal(FINE.widen(1e-9, terms), torch.tensor([1e-9 + 1e-5, 1e-9, 1e-9, 1e-9 + 2e-5]))
    assert COARSE.widen(1e-5, terms) == 1e-5  # absolute margins: the number itself, as before


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


def test_the_headline_benchmark_times_the_cached_headline_beside_dijkstra(tmp_path, monkeypatch, capsys):
    from lib.bench import bench_headline
    from lib.headline import HeadlineConfig
    from lib.presets import PRESETS
    from lib.run_kinds import train_any

    tiny = HeadlineConfig(generator="tiny", verifier="verifier_tiny", start="far", label="headline")
    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path))
    monkeypatch.setitem(PRESETS, "headline", tiny)
    assert bench_headline(splits=("test_16",), graphs=2) == []
    assert "python -m lib train --config headline" in capsys.readouterr().out
    train_any(tiny, progress=False)
    rows = bench_headline(splits=("test_16",), graphs=2)
    assert [(r["split"], r["graphs"]) for r in rows] == [("test_16", 2)]
    assert rows[0]["headline ms/graph"] > 0 and 0.0 <= rows[0]["exact match"] <= 1.0
    assert {"Dijkstra ms/graph (Python)", "Dijkstra ms/graph (SciPy)"} <= set(rows[0])


def _reference_descent(verifier, b, y0, margins):
    """The search as first written: every round rescores every option in full (no `RowCache`)."""
    from lib.search.parallel_moves import best_options
    cap = b.sizes.clone()
    y, rounds = y0.clone(), torch.zeros(b.num_graphs, dtype=torch.long)
    active, energies = cap > 0, []
    with torch.no_grad():
        current = verifier.node_terms(b, y)
        energies.append(torch.zeros(b.num_graphs).index_add(0, b.node_graph, current))
        while bool(active.any()):
            _, value, term = best_options(verifier, b, y, margins=margins)
            move = (term < current - margins.widen(margins.move, current)) & active[b.node_graph]
            moved = torch.zeros(b.num_graphs, dtype=torch.long).index_add(0, b.node_graph, move.long()) > 0
            if not bool(moved.any()):
                break
            y = torch.where(move, value, y)
            rounds += moved.long()
            active &= moved & (rounds < cap)
            current = verifier.node_terms(b, y)
            energies.append(torch.zeros(b.num_graphs).index_add(0, b.node_graph, current))
        best, _, _ = best_options(verifier, b, y, margins=margins)
    return y, torch.where(b.is_source > 0, torch.arange(b.num_nodes), b.cand_src[best]), rounds, energies


def _bits(t):
    return t.view(torch.int32) if t.dtype == torch.float32 else t


@pytest.mark.parametrize("kind", ["aligned", "generic_max", "generic_sum"])
def test_the_row_cache_leaves_every_output_bit_identical(kind):
    from lib.verifier.generic_verifier import GenericVerifier, GenericVerifierConfig
    from lib.verifier.min_plus_verifier import MinPlusVerifier, MinPlusVerifierConfig
    torch.manual_seed(0)
    verifier = (MinPlusVerifier(MinPlusVerifierConfig(hidden=16)) if kind == "aligned" else
                GenericVerifier(GenericVerifierConfig(hidden=80, aggregation=kind.split("_")[1])))
    graphs = sample_split("test_16", 9) + sample_split("maze_dfs_side4", 2) + [_path(37)]
    b = collate(graphs, with_targets=False)
    for start, margins in (("far", COARSE), ("random", COARSE), ("far", FINE), ("random", FINE)):
        y0 = start_candidate(b, start, torch.Generator().manual_seed(1))
        found = parallel_descent(verifier, b, y0, margins=margins)
        y, parent, rounds, energies = _reference_descent(verifier, b, y0, margins)
        assert torch.equal(_bits(found.y), _bits(y)) and torch.equal(found.parent, parent)
        assert torch.equal(found.rounds, rounds) and len(found.energies) == len(energies)
        assert all(torch.equal(_bits(a), _bits(e)) for a, e in zip(found.energies, energies))


@pytest.mark.parametrize("kind", ["aligned", "generic_max"])
def test_rounds_rescore_only_the_moved_nodes_and_their_out_neighbours_bit_for_bit(kind, monkeypatch):
    """On graphs large enough for partial refreshes (`refresh_rows`), some rounds score a strict subset
    of the nodes and options, and every output still equals the full-rescoring reference bit for bit."""
    from lib.verifier.generic_verifier import GenericVerifier, GenericVerifierConfig
    from lib.verifier.min_plus_verifier import MinPlusVerifier, MinPlusVerifierConfig
    torch.manual_seed(1)
    verifier = (MinPlusVerifier(MinPlusVerifierConfig(hidden=16)) if kind == "aligned" else
                GenericVerifier(GenericVerifierConfig(hidden=80)))
    b = collate(sample_split("maze_dfs_side8", 3) + sample_split("salsa_delaunay_160", 2) + [_path(150)],
                with_targets=False)
    sizes, real = [], verifier.option_terms
    monkeypatch.setattr(verifier, "option_terms", lambda *a, **k: sizes.append(len(a[2])) or real(*a, **k))
    for start in ("far", "random"):
        y0 = start_candidate(b, start, torch.Generator().manual_seed(3))
        found = parallel_descent(verifier, b, y0, margins=FINE)
        monkeypatch.setattr(verifier, "option_terms", real)
        y, parent, rounds, energies = _reference_descent(verifier, b, y0, FINE)
        monkeypatch.setattr(verifier, "option_terms", lambda *a, **k: sizes.append(len(a[2])) or real(*a, **k))
        assert torch.equal(_bits(found.y), _bits(y)) and torch.equal(found.parent, parent)
        assert torch.equal(found.rounds, rounds) and all(torch.equal(_bits(a), _bits(e))
                                                         for a, e in zip(found.energies, energies))
    assert min(sizes) < b.num_nodes // 2  # partial refreshes happened


def test_a_row_cache_rerun_matches_a_full_run_bit_for_bit():
    """On one thread, as every search of the report runs (`single_thread`): with several, the matrix
    products' split over threads can depend on the row count, and on a loaded machine the bits differed."""
    from lib.determinism import single_thread
    from lib.search.parallel_moves import RowCache
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(83, 80), torch.nn.SiLU(), torch.nn.Linear(80, 80), torch.nn.SiLU())
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad(), single_thread():
        for n in (129, 200, 1001, 4096, 5003):
            cache, x = RowCache(), torch.randn(n, 83, generator=gen)
            cache("net", net, x)
            for changes in (0, 1, 3, 31, 33, n // 3):
                x = x.clone()
                x[torch.randperm(n, generator=gen)[:changes]] = torch.randn(changes, 83, generator=gen)
                assert torch.equal(_bits(cache("net", net, x)), _bits(net(x)))


def test_a_search_shares_the_aligned_verifiers_offers_at_one_candidate():
    from lib.search.parallel_moves import RowCache
    from lib.verifier.min_plus_verifier import MinPlusVerifier, MinPlusVerifierConfig
    torch.manual_seed(0)
    verifier, memo = MinPlusVerifier(MinPlusVerifierConfig(hidden=8)), {}
    b = collate(sample_split("test_16", 3), with_targets=False)
    y = start_candidate(b, "random", torch.Generator().manual_seed(2))
    with torch.no_grad():
        first = verifier.best_offers(b, y, RowCache(memo))
        reused = verifier.best_offers(b, y, RowCache(memo))  # the other cache of the search reuses it
        assert all(r is f for r, f in zip(reused, first))
        again = verifier.best_offers(b, y.clone(), RowCache(memo))  # another candidate tensor: computed afresh
        assert again[0] is not first[0] and all(torch.equal(a, f) for a, f in zip(again, first))
        assert all(torch.equal(a, f) for a, f in zip(verifier.best_offers(b, y), first))  # no search: no memo
