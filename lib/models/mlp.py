"""MLP on the padded adjacency: fixed to a maximum n by design (one of the findings)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..batching import GraphBatch
from .base import GraphModel, ModelOutput, mlp


@dataclass
class MLPConfig:
    max_nodes: int = 16  # graphs are zero-padded to this many nodes; larger graphs are refused
    hidden: int = 256  # width of the hidden layers
    layers: int = 3  # number of hidden layers
    dropout: float = 0.0  # dropout between hidden layers
    predict_distances: bool = True  # also regress distances

    @property
    def input_size(self) -> int:
        # weights and adjacency indicator per ordered pair, plus the source one-hot
        return 2 * self.max_nodes**2 + self.max_nodes


class MLP(GraphModel):
    """Flattened [W, A, source] -> logits for every (v, u) pair, plus distances."""

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg, self.max_nodes = cfg, cfg.max_nodes
        n = cfg.max_nodes
        out = n * n + (n if cfg.predict_distances else 0)
        self.net = mlp([cfg.input_size] + [cfg.hidden] * cfg.layers + [out], dropout=cfg.dropout)

    def forward(self, batch: GraphBatch) -> ModelOutput:
        self.check_batch(batch)
        n = self.cfg.max_nodes
        view = batch.padded(n)
        x = torch.cat([view.weights.flatten(1), view.adjacency.float().flatten(1), view.is_source], dim=1)
        y = self.net(x)
        scores = y[:, : n * n].view(-1, n, n)  # scores[b, v, u]: v points to u
        logits = batch.gather_dense(scores)
        dist = None
        if self.cfg.predict_distances:
            local = torch.arange(batch.num_nodes, device=batch.device) - batch.offsets[batch.node_graph]
            dist = y[:, n * n:][batch.node_graph, local]
        return ModelOutput(logits, dist)
