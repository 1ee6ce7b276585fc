"""Which experiment modules each notebook of the report builds on, and what it trains.

Each module's ``PROFILES`` (one config per profile name) is the single source of the sizes a
profile runs; the notebook receives only the profile's name. `training_configs` lists the
runs a notebook needs under a profile, for the runner's plan (`make report DRY=1`).
"""

from __future__ import annotations

from types import ModuleType

from . import (PROFILE_NAMES, baselines, code_execution_decided, config_for, decisive_search, energy_landscapes, looped_iterations,
               recurrent_extrapolation, regularization, search_at_test_time, sequence_models, task_distribution, trace_study)

#: Notebook stem -> the experiment modules whose configs it builds (in order).
NOTEBOOK_EXPERIMENTS: dict[str, tuple[ModuleType, ...]] = {
    "00_the_task": (task_distribution,),
    "01_baselines": (baselines,),
    "02_feedback_transformer": (sequence_models,),
    "03_regularization": (recurrent_extrapolation, regularization),
    "04_energy_landscapes": (energy_landscapes,),
    "05_search_at_test_time": (decisive_search,),
    "06_distilled_energy_search": (search_at_test_time,),
    "07_dijkstra_as_a_trace": (trace_study,),
    "08_looped_iterations": (looped_iterations,),
    "09_code_execution_decided": (code_execution_decided,),
}

#: Config fields a notebook sets on top of a module's profile (the notebook passes the same ones).
NOTEBOOK_OVERRIDES: dict[str, dict[ModuleType, dict]] = {
    "02_feedback_transformer": {sequence_models: {"tasks": ("code",)}},
}

#: Notebooks the full report leaves out to stay within its 90-minute cold budget on 2 cores:
#: ``make report PROFILE=long`` (or naming them, ``NB=06``) runs them; the smoke profile always does.
LONG_ONLY: tuple[str, ...] = ("06_distilled_energy_search", "07_dijkstra_as_a_trace", "08_looped_iterations",
                               "09_code_execution_decided")


def in_report(stem: str, profile: str) -> bool:
    """Whether ``make report`` (no ``NB``) runs notebook ``stem`` under ``profile``."""
    return profile != "full" or stem not in LONG_ONLY


def check_profile(profile: str) -> None:
    if profile not in PROFILE_NAMES:
        raise KeyError(f"unknown profile {profile!r}; profiles are: {list(PROFILE_NAMES)}")


def training_configs(stem: str, profile: str) -> list:
    """Every training config notebook ``stem`` runs under ``profile`` (deduplicated, in order)."""
    check_profile(profile)
    configs = []
    for module in NOTEBOOK_EXPERIMENTS.get(stem, ()):
        if hasattr(module, "training_configs"):
            overrides = NOTEBOOK_OVERRIDES.get(stem, {}).get(module, {})
            configs += module.training_configs(config_for(module.PROFILES, profile, **overrides))
    return list({config_key(c): c for c in configs}.values())


def config_key(config) -> str:
    """A training config's identity across config kinds (graph, sequence, energy, verifier runs)."""
    return config.key + type(config).__name__


__all__ = ["NOTEBOOK_EXPERIMENTS", "NOTEBOOK_OVERRIDES", "LONG_ONLY", "check_profile", "config_key", "in_report",
           "training_configs"]
