"""The aligned prior taken literally: a recurrent min-plus (tropical) message-passing model.

Each of ``hidden`` channels runs a Bellman-Ford relaxation with its own learned,
non-negative edge cost ``phi_c(w)``:

    h_v <- min(h_v, min_{u -> v} h_u + phi(w_uv)),   h_source = 0, every other node starts unreached.

The update can only lower a state, so every graph reaches a fixed point and further iterations
change nothing; and it only adds costs along paths, so it has no notion of how far it is from
the source that could saturate on longer paths. What is learned: the edge costs, and the
pointer head, which scores a candidate u -> v from the slack ``h_u + phi(w_uv) - h_v`` (zero on
a shortest-path edge when phi is proportional to w). This is a hand-built prior and is labelled
as such wherever it appears; the generic recurrent model is `lib.models.recurrent_gnn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..batching import GraphBatch
from .base import GraphModel, ModelOutput, mlp
from .halting import HALT_CRITERIA, forward_halting, state_drift
from .progressive import check_loop_config, progressive_loss


@dataclass
class MinPlusGNNConfig:
    hidden: int = 16  # number of Bellman-Ford channels, each with its own learned edge cost
    iterations: int = 16  # iterations in training (and the default at test time)
    progressive_alpha: float = 0.5  # weight of the progressive loss (0: plain loss after `iterations`)
    cost: str = "mlp"  # edge cost per channel: "mlp" (any non-negative function of w) or "linear" (a_c * w + b_c)
    halt_on: str = "state"  # halting: stop when the states ("state", a true fixed point) or pointers settle
    halt_patience: int = 1  # ... for this many consecutive iterations
    unreached: float = 1e4  # starting state of every node but the source
    predict_distances: bool = True  # also regress distances (a linear read-out of the channels)

    def __post_init__(self):
        if self.hidden < 1 or self.halt_patience < 1 or self.unreached <= 0:
            raise ValueError("hidden and halt_patience must be >= 1 and unreached > 0")
        if self.cost not in ("mlp", "linear") or self.halt_on not in HALT_CRITERIA:
            raise ValueError(f"cost must be 'mlp' or 'linear' and halt_on one of {HALT_CRITERIA}")
        check_loop_config(self)


class MinPlusGNN(GraphModel):
    """h_v <- min(h_v, min_u h_u + phi(w_uv)) per channel; pointers from the slacks."""

    def __init__(self, cfg: MinPlusGNNConfig):
        super().__init__()
        self.cfg = cfg
        self.cost = mlp([1, cfg.hidden, cfg.hidden]) if cfg.cost == "mlp" else nn.Linear(1, cfg.hidden)
        self.pointer = mlp([cfg.hidden + 4, cfg.hidden, 1])
        self.distance = nn.Linear(cfg.hidden, 1) if cfg.predict_distances else None

    def edge_cost(self, w: torch.Tensor) -> torch.Tensor:
        """[E] weights -> [E, hidden] non-negative channel costs."""
        if self.cfg.cost == "linear":  # softplus(a_c) * w + softplus(b_c)
            return F.softplus(self.cost.weight.T) * w.unsqueeze(1) + F.softplus(self.cost.bias)
        return F.softplus(self.cost(w.unsqueeze(1)))

    def _batch_edge_cost(self, batch: GraphBatch) -> torch.Tensor:
        """``edge_cost(batch.weights)``; without autograd, kept for the next step on the same batch
        while the cost network is unchanged (a halting loop steps one iteration at a time)."""
        if torch.is_grad_enabled():
            return self.edge_cost(batch.weights)
        version = tuple((id(p), p._version) for p in self.cost.parameters())
        memo = self.__dict__.get("_cost_memo")
        if memo is None or memo[0] is not batch.weights or memo[1] != version:
            memo = self.__dict__["_cost_memo"] = (batch.weights, version, self.edge_cost(batch.weights))
        return memo[2]

    # -- the loop protocol of `progressive_loss` and `halting` --------------------------------------
    def initial_state(self, batch: GraphBatch) -> tuple[torch.Tensor, None]:
        start = torch.where(batch.is_source > 0, 0.0, self.cfg.unreached)
        return start.unsqueeze(1).expand(-1, self.cfg.hidden).contiguous(), None

    def step(self, h: torch.Tensor, x, batch: GraphBatch, k: int) -> torch.Tensor:
        cost = self._batch_edge_cost(batch)
        idx = batch.receivers.unsqueeze(1).expand_as(cost)
        for _ in range(k):
            h = h.scatter_reduce(0, idx, h[batch.senders] + cost, reduce="amin", include_self=True)
        return h

    def reached(self, h: torch.Tensor) -> torch.Tensor:
        return h.min(dim=1).values < self.cfg.unreached / 2

    def pointer_logits(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        src, dst, is_self = batch.cand_src, batch.cand_dst, batch.cand_is_self
        reached = self.reached(h)
        both = (reached[src] & reached[dst]).unsqueeze(1)
        slack = h[src] + self.edge_cost(batch.cand_weight) * (1 - is_self).unsqueeze(1) - h[dst]
        slack = torch.where(both, slack, torch.zeros_like(slack))
        feats = torch.cat([torch.sign(slack) * torch.log1p(slack.abs()), batch.cand_weight.unsqueeze(1),
                           is_self.unsqueeze(1), reached[src].float().unsqueeze(1),
                           reached[dst].float().unsqueeze(1)], dim=1)
        return self.pointer(feats).squeeze(1)

    def readout(self, h: torch.Tensor, batch: GraphBatch) -> ModelOutput:
        dist = None
        if self.distance is not None:
            dist = torch.where(self.reached(h), self.distance(h).squeeze(1), torch.full_like(h[:, 0], float("inf")))
        return ModelOutput(self.pointer_logits(h, batch), dist)

    # -- inference -------------------------------------------------------------------------------
    def forward(self, batch: GraphBatch, iterations: int | None = None, halt: bool = False) -> ModelOutput:
        """Run ``iterations`` relaxations (default: the training count). With ``halt``, each graph
        stops once its states (or pointers, see ``halt_on``) have not changed for
        ``halt_patience`` iterations, with ``iterations`` as the cap; the output then carries
        the iterations each graph used."""
        k = iterations or self.cfg.iterations
        if not halt:
            h, x = self.initial_state(batch)
            return self.readout(self.step(h, x, batch, k), batch)
        return forward_halting(self, batch, k, self.cfg.halt_patience, self.cfg.halt_on)

    def state_drift(self, batch: GraphBatch, iterations: int) -> dict[str, list[float]]:
        """Measured state norm and per-iteration change (see `lib.models.halting.state_drift`)."""
        return state_drift(self, batch, iterations)

    def loss(self, batch: GraphBatch, distance_weight: float = 0.0, **kw):
        return progressive_loss(self, batch, distance_weight, self.cfg.iterations, self.cfg.progressive_alpha)
