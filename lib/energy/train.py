"""Training energy models, three ways (a config option), through the run cache:

* ``"irem"`` (Du et al. 2022, IREM): K gradient steps on the candidate from a random start,
  the loss on the final iterate, backpropagating through the last ``truncate`` steps, with a
  replay buffer of earlier final iterates as starting points. The inner step size is learned.
* ``"contrastive"``: the true solution against negatives from corruption (noise, subtree
  shifts, pointer swaps) and from the model's own search; an NCE loss.
* ``"denoise"`` (after IRED, Du et al. 2024): a ladder of noise levels, each its own landscape
  (the level is an input); denoising score matching plus an NCE term per level. Search runs
  coarse to fine, rejecting uphill steps.
* ``"residual"``: supervise each node's energy with the exact local check on corrupted and
  searched candidates — the squared Bellman residual ``(y_v - min_u (y_u + w_uv))^2`` — so
  the verifier imitates the exact verifier, as a generator imitates the exact solver.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..batching import GraphBatch, collate
from ..metrics import evaluate_predictions
from ..runs import RunCache, atomic_write_json, config_from_json, config_hash
from ..samplers import sample_split
from ..search import energy_and_grad
from ..seeding import resolve_device, set_seed
from ..train import log_evaluation
from .candidates import corrupt, init_candidate, reachable_mask, target_candidate
from .model import EnergyConfig, EnergyModel
from .solve import SearchSettings, search_candidates

METHODS = ("irem", "contrastive", "denoise", "residual")


@dataclass(frozen=True)
class EnergyTrainConfig:
    KIND: ClassVar[str] = "energy"  # run-cache kind

    model: str = "energy"  # run-name prefix
    energy_args: dict = field(default_factory=dict)  # fields of EnergyConfig (candidate, hidden, layers, ...)
    method: str = "irem"  # "irem", "contrastive" or "denoise"
    seed: int = 0  # training seed (data splits have their own)
    train_split: str = "train"  # named split the training graphs come from
    train_graphs: int = 1000  # size of the fixed training set
    steps: int = 1500  # optimizer steps
    batch_size: int = 32  # graphs per step
    lr: float = 1e-3  # AdamW learning rate (cosine decay to 10%)
    weight_decay: float = 0.0  # AdamW weight decay
    grad_clip: float = 1.0  # gradient-norm clip
    inner_steps: int = 10  # IREM: gradient steps on the candidate per training example
    inner_lr: float = 0.1  # initial inner step size (learned in IREM)
    truncate: int = 5  # IREM: backpropagate through the last this-many inner steps
    replay: float = 0.5  # IREM: fraction of starts drawn from the replay buffer
    negatives: int = 4  # contrastive/denoise: negatives per positive
    search_negatives: bool = True  # contrastive: add the model's own search results as negatives
    levels: int = 10  # denoise: number of noise levels (landscapes)
    sigma_max: float = 1.0  # denoise: coarsest noise scale
    sigma_min: float = 0.01  # denoise: finest noise scale
    energy_reg: float = 0.01  # weight of the E^2 regulariser that keeps energies bounded
    stationary: float = 1.0  # contrastive: weight of |dE/dy|^2 at the true solution (truth is a minimum)
    residual_power: float = 2.0  # residual: node energies regress |Bellman residual| ** power
    search: dict = field(default_factory=dict)  # default test-time SearchSettings fields
    eval_every: int = 250  # steps between validation points
    val_graphs: int = 32  # validation graphs (n = 16)
    label: str = ""  # human-readable name; not part of the cache key

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown training method {self.method!r}; choose from {METHODS}")
        args = dict(self.energy_args)
        if self.method == "denoise":
            args.setdefault("noise_levels", self.levels)
        EnergyConfig(**args)
        SearchSettings(**self.search)
        if self.truncate > self.inner_steps or self.batch_size > self.train_graphs or self.steps < 1:
            raise ValueError("need truncate <= inner_steps, batch_size <= train_graphs and steps >= 1")

    @property
    def energy_config(self) -> EnergyConfig:
        args = dict(self.energy_args)
        if self.method == "denoise":
            args.setdefault("noise_levels", self.levels)
        return EnergyConfig(**args)

    def search_settings(self, **overrides) -> SearchSettings:
        """Test-time search settings: the config's defaults, then ``overrides`` (``search_steps``
        is accepted as an alias of ``steps``; ``None`` values are ignored)."""
        if "search_steps" in overrides:
            overrides["steps"] = overrides.pop("search_steps")
        defaults = {"routine": "annealed" if self.method == "denoise" else "gd", "levels": self.levels,
                    "sigma_max": self.sigma_max, "sigma_min": self.sigma_min}
        return SearchSettings(**{**defaults, **self.search, **{k: v for k, v in overrides.items() if v is not None}})

    def replace(self, **changes) -> "EnergyTrainConfig":
        import dataclasses

        return dataclasses.replace(self, **changes)


class EnergyRun:
    """A finished energy run: the model, its learned inner step size, and its search."""

    def __init__(self, path: Path, config: EnergyTrainConfig, metrics: dict):
        self.path, self.config, self.metrics = path, config, metrics

    @property
    def name(self) -> str:
        return self.path.name

    def model(self, device: str = "cpu") -> EnergyModel:
        model = EnergyModel(self.config.energy_config)
        state = torch.load(self.path / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        model.step_size = float(state["step_size"])
        return model.to(resolve_device(device)).eval()

    def solver(self, device: str = "auto", **options):
        from .solve import EnergySolver

        return EnergySolver(self, device, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", **search_overrides) -> dict:
        """Metrics of search + decoding on a named split, cached in the run folder."""
        steps = search_overrides.pop("search_steps", None)
        return self.evaluate_budgets(split, num_graphs, [steps if steps is not None else
                                                         self.config.search_settings().steps],
                                     device, **search_overrides)[0]

    def evaluate_budgets(self, split: str, num_graphs: int, budgets, device: str = "auto",
                         **search_overrides) -> list[dict]:
        """Metrics at several search budgets (one search where the routine allows), cached."""
        def key(k):
            settings = self.config.search_settings(steps=k, **search_overrides)
            return json.dumps({"split": split, "num_graphs": num_graphs, **settings.__dict__}, sort_keys=True)

        cache_path = self.path / "evals.json"
        cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
        missing = [k for k in budgets if key(k) not in cache]
        if missing:
            graphs = sample_split(split, num_graphs)
            solver = self.solver(device, **search_overrides)
            found = {key(k): evaluate_predictions(graphs, preds)
                     for k, preds in solver.solve_budgets(graphs, missing).items()}
            fresh = json.loads(cache_path.read_text()) if cache_path.exists() else {}
            atomic_write_json(cache_path, {**fresh, **found})
            cache.update(found)
        return [cache[key(k)] for k in budgets]


def load_energy_run(path: Path) -> EnergyRun:
    data = json.loads((path / "config.json").read_text())
    return EnergyRun(path, config_from_json(EnergyTrainConfig, data), json.loads((path / "metrics.json").read_text()))


# -- losses -------------------------------------------------------------------------------------

def _target_loss(batch: GraphBatch, kind: str, y: torch.Tensor) -> torch.Tensor:
    """How far a candidate is from the truth: smooth-L1 on reachable distances, or pointer CE."""
    if kind == "distance":
        keep = reachable_mask(batch)
        return F.smooth_l1_loss(y[keep], batch.target_dist[keep], beta=0.05)
    from ..batching import segment_log_softmax

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
    from ..batching import segment_argmax

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


# -- the loop -----------------------------------------------------------------------------------

def train_energy(cfg: EnergyTrainConfig, cache: RunCache | None = None, device: str = "auto",
                 progress: bool = True) -> EnergyRun:
    """Train (or load from the run cache) an energy model."""
    cache = cache or RunCache()
    if cache.exists(cfg):
        return load_energy_run(cache.path_for(cfg))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_energy(cfg, cache, resolve_device(device), progress)
    finally:
        torch.set_num_threads(threads)


def _train_energy(cfg: EnergyTrainConfig, cache: RunCache, dev: torch.device, progress: bool) -> EnergyRun:
    gen = set_seed(cfg.seed)
    kind = cfg.energy_config.candidate
    model = EnergyModel(cfg.energy_config).to(dev)
    log_step = torch.nn.Parameter(torch.tensor(math.log(cfg.inner_lr), device=dev))
    params = list(model.parameters()) + ([log_step] if cfg.method == "irem" else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    data = sample_split(cfg.train_split, cfg.train_graphs)
    val = sample_split("val", cfg.val_graphs)
    rng = np.random.default_rng(cfg.seed)
    buffer: dict[int, np.ndarray] = {}
    curve: dict[str, list] = {"step": [], "train_loss": [], "val_pointer_accuracy": [], "val_exact_match": []}
    running, t0 = [], time.perf_counter()
    bar = tqdm(range(cfg.steps), desc=cfg.label or f"energy-{cfg.method}", disable=not progress, leave=False,
               mininterval=1.0)
    for step in bar:
        model.train()
        idx = rng.choice(len(data), cfg.batch_size, replace=False)
        batch = collate([data[i] for i in idx]).to(dev)
        warm = max(1, cfg.steps // 20)
        frac = max(0.0, (step - warm) / max(1, cfg.steps - warm))
        for group in opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))
        if cfg.method == "irem":
            y0 = _irem_starts(batch, kind, idx, buffer, rng, gen, cfg.replay)
            loss, y_final, parts = irem_loss(model, log_step, batch, kind, y0, cfg)
            _store(buffer, batch, kind, idx, y_final)
        elif cfg.method == "contrastive":
            loss, parts = contrastive_loss(model, batch, kind, rng, gen, cfg, float(log_step.detach().exp()))
        elif cfg.method == "residual":
            loss, parts = residual_loss(model, batch, kind, rng, gen, cfg, float(log_step.detach().exp()))
        else:
            loss, parts = denoise_loss(model, batch, kind, gen, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        running.append(float(loss.detach()))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            model.step_size = float(log_step.detach().exp())
            log_evaluation(curve, step + 1, running, _validate(model, val, kind, cfg, dev), bar)
    bar.close()
    state = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
             "step_size": torch.tensor(float(log_step.detach().exp()))}
    metrics = {"curve": curve, "train_seconds": time.perf_counter() - t0,
               "parameters": sum(p.numel() for p in model.parameters()), "step_size": float(log_step.detach().exp()),
               "final_val_pointer_accuracy": curve["val_pointer_accuracy"][-1], "device": str(dev)}
    return load_energy_run(cache.commit(cfg, metrics, state))


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


@torch.no_grad()
def _validate(model: EnergyModel, graphs, kind: str, cfg: EnergyTrainConfig, dev) -> dict:
    from .candidates import decode

    model.eval()
    batch = collate(graphs).to(dev)
    gen = torch.Generator().manual_seed(12345)
    y = search_candidates(model, batch, kind, cfg.search_settings(), gen)
    return evaluate_predictions(graphs, decode(batch, kind, y))


__all__ = ["EnergyTrainConfig", "EnergyRun", "train_energy", "load_energy_run", "config_hash"]
