"""Model-level measurements for the regularization study: parameter norm and sharpness."""

from __future__ import annotations

import copy

import torch

from .batching import GraphBatch
from .models.base import pointer_loss


def parameter_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all parameters."""
    return float(torch.sqrt(sum((p.detach() ** 2).sum() for p in model.parameters())))


@torch.no_grad()
def sharpness(model, batch: GraphBatch, rho: float = 0.05, draws: int = 8, seed: int = 0, **loss_kw) -> float:
    """Mean loss increase when every parameter tensor is perturbed by a random direction of
    relative size ``rho`` (``||delta_i|| = rho * ||theta_i||``), over ``draws`` draws."""
    model = model.eval()
    base = float(_eval_loss(model, batch, **loss_kw))
    gen = torch.Generator().manual_seed(seed)
    rises = []
    for _ in range(draws):
        noisy = copy.deepcopy(model)
        for p in noisy.parameters():
            d = torch.randn(p.shape, generator=gen).to(p.device)
            p.add_(d * (rho * p.norm() / d.norm().clamp(min=1e-12)))
        rises.append(float(_eval_loss(noisy, batch, **loss_kw)) - base)
    return float(sum(rises) / len(rises))


def _eval_loss(model, batch: GraphBatch, **loss_kw) -> torch.Tensor:
    iterations = loss_kw.get("iterations")
    out = model(batch, iterations=iterations) if iterations is not None else model(batch)
    return pointer_loss(batch, out.pointer_logits)
