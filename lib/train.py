"""Training: a seeded config dataclass, a tqdm loop, and the run cache in front of it.

``train(cfg)`` returns the cached `Run` when one exists for ``cfg``'s hash; otherwise it
trains, evaluates a learning curve on the validation split and commits the run atomically.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from .batching import collate
from .graphs import Graph
from .metrics import Prediction, evaluate_predictions
from .models import GraphModel, build_model, model_config
from .runs import RunCache, atomic_write_json, config_from_json, config_hash, load_any_run
from .samplers import sample_split
from .seeding import resolve_device, set_seed


@dataclass(frozen=True)
class TrainConfig:
    KIND: ClassVar[str] = "graph"  # run-cache kind: graph generators trained on pointers

    model: str = "gnn"  # a key of lib.models.MODELS
    model_args: dict = field(default_factory=dict)  # overrides of that model's config fields
    seed: int = 0  # training seed: initialisation and batch order (data splits have their own)
    train_split: str = "train"  # named split the training graphs come from
    train_graphs: int = 1000  # size of the fixed training set (CLRS uses 1000)
    steps: int = 2000  # optimizer steps
    batch_size: int = 32  # graphs per step
    lr: float = 1e-3  # peak learning rate (AdamW, cosine decay to 10%)
    weight_decay: float = 0.0  # AdamW weight decay
    grad_clip: float = 1.0  # gradient-norm clip
    distance_weight: float = 0.0  # weight of the distance regression loss (0: pointers only)
    weight_noise: float = 0.0  # input noise: the model sees w * (1 + noise * N(0, 1)); targets unchanged
    loss_args: dict = field(default_factory=dict)  # extra arguments for model.loss (e.g. progressive loss)
    eval_every: int = 250  # steps between validation points on the learning curve
    val_graphs: int = 64  # graphs in the validation split (n = 16)
    early_stopping: bool = False  # keep the weights with the best validation accuracy
    label: str = ""  # human-readable name (a preset's name); not part of the cache key

    def __post_init__(self):
        model_config(self.model, **self.model_args)  # fails early on an unknown model or field
        for name in ("steps", "batch_size", "train_graphs", "eval_every", "val_graphs"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size > self.train_graphs:
            raise ValueError(f"batch_size ({self.batch_size}) exceeds train_graphs ({self.train_graphs})")

    @property
    def key(self) -> str:
        return config_hash(self)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


@dataclass
class Run:
    """A finished (cached) training run."""

    path: Path
    config: TrainConfig
    metrics: dict

    @property
    def name(self) -> str:
        return self.path.name

    def model(self, device: str = "cpu") -> GraphModel:
        model = build_model(self.config.model, **self.config.model_args)
        model.load_state_dict(torch.load(self.path / "model.pt", map_location="cpu", weights_only=True))
        return model.to(resolve_device(device)).eval()

    def solver(self, device: str = "auto", **options):
        """This run as a `Solver` (``options`` such as ``iterations`` go to ``model.predict``)."""
        from .solvers import RunSolver

        return RunSolver(self, device, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", **predict_kw) -> dict:
        """Metrics on a named split, cached in the run's folder."""
        key = json.dumps({"split": split, "num_graphs": num_graphs, **predict_kw}, sort_keys=True)
        cache_path = self.path / "evals.json"
        cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
        if key not in cache:
            graphs = sample_split(split, num_graphs)
            cache[key] = evaluate_model(self.model(device), graphs, device=device, **predict_kw)
            fresh = json.loads(cache_path.read_text()) if cache_path.exists() else {}
            atomic_write_json(cache_path, {**fresh, key: cache[key]})
        return cache[key]


def load_run(path: Path) -> Run:
    """Load a cached graph-generator run."""
    data = json.loads((path / "config.json").read_text())
    return Run(path, config_from_json(TrainConfig, data), json.loads((path / "metrics.json").read_text()))


def predict_graphs(model: GraphModel, graphs: Sequence[Graph], batch_size: int = 32, device: str = "auto",
                   **predict_kw) -> list[Prediction]:
    """Predictions for any list of graphs, batched by size to limit padding."""
    dev = resolve_device(device)
    model = model.to(dev).eval()
    order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
    preds: list[Prediction | None] = [None] * len(graphs)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        batch = collate([graphs[i] for i in idx], with_targets=False).to(dev)
        for i, p in zip(idx, model.predict(batch, **predict_kw)):
            preds[i] = p
    return preds  # type: ignore[return-value]


def evaluate_model(model: GraphModel, graphs: Sequence[Graph], device: str = "auto", **predict_kw) -> dict:
    """Tie-aware metrics of a model's greedy predictions."""
    return evaluate_predictions(graphs, predict_graphs(model, graphs, device=device, **predict_kw))


def _lr_at(step: int, cfg: TrainConfig) -> float:
    warm = max(1, cfg.steps // 20)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    frac = (step - warm) / max(1, cfg.steps - warm)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))



def log_evaluation(curve: dict, step: int, running: list, metrics: dict, bar) -> None:
    """Append one validation point to a learning curve (mean training loss since the last one,
    pointer accuracy, exact match), empty ``running`` and show the point on the progress bar."""
    curve["step"].append(step)
    curve["train_loss"].append(float(np.mean(running)))
    curve["val_pointer_accuracy"].append(metrics["pointer_accuracy"])
    curve["val_exact_match"].append(metrics["exact_match"])
    running.clear()
    bar.set_postfix(loss=f"{curve['train_loss'][-1]:.3f}", val_acc=f"{metrics['pointer_accuracy']:.3f}")

def train(cfg: TrainConfig, cache: RunCache | None = None, device: str = "auto", progress: bool = True) -> Run:
    """Train ``cfg`` (or load it from the run cache) and return the `Run`."""
    cache = cache or RunCache()
    if cache.exists(cfg):
        return load_run(cache.path_for(cfg))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # same floating-point results alone or inside a parallel sweep
    try:
        return _train(cfg, cache, resolve_device(device), progress)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: TrainConfig, cache: RunCache, dev: torch.device, progress: bool) -> Run:
    set_seed(cfg.seed)
    model = build_model(cfg.model, **cfg.model_args).to(dev)
    data = sample_split(cfg.train_split, cfg.train_graphs)
    val = sample_split("val", cfg.val_graphs)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    noise_gen = torch.Generator().manual_seed(cfg.seed + 7919)
    curve: dict[str, list] = {"step": [], "train_loss": [], "val_pointer_accuracy": [], "val_exact_match": []}
    best = (-1.0, None, 0)
    running, t0 = [], time.perf_counter()
    bar = tqdm(range(cfg.steps), desc=cfg.label or cfg.model, disable=not progress, leave=False, mininterval=1.0)
    for step in bar:
        model.train()
        idx = rng.choice(len(data), cfg.batch_size, replace=False)
        batch = collate([data[i] for i in idx]).to(dev)
        if cfg.weight_noise > 0:
            noise = torch.randn(batch.num_edges, generator=noise_gen).to(dev)
            batch.weights = (batch.weights * (1 + cfg.weight_noise * noise)).clamp(min=0.0)
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        loss, parts = model.loss(batch, cfg.distance_weight, **cfg.loss_args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        running.append(float(loss.detach()))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            m = evaluate_model(model, val, device=dev)
            log_evaluation(curve, step + 1, running, m, bar)
            if m["pointer_accuracy"] > best[0]:
                best = (m["pointer_accuracy"], copy.deepcopy(model.state_dict()), step + 1)
    bar.close()
    if cfg.early_stopping and best[1] is not None:
        model.load_state_dict(best[1])
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    metrics = {"curve": curve, "train_seconds": time.perf_counter() - t0, "parameters": model.num_parameters(),
               "best_val_step": best[2], "final_val_pointer_accuracy": curve["val_pointer_accuracy"][-1],
               "device": str(dev)}
    path = cache.commit(cfg, metrics, state)
    return load_run(path)


def find_run(name: str, cache: RunCache | None = None):
    """A cached run of any kind by name, unique prefix or label."""
    path = (cache or RunCache()).find(name)
    return load_any_run(path) if path is not None else None


def list_runs(cache: RunCache | None = None) -> list:
    """Every cached run, of every kind."""
    return [load_any_run(p) for p in (cache or RunCache()).entries()]


__all__ = ["TrainConfig", "Run", "train", "find_run", "list_runs", "evaluate_model", "predict_graphs"]
