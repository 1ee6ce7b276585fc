"""The training config of an energy model: architecture, objective, optimisation and the
default test-time search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..runs import RunConfig
from .model import EnergyConfig
from .solve import SearchSettings

#: The training objectives (`lib.energy.objectives.OBJECTIVES` implements each).
METHODS = ("irem", "contrastive", "denoise", "residual")


@dataclass(frozen=True)
class EnergyTrainConfig(RunConfig):
    KIND: ClassVar[str] = "energy"  # run-cache kind

    model: str = "energy"  # run-name prefix
    energy_args: dict = field(default_factory=dict)  # fields of EnergyConfig (candidate, hidden, layers, ...)
    method: str = "irem"  # training objective: a key of lib.energy.objectives.OBJECTIVES
    seed: int = 0  # training seed (data splits have their own)
    train_split: str = "train"  # named split the training graphs come from
    train_graphs: int = 1000  # size of the fixed training set
    own_data: bool = False  # each seed draws its own training graphs (False: every seed shares one set)
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


__all__ = ["EnergyTrainConfig", "METHODS"]
