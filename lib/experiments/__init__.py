"""One module per notebook: its config dataclass, its profiles, and the experiments it runs.

Notebooks build their config with `config_for(PROFILES, profile, **overrides)` in the cell
after the parameters cell, then call these functions; they hold no logic of their own.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, TypeVar

T = TypeVar("T")


def config_for(profiles: Mapping[str, T], profile: str, **overrides) -> T:
    """The named profile's config with ``overrides`` applied (``None`` values are ignored)."""
    if profile not in profiles:
        raise KeyError(f"unknown profile {profile!r}; choose from {sorted(profiles)}")
    cfg = profiles[profile]
    fields = {f.name for f in dataclasses.fields(cfg)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"{type(cfg).__name__} has no field(s) {unknown}; fields are {sorted(fields)}")
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
