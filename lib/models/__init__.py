"""The graph generators: one registry from model names to (config dataclass, model class),
shared by the CLI, the trainer (`lib.models.train`) and the notebooks. The sequence models
have their own registry in `lib.sequence.models`."""

from __future__ import annotations

import dataclasses

from .base import GraphModel, ModelOutput
from .gnn import GNN, GNNConfig
from .looped_gnn import LoopedGNN, LoopedGNNConfig
from .looped_transformer import LoopedTransformer, LoopedTransformerConfig
from .min_plus_gnn import MinPlusGNN, MinPlusGNNConfig
from .mlp import MLP, MLPConfig
from .recurrent_gnn import RecurrentGNN, RecurrentGNNConfig
from .transformer import NodeTransformer, TransformerConfig

MODELS: dict[str, tuple[type, type]] = {
    "mlp": (MLPConfig, MLP),
    "transformer": (TransformerConfig, NodeTransformer),
    "gnn": (GNNConfig, GNN),
    "looped_gnn": (LoopedGNNConfig, LoopedGNN),
    "looped_transformer": (LoopedTransformerConfig, LoopedTransformer),
    "recurrent_gnn": (RecurrentGNNConfig, RecurrentGNN),
    "min_plus_gnn": (MinPlusGNNConfig, MinPlusGNN),
}


def config_class(registry: dict, name: str, overrides: dict, what: str = "model") -> type:
    """The config dataclass registered under ``name``, after checking that every override names
    one of its fields (an unknown name or field is a clear error)."""
    if name not in registry:
        raise KeyError(f"unknown {what} {name!r}; choose from {sorted(registry)}")
    cfg_cls = registry[name][0]
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"{what} {name!r} has no config field(s) {unknown}; fields are {sorted(fields)}")
    return cfg_cls


def model_config(name: str, **overrides):
    """The config dataclass of model ``name`` with overrides applied (unknown fields are errors)."""
    return config_class(MODELS, name, overrides)(**overrides)


def build_model(name: str, **overrides) -> GraphModel:
    """Instantiate model ``name`` from its config (defaults plus ``overrides``)."""
    cfg = model_config(name, **overrides)
    return MODELS[name][1](cfg)


__all__ = ["MODELS", "GraphModel", "ModelOutput", "build_model", "model_config"]
