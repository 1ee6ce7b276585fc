"""Notebook 03, part 2: is test-time recurrence a fancy regularizer? Asked in the long-path regime
of part 1 (`recurrent_extrapolation`), where iterations matter: every model trains on short paths
(sparse ER, depth-first mazes and grids at n <= 16, each seed its own graphs) and is tested where
hop depth grows.

Controlled comparisons: weight-tied recurrence against untied depth at matched compute (6 rounds)
and at matched parameters (1 untied round), each with and without explicit regularizers, and the
tied model with the progressive loss. Seed s of every configuration trains on the same graphs, so
the arms are paired by seed (`regularization_analysis` tests them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..devices import resolve_device
from ..flops import flops_per_graph
from ..model_diagnostics import parameter_norm, sharpness
from ..models.base import pointer_loss
from ..models.predict import evaluate_model
from ..models.train import TrainConfig
from ..runs import evaluation_key
from ..samplers import sample_split
from ..solvers import shortcut_metrics
from ..sweep import cached_map, evaluate_curves, run_sweep

#: The two architectures under test (matched compute: 6 rounds each) and the shallow control.
ARCHITECTURES = {
    "tied": ("looped_gnn", {"iterations": 6, "progressive_alpha": 0.0}),
    "tied+progressive": ("looped_gnn", {"iterations": 6, "progressive_alpha": 0.5}),
    "untied": ("gnn", {"layers": 6}),
    "untied shallow": ("gnn", {"layers": 1}),
}

#: Explicit regularizers and their strengths: name -> (TrainConfig or model field, values). The
#: full report runs the first strength of each; the long profile runs all of them, and early
#: stopping (the checkpoint with the best accuracy on the in-distribution validation split).
REGULARIZERS = {
    "weight decay": ("weight_decay", (0.1, 1.0)),
    "dropout": ("dropout", (0.1, 0.3)),
    "input noise": ("weight_noise", (0.05, 0.2)),
    "early stopping": ("early_stopping", (True,)),
}

#: The long-path regime's splits: training and validation (n <= 16, short paths), an
#: in-distribution test, and the out-of-distribution tests where hop depth grows.
TRAIN_SPLIT, VAL_SPLIT, ID_SPLIT = "train_short_paths", "val_short_paths", "test_short_paths"
OOD_SPLITS = ("grid_side8", "maze_dfs_side8", "salsa_er_160")


@dataclass(frozen=True)
class RegularizationConfig:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # training seeds per configuration (each its own graphs)
    hidden: int = 32  # width of every model (small, so that the sweep fits the budget)
    steps: int = 1500  # optimizer steps per run
    train_graphs: int = 1000  # training-set size
    regularized: tuple[str, ...] = ("tied", "untied")  # architectures that get the regularizer sweep
    all_strengths: bool = False  # every strength of every regularizer and early stopping (else the first of each)
    ood_splits: tuple[str, ...] = OOD_SPLITS  # out-of-distribution tests; their mean accuracy is `ood_acc`
    eval_graphs: int = 256  # graphs per evaluation split (validation, ID and each OOD split)
    train_eval_graphs: int = 256  # each run's own training graphs, re-scored for the training accuracy
    sharpness_rho: float = 0.05  # relative size of the random weight perturbations
    sharpness_draws: int = 8  # perturbations averaged per run
    iterations: tuple[int, ...] = (1, 2, 3, 6, 12, 24)  # test-time iterations for the tied models
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"


PROFILES = {
    "full": RegularizationConfig(),
    "long": RegularizationConfig(all_strengths=True),  # every strength of every regularizer, early stopping
    "smoke": RegularizationConfig(seeds=(0, 1), hidden=8, steps=8, train_graphs=32, eval_graphs=4,
                                  ood_splits=("maze_dfs_side4", "grid_side4"), regularized=("tied",),
                                  train_eval_graphs=8, sharpness_draws=2, iterations=(1, 6), workers=1),
}


def configurations(cfg: RegularizationConfig) -> dict[str, TrainConfig]:
    """Name -> training config (seed 0) for every configuration of the study."""
    out = {}
    for arch, (model, args) in ARCHITECTURES.items():
        base = TrainConfig(model=model, model_args={"hidden": cfg.hidden, **args}, steps=cfg.steps,
                           train_split=TRAIN_SPLIT, val_split=VAL_SPLIT, own_data=True,
                           train_graphs=cfg.train_graphs, distance_weight=1.0, eval_every=max(1, cfg.steps // 6))
        out[arch] = base
        if arch not in cfg.regularized:
            continue
        for reg, (field, values) in REGULARIZERS.items():
            if not cfg.all_strengths and field == "early_stopping":
                continue
            for v in (values if cfg.all_strengths else values[:1]):
                name = f"{arch} + {reg}" + ("" if v is True else f" {v}")
                if field == "dropout":
                    out[name] = base.replace(model_args={**base.model_args, "dropout": v})
                else:
                    out[name] = base.replace(**{field: v})
    return {name: c.replace(label=name) for name, c in out.items()}


def training_configs(cfg: RegularizationConfig) -> list:
    """Every configuration × seed, configuration-major (for the sweep and the runner's plan)."""
    return [c.replace(seed=s) for c in configurations(cfg).values() for s in cfg.seeds]


def train_all(cfg: RegularizationConfig) -> dict[str, list]:
    """Every configuration × seed through the sweep runner (parallel, resumable)."""
    confs = configurations(cfg)
    runs = run_sweep(training_configs(cfg), workers=cfg.workers, device=cfg.device, desc="regularization sweep")
    k = len(cfg.seeds)
    return {name: runs[i * k:(i + 1) * k] for i, name in enumerate(confs)}


def _loss(model, graphs, device) -> float:
    batch = collate(graphs).to(resolve_device(device))
    with torch.no_grad():
        return float(pointer_loss(batch, model.eval()(batch).pointer_logits))


def _measure_one(name: str, run, cfg: RegularizationConfig) -> dict:
    """One (configuration, seed) row of `measure`, cached in the run's evaluations."""
    key = evaluation_key(study="regularization_long_paths", train_eval_graphs=cfg.train_eval_graphs,
                         eval_graphs=cfg.eval_graphs, ood_splits=list(cfg.ood_splits), sharpness_rho=cfg.sharpness_rho,
                         sharpness_draws=cfg.sharpness_draws, device=cfg.device)
    return {"config": name, **run.cached_evaluation(key, lambda: _measure(run, cfg))}


def _measure(run, cfg: RegularizationConfig) -> dict:
    train_graphs = sample_split(TRAIN_SPLIT, cfg.train_eval_graphs, seed_offset=run.config.seed + 1)  # its own
    model = run.model(cfg.device)
    row = {"seed": run.config.seed, "parameters": run.metrics["parameters"],
           "flops": flops_per_graph(model, sample_split(ID_SPLIT, 16)),
           "best_val_step": run.metrics["best_val_step"], "final_step": run.config.steps,
           "train_acc": evaluate_model(model, train_graphs, device=cfg.device)["pointer_accuracy"],
           "train_loss": _loss(model, train_graphs, cfg.device)}
    for col, split in (("val", VAL_SPLIT), ("id", ID_SPLIT), *((f"ood:{s}", s) for s in cfg.ood_splits)):
        m = run.evaluate(split, cfg.eval_graphs, device=cfg.device)
        row[f"{col}_acc"], row[f"{col}_exact"] = m["pointer_accuracy"], m["exact_match"]
    row["ood_acc"] = sum(row[f"ood:{s}_acc"] for s in cfg.ood_splits) / len(cfg.ood_splits)
    row["gap_ood"] = row["train_acc"] - row["ood_acc"]
    row["param_norm"] = parameter_norm(model)
    row["sharpness"] = sharpness(model.cpu(), collate(train_graphs[:64]), cfg.sharpness_rho, cfg.sharpness_draws,
                                 seed=run.config.seed)
    return row


def measure(runs: dict[str, list], cfg: RegularizationConfig) -> pd.DataFrame:
    """One row per (configuration, seed): accuracies and exact match on every split, the mean OOD
    accuracy, the gap, parameters, FLOPs per graph, norm and sharpness; cached per run and
    measured in ``cfg.workers`` processes (one torch thread each, so the numbers do not depend on
    it). Accuracies are pointer accuracies; ``graphs`` is the number behind each split."""
    tasks = [(name, run, cfg) for name, rs in runs.items() for run in rs]
    table = pd.DataFrame(cached_map(_measure_one, tasks, cfg.workers, desc="regularization: measurements"))
    table["graphs"] = cfg.eval_graphs
    splits = [c for s in ("val", "id", *(f"ood:{s}" for s in cfg.ood_splits)) for c in (f"{s}_acc", f"{s}_exact")]
    return table[[*MEASURE_COLUMNS[:8], *splits, *MEASURE_COLUMNS[8:]]]  # one order, fresh or read back from the cache


MEASURE_COLUMNS = ["config", "seed", "parameters", "flops", "best_val_step", "final_step", "train_acc", "train_loss",
                   "ood_acc", "gap_ood", "param_norm", "sharpness", "graphs"]


#: Row labels of the no-learning shortcuts (`lib.solvers.SHORTCUTS`).
SHORTCUT_LABELS = {"min_hop": "shortcut: fewest-hops tree", "nearest": "shortcut: lightest in-edge"}


def shortcut_results(cfg: RegularizationConfig) -> pd.DataFrame:
    """The no-learning shortcuts on the same evaluation graphs, in the columns of `measure` that
    `regularization_analysis.split_table` reads (one row each; no seeds, no training)."""
    rows = {name: {"config": label, "seed": 0, "graphs": cfg.eval_graphs} for name, label in SHORTCUT_LABELS.items()}
    for col, split in (("id", ID_SPLIT), *((f"ood:{s}", s) for s in cfg.ood_splits)):
        for name, m in shortcut_metrics(sample_split(split, cfg.eval_graphs)).items():
            rows[name][f"{col}_acc"], rows[name][f"{col}_exact"] = m["pointer_accuracy"], m["exact_match"]
    return pd.DataFrame(list(rows.values()))


def regularizer_curves(results: pd.DataFrame) -> pd.DataFrame:
    """Long table for the gap-vs-strength figure: architecture, regularizer, strength, gap (only the
    regularizers this sweep ran; strength 0 is the plain architecture)."""
    rows = []
    ran = [reg for reg in REGULARIZERS if any(f" + {reg}" in name for name in results.config)]
    for name, d in results.groupby("config", sort=False):
        arch, _, rest = name.partition(" + ")
        if arch not in ("tied", "untied"):
            continue
        for reg in ran:
            if rest and not rest.startswith(reg):
                continue
            strength = 0.0 if not rest else (1.0 if reg == "early stopping" else float(rest.split()[-1]))
            for _, r in d.iterrows():
                rows.append({"architecture": arch, "regularizer": reg, "strength": strength, "seed": r.seed,
                             "gap_ood": r.gap_ood, "ood_acc": r.ood_acc, "id_acc": r.id_acc})
    return pd.DataFrame(rows)


def iteration_curves(runs: dict[str, list], cfg: RegularizationConfig) -> pd.DataFrame:
    """Accuracy against test-time iterations for the tied configurations (no regularizer), in
    distribution and on each OOD split, where paths are longer than any seen in training."""
    curves = [(run, split, cfg.eval_graphs, [{"model": name, "seed": run.config.seed, "split": split, "iterations": k,
                                              "looped": True, "trained_iterations": 6} for k in sorted(cfg.iterations)])
              for name in ("tied", "tied+progressive") for run in runs.get(name, [])
              for split in (ID_SPLIT, *cfg.ood_splits)]
    return pd.DataFrame(evaluate_curves(curves, cfg.workers, "regularization: iteration curves", cfg.device))


def compute_matched(results: pd.DataFrame, iters: pd.DataFrame, runs: dict[str, list], cfg: RegularizationConfig,
                    configs: tuple[str, ...] = ("tied", "untied", "untied shallow"),
                    flop_graphs: int = 16) -> pd.DataFrame:
    """Pointer accuracy against counted FLOPs per graph, per split: the tied model at each
    test-time iteration count (from ``iters``) and the other ``configs`` (untied) at their
    depth (from ``results``), on the same graphs; FLOPs are counted on the split's first ``flop_graphs``
    graphs (they depend on the architecture and the graph, not on the weights), and the exact
    Dijkstra's heap work is its operation count E + n log2 n, a reference in other units. The
    tied model's FLOPs are affine in its iterations (the same block each time): counted at T = 1
    and 2, extended to the others."""
    rows = []
    for split in (ID_SPLIT, *cfg.ood_splits):
        graphs = sample_split(split, flop_graphs)
        edges = sum(len(g.senders) for g in graphs) / len(graphs)
        n = sum(g.num_nodes for g in graphs) / len(graphs)
        rows.append({"config": "Dijkstra (operations)", "split": split, "iterations": None, "seed": -1,
                     "parameters": 0, "flops": edges + n * np.log2(n), "pointer_accuracy": 1.0})
        col = "id_acc" if split == ID_SPLIT else f"ood:{split}_acc"
        for name in dict.fromkeys(configs):  # the best regularized setting may be the plain one
            model = runs[name][0].model(cfg.device)
            params = int(runs[name][0].metrics["parameters"])
            if name == "tied":
                d = iters[(iters.model == name) & (iters.split == split)]
                one, two = (flops_per_graph(model, graphs, iterations=k) for k in (1, 2))
                flops = {k: one + (k - 1) * (two - one) for k in set(d.iterations)}  # one block per iteration
                rows += [{"config": name, "split": split, "iterations": int(r.iterations), "seed": int(r.seed),
                          "parameters": params, "flops": flops[r.iterations], "pointer_accuracy": r.pointer_accuracy}
                         for r in d.itertuples()]
            else:
                d, flops = results[results.config == name], flops_per_graph(model, graphs)
                rows += [{"config": name, "split": split, "iterations": None, "seed": int(s), "parameters": params,
                          "flops": flops, "pointer_accuracy": a} for s, a in zip(d.seed, d[col])]
    return pd.DataFrame(rows)
