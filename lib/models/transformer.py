"""Transformer over node tokens: edge weights enter as a learned per-head attention bias,
and attention can optionally be masked to the adjacency (in-neighbours plus self).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..batching import GraphBatch
from .base import NodeEncodedModel, ModelOutput, mlp


@dataclass
class TransformerConfig:
    hidden: int = 64  # token width
    heads: int = 4  # attention heads
    layers: int = 4  # transformer blocks (untied weights)
    ffn_mult: int = 2  # feed-forward width as a multiple of hidden
    mask_adjacency: bool = False  # attend only to in-neighbours and self
    dropout: float = 0.0  # dropout on attention output and feed-forward
    predict_distances: bool = True  # also regress distances

    def __post_init__(self):
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")


class EdgeBias(nn.Module):
    """Per-head attention bias for node v attending to node u, from the edge u -> v.

    Edges get ``f_h(w_uv)`` (a small MLP), the node itself a learned per-head bias, and
    non-edges either another learned bias or -inf (``mask_adjacency``). Padding is -inf.
    """

    def __init__(self, heads: int, mask_adjacency: bool):
        super().__init__()
        self.mask_adjacency = mask_adjacency
        self.edge = mlp([1, 16, heads])
        self.self_bias = nn.Parameter(torch.zeros(heads))
        self.no_edge_bias = nn.Parameter(torch.zeros(heads))

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        view = batch.padded()
        W = view.weights.transpose(1, 2)  # [B, v, u]: the edge u -> v seen from v
        A = view.adjacency.transpose(1, 2)
        bias = self.edge(W.unsqueeze(-1)).permute(0, 3, 1, 2)  # [B, H, v, u]
        n = W.shape[1]
        eye = torch.eye(n, dtype=torch.bool, device=W.device)
        no_edge = torch.full_like(bias, float("-inf")) if self.mask_adjacency else \
            self.no_edge_bias.view(1, -1, 1, 1).expand_as(bias)
        bias = torch.where(A.unsqueeze(1), bias, no_edge)
        bias = torch.where(eye, self.self_bias.view(1, -1, 1, 1), bias)
        pad_key = ~view.node_mask.unsqueeze(1) & ~eye  # [B, v, u]: u is padding (padding attends to itself)
        return bias.masked_fill(pad_key.unsqueeze(1), float("-inf"))


class Block(nn.Module):
    """Pre-norm self-attention with an additive bias, then a feed-forward layer."""

    def __init__(self, hidden: int, heads: int, ffn_mult: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ffn = mlp([hidden, ffn_mult * hidden, hidden], act=nn.GELU)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        B, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(B, n, d)))
        return x + self.drop(self.ffn(self.norm2(x)))


class NodeTransformer(NodeEncodedModel):
    """Node tokens (source flag) -> biased self-attention blocks -> pointer and distance heads."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__(cfg)
        self.bias = EdgeBias(cfg.heads, cfg.mask_adjacency)
        self.blocks = nn.ModuleList(Block(cfg.hidden, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(cfg.layers))
        self.head = PointerScores(cfg.hidden)
        self.norm = nn.LayerNorm(cfg.hidden)
        self.distance = nn.Linear(cfg.hidden, 1) if cfg.predict_distances else None

    def embed(self, batch: GraphBatch) -> torch.Tensor:
        return self.encode(batch.padded().is_source.unsqueeze(-1))

    def readout(self, x: torch.Tensor, batch: GraphBatch) -> ModelOutput:
        x = self.norm(x)
        logits = self.head(x, batch)
        view = batch.padded()
        dist = self.distance(x).squeeze(-1)[view.node_mask] if self.distance is not None else None
        return ModelOutput(logits, dist)

    def forward(self, batch: GraphBatch) -> ModelOutput:
        bias = self.bias(batch)
        x = self.embed(batch)
        for block in self.blocks:
            x = block(x, bias)
        return self.readout(x, batch)


class PointerScores(nn.Module):
    """scores[b, v, u] = <q(x_v), k(x_u)> / sqrt(d) + g(w_uv, is_self), gathered at candidates."""

    def __init__(self, hidden: int):
        super().__init__()
        self.q, self.k = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.edge = mlp([2, 16, 1])

    def forward(self, x: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        scores = self.q(x) @ self.k(x).transpose(1, 2) / x.shape[-1] ** 0.5  # [B, v, u]
        logits = batch.gather_dense(scores)
        feats = torch.stack([batch.cand_weight, batch.cand_is_self], dim=1)
        return logits + self.edge(feats).squeeze(1)
