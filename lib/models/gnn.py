"""Message-passing GNN (MPNN) whose aggregation — sum, max, min or mean — is a config field.

Messages see both endpoints and the edge weight; the pointer head scores each candidate
``u -> v`` from ``(h_u, h_v, w_uv)``. With ``min`` aggregation and enough layers the
architecture can express Bellman-Ford, the "aligned prior" of the design brief.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..batching import GraphBatch
from .base import NodeEncodedModel, ModelOutput, mlp

AGGREGATIONS = {"sum": "sum", "max": "amax", "min": "amin", "mean": "mean"}


@dataclass
class GNNConfig:
    hidden: int = 64  # node state width
    layers: int = 4  # message-passing rounds (untied weights)
    aggregation: str = "max"  # how messages to a node combine: sum | max | min | mean
    dropout: float = 0.0  # dropout inside the message and update MLPs
    predict_distances: bool = True  # also regress distances from the final node states

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregation!r}; choose from {sorted(AGGREGATIONS)}")
        if self.layers < 1 or self.hidden < 1:
            raise ValueError("layers and hidden must be >= 1")


def aggregate(messages: torch.Tensor, receivers: torch.Tensor, num_nodes: int, how: str) -> torch.Tensor:
    """Combine edge messages at their receivers; nodes without in-edges get zeros."""
    out = torch.zeros(num_nodes, messages.shape[1], dtype=messages.dtype, device=messages.device)
    idx = receivers.unsqueeze(1).expand_as(messages)
    return out.scatter_reduce(0, idx, messages, reduce=AGGREGATIONS[how], include_self=False)


class MessagePassingLayer(nn.Module):
    """h_v <- LayerNorm(h_v + U([h_v, AGG_{u -> v} M([h_u, h_v, w_uv])])) (without the LayerNorm
    when ``layer_norm`` is off, so the state can carry magnitudes such as distances)."""

    def __init__(self, hidden: int, aggregation: str, dropout: float = 0.0, extra_inputs: int = 0,
                 layer_norm: bool = True):
        super().__init__()
        self.aggregation = aggregation
        self.message = mlp([2 * hidden + 1, hidden, hidden], dropout=dropout)
        self.update = mlp([2 * hidden + extra_inputs, hidden, hidden], dropout=dropout)
        self.norm = nn.LayerNorm(hidden) if layer_norm else nn.Identity()

    def forward(self, h: torch.Tensor, batch: GraphBatch, extra: torch.Tensor | None = None) -> torch.Tensor:
        s, r = batch.senders, batch.receivers
        m = self.message(torch.cat([h[s], h[r], batch.weights.unsqueeze(1)], dim=1))
        agg = aggregate(m, r, batch.num_nodes, self.aggregation)
        inputs = [h, agg] if extra is None else [h, agg, extra]
        return self.norm(h + self.update(torch.cat(inputs, dim=1)))


class PointerHead(nn.Module):
    """Scores each pointer candidate u -> v (or v -> v) from (h_u, h_v, w_uv, is_self)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.net = mlp([2 * hidden + 2, hidden, 1])

    def forward(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        feats = torch.cat([h[batch.cand_src], h[batch.cand_dst], batch.cand_weight.unsqueeze(1),
                           batch.cand_is_self.unsqueeze(1)], dim=1)
        return self.net(feats).squeeze(1)


class GNN(NodeEncodedModel):
    """Encoder -> ``layers`` rounds of message passing -> pointer and distance heads."""

    def __init__(self, cfg: GNNConfig):
        super().__init__(cfg)
        self.layers = nn.ModuleList(MessagePassingLayer(cfg.hidden, cfg.aggregation, cfg.dropout)
                                    for _ in range(cfg.layers))
        self.pointer = PointerHead(cfg.hidden)
        self.distance = nn.Linear(cfg.hidden, 1) if cfg.predict_distances else None

    def forward(self, batch: GraphBatch) -> ModelOutput:
        h = self.encode(batch.is_source.unsqueeze(1))
        for layer in self.layers:
            h = layer(h, batch)
        dist = self.distance(h).squeeze(1) if self.distance is not None else None
        return ModelOutput(self.pointer(h, batch), dist)
