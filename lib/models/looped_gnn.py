"""Weight-tied recurrent GNN with input re-injection ("recall"), trained with the
progressive loss of the Deep Thinking work (Bansal et al. 2022). The number of iterations
is a forward argument, so it can be raised at test time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..batching import GraphBatch
from .base import NodeEncodedModel, ModelOutput
from .gnn import AGGREGATIONS, MessagePassingLayer, PointerHead
from .progressive import check_loop_config, progressive_loss


@dataclass
class LoopedGNNConfig:
    hidden: int = 64  # node state width
    iterations: int = 8  # message-passing iterations during training (default at test time too)
    aggregation: str = "max"  # sum | max | min | mean
    recall: bool = True  # feed the input encoding into every iteration
    progressive_alpha: float = 0.5  # weight of the progressive loss (0: plain loss after `iterations`)
    dropout: float = 0.0  # dropout inside the message and update MLPs
    predict_distances: bool = True  # also regress distances

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregation!r}; choose from {sorted(AGGREGATIONS)}")
        check_loop_config(self)


class LoopedGNN(NodeEncodedModel):
    """h <- Layer(h, recall = x) applied T times with one set of weights, then the heads."""

    def __init__(self, cfg: LoopedGNNConfig):
        super().__init__(cfg)
        self.recall = getattr(cfg, "recall", True)  # subclasses without the option always recall
        self.layer = MessagePassingLayer(cfg.hidden, cfg.aggregation, cfg.dropout,
                                         extra_inputs=cfg.hidden if self.recall else 0,
                                         layer_norm=getattr(cfg, "layer_norm", True))
        self.pointer = PointerHead(cfg.hidden)
        self.distance = nn.Linear(cfg.hidden, 1) if cfg.predict_distances else None

    def initial_state(self, batch: GraphBatch) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.encode(batch.is_source.unsqueeze(1))
        return x, x

    def step(self, h: torch.Tensor, x: torch.Tensor, batch: GraphBatch, k: int) -> torch.Tensor:
        for _ in range(k):
            h = self.layer(h, batch, extra=x if self.recall else None)
        return h

    def readout(self, h: torch.Tensor, batch: GraphBatch) -> ModelOutput:
        dist = self.distance(h).squeeze(1) if self.distance is not None else None
        return ModelOutput(self.pointer(h, batch), dist)

    def forward(self, batch: GraphBatch, iterations: int | None = None) -> ModelOutput:
        h, x = self.initial_state(batch)
        return self.readout(self.step(h, x, batch, iterations or self.cfg.iterations), batch)

    def loss(self, batch: GraphBatch, distance_weight: float = 0.0, **kw):
        return progressive_loss(self, batch, distance_weight, self.cfg.iterations, self.cfg.progressive_alpha)
