"""One `Solver` protocol over the oracle, simple heuristics, trained generators and
energy + search. `evaluate` and every notebook's results table go through `get_solver`.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from .graphs import Graph
from .metrics import Prediction, evaluate_predictions
from .oracle import dijkstra


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
        out = []
        for g in graphs:
            unit = Graph(g.num_nodes, g.source, g.senders, g.receivers, np.ones_like(g.weights))
            out.append(Prediction(dijkstra(unit)[1]))
        return out


class NearestNeighbourSolver:
    """Each node points to the in-neighbour with the lightest edge (a local shortcut)."""

    name = "nearest"

    def solve(self, graphs):
        out = []
        for g in graphs:
            W = g.dense_weights()
            pi = np.where(np.isfinite(W).any(0), W.argmin(0), np.arange(g.num_nodes))
            pi[g.source] = g.source
            out.append(Prediction(pi))
        return out


#: Solvers available by a fixed name. Trained runs are looked up in the run cache.
SOLVERS: dict[str, Callable[[], Solver]] = {
    "oracle": OracleSolver,
    "min_hop": MinHopSolver,
    "nearest": NearestNeighbourSolver,
}

class RunSolver:
    """A trained run from the cache, decoding greedily (``options`` go to ``model.predict``)."""

    def __init__(self, run, device: str = "auto", **options):
        import inspect

        self.run, self.device, self.name = run, device, run.name
        self.model = run.model(device)
        accepted = set(inspect.signature(self.model.forward).parameters) - {"batch"}
        unknown = sorted(k for k, v in options.items() if v is not None and k not in accepted)
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise ValueError(f"run {run.name!r} (model {run.config.model!r}) does not take {flags}")
        self.options = {k: v for k, v in options.items() if v is not None}

    def solve(self, graphs):
        from .train import predict_graphs

        return predict_graphs(self.model, graphs, device=self.device, **self.options)


def _cached_run_solver(name: str, **options) -> Solver | None:
    from .train import find_run

    run = find_run(name)
    return None if run is None else run.solver(**options)


#: Hooks that build a solver from a name that is not in SOLVERS (e.g. a cached run's name).
RESOLVERS: list[Callable[..., Solver | None]] = [_cached_run_solver]


def get_solver(name: str, **options) -> Solver:
    """A solver by fixed name, or via a registered resolver (e.g. a trained run's name)."""
    if name in SOLVERS:
        given = sorted(k for k, v in options.items() if v is not None and k != "device")
        if given:
            raise ValueError(f"solver {name!r} takes no options, got {given}")
        return SOLVERS[name]()
    for resolve in RESOLVERS:
        solver = resolve(name, **options)
        if solver is not None:
            return solver
    raise KeyError(
        f"unknown solver {name!r}: choose one of {sorted(SOLVERS)} or a run name listed by "
        "`python -m lib runs`"
    )


def evaluate_solver(solver: Solver, graphs: Sequence[Graph]) -> dict:
    """Run a solver and score it with the tie-aware metrics."""
    return evaluate_predictions(graphs, solver.solve(graphs))
