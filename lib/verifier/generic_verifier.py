"""The generic verifier: MLP messages over the candidate distances and weights, max (or sum)
aggregation, the same message family as `lib.models.recurrent_gnn`.

    e_v(y_v) = softplus(g([is_source, is_source * y_v, v reached, AGG_{u -> v} m([y_u - y_v, u reached, w_uv])]))

(a difference with an unreached end enters as 0, with the flags). It sees distances relative to the
node's own, as the aligned verifier does, but nothing in it knows that distances add along edges. Scoring a node's alternative value reruns its messages, so the search's option scoring costs
O(sum of squared in-degrees).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models.base import mlp
from ..models.gnn import AGGREGATIONS, aggregate
from .base import Verifier, finite, in_edge_pairs, reached, run_rows


@dataclass
class GenericVerifierConfig:
    hidden: int = 64  # message and term width (as recurrent_gnn)
    aggregation: str = "max"  # "max" or "sum" (min is the aligned prior)

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS or self.aggregation == "min":
            raise ValueError(f"generic aggregation must be 'max', 'sum' or 'mean', got {self.aggregation!r}")
        if self.hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {self.hidden}")


class GenericVerifier(Verifier):
    def __init__(self, cfg: GenericVerifierConfig):
        super().__init__()
        self.cfg = cfg
        self.message = mlp([4, cfg.hidden, cfg.hidden], act=nn.SiLU)
        self.term = mlp([3 + cfg.hidden, cfg.hidden, cfg.hidden, 1], act=nn.SiLU)

    def option_terms(self, batch, y, nodes, values, rows=None):
        rows = rows or run_rows
        opt, edge = in_edge_pairs(batch, nodes)
        ys, v = y[batch.senders[edge]], values[opt]
        both = reached(ys) * reached(v)
        diff = torch.where(both > 0, finite(ys) - finite(v), torch.zeros_like(ys))
        m = rows("message", self.message, torch.stack([diff, reached(ys), reached(v), batch.weights[edge]], 1))
        agg = aggregate(m, opt, len(nodes), self.cfg.aggregation)
        src = batch.is_source[nodes]
        x = torch.cat([torch.stack([src, src * finite(values), reached(values)], 1), agg], 1)
        return F.softplus(self.term[-1](rows("term", self.term[:-1], x)).squeeze(1))
