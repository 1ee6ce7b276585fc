"""Discrete search routines on cases with a known optimum."""

import numpy as np
import pytest
import torch

from lib.graphs import Graph
from lib.oracle import dijkstra, pointer_correct
from lib.search.pointers import (beam_search, best_of_n, hill_climb, move_scale, options, oracle_score,
                               simulated_annealing)
from lib.samplers import sample_er


def small_graphs(k=5, n=9):
    rng = np.random.default_rng(3)
    return [sample_er(n, 0.5, rng) for _ in range(k)]


def test_options_are_in_neighbours_plus_self():
    g = Graph.from_edges(3, 0, [[0, 1, 1.0], [2, 1, 1.0], [1, 2, 1.0]])
    assert [o.tolist() for o in options(g)] == [[0], [0, 2, 1], [1, 2]]


def test_violation_count_has_plateaus_but_tree_length_does_not():
    g = small_graphs(1)[0]
    start = np.arange(g.num_nodes)
    stuck = hill_climb(g, oracle_score(g, "violations"), start, steps=200, rng=np.random.default_rng(0))
    assert stuck.energies.min() > 0  # local moves cannot lower the count from "all point to self"
    assert oracle_score(g)([dijkstra(g)[1]])[0] < oracle_score(g)([start])[0]


def test_hill_climbing_on_the_oracle_score_finds_an_optimal_tree():
    for g in small_graphs():
        rng = np.random.default_rng(0)
        start = np.arange(g.num_nodes)  # everyone points to itself
        traj = hill_climb(g, oracle_score(g), start, steps=40 * g.num_nodes, rng=rng)
        assert (np.diff(traj.energies[:, 0].numpy()) <= 0).all()  # never uphill
        best = traj.best()[0].numpy()
        assert pointer_correct(g, best, dijkstra(g)[0]).all()
        assert oracle_score(g, "violations")([best])[0] == 0


def test_simulated_annealing_reaches_the_optimum_and_reports_its_schedule():
    g = small_graphs(1)[0]
    traj = simulated_annealing(g, oracle_score(g), np.arange(g.num_nodes), steps=3000,
                               rng=np.random.default_rng(1), t_start=2.0, t_end=0.02)
    assert len(traj.info["temperature"]) == 3000 and traj.info["temperature"][0] > traj.info["temperature"][-1]
    assert pointer_correct(g, traj.best()[0].numpy(), dijkstra(g)[0]).all()
    assert traj.accepted.float().mean() < 1  # some uphill moves were refused


def test_best_of_n_reranks_samples_by_score():
    g = small_graphs(1)[0]
    dist, pi = dijkstra(g)
    opts = options(g)
    # 60% on the true pointer, the rest spread: greedy is right, samples are mostly wrong
    probs = []
    for v, o in enumerate(opts):
        p = np.full(len(o), 0.4 / max(1, len(o) - 1)) if len(o) > 1 else np.ones(1)
        p[list(o).index(pi[v])] = 0.6 if len(o) > 1 else 1.0
        probs.append(p / p.sum())
    traj = best_of_n(g, oracle_score(g), probs, n=16, rng=np.random.default_rng(0))
    scores = traj.energies[:, 0]
    assert traj.steps == 15 and scores.min() == scores[0]  # the greedy (correct) tree scores best
    assert pointer_correct(g, traj.best()[0].numpy(), dist).all()


def test_beam_search_beats_greedy_on_a_known_case():
    # token 0 then 1 looks best greedily (0.6), but 1 then 0 has the higher total (0.4 * 0.9)
    def step(prefixes):
        out = []
        for seq in prefixes.tolist():
            if len(seq) == 1:
                out.append([0.6, 0.4])
            elif seq[1] == 0:
                out.append([0.5, 0.5])
            else:
                out.append([0.9, 0.1])
        return torch.tensor(out).log()

    seqs, logp = beam_search(step, torch.tensor([7]), steps=2, beam=2)
    assert seqs[0].tolist() == [7, 1, 0] and torch.isclose(logp[0].exp(), torch.tensor(0.36))
    greedy, _ = beam_search(step, torch.tensor([7]), steps=2, beam=1)
    assert greedy[0].tolist()[:2] == [7, 0]


def test_move_scale_follows_the_score_units():
    g = small_graphs(1)[0]
    pi = dijkstra(g)[1]
    score = oracle_score(g)
    a = move_scale(g, score, pi, np.random.default_rng(0))
    b = move_scale(g, lambda pis: 1000.0 * score(pis), pi, np.random.default_rng(0))
    assert a > 0 and b == pytest.approx(1000.0 * a)
    assert move_scale(g, lambda pis: np.zeros(len(pis)), pi, np.random.default_rng(0)) == 1.0  # a flat score
