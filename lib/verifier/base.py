"""What every verifier shares: per-node terms of a distance candidate, and the terms a node would
have if it took other values while its neighbours stay where they are."""

from __future__ import annotations

import torch
from torch import nn

from ..batching import GraphBatch


class Verifier(nn.Module):
    """E(graph, y) = sum_v e_v(y), e_v >= 0; a candidate is accepted when E < ``ACCEPT``.

    A candidate ``y`` [N] holds a distance per node, ``inf`` where the node claims to be unreachable.

    Subclasses implement `option_terms`. Under the noisy-OR reading used in training, a node's term is
    its hazard of being wrong, so exp(-E) is the probability that the whole candidate is right and
    E < ln 2 means "more likely right than wrong"."""

    ACCEPT = float(torch.log(torch.tensor(2.0)))

    def option_terms(self, batch: GraphBatch, y: torch.Tensor, nodes: torch.Tensor,
                     values: torch.Tensor, rows=None) -> torch.Tensor:
        """[K] term of node ``nodes[k]`` if its value were ``values[k]``, every other node at ``y``.

        ``rows(name, net, x)`` runs a row-wise network ``net`` on ``x`` (default: ``net(x)``); the
        search passes a `lib.search.parallel_moves.RowCache`, which reruns only the rows that changed."""
        raise NotImplementedError

    def node_terms(self, batch: GraphBatch, y: torch.Tensor, rows=None) -> torch.Tensor:
        """[N] each node's term at the candidate ``y``."""
        return self.option_terms(batch, y, torch.arange(batch.num_nodes, device=y.device), y, rows)

    def forward(self, batch: GraphBatch, y: torch.Tensor) -> torch.Tensor:
        """[B] energy of each graph's candidate."""
        out = torch.zeros(batch.num_graphs, dtype=y.dtype, device=y.device)
        return out.index_add(0, batch.node_graph, self.node_terms(batch, y))

    def accepts(self, batch: GraphBatch, y: torch.Tensor) -> torch.Tensor:
        """[B] bool: the verifier certifies the candidate."""
        return self(batch, y) < self.ACCEPT


def in_edge_pairs(batch: GraphBatch, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For options at ``nodes`` [K]: (option index, in-edge index) of every (option, in-edge of its
    node) pair. Edges are sorted by receiver in a `GraphBatch`, so each node's in-edges are a range."""
    deg = torch.bincount(batch.receivers, minlength=batch.num_nodes)
    start = torch.cumsum(deg, 0) - deg
    k_deg = deg[nodes]
    opt = torch.repeat_interleave(torch.arange(len(nodes), device=nodes.device), k_deg)
    first = torch.cumsum(k_deg, 0) - k_deg
    within = torch.arange(len(opt), device=nodes.device) - first[opt]
    return opt, start[nodes][opt] + within


def run_rows(name: str, net, x: torch.Tensor) -> torch.Tensor:
    """The default ``rows`` of `Verifier.option_terms`: run the network on every row."""
    return net(x)


#: Stand-in for an infinite distance inside the networks (masked wherever it would be used).
FAR = 1e9


def reached(y: torch.Tensor) -> torch.Tensor:
    """[..] float: 1 where a candidate distance is finite (the node claims to be reached)."""
    return torch.isfinite(y).float()


def symlog(x: torch.Tensor, scale: float = 1e-3) -> torch.Tensor:
    """sign(x) * log(1 + |x| / scale): differences from 1e-4 to 10 mapped onto about [0.1, 9]."""
    return torch.sign(x) * torch.log1p(x.abs() / scale)


def finite(y: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """``y`` with infinite entries (unreached) replaced by ``fill``."""
    return torch.where(torch.isfinite(y), y, torch.full_like(y, fill))
