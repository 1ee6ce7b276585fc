"""A list of graphs -> tensors: a sparse (edge-list) view for message passing and energies,
and a padded dense view for the MLP and the Transformer.

Every model answers with one logit per *pointer candidate*: for each node v, its
in-neighbours u (edge u -> v) and v itself. Candidates are laid out as the batch's edges
followed by one self-candidate per node, so segment operations group them by receiver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from .graphs import Graph
from .oracle import solve_cached


def segment_max(x: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    out = torch.full((num_segments,), float("-inf"), dtype=x.dtype, device=x.device)
    return out.scatter_reduce(0, index, x, reduce="amax", include_self=True)


def segment_log_softmax(logits: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Log-softmax of ``logits`` within each group ``index`` (numerically stable)."""
    shifted = logits - segment_max(logits, index, num_segments).detach()[index]
    denom = torch.zeros(num_segments, dtype=logits.dtype, device=logits.device).index_add_(0, index, shifted.exp())
    return shifted - denom.log()[index]


def segment_argmax(x: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Position (into ``x``) of each group's maximum; ties go to the first position."""
    best = segment_max(x, index, num_segments)
    is_best = x == best[index]
    pos = torch.arange(x.numel(), device=x.device)
    big = torch.full_like(pos, x.numel())
    out = torch.full((num_segments,), x.numel(), dtype=torch.long, device=x.device)
    return out.scatter_reduce(0, index, torch.where(is_best, pos, big), reduce="amin", include_self=True)


@dataclass
class PaddedView:
    """Dense ``[B, n, n]`` tensors, zero-padded to ``n`` nodes."""

    weights: torch.Tensor  # [B, n, n] float, W[b, u, v] = w(u -> v), 0 where no edge
    adjacency: torch.Tensor  # [B, n, n] bool, edge u -> v
    node_mask: torch.Tensor  # [B, n] bool, real (non-padding) nodes
    is_source: torch.Tensor  # [B, n] float


@dataclass
class GraphBatch:
    """Tensors for a batch of graphs (global node ids: graph b's nodes follow graph b-1's)."""

    graphs: list[Graph]
    sizes: torch.Tensor  # [B] long, nodes per graph
    offsets: torch.Tensor  # [B] long, first global node id of each graph
    node_graph: torch.Tensor  # [N] long, graph index of each node
    is_source: torch.Tensor  # [N] float, 1.0 at each graph's source
    senders: torch.Tensor  # [E] long, global ids
    receivers: torch.Tensor  # [E] long
    weights: torch.Tensor  # [E] float
    target_pi: torch.Tensor | None  # [N] long, global id of the true predecessor (None if unknown)
    target_dist: torch.Tensor | None  # [N] float, true distances (inf if unreachable)
    _padded: dict = field(default_factory=dict, repr=False)

    @property
    def num_graphs(self) -> int:
        return len(self.graphs)

    @property
    def num_nodes(self) -> int:
        return int(self.node_graph.numel())

    @property
    def num_edges(self) -> int:
        return int(self.senders.numel())

    @property
    def device(self) -> torch.device:
        return self.senders.device

    # -- pointer candidates: the edges, then one self-candidate per node ---------------------
    @property
    def cand_src(self) -> torch.Tensor:
        return torch.cat([self.senders, torch.arange(self.num_nodes, device=self.device)])

    @property
    def cand_dst(self) -> torch.Tensor:
        return torch.cat([self.receivers, torch.arange(self.num_nodes, device=self.device)])

    @property
    def cand_weight(self) -> torch.Tensor:
        return torch.cat([self.weights, torch.zeros(self.num_nodes, device=self.device)])

    @property
    def cand_is_self(self) -> torch.Tensor:
        return torch.cat([torch.zeros(self.num_edges, device=self.device), torch.ones(self.num_nodes, device=self.device)])

    def target_candidate(self) -> torch.Tensor:
        """[N] index into the candidates of each node's true predecessor."""
        if self.target_pi is None:
            raise ValueError("this batch carries no ground truth")
        n, e = self.num_nodes, self.num_edges
        # edges are sorted by (receiver, sender) within each graph, hence globally too
        keys = self.receivers * n + self.senders
        query = torch.arange(n, device=self.device) * n + self.target_pi
        pos = torch.searchsorted(keys, query).clamp(max=max(e - 1, 0))
        found = (keys[pos] == query) if e else torch.zeros(n, dtype=torch.bool, device=self.device)
        is_self = self.target_pi == torch.arange(n, device=self.device)
        if not bool((found | is_self).all()):
            raise ValueError("a target predecessor is neither an in-neighbour nor the node itself")
        return torch.where(is_self, e + torch.arange(n, device=self.device), pos)

    def pointer_log_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-candidate log-probabilities, normalised over each node's candidates."""
        return segment_log_softmax(logits, self.cand_dst, self.num_nodes)

    def chosen_pointers(self, best: torch.Tensor) -> torch.Tensor:
        """[N] global predecessor ids from each node's chosen candidate ``best``; sources point to themselves."""
        return torch.where(self.is_source > 0, torch.arange(self.num_nodes, device=self.device), self.cand_src[best])

    def decode_pointers(self, logits: torch.Tensor) -> list[np.ndarray]:
        """Greedy pointers per graph (local node ids); sources point to themselves."""
        pi = self.chosen_pointers(segment_argmax(logits, self.cand_dst, self.num_nodes))
        return self.split_nodes(pi - self.offsets[self.node_graph])

    def split_nodes(self, x: torch.Tensor) -> list[np.ndarray]:
        """A per-node tensor -> one numpy array per graph."""
        return [a.numpy() for a in torch.split(x.detach().cpu(), self.sizes.tolist())]

    def padded(self, n: int | None = None) -> PaddedView:
        """The dense view, padded to ``n`` nodes (default: the largest graph)."""
        n = int(self.sizes.max()) if n is None else n
        if n not in self._padded:
            b = self.node_graph[self.senders]
            u = self.senders - self.offsets[b]
            v = self.receivers - self.offsets[b]
            W = torch.zeros(self.num_graphs, n, n, device=self.device)
            A = torch.zeros(self.num_graphs, n, n, dtype=torch.bool, device=self.device)
            W[b, u, v] = self.weights
            A[b, u, v] = True
            local = torch.arange(self.num_nodes, device=self.device) - self.offsets[self.node_graph]
            mask = torch.zeros(self.num_graphs, n, dtype=torch.bool, device=self.device)
            mask[self.node_graph, local] = True
            src = torch.zeros(self.num_graphs, n, device=self.device)
            src[self.node_graph, local] = self.is_source
            self._padded[n] = PaddedView(W, A, mask, src)
        return self._padded[n]

    def gather_dense(self, scores: torch.Tensor) -> torch.Tensor:
        """Dense ``scores[b, v, u]`` ("v points to u") -> one logit per candidate."""
        b = self.node_graph[self.cand_dst]
        v = self.cand_dst - self.offsets[b]
        u = self.cand_src - self.offsets[b]
        return scores[b, v, u]

    def to(self, device) -> "GraphBatch":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return GraphBatch(self.graphs, *(move(getattr(self, f)) for f in (
            "sizes", "offsets", "node_graph", "is_source", "senders", "receivers", "weights",
            "target_pi", "target_dist")))


def collate(graphs: Sequence[Graph], with_targets: bool = True) -> GraphBatch:
    """Stack graphs into a `GraphBatch`. Targets come from the exact oracle when requested."""
    graphs = list(graphs)
    if not graphs:
        raise ValueError("cannot batch an empty list of graphs")
    sizes = np.array([g.num_nodes for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    node_graph = np.repeat(np.arange(len(graphs)), sizes)
    is_source = np.zeros(sizes.sum(), dtype=np.float32)
    is_source[offsets + np.array([g.source for g in graphs])] = 1.0
    senders = np.concatenate([g.senders + o for g, o in zip(graphs, offsets)])
    receivers = np.concatenate([g.receivers + o for g, o in zip(graphs, offsets)])
    weights = np.concatenate([g.weights for g in graphs]).astype(np.float32)
    target_pi = target_dist = None
    if with_targets:
        sols = [solve_cached(g) for g in graphs]
        target_pi = torch.from_numpy(np.concatenate([pi + o for (_, pi), o in zip(sols, offsets)]))
        target_dist = torch.from_numpy(np.concatenate([d for d, _ in sols]).astype(np.float32))
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return GraphBatch(graphs, t(sizes), t(offsets), t(node_graph), t(is_source), t(senders.astype(np.int64)),
                      t(receivers.astype(np.int64)), t(weights), target_pi, target_dist)
