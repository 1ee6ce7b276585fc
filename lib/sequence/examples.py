"""The token view of a sequence task's items: one example type, its collation, teacher-forced scoring.

A task is a frozen dataclass (its arguments are ``SeqTrainConfig.task_args``) exposing
``vocab_size``, ``pad``, ``train_items(num)``, ``eval_items(split, num)``, ``length(item)``,
``example(item, rng) -> SeqExample`` and ``evaluate(model, items, ...) -> dict``. Items are
whatever the task is about (programs, graphs); an example is the token view of one item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch


@dataclass
class SeqExample:
    """One training/evaluation sequence: the model reads ``inputs`` and predicts ``targets``."""

    inputs: np.ndarray  # int64 [T] tokens the model reads
    targets: np.ndarray  # int64 [T] the token it must predict at each position
    mask: np.ndarray  # bool [T] positions the loss and the token accuracy score

    def __post_init__(self):
        if not (self.inputs.shape == self.targets.shape == self.mask.shape) or self.inputs.ndim != 1:
            raise ValueError("inputs, targets and mask must be 1-D arrays of one length")


def collate(examples: Sequence[SeqExample], pad: int, device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad examples into ``inputs [B, T]``, ``targets [B, T]`` and ``mask [B, T]``.

    Right padding is safe for causal models: real positions never see the padding.
    """
    if not examples:
        raise ValueError("no examples to collate")
    T = max(len(e.inputs) for e in examples)
    inputs = np.full((len(examples), T), pad, dtype=np.int64)
    targets = np.full((len(examples), T), pad, dtype=np.int64)
    mask = np.zeros((len(examples), T), dtype=bool)
    for b, e in enumerate(examples):
        inputs[b, :len(e.inputs)], targets[b, :len(e.inputs)], mask[b, :len(e.inputs)] = e.inputs, e.targets, e.mask
    as_t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
    return as_t(inputs), as_t(targets), as_t(mask)


@torch.no_grad()
def teacher_forced_hits(model, examples: Sequence[SeqExample], pad: int, device=None,
                        batch_size: int = 64) -> list[np.ndarray]:
    """Per example, whether each masked position's greedy prediction is right (in position
    order), under teacher forcing. Examples are batched by length; ``model`` maps tokens to logits."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].inputs))
    hits: list[np.ndarray | None] = [None] * len(examples)
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        x, y, m = collate([examples[i] for i in idx], pad, device)
        ok = (model(x).argmax(-1) == y).cpu().numpy()
        m = m.cpu().numpy()
        for r, i in enumerate(idx):
            hits[i] = ok[r][m[r]]
    return hits  # type: ignore[return-value]



__all__ = ["SeqExample", "collate", "teacher_forced_hits"]
