"""Notebook 03: is test-time recurrence a fancy regularizer?

Controlled comparisons at n <= 16: weight-tied recurrence against untied depth at matched
compute and at matched parameters, each with and without explicit regularizers, and the
recurrent model with and without the progressive loss. Every configuration runs over
several seeds; comparisons come with confidence intervals and Welch tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..devices import resolve_device
from ..model_diagnostics import parameter_norm, sharpness
from ..models.base import pointer_loss
from ..models.predict import evaluate_model
from ..models.train import TrainConfig
from ..runs import evaluation_key
from ..samplers import sample_split
from ..statistics import compare, mean_ci, verdict
from ..sweep import cached_map, evaluate_many, run_sweep

#: The two architectures under test (matched compute: 6 rounds each) and the shallow control.
ARCHITECTURES = {
    "tied": ("looped_gnn", {"iterations": 6, "progressive_alpha": 0.0}),
    "tied+progressive": ("looped_gnn", {"iterations": 6, "progressive_alpha": 0.5}),
    "untied": ("gnn", {"layers": 6}),
    "untied shallow": ("gnn", {"layers": 1}),
}

#: Explicit regularizers and their strengths: name -> (TrainConfig or model field, values). The
#: full report runs the first strength of each; the long profile runs all of them, and early
#: stopping, which changed OOD accuracy by at most 0.1 points in every measurement so far.
REGULARIZERS = {
    "weight decay": ("weight_decay", (0.1, 1.0)),
    "dropout": ("dropout", (0.1, 0.3)),
    "input noise": ("weight_noise", (0.05, 0.2)),
    "early stopping": ("early_stopping", (True,)),
}


@dataclass(frozen=True)
class RegularizationConfig:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # training seeds per configuration
    hidden: int = 32  # width of every model (small, so that the sweep fits the budget)
    steps: int = 1500  # optimizer steps per run
    train_graphs: int = 1000  # training-set size
    regularized: tuple[str, ...] = ("tied", "untied")  # architectures that get the regularizer sweep
    all_strengths: bool = False  # every strength of every regularizer and early stopping (else the first of each)
    eval_graphs: int = 64  # graphs per evaluation split
    train_eval_graphs: int = 256  # training graphs re-scored for the training accuracy
    sharpness_rho: float = 0.05  # relative size of the random weight perturbations
    sharpness_draws: int = 8  # perturbations averaged per run
    iterations: tuple[int, ...] = (1, 2, 3, 6, 12, 24)  # test-time iterations for the tied models
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"


PROFILES = {
    "full": RegularizationConfig(),
    "long": RegularizationConfig(all_strengths=True),  # every strength of every regularizer, early stopping
    "smoke": RegularizationConfig(seeds=(0, 1), hidden=8, steps=8, train_graphs=32, eval_graphs=4,
                                  regularized=("tied",), train_eval_graphs=8, sharpness_draws=2, iterations=(1, 6),
                                  workers=1),
}


def configurations(cfg: RegularizationConfig) -> dict[str, TrainConfig]:
    """Name -> training config (seed 0) for every configuration of the study."""
    out = {}
    for arch, (model, args) in ARCHITECTURES.items():
        base = TrainConfig(model=model, model_args={"hidden": cfg.hidden, **args}, steps=cfg.steps,
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
    key = evaluation_key(study="regularization", train_eval_graphs=cfg.train_eval_graphs, eval_graphs=cfg.eval_graphs,
                         sharpness_rho=cfg.sharpness_rho, sharpness_draws=cfg.sharpness_draws, device=cfg.device)
    return {"config": name, **run.cached_evaluation(key, lambda: _measure(run, cfg))}


def _measure(run, cfg: RegularizationConfig) -> dict:
    train_graphs = sample_split("train", cfg.train_eval_graphs)
    id_graphs = sample_split("test_16", cfg.eval_graphs)
    model = run.model(cfg.device)
    row = {"seed": run.config.seed, "parameters": run.metrics["parameters"],
           "train_acc": evaluate_model(model, train_graphs, device=cfg.device)["pointer_accuracy"],
           "train_loss": _loss(model, train_graphs, cfg.device)}
    for key, n in (("id", 16), ("ood64", 64), ("ood128", 128)):
        row[f"{key}_acc"] = run.evaluate(f"test_{n}", cfg.eval_graphs, device=cfg.device)["pointer_accuracy"]
    row["id_loss"] = _loss(model, id_graphs, cfg.device)
    row["gap_id"] = row["train_acc"] - row["id_acc"]
    row["gap_ood64"] = row["train_acc"] - row["ood64_acc"]
    row["param_norm"] = parameter_norm(model)
    row["sharpness"] = sharpness(model.cpu(), collate(train_graphs[:64]), cfg.sharpness_rho, cfg.sharpness_draws,
                                 seed=run.config.seed)
    return row


def measure(runs: dict[str, list], cfg: RegularizationConfig) -> pd.DataFrame:
    """One row per (configuration, seed): accuracies, losses, gaps, norm and sharpness, cached per
    run and measured in ``cfg.workers`` processes (one torch thread each, so the numbers do not
    depend on it)."""
    tasks = [(name, run, cfg) for name, rs in runs.items() for run in rs]
    rows = cached_map(_measure_one, tasks, cfg.workers, desc="regularization: measurements")
    return pd.DataFrame(rows)[MEASURE_COLUMNS]  # one order, fresh or read back (sorted) from the cache


MEASURE_COLUMNS = ["config", "seed", "parameters", "train_acc", "train_loss", "id_acc", "ood64_acc", "ood128_acc",
                   "id_loss", "gap_id", "gap_ood64", "param_norm", "sharpness"]


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Configuration -> mean ± 95% CI (t, over seeds) of the main measurements (accuracies in %)."""
    cols = {"train_acc": 100, "id_acc": 100, "ood64_acc": 100, "ood128_acc": 100, "gap_ood64": 100,
            "param_norm": 1, "sharpness": 1}
    out = {}
    for name, d in results.groupby("config", sort=False):
        row = {"parameters": int(d.parameters.iloc[0]), "seeds": len(d)}
        for col, scale in cols.items():
            m, h = mean_ci(scale * d[col])
            row[col] = f"{m:.1f} ± {h:.1f}" if scale == 100 else f"{m:.3g} ± {h:.2g}"
        out[name] = row
    return pd.DataFrame(out).T


def comparisons(results: pd.DataFrame, metric: str = "ood64_acc") -> list[str]:
    """The study's comparisons, each as one sentence with a CI and a Welch p-value."""
    by = {name: d[metric].to_numpy() for name, d in results.groupby("config", sort=False)}
    pairs = [("tied", "untied", "tied vs untied at matched compute (6 rounds)"),
             ("tied", "untied shallow", "tied vs shallow untied at matched parameters"),
             ("tied+progressive", "tied", "progressive loss vs fixed-T training (tied)")]
    for arch in ("tied", "untied"):
        pairs += [(name, arch, f"{name} vs {arch}") for name in by if name.startswith(f"{arch} + ")]
    out = []
    for a, b, what in pairs:
        if a in by and b in by and len(by[a]) > 1 and len(by[b]) > 1:
            out.append(verdict(compare(by[a], by[b]), f"{what} [{metric}]"))
    return out


def regularizer_curves(results: pd.DataFrame) -> pd.DataFrame:
    """Long table for the gap-vs-strength figure: architecture, regularizer, strength, gap."""
    rows = []
    for name, d in results.groupby("config", sort=False):
        arch, _, rest = name.partition(" + ")
        if arch not in ("tied", "untied"):
            continue
        for reg, (field, values) in REGULARIZERS.items():
            if rest and not rest.startswith(reg):
                continue
            strength = 0.0 if not rest else (1.0 if reg == "early stopping" else float(rest.split()[-1]))
            for _, r in d.iterrows():
                rows.append({"architecture": arch, "regularizer": reg, "strength": strength, "seed": r.seed,
                             "gap_ood64": r.gap_ood64, "ood64_acc": r.ood64_acc, "id_acc": r.id_acc})
    return pd.DataFrame(rows)


def iteration_curves(runs: dict[str, list], cfg: RegularizationConfig) -> pd.DataFrame:
    """Accuracy against test-time iterations for the tied configurations (no regularizer)."""
    rows, requests = [], []
    for name in ("tied", "tied+progressive"):
        for run in runs.get(name, []):
            for split in ("test_16", "test_64"):
                for k in cfg.iterations:
                    requests.append((run, (split, cfg.eval_graphs), {"device": cfg.device, "iterations": k}))
                    rows.append({"model": name, "seed": run.config.seed, "split": split, "iterations": k,
                                 "looped": True, "trained_iterations": 6})
    for row, m in zip(rows, evaluate_many(requests, cfg.workers, "regularization: iteration curves")):
        row.update(pointer_accuracy=m["pointer_accuracy"], exact_match=m["exact_match"])
    return pd.DataFrame(rows)


def conclusion(results: pd.DataFrame, alpha: float = 0.05) -> str:
    """The study's answer, with every number pulled from the results.

    The regularization reading predicts three things: weight tying changes OOD accuracy at
    matched compute; some explicit regularizer on the untied model reproduces that change; and
    OOD accuracy tracks the usual proxies (parameter norm, sharpness). Each is tested in turn.
    """
    by = {name: d.ood64_acc.to_numpy() for name, d in results.groupby("config", sort=False)}
    pct = lambda x: f"{100 * x:+.1f}"  # noqa: E731
    tied = compare(by["tied"], by["untied"])
    shallow = compare(by["tied"], by["untied shallow"])
    lines = [f"Tying: at matched compute the tied model's OOD accuracy at n = 64 differs from the untied one's by "
             f"{pct(tied['diff'])} points (p = {tied['p']:.3f}), and from the shallow untied model with about the "
             f"same parameters by {pct(shallow['diff'])} points (p = {shallow['p']:.3f})."]
    untied_regs = {n: v for n, v in by.items() if n.startswith("untied + ")}
    if tied["p"] >= alpha:
        lines.append("Tying has no significant effect on OOD accuracy here, so there is no recurrence effect "
                     "for an explicit regularizer to reproduce.")
    elif tied["diff"] < 0:
        lines.append("Tying makes OOD accuracy significantly worse at matched compute: there is no benefit for "
                     "the regularization reading to explain.")
    elif untied_regs:
        name, best = max(untied_regs.items(), key=lambda kv: kv[1].mean())
        gap = compare(by["tied"], best)
        lines.append(f"Tying makes OOD accuracy significantly better. The best-regularized untied model ({name}, "
                     f"the best of {len(untied_regs)} settings) is {pct(-gap['diff'])} points from the tied one "
                     f"(p = {gap['p']:.3f}): "
                     + ("an explicit regularizer reproduces the effect, as the regularization reading predicts."
                        if gap["p"] >= alpha else
                        "no explicit regularizer reproduces the effect, so tying does more than regularize."))
    regs = [(n, compare(v, by[n.split(" + ")[0]])) for n, v in by.items() if " + " in n]
    helped = [n for n, c in regs if c["p"] < alpha and c["diff"] > 0]
    hurt = [n for n, c in regs if c["p"] < alpha and c["diff"] < 0]
    lines.append(f"Explicit regularizers: of {len(regs)} settings, {len(helped)} improve OOD accuracy "
                 f"significantly ({', '.join(helped) or 'none'}) and {len(hurt)} make it worse "
                 f"({', '.join(hurt) or 'none'}); with this many tests, expect about {alpha * len(regs):.1f} "
                 "false positives.")
    r_norm = np.corrcoef(results.param_norm, results.ood64_acc)[0, 1]
    r_sharp = np.corrcoef(results.sharpness, results.ood64_acc)[0, 1]
    tracks = max(abs(r_norm), abs(r_sharp)) >= 0.5
    lines.append(f"Proxies: across all runs OOD accuracy correlates with parameter norm at r = {r_norm:+.2f} and "
                 f"with sharpness at r = {r_sharp:+.2f}; "
                 + ("at least one proxy tracks it (|r| >= 0.5)." if tracks else
                    "neither tracks it (|r| < 0.5), so what separates OOD-good from OOD-bad models here is not "
                    "what regularization usually acts on."))
    return "\n".join(lines)
