"""Greedy predictions of a graph generator on any list of graphs, and the generator as a `Solver`."""

from __future__ import annotations

import inspect
from typing import Sequence

import torch

from ..batching import collate
from ..determinism import single_thread
from ..devices import resolve_device
from ..graphs import Graph
from ..metrics import Prediction, evaluate_predictions
from .base import GraphModel


def _size_batches(graphs: Sequence[Graph], batch_size: int, dev):
    """(indices, batch) of the graphs sorted by size, ``batch_size`` at a time (to limit padding)."""
    order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield idx, collate([graphs[i] for i in idx], with_targets=False).to(dev)


def predict_graphs(model: GraphModel, graphs: Sequence[Graph], batch_size: int = 32, device: str = "auto",
                   **predict_kw) -> list[Prediction]:
    """Predictions for any list of graphs, batched by size to limit padding."""
    dev = resolve_device(device)
    model = model.to(dev).eval()
    preds: list[Prediction | None] = [None] * len(graphs)
    with single_thread():  # the same numbers whatever the machine's thread count
        for idx, batch in _size_batches(graphs, batch_size, dev):
            for i, p in zip(idx, model.predict(batch, **predict_kw)):
                preds[i] = p
    return preds  # type: ignore[return-value]


@torch.no_grad()
def predict_along(model: GraphModel, graphs: Sequence[Graph], budgets: Sequence[int], batch_size: int = 32,
                  device: str = "auto") -> dict[int, list[Prediction]]:
    """A looped model's predictions after each of ``budgets`` iterations (ascending), from one run of
    its loop read out along the way: the same numbers as `predict_graphs` with ``iterations=t`` for
    each t (the same batches; ``step(h, x, batch, k)`` is k single steps), at the cost of the largest."""
    if list(budgets) != sorted(set(budgets)) or not budgets or budgets[0] < 1:
        raise ValueError(f"budgets must be distinct iteration counts >= 1 in ascending order, got {list(budgets)}")
    dev = resolve_device(device)
    model = model.to(dev).eval()
    out: dict[int, list] = {t: [None] * len(graphs) for t in budgets}
    with single_thread():
        for idx, batch in _size_batches(graphs, batch_size, dev):
            model.check_batch(batch)
            (h, x), done = model.initial_state(batch), 0
            for t in budgets:
                h, done = model.step(h, x, batch, t - done), t
                for i, p in zip(idx, model.predictions(batch, model.readout(h, batch))):
                    out[t][i] = p
    return out


def evaluate_model(model: GraphModel, graphs: Sequence[Graph], device: str = "auto", **predict_kw) -> dict:
    """Tie-aware metrics of a model's greedy predictions."""
    return evaluate_predictions(graphs, predict_graphs(model, graphs, device=device, **predict_kw))


class GeneratorSolver:
    """A trained generator run, decoding greedily (``options`` go to ``model.predict``)."""

    def __init__(self, run, device: str = "auto", **options):
        self.run, self.device, self.name = run, device, run.name
        self.model = run.model(device)
        accepted = set(inspect.signature(self.model.forward).parameters) - {"batch"}
        unknown = sorted(k for k, v in options.items() if v is not None and k not in accepted)
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise ValueError(f"run {run.name!r} (model {run.config.model!r}) does not take {flags}")
        self.options = {k: v for k, v in options.items() if v is not None}

    def solve(self, graphs):
        return predict_graphs(self.model, graphs, device=self.device, **self.options)


__all__ = ["predict_graphs", "predict_along", "evaluate_model", "GeneratorSolver"]
