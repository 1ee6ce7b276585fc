"""The aligned verifier: min aggregation over messages that add a learned edge cost to the sender's
candidate distance, the same message family as `lib.models.min_plus_gnn`.

    a_v,c = min_{u -> v, u reached} (y_u + phi_c(w_uv))     (one channel per c, learned cost phi_c)
    e_v(y_v) = softplus(g([is_source, is_source * y_v, v reached, v offered, symlog(a_v - y_v)]))

("offered": some in-neighbour is reached; the slack a_v - y_v is 0 unless both hold. At the source
neither enters, as the min-plus generator pins the source's state to 0: its term sees only its value; `symlog` spreads
slacks from 1e-4 to 10 over an O(1) range, so that a small network can tell 0 from 0.001.) It can express
the exact local check (phi_c(w) = w, g = |.|) but is never shown it: it learns from correct / wrong
labels only (`lib.verifier.train`). Because ``a_v`` does not depend on ``y_v``, a node's alternative
values are scored from one aggregation, so the search's option scoring is O(E).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..batching import GraphBatch
from ..models.base import mlp
from .base import FAR, Verifier, finite, reached, run_rows, symlog


@dataclass
class MinPlusVerifierConfig:
    hidden: int = 16  # channels, each with its own learned edge cost (as min_plus_gnn)

    def __post_init__(self):
        if self.hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {self.hidden}")


class MinPlusVerifier(Verifier):
    def __init__(self, cfg: MinPlusVerifierConfig):
        super().__init__()
        self.cfg = cfg
        self.cost = mlp([1, cfg.hidden, cfg.hidden], act=nn.SiLU)
        self.term = mlp([4 + cfg.hidden, cfg.hidden, cfg.hidden, 1], act=nn.SiLU)

    def best_offers(self, batch: GraphBatch, y: torch.Tensor, rows=None) -> tuple[torch.Tensor, torch.Tensor]:
        """([N, hidden] min over reached in-neighbours of y_u + phi(w_uv), [N] 1 where there is one).
        A search's ``rows`` carry a ``memo``: the offers at the same candidate ``y`` (the same tensor,
        which the search never changes in place) are computed once for its node terms and options."""
        memo = getattr(rows, "memo", None)
        if memo is not None and memo.get("offers_at") is y:
            return memo["offers"]
        rows = rows or run_rows
        offers = finite(y, FAR)[batch.senders].unsqueeze(1) + rows("cost", self.cost, batch.weights.unsqueeze(1))
        out = torch.full((batch.num_nodes, self.cfg.hidden), FAR, dtype=offers.dtype, device=y.device)
        out = out.scatter_reduce(0, batch.receivers.unsqueeze(1).expand_as(offers), offers, "amin")
        offered = torch.zeros(batch.num_nodes, device=y.device).index_add(
            0, batch.receivers, reached(y)[batch.senders]).clamp(max=1.0)
        if memo is not None:
            memo.update(offers_at=y, offers=(out, offered))
        return out, offered

    def option_terms(self, batch, y, nodes, values, rows=None):
        rows = rows or run_rows
        a, offered = self.best_offers(batch, y, rows)
        src = batch.is_source[nodes]
        a, offered, is_reached = a[nodes], offered[nodes] * (1 - src), reached(values)
        both = (offered * is_reached).unsqueeze(1) > 0
        slack = symlog(torch.where(both, a - finite(values).unsqueeze(1), torch.zeros_like(a)))
        x = torch.cat([torch.stack([src, src * finite(values), is_reached, offered], 1), slack], 1)
        return F.softplus(self.term[-1](rows("term", self.term[:-1], x)).squeeze(1))
