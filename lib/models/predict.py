"""Greedy predictions of a graph generator on any list of graphs, and the generator as a `Solver`."""

from __future__ import annotations

import inspect
from typing import Sequence

from ..batching import collate
from ..determinism import single_thread
from ..devices import resolve_device
from ..graphs import Graph
from ..metrics import Prediction, evaluate_predictions
from .base import GraphModel


def predict_graphs(model: GraphModel, graphs: Sequence[Graph], batch_size: int = 32, device: str = "auto",
                   **predict_kw) -> list[Prediction]:
    """Predictions for any list of graphs, batched by size to limit padding."""
    dev = resolve_device(device)
    model = model.to(dev).eval()
    order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
    preds: list[Prediction | None] = [None] * len(graphs)
    with single_thread():  # the same numbers whatever the machine's thread count
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = collate([graphs[i] for i in idx], with_targets=False).to(dev)
            for i, p in zip(idx, model.predict(batch, **predict_kw)):
                preds[i] = p
    return preds  # type: ignore[return-value]


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


__all__ = ["predict_graphs", "evaluate_model", "GeneratorSolver"]
