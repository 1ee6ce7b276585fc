"""What the decisive experiment's routes cost in counted FLOPs (notebook 05): the generator's
pass, and the verifier's search as one round times the rounds it used."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..batching import collate
from ..flops import count_flops, flops_per_graph
from ..samplers import sample_split
from ..search.parallel_moves import best_options, start_candidate
from .decisive_search import PRIORS, DecisiveConfig

#: Routes whose FLOPs are counted: the generator alone, and the learned verifier's search from
#: the far start and from the generator's output (the exact checker and shortcuts run no network).
FLOP_ROUTES = ("imitation", "verifier_far", "verifier_generator")


def search_round_flops(verifier, batch) -> float:
    """Counted FLOPs per graph of one round of the search (`parallel_moves.parallel_descent`): every
    node scoring every option (`best_options`), and the verifier's terms at the new candidate
    (``node_terms``), at the far start; aggregations included. Each is counted as if run from scratch:
    the search itself reruns only the rows whose inputs changed and shares the aligned verifier's
    offers between the two, so this is an upper bound on what a round computes."""
    y = start_candidate(batch, "far")
    scoring = count_flops(partial(best_options, verifier, batch, y), aggregations=True)
    terms = count_flops(partial(verifier.node_terms, batch, y), aggregations=True)
    return (scoring + terms) / batch.num_graphs


def route_flops(runs: dict, cfg: DecisiveConfig, df: pd.DataFrame, graphs_per_split: int = 4) -> pd.DataFrame:
    """Counted FLOPs per graph (matrix products and message passing's aggregations, `lib.flops`) of
    each learned route, per split,
    prior and seed: the generator's forward pass as the imitation route runs it (the min-plus one
    halting, capped at n), and one round of the verifier's search (`search_round_flops`) times the
    mean rounds that route used on that split plus one (read from ``df``, the results; the search
    scores once more to find that nothing moves, and that scoring is its read-out);
    the route from the generator adds the generator's pass. Counted on the first
    ``graphs_per_split`` graphs of each split. Dijkstra's heap work is given as its operation
    count E + n log2 n, a reference in other units."""
    rows = []
    for split in cfg.splits:
        graphs = sample_split(split, graphs_per_split)
        batch = collate(graphs, with_targets=False)
        n = float(np.mean([g.num_nodes for g in graphs]))
        edges = float(np.mean([len(g.senders) for g in graphs]))
        rows.append({"split": split, "n": n, "route": "dijkstra", "prior": "none", "seed": -1,
                     "flops_per_graph": edges + n * np.log2(n)})
        for prior in PRIORS:
            # a round's matrix products depend on the architecture and the graphs, not on the weights
            round_flops = search_round_flops(runs["verifier", prior, cfg.seeds[0]].model("cpu"), batch)
            for seed in cfg.seeds:
                gen = runs["generator", prior, seed]
                halts = gen.config.model == "min_plus_gnn"  # how long it runs depends on its weights
                if halts or seed == cfg.seeds[0]:
                    kw = {"halt": True, "iterations": max(g.num_nodes for g in graphs)} if halts else {}
                    gen_flops = flops_per_graph(gen.model("cpu"), graphs, aggregations=True, **kw)
                for route in FLOP_ROUTES:
                    d = df[(df.split == split) & (df.route == route) & (df.prior == prior) & (df.seed == seed)]
                    if d.empty:
                        continue
                    rounds = float(np.mean([r for rs in d.rounds for r in rs if r is not None] or [0]))
                    flops = gen_flops if route == "imitation" else (rounds + 1) * round_flops + (
                        gen_flops if route == "verifier_generator" else 0.0)
                    rows.append({"split": split, "n": float(d.n.iloc[0]), "route": route, "prior": prior, "seed": seed,
                                 "flops_per_graph": flops, "rounds": rounds})
    return pd.DataFrame(rows)


__all__ = ["FLOP_ROUTES", "route_flops", "search_round_flops"]
