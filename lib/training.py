"""What every training loop shares: the learning-rate schedule, the optimizer step, the
learning curve, cached single-threaded training under the config's lock, the progress bar,
and the record of the library build a run trained with.

The generator, sequence and energy trainers (`lib.models.train`, `lib.sequence.train`,
`lib.energy.train`) each keep only their own step; this module holds the rest once.
"""

from __future__ import annotations

import math
import platform

import numpy as np
import torch

from typing import Callable

from .determinism import single_thread
from .devices import resolve_device
from .runs import RunCache
from .progress import progress_bar


def warmup_cosine(step: int, steps: int, peak: float) -> float:
    """Learning rate at ``step``: linear warm-up over the first 5% of ``steps``, then cosine
    decay from ``peak`` to 10% of it."""
    warm = max(1, steps // 20)
    if step < warm:
        return peak * (step + 1) / warm
    frac = (step - warm) / max(1, steps - warm)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, params, grad_clip: float) -> float:
    """Backpropagate ``loss``, clip the gradient norm of ``params``, step; return the loss value."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return float(loss.detach())


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


class LearningCurve(dict):
    """Validation points of a run: ``step``, the mean ``train_loss`` since the last point, and
    named validation metrics (None where one was not measured). A plain dict of lists, so it goes into ``metrics.json`` as is."""

    def __init__(self, *metric_names: str):
        super().__init__(step=[], train_loss=[], **{name: [] for name in metric_names})
        self._running: list[float] = []

    def add_loss(self, loss: float) -> None:
        self._running.append(loss)

    def log(self, step: int, bar=None, **metrics: float) -> None:
        """Append one point (metrics keyed by curve name) and show it on the progress bar."""
        self["step"].append(step)
        self["train_loss"].append(float(np.mean(self._running)))
        for name, value in metrics.items():
            self[name].append(value)
        self._running.clear()
        if bar is not None:
            shown = {k.removeprefix("val_"): f"{v:.3f}" for k, v in metrics.items() if v is not None}
            bar.set_postfix(loss=f"{self['train_loss'][-1]:.3f}", **shown)


def train_cached(cfg, cache: RunCache | None, load: Callable, fit: Callable, device: str = "auto",
                 progress: bool = True):
    """The cached run of ``cfg``, or ``fit(cfg, cache, device, progress)`` run single-threaded
    under the config's lock (so a concurrent trainer of the same config is waited for)."""
    cache = cache or RunCache()

    def train_now():
        with single_thread():  # same floating-point results alone or inside a parallel sweep
            return fit(cfg, cache, resolve_device(device), progress)

    return cache.get_or_train(cfg, load, train_now)


def environment() -> dict:
    """What a run's numbers may depend on beyond its config: recorded in every run's metrics,
    since training repeats bit for bit on one machine and library build, not across them."""
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "machine": platform.machine()}


def training_bar(steps: int, desc: str, progress: bool):
    """The progress bar over a run's optimizer steps (also reported to `lib.progress` listeners)."""
    return progress_bar(range(steps), desc=desc, disable=not progress, leave=False, mininterval=1.0)


__all__ = ["environment", "train_cached", "warmup_cosine", "optimizer_step", "set_learning_rate", "single_thread", "LearningCurve", "training_bar"]
