"""Named training presets: ``python -m lib train --config NAME`` and the notebooks share them.

Sizes are chosen for 2 CPU cores; every preset carries its seed (override with --seed).
"""

from __future__ import annotations

from .energy.config import EnergyTrainConfig
from .headline import HeadlineConfig
from .models.train import TrainConfig
from .verifier.train import VerifierTrainConfig

_BASE = TrainConfig(steps=3000, distance_weight=1.0)
#: The long-path regime: sparse ER, depth-first mazes and grids at n <= 16; each seed its own graphs.
_SHORT_PATHS = TrainConfig(steps=2000, distance_weight=1.0, train_split="train_short_paths",
                           val_split="val_short_paths", own_data=True)

#: The learned verifier's architecture: local terms after one min-aggregation round, edge terms
#: averaged per receiver so the energy's scale does not grow with the degree.
_ENERGY_ARGS = {"candidate": "distance", "layers": 1, "aggregation": "min", "layer_norm": False,
                "edge_weighting": "mean"}
_ENERGY = EnergyTrainConfig(energy_args=_ENERGY_ARGS, steps=1000)

PRESETS: dict[str, TrainConfig | EnergyTrainConfig] = {
    # -- baselines (notebook 01) --------------------------------------------------------------
    "mlp": _BASE.replace(model="mlp", label="mlp"),
    "transformer": _BASE.replace(model="transformer", label="transformer"),
    "transformer_masked": _BASE.replace(model="transformer", model_args={"mask_adjacency": True},
                                        label="transformer_masked"),
    "gnn_sum": _BASE.replace(model="gnn", model_args={"aggregation": "sum", "layers": 6}, label="gnn_sum"),
    "gnn_max": _BASE.replace(model="gnn", model_args={"aggregation": "max", "layers": 6}, label="gnn_max"),
    "gnn_min": _BASE.replace(model="gnn", model_args={"aggregation": "min", "layers": 6}, label="gnn_min"),
    # -- test-time compute (notebook 08): weight-tied, recall, progressive loss ---------------
    "looped_gnn": _BASE.replace(model="looped_gnn", model_args={"aggregation": "max", "iterations": 8},
                                label="looped_gnn"),
    "looped_transformer": _BASE.replace(model="looped_transformer", model_args={"iterations": 8},
                                        label="looped_transformer"),
    # -- recurrence in the long-path regime (notebook 03): train on short paths, own data per seed --
    "recurrent": _SHORT_PATHS.replace(model="min_plus_gnn", label="recurrent"),
    "recurrent_min": _SHORT_PATHS.replace(model="recurrent_gnn", model_args={"aggregation": "min", "drift_weight": 1.0},
                                          label="recurrent_min"),
    "recurrent_generic": _SHORT_PATHS.replace(model="recurrent_gnn",
                                              model_args={"aggregation": "max", "drift_weight": 1.0},
                                              label="recurrent_generic"),
    # -- energy models (notebook 04): one learned verifier, three training methods ----------
    "energy_irem": _ENERGY.replace(method="irem", label="energy_irem"),
    "energy_contrastive": _ENERGY.replace(method="contrastive", label="energy_contrastive"),
    "energy_denoise": _ENERGY.replace(method="denoise", label="energy_denoise"),
    "energy_residual": _ENERGY.replace(method="residual", residual_power=1.0, label="energy_residual"),
    # -- the headline (notebook 05's best route under the rules of evidence): the verifier learned from
    #    labels with the aligned prior, searched from the far start (its matched generator is trained
    #    too, for its mistakes as negatives) --------------------------------------------------------
    "headline": HeadlineConfig(generator="recurrent", verifier="verifier_aligned", start="far", label="headline"),
    # -- the earlier headline (notebook 06): looped GNN proposes, energy distilled from the checker + GD
    "headline_distilled": HeadlineConfig(label="headline_distilled"),
    # -- the decisive experiment (notebook 05): verifiers learned from correct / wrong labels, each
    #    matched to a generator of its prior (same training graphs, same number of graphs seen) --
    #    Both first train a quarter of their steps on the local ranking alone (`label_warmup`): without
    #    it the aligned verifier's seed 1 learned late, and never at twice the learning rate or steps.
    "verifier_aligned": VerifierTrainConfig(model="min_plus_verifier", generator="recurrent", label_warmup=0.25,
                                            label="verifier_aligned"),
    "verifier_generic": VerifierTrainConfig(model="generic_verifier", model_args={"hidden": 80},  # params within 2x
                                            generator="recurrent_generic", label_warmup=0.25, label="verifier_generic"),
    # -- a seconds-long config for tests and smoke runs ---------------------------------------
    "tiny": TrainConfig(model="gnn", model_args={"hidden": 16, "layers": 2}, train_graphs=64, steps=20,
                        batch_size=8, eval_every=10, val_graphs=8, label="tiny"),
    "energy_residual_tiny": _ENERGY.replace(method="residual", residual_power=1.0, energy_args={**_ENERGY_ARGS,
                                            "hidden": 8}, train_graphs=32, steps=6, batch_size=8, eval_every=3,
                                            val_graphs=4, label="energy_residual_tiny"),
    "verifier_tiny": VerifierTrainConfig(model_args={"hidden": 4}, train_graphs=16, steps=4, batch_size=4,
                                         eval_every=2, val_graphs=4, label="verifier_tiny"),
}


#: Which of the design brief's routes each preset takes (every results table shows it).
ROUTES: dict[str, str] = {
    "mlp": "imitation",
    "transformer": "imitation",
    "transformer_masked": "imitation",
    "gnn_sum": "imitation + graph prior",
    "gnn_max": "imitation + graph prior",
    "gnn_min": "imitation + aligned prior (min = Bellman-Ford)",
    "looped_gnn": "imitation + graph prior + test-time iterations",
    "looped_transformer": "imitation + test-time iterations",
    "recurrent": "imitation + min-plus (Bellman-Ford-shaped) recurrence, run until it settles",
    "recurrent_min": "imitation + aligned min prior + test-time iterations",
    "recurrent_generic": "imitation + graph prior + test-time iterations",
    "energy_irem": "learned verifier (aligned min prior) + search",
    "energy_contrastive": "learned verifier (aligned min prior) + search",
    "energy_denoise": "learned verifier (aligned min prior) + search",
    "energy_residual": "learned verifier (aligned min prior) + search",
    "headline": "learned verifier (aligned min-plus prior, from labels) + parallel parent moves, far start",
    "headline_distilled": "generator + verifier distilled from the exact checker (aligned min prior) + search",
    "verifier_aligned": "learned verifier (aligned min-plus prior, from labels) + parallel parent moves",
    "verifier_generic": "learned verifier (graph prior, from labels) + parallel parent moves",
    "tiny": "imitation + graph prior",
}


def preset(name: str, **changes):
    """A preset by name, with fields changed (e.g. ``seed=1``)."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name].replace(**changes)
