"""Verifier names -> (config class, model class); ``"exact_checker"`` is the ceiling, with no config."""

from __future__ import annotations

from .exact_checker import ExactChecker
from .generic_verifier import GenericVerifier, GenericVerifierConfig
from .min_plus_verifier import MinPlusVerifier, MinPlusVerifierConfig

VERIFIERS = {
    "min_plus_verifier": (MinPlusVerifierConfig, MinPlusVerifier),
    "generic_verifier": (GenericVerifierConfig, GenericVerifier),
}


def build_verifier(name: str, **args):
    """A verifier by name; unknown names and arguments raise with the valid choices."""
    if name == "exact_checker":
        if args:
            raise ValueError(f"the exact checker takes no arguments, got {sorted(args)}")
        return ExactChecker()
    if name not in VERIFIERS:
        raise ValueError(f"unknown verifier {name!r}; choose from {sorted(VERIFIERS) + ['exact_checker']}")
    cfg_cls, model_cls = VERIFIERS[name]
    return model_cls(cfg_cls(**args))
