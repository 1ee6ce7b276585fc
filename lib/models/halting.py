"""Running a recurrent graph model until each graph's answer settles.

A recurrent model provides ``initial_state(batch) -> (h, x)``, ``step(h, x, batch, 1) -> h``
and ``pointer_logits(h, batch)``. Each graph stops once its greedy pointers (``on="pointers"``)
or its node states (``on="state"``, exact equality: for models with a true fixed point) have
not changed for ``patience`` consecutive iterations; ``cap`` bounds the iterations of a graph
that never settles.
"""

from __future__ import annotations

import torch

from ..batching import GraphBatch, segment_argmax


HALT_CRITERIA = ("pointers", "state")


def run_until_stable(model, batch: GraphBatch, cap: int, patience: int,
                     on: str = "pointers") -> tuple[torch.Tensor, torch.Tensor]:
    """The final node states and the iterations each graph used ([B] long)."""
    if on not in HALT_CRITERIA:
        raise ValueError(f"unknown halting criterion {on!r}; choose from {HALT_CRITERIA}")
    h, x = model.initial_state(batch)
    used = torch.zeros(batch.num_graphs, dtype=torch.long, device=h.device)
    running = torch.ones(batch.num_graphs, dtype=torch.bool, device=h.device)
    still = torch.zeros(batch.num_graphs, dtype=torch.long, device=h.device)  # iterations without a change
    previous = _pointers(model, h, batch) if on == "pointers" else None
    for t in range(1, cap + 1):
        active = running[batch.node_graph].unsqueeze(1)
        nxt = torch.where(active, model.step(h, x, batch, 1), h)
        used = torch.where(running, torch.full_like(used, t), used)
        if on == "state":
            moved = (nxt != h).any(dim=1)
        else:
            current = _pointers(model, nxt, batch)
            moved, previous = current != previous, current
        h = nxt
        changes = torch.zeros(batch.num_graphs, device=h.device).index_add_(0, batch.node_graph, moved.float())
        still = torch.where(changes > 0, torch.zeros_like(still), still + 1)
        running = running & (still < patience)
        if not bool(running.any()):
            break
    return h, used


def forward_halting(model, batch: GraphBatch, iterations: int, patience: int, on: str = "pointers"):
    """A recurrent model's output after running until each graph settles (``iterations`` as the
    cap), carrying the iterations each graph used."""
    h, used = run_until_stable(model, batch, iterations, patience, on)
    out = model.readout(h, batch)
    out.iterations = used
    return out


def _pointers(model, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
    return segment_argmax(model.pointer_logits(h, batch), batch.cand_dst, batch.num_nodes)


@torch.no_grad()
def state_drift(model, batch: GraphBatch, iterations: int) -> dict[str, list[float]]:
    """Per iteration t = 1..iterations: the mean node-state norm and the mean relative change
    ||h_t - h_{t-1}|| / ||h_{t-1}|| (measured, so drift is shown rather than assumed)."""
    h, x = model.initial_state(batch)
    norms, changes = [], []
    for _ in range(iterations):
        nxt = model.step(h, x, batch, 1)
        changes.append(float(((nxt - h).norm(dim=1) / h.norm(dim=1).clamp(min=1e-8)).mean()))
        norms.append(float(nxt.norm(dim=1).mean()))
        h = nxt
    return {"state_norm": norms, "relative_change": changes}
