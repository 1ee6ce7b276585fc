"""One `Solver` protocol over the oracle, simple heuristics, trained generators and
energy + search. `evaluate` and every notebook's results table go through `get_solver`:
fixed names resolve here, anything else is looked up as a cached run (each run kind builds
its own solver).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from .graphs import Graph
from .metrics import Prediction, evaluate_predictions
from .oracle import dijkstra
from .run_kinds import find_run


class Solver(Protocol):
    """Anything that maps graphs to predictions."""

    name: str

    def solve(self, graphs: Sequence[Graph]) -> list[Prediction]: ...


class OracleSolver:
    """Exact Dijkstra: the 100% reference."""

    name = "oracle"

    def solve(self, graphs):
        out = []
        for g in graphs:
            dist, pi = dijkstra(g)
            out.append(Prediction(pi, dist))
        return out


class MinHopSolver:
    """Breadth-first search that ignores weights: the fewest-hops tree (a shortcut baseline)."""

    name = "min_hop"

    def solve(self, graphs):
        units = [Graph(g.num_nodes, g.source, g.senders, g.receivers, np.ones_like(g.weights)) for g in graphs]
        return [Prediction(dijkstra(u)[1]) for u in units]


def _lightest_in_edge(g: Graph) -> np.ndarray:
    W = g.dense_weights()
    pi = np.where(np.isfinite(W).any(0), W.argmin(0), np.arange(g.num_nodes))
    pi[g.source] = g.source
    return pi


class NearestNeighbourSolver:
    """Each node points to the in-neighbour with the lightest edge (a local shortcut)."""

    name = "nearest"

    def solve(self, graphs):
        return [Prediction(_lightest_in_edge(g)) for g in graphs]


#: Solvers available by a fixed name. Trained runs are looked up in the run cache.
SOLVERS: dict[str, Callable[[], Solver]] = {
    "oracle": OracleSolver,
    "min_hop": MinHopSolver,
    "nearest": NearestNeighbourSolver,
}

def get_solver(name: str, **options) -> Solver:
    """A solver by fixed name, or a trained run from the cache by name (see `lib.run_kinds`)."""
    if name in SOLVERS:
        given = sorted(k for k, v in options.items() if v is not None and k != "device")
        if given:
            raise ValueError(f"solver {name!r} takes no options, got {given}")
        return SOLVERS[name]()
    run = find_run(name)
    if run is not None:
        start = options.get("start")
        if isinstance(start, str) and start not in ("far", "random"):  # a verifier's search from a generator run
            options["start"] = find_run(start)
            if options["start"] is None:
                raise ValueError(f"unknown search start {start!r}: 'far', 'random' or a generator run name")
        return run.solver(**options)
    raise KeyError(
        f"unknown solver {name!r}: choose one of {sorted(SOLVERS)} or a run name listed by "
        "`python -m lib runs`"
    )


def evaluate_solver(solver: Solver, graphs: Sequence[Graph]) -> dict:
    """Run a solver and score it with the tie-aware metrics."""
    return evaluate_predictions(graphs, solver.solve(graphs))


#: The no-learning shortcut solvers: the trivial baselines shown beside trained models.
SHORTCUTS = ("min_hop", "nearest")


def shortcut_metrics(graphs: Sequence[Graph]) -> dict[str, dict]:
    """Each no-learning shortcut (`SHORTCUTS`) scored on ``graphs``."""
    return {name: evaluate_solver(get_solver(name), graphs) for name in SHORTCUTS}
