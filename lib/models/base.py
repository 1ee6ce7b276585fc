"""What every graph model shares: the output type, the default loss and greedy decoding.

A model maps a `GraphBatch` to one pointer logit per candidate (each node's in-neighbours
plus itself) and, optionally, a distance per node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..batching import GraphBatch
from ..metrics import Prediction


@dataclass
class ModelOutput:
    pointer_logits: torch.Tensor  # [C] one logit per pointer candidate
    dist: torch.Tensor | None = None  # [N] predicted distances, or None
    iterations: torch.Tensor | None = None  # [B] iterations each graph used (models that halt), or None


def mlp(sizes: list[int], act=nn.ReLU, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with activations (and optional dropout) between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def pointer_loss(batch: GraphBatch, logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the true predecessor over each non-source node's candidates."""
    logp = batch.pointer_log_probs(logits)
    nll = -logp[batch.target_candidate()]
    keep = batch.is_source == 0
    return nll[keep].mean()


def distance_loss(batch: GraphBatch, dist: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 regression of distances on reachable nodes (and, for a model that marks a node
    it has not reached yet with an infinite distance, only on the nodes it has reached)."""
    target = batch.target_dist
    keep = torch.isfinite(target) & torch.isfinite(dist)
    return F.smooth_l1_loss(dist[keep], target[keep], beta=0.1)


class GraphModel(nn.Module):
    """Base class: subclasses implement ``forward(batch, **kw) -> ModelOutput``."""

    #: Largest graph the model can take (None: any size).
    max_nodes: int | None = None

    def check_batch(self, batch: GraphBatch) -> None:
        if self.max_nodes is not None and int(batch.sizes.max()) > self.max_nodes:
            big = int(batch.sizes.max())
            raise ValueError(f"{type(self).__name__} is fixed to graphs of at most {self.max_nodes} nodes "
                             f"(padded adjacency input); got a graph with {big} nodes")

    def loss(self, batch: GraphBatch, distance_weight: float = 0.0, **kw) -> tuple[torch.Tensor, dict]:
        """Training loss and its parts; looped models override this (progressive loss)."""
        out = self(batch, **kw)
        loss = pointer_loss(batch, out.pointer_logits)
        parts = {"pointer_loss": float(loss.detach())}
        if distance_weight > 0 and out.dist is not None:
            dl = distance_loss(batch, out.dist)
            loss = loss + distance_weight * dl
            parts["distance_loss"] = float(dl.detach())
        return loss, parts

    @torch.no_grad()
    def predict(self, batch: GraphBatch, **kw) -> list[Prediction]:
        """Greedy pointers (and distances, if predicted) for every graph of the batch."""
        self.check_batch(batch)
        return self.predictions(batch, self(batch, **kw))

    @staticmethod
    def predictions(batch: GraphBatch, out: ModelOutput) -> list[Prediction]:
        """``out`` decoded per graph: greedy pointers, distances if predicted, iterations if counted."""
        pis = batch.decode_pointers(out.pointer_logits)
        dists = batch.split_nodes(out.dist) if out.dist is not None else [None] * len(pis)
        used = out.iterations.tolist() if out.iterations is not None else [None] * len(pis)
        return [Prediction(pi, None if d is None else d.astype(np.float64), k) for pi, d, k in zip(pis, dists, used)]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class NodeEncodedModel(GraphModel):
    """A graph model whose first layer embeds each node's source flag into ``cfg.hidden``
    (created first, so every such model initialises its weights in the same order)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encode = nn.Linear(1, cfg.hidden)
