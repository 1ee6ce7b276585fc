"""Training the graph generators: a seeded config dataclass, a progress-bar loop, and the run
cache in front of it.

``train(cfg)`` returns the cached `Run` when one exists for ``cfg``'s hash; otherwise it
trains, evaluates a learning curve on the validation split and commits the run atomically.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from ..batching import collate
from ..determinism import set_seed
from ..devices import resolve_device
from ..runs import Run as BaseRun
from ..runs import RunCache, RunConfig, evaluation_key
from ..samplers import sample_split
from ..training import LearningCurve, environment, train_cached, optimizer_step, set_learning_rate, training_bar, warmup_cosine
from ..metrics import evaluate_predictions
from . import GraphModel, build_model, model_config
from .predict import GeneratorSolver, evaluate_model, predict_along


@dataclass(frozen=True)
class TrainConfig(RunConfig):
    KIND: ClassVar[str] = "graph"  # run-cache kind: graph generators trained on pointers

    model: str = "gnn"  # a key of lib.models.MODELS
    model_args: dict = field(default_factory=dict)  # overrides of that model's config fields
    seed: int = 0  # training seed: initialisation and batch order (data splits have their own)
    train_split: str = "train"  # named split the training graphs come from
    train_graphs: int = 1000  # size of the fixed training set (CLRS uses 1000)
    own_data: bool = False  # each seed draws its own training graphs (False: every seed shares one set)
    val_split: str = "val"  # named split for the validation points (training sizes)
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


class Run(BaseRun):
    """A finished (cached) generator run."""

    CONFIG = TrainConfig

    def model(self, device: str = "cpu") -> GraphModel:
        model = build_model(self.config.model, **self.config.model_args)
        model.load_state_dict(self.state_dict())
        return model.to(resolve_device(device)).eval()

    def solver(self, device: str = "auto", **options) -> GeneratorSolver:
        """This run as a `Solver` (``options`` such as ``iterations`` go to ``model.predict``)."""
        return GeneratorSolver(self, device, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", **predict_kw) -> dict:
        """Metrics on a named split, cached in the run's folder."""
        key = evaluation_key(split=split, num_graphs=num_graphs, **predict_kw)
        return self.cached_evaluation(key, lambda: evaluate_model(
            self.model(device), sample_split(split, num_graphs), device=device, **predict_kw))

    def evaluate_along(self, split: str, num_graphs: int, iterations: list[int], device: str = "auto") -> list[dict]:
        """`evaluate` at each of ``iterations`` (a looped model), under the same cache keys; the missing
        ones computed from one run of the loop (`predict_along`)."""
        keys = [evaluation_key(split=split, num_graphs=num_graphs, iterations=t) for t in iterations]
        by_key = dict(zip(keys, iterations))

        def compute(missing: list[str]) -> dict[str, dict]:
            graphs = sample_split(split, num_graphs)
            preds = predict_along(self.model(device), graphs, sorted(by_key[k] for k in missing), device=device)
            return {k: evaluate_predictions(graphs, preds[by_key[k]]) for k in missing}
        return self.cached_evaluations(keys, compute)


def train(cfg: TrainConfig, cache: RunCache | None = None, device: str = "auto", progress: bool = True) -> Run:
    """Train ``cfg`` (or load it from the run cache) and return the `Run`."""
    return train_cached(cfg, cache, Run.load, _train, device, progress)


def _train(cfg: TrainConfig, cache: RunCache, dev: torch.device, progress: bool) -> Run:
    set_seed(cfg.seed)
    model = build_model(cfg.model, **cfg.model_args).to(dev)
    data = sample_split(cfg.train_split, cfg.train_graphs, seed_offset=cfg.seed + 1 if cfg.own_data else 0)
    val = sample_split(cfg.val_split, cfg.val_graphs)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    noise_gen = torch.Generator().manual_seed(cfg.seed + 7919)
    curve = LearningCurve("val_pointer_accuracy", "val_exact_match")
    best = (-1.0, None, 0)
    t0 = time.perf_counter()
    bar = training_bar(cfg.steps, cfg.label or cfg.model, progress)
    for step in bar:
        model.train()
        idx = rng.choice(len(data), cfg.batch_size, replace=False)
        batch = collate([data[i] for i in idx]).to(dev)
        if cfg.weight_noise > 0:
            noise = torch.randn(batch.num_edges, generator=noise_gen).to(dev)
            batch.weights = (batch.weights * (1 + cfg.weight_noise * noise)).clamp(min=0.0)
        set_learning_rate(opt, warmup_cosine(step, cfg.steps, cfg.lr))
        loss, parts = model.loss(batch, cfg.distance_weight, **cfg.loss_args)
        curve.add_loss(optimizer_step(opt, loss, model.parameters(), cfg.grad_clip))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            m = evaluate_model(model, val, device=dev)
            curve.log(step + 1, bar, val_pointer_accuracy=m["pointer_accuracy"], val_exact_match=m["exact_match"])
            if m["pointer_accuracy"] > best[0]:
                best = (m["pointer_accuracy"], copy.deepcopy(model.state_dict()), step + 1)
    bar.close()
    if cfg.early_stopping and best[1] is not None:
        model.load_state_dict(best[1])
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    metrics = {"curve": dict(curve), "train_seconds": time.perf_counter() - t0, "parameters": model.num_parameters(),
               "best_val_step": best[2], "final_val_pointer_accuracy": curve["val_pointer_accuracy"][-1],
               "device": str(dev), "environment": environment()}
    return Run.load(cache.commit(cfg, metrics, state))


__all__ = ["TrainConfig", "Run", "train"]
