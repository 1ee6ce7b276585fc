"""A verifier plus the parallel local search as a `Solver`, starting from "far", random, or a
generator's output; and the generator's distances as starting candidates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..batching import collate
from ..determinism import single_thread
from ..devices import resolve_device
from ..graphs import Graph
from ..metrics import Prediction, evaluate_predictions, fully_right
from ..search.parallel_moves import FINE, STARTS, Margins, parallel_descent, start_candidate


def generator_distances(generator_run, graphs: Sequence[Graph], device: str = "auto") -> list[torch.Tensor]:
    """A generator run's predicted distances per graph ([n] float32, inf where it predicts unreachable)."""
    preds = generator_run.solver(device).solve(graphs)
    if any(p.dist is None for p in preds):
        raise ValueError(f"generator {generator_run.name!r} predicts no distances, so it cannot start a search")
    with np.errstate(over="ignore"):  # beyond float32's range is unreached anyway: inf
        return [torch.from_numpy(np.nan_to_num(p.dist, nan=np.inf).astype(np.float32)) for p in preds]


class VerifierSolver:
    """Parallel best moves under ``verifier`` from ``start``: "far", "random", or a generator run."""

    def __init__(self, verifier, start="far", device="auto", name: str = "", batch_size: int = 32, seed: int = 0,
                 cap: int | None = None, margins: Margins = FINE):
        if isinstance(start, str) and start not in STARTS:
            raise ValueError(f"unknown search start {start!r}; choose from {STARTS} or pass a generator run")
        self.verifier, self.start, self.device = verifier, start, resolve_device(device)
        self.name, self.batch_size, self.seed, self.cap, self.margins = name, batch_size, seed, cap, margins
        self.last_settled: list[bool] = []
        self.last_accepted: list[bool] = []

    def solve(self, graphs: Sequence[Graph]) -> list[Prediction]:
        starts = None if isinstance(self.start, str) else generator_distances(self.start, graphs, self.device)
        gen = torch.Generator().manual_seed(self.seed)
        preds, self.last_settled, self.last_accepted = [], [], []
        with single_thread():
            for lo in range(0, len(graphs), self.batch_size):
                part = graphs[lo:lo + self.batch_size]
                batch = collate(part, with_targets=False).to(self.device)
                y0 = (start_candidate(batch, self.start, gen) if starts is None
                      else torch.cat(starts[lo:lo + self.batch_size]).to(self.device))
                found = parallel_descent(self.verifier, batch, y0, self.cap, self.margins)
                with torch.no_grad():
                    self.last_accepted += self.verifier.accepts(batch, found.y).tolist()
                self.last_settled += found.settled.tolist()
                pis = batch.split_nodes(found.parent - batch.offsets[batch.node_graph])
                ds = batch.split_nodes(found.y)
                preds += [Prediction(p.astype(np.int64), d.astype(np.float64), int(r))
                          for p, d, r in zip(pis, ds, found.rounds.tolist())]
        return preds

    def evaluate(self, graphs: Sequence[Graph]) -> dict:
        """Metrics of `solve`, plus the fraction of graphs that reached a fixed point, the fraction the
        verifier accepts, and how often an accepted answer is wrong (false certificates)."""
        preds = self.solve(graphs)
        out = evaluate_predictions(graphs, preds)
        right = np.array([fully_right(g, p) for g, p in zip(graphs, preds)])
        accepted = np.array(self.last_accepted)
        out.update(settled_fraction=float(np.mean(self.last_settled)), accepted_fraction=float(accepted.mean()),
                   false_certificates=int((accepted & ~right).sum()), accepted=int(accepted.sum()))
        return out
