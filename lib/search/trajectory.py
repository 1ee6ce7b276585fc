"""The record every search routine returns: candidates and energies at each step, which a
plot or a widget can replay."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Trajectory:
    """Candidates and energies at every step of a search (step 0 is the start)."""

    candidates: list[torch.Tensor]  # T + 1 tensors, each [B, ...]
    energies: torch.Tensor  # [T + 1, B]
    accepted: torch.Tensor | None = None  # [T, B] bool, for routines that reject moves
    info: dict = field(default_factory=dict)  # routine-specific extras (noise levels, restarts, ...)
    groups: torch.Tensor | None = None  # [first axis of y] -> batch element (None: identity)

    @property
    def steps(self) -> int:
        return len(self.candidates) - 1

    def best_step(self) -> torch.Tensor:
        """[B] index of the lowest-energy step for each batch element."""
        return self.energies.argmin(0)

    def best(self) -> torch.Tensor:
        """The lowest-energy candidate seen, per batch element."""
        idx = expand(self.best_step(), self.groups)
        stacked = torch.stack(self.candidates)  # [T + 1, items, ...]
        return stacked[idx, torch.arange(stacked.shape[1])]

    def final(self) -> torch.Tensor:
        return self.candidates[-1]

    def at(self, t: int) -> torch.Tensor:
        return self.candidates[t]


def expand(per_element: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
    """A per-batch-element tensor broadcast to the items of the candidate's first axis."""
    return per_element if groups is None else per_element[groups]


__all__ = ["Trajectory", "expand"]
