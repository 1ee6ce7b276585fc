"""Recurrent GNN that is meant to keep improving, or at least hold, as it runs longer.

One weight-tied message-passing layer with recall (the input encoding re-enters every
iteration), trained with Deep Thinking's progressive loss over a random number of
iterations, plus an optional drift penalty that asks one more iteration to leave the state
where it is (a fixed point is what lets a model run 16x longer than it was trained).
At test time it can halt each graph on its own once its predicted pointers stop changing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..batching import GraphBatch
from .base import ModelOutput
from .gnn import AGGREGATIONS
from .halting import forward_halting, state_drift
from .looped_gnn import LoopedGNN
from .progressive import check_loop_config, progressive_loss


@dataclass
class RecurrentGNNConfig:
    hidden: int = 64  # node state width
    iterations: int = 16  # most iterations seen in training (and the default at test time)
    aggregation: str = "min"  # "min" is the aligned (Bellman-Ford) prior; "sum"/"max" the generic one
    progressive_alpha: float = 1.0  # weight of the progressive loss (0: plain loss after `iterations`)
    drift_weight: float = 0.0  # penalty on the relative state change of one extra iteration
    layer_norm: bool = True  # normalise the state every iteration (off: it can carry growing magnitudes)
    dropout: float = 0.0  # dropout inside the message and update MLPs
    predict_distances: bool = True  # also regress distances
    halt_patience: int = 3  # halting: a graph stops after this many iterations without a pointer change

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregation!r}; choose from {sorted(AGGREGATIONS)}")
        if self.drift_weight < 0 or self.halt_patience < 1:
            raise ValueError("drift_weight must be >= 0 and halt_patience >= 1")
        check_loop_config(self)


class RecurrentGNN(LoopedGNN):
    """The looped GNN's loop (h <- Layer(h, recall = x)), run until it settles if asked, with the
    drift penalty in its loss."""

    # -- inference -------------------------------------------------------------------------------
    def forward(self, batch: GraphBatch, iterations: int | None = None, halt: bool = False) -> ModelOutput:
        """Run ``iterations`` steps (default: the training count). With ``halt``, each graph stops
        once its predicted pointers have not changed for ``halt_patience`` iterations, with
        ``iterations`` as the cap; the output then carries the iterations each graph used."""
        k = iterations or self.cfg.iterations
        if not halt:
            h, x = self.initial_state(batch)
            return self.readout(self.step(h, x, batch, k), batch)
        return forward_halting(self, batch, k, self.cfg.halt_patience)

    def pointer_logits(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        return self.pointer(h, batch)

    def state_drift(self, batch: GraphBatch, iterations: int) -> dict[str, list[float]]:
        """Measured state norm and per-iteration change (see `lib.models.halting.state_drift`)."""
        return state_drift(self, batch, iterations)

    # -- training --------------------------------------------------------------------------------
    def loss(self, batch: GraphBatch, distance_weight: float = 0.0, **kw):
        loss, parts = progressive_loss(self, batch, distance_weight, self.cfg.iterations, self.cfg.progressive_alpha)
        if self.cfg.drift_weight > 0:
            drift = self._drift_penalty(batch)
            loss = loss + self.cfg.drift_weight * drift
            parts["drift"] = float(drift.detach())
        return loss, parts

    def _drift_penalty(self, batch: GraphBatch) -> torch.Tensor:
        """Relative change of one extra iteration from a state reached after a random number of
        iterations between 1 and the training count (no gradient through reaching it)."""
        h, x = self.initial_state(batch)
        n = int(torch.randint(1, self.cfg.iterations + 1, (1,)))
        with torch.no_grad():
            h = self.step(h, x, batch, n)
        nxt = self.layer(h, batch, extra=x)
        return ((nxt - h).norm(dim=1) / h.norm(dim=1).clamp(min=1e-8)).pow(2).mean()
