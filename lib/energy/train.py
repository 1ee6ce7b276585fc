"""Training an energy model through the run cache, with any objective of
`lib.energy.objectives`; the finished run searches its landscape as a `Solver`."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from ..batching import collate
from ..determinism import set_seed
from ..devices import resolve_device
from ..metrics import evaluate_predictions
from ..runs import Run, RunCache, evaluation_key
from ..samplers import sample_split
from ..training import LearningCurve, environment, train_cached, optimizer_step, set_learning_rate, training_bar, warmup_cosine
from .candidates import decode
from .config import EnergyTrainConfig
from .model import EnergyModel
from .objectives import OBJECTIVES, StepContext
from .solve import EnergySolver, search_candidates


class EnergyRun(Run):
    """A finished energy run: the model, its learned inner step size, and its search."""

    CONFIG = EnergyTrainConfig

    def model(self, device: str = "cpu") -> EnergyModel:
        model = EnergyModel(self.config.energy_config)
        state = self.state_dict()
        model.load_state_dict(state["model"])
        model.step_size = float(state["step_size"])
        return model.to(resolve_device(device)).eval()

    def solver(self, device: str = "auto", **options) -> EnergySolver:
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
            return evaluation_key(split=split, num_graphs=num_graphs, **settings.__dict__)

        def compute(missing_keys):
            steps = [k for k in budgets if key(k) in missing_keys]
            graphs = sample_split(split, num_graphs)
            solved = self.solver(device, **search_overrides).solve_budgets(graphs, steps)
            return {key(k): evaluate_predictions(graphs, preds) for k, preds in solved.items()}

        return self.cached_evaluations([key(k) for k in budgets], compute)


def load_energy_run(path) -> EnergyRun:
    return EnergyRun.load(path)


def train_energy(cfg: EnergyTrainConfig, cache: RunCache | None = None, device: str = "auto",
                 progress: bool = True) -> EnergyRun:
    """Train (or load from the run cache) an energy model."""
    return train_cached(cfg, cache, EnergyRun.load, _train_energy, device, progress)


def _train_energy(cfg: EnergyTrainConfig, cache: RunCache, dev: torch.device, progress: bool) -> EnergyRun:
    gen = set_seed(cfg.seed)
    kind = cfg.energy_config.candidate
    model = EnergyModel(cfg.energy_config).to(dev)
    log_step = torch.nn.Parameter(torch.tensor(math.log(cfg.inner_lr), device=dev))
    params = list(model.parameters()) + ([log_step] if cfg.method == "irem" else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    data = sample_split(cfg.train_split, cfg.train_graphs, seed_offset=cfg.seed + 1 if cfg.own_data else 0)
    val = sample_split("val", cfg.val_graphs)
    rng = np.random.default_rng(cfg.seed)
    objective, buffer = OBJECTIVES[cfg.method], {}
    curve = LearningCurve("val_pointer_accuracy", "val_exact_match")
    t0 = time.perf_counter()
    bar = training_bar(cfg.steps, cfg.label or f"energy-{cfg.method}", progress)
    for step in bar:
        model.train()
        idx = rng.choice(len(data), cfg.batch_size, replace=False)
        batch = collate([data[i] for i in idx]).to(dev)
        set_learning_rate(opt, warmup_cosine(step, cfg.steps, cfg.lr))
        loss, parts = objective(StepContext(model, log_step, batch, kind, idx, rng, gen, cfg, buffer))
        curve.add_loss(optimizer_step(opt, loss, params, cfg.grad_clip))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            model.step_size = float(log_step.detach().exp())
            m = _validate(model, val, kind, cfg, dev)
            curve.log(step + 1, bar, val_pointer_accuracy=m["pointer_accuracy"], val_exact_match=m["exact_match"])
    bar.close()
    state = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
             "step_size": torch.tensor(float(log_step.detach().exp()))}
    metrics = {"curve": dict(curve), "train_seconds": time.perf_counter() - t0,
               "parameters": sum(p.numel() for p in model.parameters()), "step_size": float(log_step.detach().exp()),
               "final_val_pointer_accuracy": curve["val_pointer_accuracy"][-1], "device": str(dev), "environment": environment()}
    return EnergyRun.load(cache.commit(cfg, metrics, state))


@torch.no_grad()
def _validate(model: EnergyModel, graphs, kind: str, cfg: EnergyTrainConfig, dev) -> dict:
    model.eval()
    batch = collate(graphs).to(dev)
    gen = torch.Generator().manual_seed(12345)
    y = search_candidates(model, batch, kind, cfg.search_settings(), gen)
    return evaluate_predictions(graphs, decode(batch, kind, y))


__all__ = ["EnergyTrainConfig", "EnergyRun", "train_energy", "load_energy_run"]
