"""The energy models' training objectives, by name: each maps one training step's context
to ``(loss, parts)``, where ``parts`` are floats for the progress bar.

* ``"irem"`` (Du et al. 2022, IREM): K gradient steps on the candidate from a random start,
  the loss on the final iterate, backpropagating through the last ``truncate`` steps, with a
  replay buffer of earlier final iterates as starting points. The inner step size is learned.
* ``"contrastive"``: the true solution against negatives from corruption (noise, subtree
  shifts, pointer swaps) and from the model's own search; an NCE loss.
* ``"denoise"`` (after IRED, Du et al. 2024): a ladder of noise levels, each its own landscape
  (the level is an input); denoising score matching plus an NCE term per level. Search runs
  coarse to fine, rejecting uphill steps.
* ``"residual"``: supervise each node's energy with the exact local check on corrupted and
  searched candidates — the Bellman residual ``|y_v - min_u (y_u + w_uv)|`` — so the verifier
  is distilled from the exact checker, as a generator imitates the exact solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..batching import GraphBatch, segment_argmax, segment_log_softmax
from ..search.continuous import energy_and_grad
from .config import EnergyTrainConfig
from .candidates import corrupt, init_candidate, reachable_mask, target_candidate
from .model import EnergyModel
from .solve import SearchSettings, search_candidates


@dataclass
class StepContext:
    """Everything one training step of an energy model may use."""

    model: EnergyModel
    log_step: torch.nn.Parameter  # log of the inner (search) step size; learned by IREM
    batch: GraphBatch
    kind: str  # candidate kind: "distance" or "pointer"
    idx: np.ndarray  # training-set indices of the batch's graphs
    rng: np.random.Generator
    gen: torch.Generator
    cfg: EnergyTrainConfig
    buffer: dict  # IREM replay buffer: training index -> last final iterate

    @property
    def step_size(self) -> float:
        return float(self.log_step.detach().exp())



def _target_loss(batch: GraphBatch, kind: str, y: torch.Tensor) -> torch.Tensor:
    """How far a candidate is from the truth: smooth-L1 on reachable distances, or pointer CE."""
    if kind == "distance":
        keep = reachable_mask(batch)
        return F.smooth_l1_loss(y[keep], batch.target_dist[keep], beta=0.05)
    logp = segment_log_softmax(y, batch.cand_dst, batch.num_nodes)
    return -logp[batch.target_candidate()][batch.is_source == 0].mean()


def _nce(e_pos: torch.Tensor, e_neg: torch.Tensor) -> torch.Tensor:
    """-log softmax(-E) of the positive among {positive, negatives}; e_neg is [K, B]."""
    logits = torch.cat([-e_pos.unsqueeze(0), -e_neg], 0)  # [1 + K, B]
    return -(logits[0] - torch.logsumexp(logits, 0)).mean()


def irem_loss(model: EnergyModel, log_step: torch.Tensor, batch: GraphBatch, kind: str, y0: torch.Tensor,
              cfg: EnergyTrainConfig) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Unroll ``inner_steps`` of gradient descent; loss on the final iterate."""
    y = y0.detach()
    step = log_step.exp()
    for k in range(cfg.inner_steps):
        if k < cfg.inner_steps - cfg.truncate:
            _, g = energy_and_grad(lambda c: model(batch, c), y)
            y = (y - step.detach() * g).detach()
        else:
            y = y.detach().requires_grad_(True) if k == cfg.inner_steps - cfg.truncate else y
            e = model(batch, y)
            (g,) = torch.autograd.grad(e.sum(), y, create_graph=True)
            y = y - step * g
    loss = _target_loss(batch, kind, y)
    e_final = model(batch, y)
    reg = cfg.energy_reg * (e_final ** 2).mean()
    parts = {"target_loss": float(loss.detach())}
    if cfg.stationary > 0:  # make the truth itself a minimum: zero gradient, lower energy than the iterate
        pos = target_candidate(batch, kind).detach().requires_grad_(True)
        e_pos = model(batch, pos)
        (g,) = torch.autograd.grad(e_pos.sum(), pos, create_graph=True)
        keep = reachable_mask(batch) if kind == "distance" else torch.ones_like(pos, dtype=torch.bool)
        stat = (g[keep] ** 2).mean()
        wrong = _is_wrong(batch, kind, y.detach())
        rank = (F.softplus(e_pos - model(batch, y.detach())) * wrong).mean()
        loss = loss + cfg.stationary * (stat + rank)
        parts.update(stationary=float(stat.detach()), rank=float(rank.detach()))
    return loss + reg, y.detach(), parts


def contrastive_loss(model: EnergyModel, batch: GraphBatch, kind: str, rng: np.random.Generator,
                     gen: torch.Generator, cfg: EnergyTrainConfig, step_size: float) -> tuple[torch.Tensor, dict]:
    pos = target_candidate(batch, kind)
    negs = [corrupt(batch, kind, pos, rng) for _ in range(cfg.negatives)]
    e_neg = [model(batch, n) for n in negs]
    if cfg.search_negatives:
        settings = SearchSettings(steps=cfg.inner_steps, lr=step_size)
        found = search_candidates(model, batch, kind, settings, gen).detach()
        wrong = _is_wrong(batch, kind, found)  # a search result that is right is no negative
        e_neg.append(torch.where(wrong, model(batch, found), torch.full_like(e_neg[0], 1e4)))
    e_neg = torch.stack(e_neg)
    pos_req = pos.detach().requires_grad_(True)
    e_pos = model(batch, pos_req)
    (g,) = torch.autograd.grad(e_pos.sum(), pos_req, create_graph=True)
    keep = reachable_mask(batch) if kind == "distance" else torch.ones_like(pos, dtype=torch.bool)
    stat = (g[keep] ** 2).mean()
    loss = _nce(e_pos, e_neg)
    finite = e_neg < 1e3
    reg = cfg.energy_reg * ((e_pos ** 2).mean() + (e_neg[finite] ** 2).mean())
    return loss + reg + cfg.stationary * stat, {"nce": float(loss.detach()), "stationary": float(stat.detach()),
                                                "gap": float((e_neg[:cfg.negatives].mean(0) - e_pos).mean().detach())}


def _is_wrong(batch: GraphBatch, kind: str, y: torch.Tensor, tol: float = 0.02) -> torch.Tensor:
    """[B] does this candidate differ from the truth (distances off by > tol, or a wrong pointer)?"""
    if kind == "distance":
        keep = reachable_mask(batch)
        err = torch.zeros(batch.num_graphs, device=y.device).scatter_reduce(
            0, batch.node_graph[keep], (y[keep] - batch.target_dist[keep]).abs(), "amax", include_self=True)
        return err > tol
    best = segment_argmax(y, batch.cand_dst, batch.num_nodes)
    bad = (best != batch.target_candidate()).float()
    return torch.zeros(batch.num_graphs, device=y.device).index_add(0, batch.node_graph, bad) > 0


def bellman_residual(batch: GraphBatch, y: torch.Tensor) -> torch.Tensor:
    """Exact per-node residual of distance candidates: ``y_s`` at the source,
    ``y_v - min_u (y_u + w_uv)`` elsewhere (0 for nodes without in-edges)."""
    cand = y[batch.senders] + batch.weights
    best = torch.full_like(y, float("inf")).scatter_reduce(0, batch.receivers, cand, reduce="amin", include_self=True)
    r = torch.where(torch.isfinite(best), y - best, torch.zeros_like(y))
    return torch.where(batch.is_source > 0, y, r)


def residual_loss(model: EnergyModel, batch: GraphBatch, kind: str, rng: np.random.Generator,
                  gen: torch.Generator, cfg: EnergyTrainConfig, step_size: float) -> tuple[torch.Tensor, dict]:
    """Regress per-node energies onto |exact residual| ** power, on the truth, its corruptions,
    random starts and the model's own search iterates (reachable nodes only)."""
    if kind != "distance":
        raise ValueError("the residual method scores distance candidates")
    pos = target_candidate(batch, kind)
    cands = [pos] + [corrupt(batch, kind, pos, rng) for _ in range(cfg.negatives)]
    cands.append(init_candidate(batch, kind, gen))
    if cfg.search_negatives:
        settings = SearchSettings(steps=cfg.inner_steps, lr=step_size)
        cands.append(search_candidates(model, batch, kind, settings, gen).detach())
    keep = reachable_mask(batch)
    losses = []
    for y in cands:
        target = bellman_residual(batch, y).abs() ** cfg.residual_power
        losses.append(F.smooth_l1_loss(model.node_energies(batch, y)[keep], target[keep], beta=0.01))
    loss = torch.stack(losses).mean()
    return loss, {"residual_fit": float(loss.detach())}


def sigmas(cfg: EnergyTrainConfig) -> torch.Tensor:
    """Noise scales, coarse (level 0) to fine (level L-1), geometric."""
    return torch.logspace(math.log10(cfg.sigma_max), math.log10(cfg.sigma_min), cfg.levels)


def denoise_loss(model: EnergyModel, batch: GraphBatch, kind: str, gen: torch.Generator,
                 cfg: EnergyTrainConfig) -> tuple[torch.Tensor, dict]:
    """Denoising score matching at a random level per graph, plus NCE against noisier copies."""
    pos = target_candidate(batch, kind)
    levels = torch.randint(0, cfg.levels, (batch.num_graphs,), generator=gen).to(pos.device)
    sig = sigmas(cfg).to(pos.device)[levels]
    per_item = batch.node_graph if kind == "distance" else batch.node_graph[batch.cand_dst]
    eps = torch.randn(pos.shape, generator=gen).to(pos.device)
    noisy = (pos + sig[per_item] * eps).detach().requires_grad_(True)
    e = model(batch, noisy, levels)
    (g,) = torch.autograd.grad(e.sum(), noisy, create_graph=True)
    mask = reachable_mask(batch) if kind == "distance" else torch.ones_like(pos, dtype=torch.bool)
    dsm = ((sig[per_item] * g - eps) ** 2)[mask].mean()
    negs = torch.stack([model(batch, pos + sig[per_item] * torch.randn(pos.shape, generator=gen).to(pos.device),
                              levels) for _ in range(cfg.negatives)])
    e_pos = model(batch, pos, levels)
    nce = _nce(e_pos, negs)
    reg = cfg.energy_reg * ((e_pos ** 2).mean() + (negs ** 2).mean())
    return dsm + nce + reg, {"dsm": float(dsm.detach()), "nce": float(nce.detach())}


def _irem(ctx: StepContext) -> tuple[torch.Tensor, dict]:
    y0 = _irem_starts(ctx.batch, ctx.kind, ctx.idx, ctx.buffer, ctx.rng, ctx.gen, ctx.cfg.replay)
    loss, y_final, parts = irem_loss(ctx.model, ctx.log_step, ctx.batch, ctx.kind, y0, ctx.cfg)
    _store(ctx.buffer, ctx.batch, ctx.kind, ctx.idx, y_final)
    return loss, parts


def _irem_starts(batch, kind, idx, buffer, rng, gen, replay: float) -> torch.Tensor:
    """Random starts, with a fraction replaced by each graph's last final iterate (replay)."""
    y0 = init_candidate(batch, kind, gen)
    items = batch.node_graph if kind == "distance" else batch.node_graph[batch.cand_dst]
    for b, i in enumerate(idx):
        if int(i) in buffer and rng.random() < replay:
            y0[items == b] = torch.from_numpy(buffer[int(i)]).to(y0.device)
    return y0


def _store(buffer, batch, kind, idx, y_final: torch.Tensor) -> None:
    items = batch.node_graph if kind == "distance" else batch.node_graph[batch.cand_dst]
    for b, i in enumerate(idx):
        buffer[int(i)] = y_final[items == b].cpu().numpy()


#: Objective name -> one training step's loss.
OBJECTIVES: dict[str, Callable[[StepContext], tuple[torch.Tensor, dict]]] = {
    "irem": _irem,
    "contrastive": lambda c: contrastive_loss(c.model, c.batch, c.kind, c.rng, c.gen, c.cfg, c.step_size),
    "denoise": lambda c: denoise_loss(c.model, c.batch, c.kind, c.gen, c.cfg),
    "residual": lambda c: residual_loss(c.model, c.batch, c.kind, c.rng, c.gen, c.cfg, c.step_size),
}

__all__ = ["StepContext", "OBJECTIVES", "bellman_residual", "sigmas", "irem_loss", "contrastive_loss",
           "residual_loss", "denoise_loss"]
