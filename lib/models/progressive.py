"""The progressive loss of Deep Thinking (Bansal et al. 2022, "End-to-end algorithm synthesis
with recurrent networks"), shared by the looped models.

With probability weights (1 - alpha, alpha) it mixes the loss after the full T iterations
with a *progressive* loss: run n ~ U{0..T-1} iterations without gradient, then k ~ U{1..T-n}
more with gradient from that detached state. The model cannot rely on knowing which
iteration it is on, which is what lets it keep improving when run longer at test time.

A looped model provides ``initial_state(batch) -> (h, x)``, ``step(h, x, batch, k) -> h``
and ``readout(h, batch) -> ModelOutput``.
"""

from __future__ import annotations

import torch

from ..batching import GraphBatch
from .base import distance_loss, pointer_loss


def check_loop_config(cfg) -> None:
    """What every looped model's config must satisfy: at least one iteration, alpha in [0, 1]."""
    if cfg.iterations < 1 or not 0.0 <= cfg.progressive_alpha <= 1.0:
        raise ValueError("iterations must be >= 1 and progressive_alpha in [0, 1]")


def _output_loss(out, batch: GraphBatch, distance_weight: float) -> torch.Tensor:
    loss = pointer_loss(batch, out.pointer_logits)
    if distance_weight > 0 and out.dist is not None:
        loss = loss + distance_weight * distance_loss(batch, out.dist)
    return loss


def progressive_loss(model, batch: GraphBatch, distance_weight: float, iterations: int, alpha: float):
    """(1 - alpha) * loss after T iterations + alpha * progressive loss; returns (loss, parts)."""
    h0, x = model.initial_state(batch)
    parts = {}
    total = torch.zeros((), device=batch.device)
    if alpha < 1.0:
        full = _output_loss(model.readout(model.step(h0, x, batch, iterations), batch), batch, distance_weight)
        total = total + (1 - alpha) * full
        parts["full_loss"] = float(full.detach())
    if alpha > 0.0:
        n = int(torch.randint(0, iterations, (1,)))
        k = int(torch.randint(1, iterations - n + 1, (1,)))
        with torch.no_grad():
            h = model.step(h0, x, batch, n)
        h = model.step(h.detach(), x, batch, k)
        prog = _output_loss(model.readout(h, batch), batch, distance_weight)
        total = total + alpha * prog
        parts["progressive_loss"] = float(prog.detach())
    parts["pointer_loss"] = parts.get("full_loss", parts.get("progressive_loss"))
    return total, parts
