"""One module per notebook: its config dataclass, its profiles, and the experiments it runs.

Notebooks build their config with `config_for(PROFILES, profile, **overrides)` in the cell
after the parameters cell, then call these functions; they hold no logic of their own.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, TypeVar

from ..presets import preset

T = TypeVar("T")

#: The profiles every notebook offers: "full" (the committed report, within 90 minutes cold on 2
#: cores), "smoke" (seconds, for `make test`), and "long": the full report plus the sweeps kept out
#: of it for time (`make report PROFILE=long`). A module without a "long" entry runs its "full" one.
PROFILE_NAMES = ("full", "smoke", "long")
REQUIRED_PROFILES = ("full", "smoke")


def config_for(profiles: Mapping[str, T], profile: str, **overrides) -> T:
    """The named profile's config with ``overrides`` applied (``None`` values are ignored)."""
    if profile == "long" and "long" not in profiles:
        profile = "full"
    if profile not in profiles:
        raise KeyError(f"unknown profile {profile!r}; choose from {sorted(profiles)}")
    cfg = profiles[profile]
    fields = {f.name for f in dataclasses.fields(cfg)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"{type(cfg).__name__} has no field(s) {unknown}; fields are {sorted(fields)}")
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


def preset_grid(names, seeds, steps: int | None = None, train_graphs: int | None = None, evals: int = 8,
                **fixed) -> list:
    """Every named preset × seed, with the profile's optional overrides of steps (and then
    ``evals`` validation points per run) and of the training-set size, and ``fixed`` config
    fields for every run (``own_data=True``: each seed draws its own training graphs)."""
    changes = {k: v for k, v in (("steps", steps), ("train_graphs", train_graphs)) if v is not None} | fixed
    if steps is not None:
        changes["eval_every"] = max(1, steps // evals)
    return [preset(m, seed=s, **changes) for m in names for s in seeds]
