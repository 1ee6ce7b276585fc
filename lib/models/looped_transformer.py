"""Looped node Transformer (a Universal Transformer over node tokens): one weight-tied block
applied T times with input re-injection ("recall"), trained with the progressive loss. The
number of iterations is a forward argument, so it can be raised at test time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..batching import GraphBatch
from .base import NodeEncodedModel, ModelOutput
from .progressive import check_loop_config, progressive_loss
from .transformer import Block, EdgeBias, PointerScores


@dataclass
class LoopedTransformerConfig:
    hidden: int = 64  # token width
    heads: int = 4  # attention heads
    iterations: int = 8  # applications of the tied block during training (default at test time)
    ffn_mult: int = 2  # feed-forward width as a multiple of hidden
    mask_adjacency: bool = True  # attend only to in-neighbours and self
    recall: bool = True  # re-inject the input embedding before every application
    progressive_alpha: float = 0.5  # weight of the progressive loss (0: plain loss after `iterations`)
    dropout: float = 0.0  # dropout on attention output and feed-forward
    predict_distances: bool = True  # also regress distances

    def __post_init__(self):
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        check_loop_config(self)


class LoopedTransformer(NodeEncodedModel):
    """x <- Block(W [x, x0], bias) applied T times with one set of weights, then the heads."""

    def __init__(self, cfg: LoopedTransformerConfig):
        super().__init__(cfg)
        self.bias = EdgeBias(cfg.heads, cfg.mask_adjacency)
        self.block = Block(cfg.hidden, cfg.heads, cfg.ffn_mult, cfg.dropout)
        self.mix = nn.Linear(2 * cfg.hidden, cfg.hidden) if cfg.recall else None
        self.head = PointerScores(cfg.hidden)
        self.norm = nn.LayerNorm(cfg.hidden)
        self.distance = nn.Linear(cfg.hidden, 1) if cfg.predict_distances else None

    def initial_state(self, batch: GraphBatch) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.encode(batch.padded().is_source.unsqueeze(-1))
        return x, x

    def step(self, h: torch.Tensor, x: torch.Tensor, batch: GraphBatch, k: int) -> torch.Tensor:
        bias = self.bias(batch)
        for _ in range(k):
            h = self.block(self.mix(torch.cat([h, x], -1)) if self.mix is not None else h, bias)
        return h

    def readout(self, h: torch.Tensor, batch: GraphBatch) -> ModelOutput:
        h = self.norm(h)
        view = batch.padded()
        dist = self.distance(h).squeeze(-1)[view.node_mask] if self.distance is not None else None
        return ModelOutput(self.head(h, batch), dist)

    def forward(self, batch: GraphBatch, iterations: int | None = None) -> ModelOutput:
        h, x = self.initial_state(batch)
        return self.readout(self.step(h, x, batch, iterations or self.cfg.iterations), batch)

    def loss(self, batch: GraphBatch, distance_weight: float = 0.0, **kw):
        return progressive_loss(self, batch, distance_weight, self.cfg.iterations, self.cfg.progressive_alpha)
