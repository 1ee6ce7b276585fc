"""Notebook 08 (`PROFILE=long`): weight-tied looped models with recall and the progressive loss.
Does raising the number of iterations at test time help, where, and at what cost?"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from ..findings import findings_row
from ..flops import flops_per_graph
from ..models import model_config
from ..models.predict import predict_graphs
from ..models.train import Run
from ..presets import ROUTES
from ..samplers import sample_split
from ..sweep import evaluate_many, run_sweep
from . import preset_grid


@dataclass(frozen=True)
class LoopedConfig:
    models: tuple[str, ...] = ("looped_gnn",)  # looped presets (the long profile adds looped_transformer)
    baseline: str = "gnn_max"  # the untied model of notebook 01 to compare with (fixed depth)
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per model
    steps: int | None = None  # override the presets' optimizer steps (None: the preset's own)
    train_graphs: int | None = None  # override the training-set size (None: the preset's own)
    iterations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # test-time iteration counts (trained at 8)
    splits: tuple[str, ...] = ("test_16", "test_64", "test_128", "maze_64")  # evaluation splits
    eval_graphs: int = 256  # graphs per evaluation split
    cost_graphs: int = 16  # graphs per size for the FLOPs and wall-time measurements
    cost_sizes: tuple[int, ...] = (64, 128)  # n for the cost measurements
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def train_configs(self):
        return preset_grid((*self.models, self.baseline), self.seeds, self.steps, self.train_graphs, evals=8)


PROFILES = {
    "full": LoopedConfig(),
    "long": LoopedConfig(models=("looped_gnn", "looped_transformer")),
    "smoke": LoopedConfig(seeds=(0, 1), steps=12, train_graphs=64, iterations=(1, 4), splits=("test_16", "maze_64"),
                          eval_graphs=4, cost_graphs=2, cost_sizes=(64,), workers=1),
}


def training_configs(cfg) -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan)."""
    return cfg.train_configs()


def train_all(cfg: LoopedConfig) -> list[Run]:
    """Looped models and the untied baseline, every seed, through the run cache."""
    return run_sweep(cfg.train_configs(), workers=cfg.workers, device=cfg.device, desc="looped models")


def _trained_iterations(run: Run) -> int | None:
    """The iteration count a looped run was trained with (None for fixed-depth models)."""
    cfg = model_config(run.config.model, **run.config.model_args)
    return getattr(cfg, "iterations", None)


def iteration_curves(runs: list[Run], cfg: LoopedConfig) -> pd.DataFrame:
    """Long table: (model, seed, split, iterations) -> pointer accuracy and exact match.

    The untied baseline has no iteration knob; it appears once, at its depth.
    """
    rows, requests = [], []
    for run in runs:
        trained = _trained_iterations(run)
        looped = trained is not None
        depth = run.config.model_args.get("layers", 4)
        for split in cfg.splits:
            for k in (cfg.iterations if looped else (depth,)):
                requests.append((run, (split, cfg.eval_graphs), {"device": cfg.device,
                                                                 **({"iterations": k} if looped else {})}))
                rows.append({"model": run.config.label, "route": ROUTES.get(run.config.label, ""),
                             "seed": run.config.seed, "split": split, "iterations": k, "looped": looped,
                             "trained_iterations": trained if looped else depth})
    for row, m in zip(rows, evaluate_many(requests, cfg.workers, "looped models: iteration curves")):
        row.update(pointer_accuracy=m["pointer_accuracy"], exact_match=m["exact_match"])
    return pd.DataFrame(rows)


def cost_table(runs: list[Run], cfg: LoopedConfig) -> pd.DataFrame:
    """Counted FLOPs and measured wall time per graph against iterations (one seed per model)."""
    rows, seen = [], set()
    for run in runs:
        if run.config.label in seen:
            continue
        seen.add(run.config.label)
        model = run.model(cfg.device)
        looped = _trained_iterations(run) is not None
        for n in cfg.cost_sizes:
            graphs = sample_split(f"test_{n}", cfg.cost_graphs, with_pi=False)
            for k in (cfg.iterations if looped else (run.config.model_args.get("layers", 4),)):
                kw = {"iterations": k} if looped else {}
                predict_graphs(model, graphs[:1], device=cfg.device, **kw)  # warm-up
                t0 = time.perf_counter()
                predict_graphs(model, graphs, batch_size=len(graphs), device=cfg.device, **kw)
                wall = (time.perf_counter() - t0) / len(graphs)
                rows.append({"model": run.config.label, "n": n, "iterations": k,
                             "MFLOPs per graph": flops_per_graph(model, graphs, **kw) / 1e6,
                             "ms per graph": 1e3 * wall})
    return pd.DataFrame(rows)


def best_iterations(curves: pd.DataFrame) -> pd.DataFrame:
    """Per looped model and split: accuracy at the training count, the best count, and the gain."""
    looped = curves[curves.looped]
    mean = looped.groupby(["model", "split", "iterations"])["pointer_accuracy"].mean()
    trained_at = looped.groupby("model")["trained_iterations"].first()
    rows = []
    for (model, split), s in mean.groupby(level=[0, 1]):
        s = s.droplevel([0, 1])
        trained = trained_at[model] if trained_at[model] in s.index else s.index[0]
        rows.append({"model": model, "split": split, "at training T": 100 * s.loc[trained],
                     "best T": int(s.idxmax()), "at best T": 100 * s.max(),
                     "at largest T": 100 * s.iloc[-1]})
    base = curves[~curves.looped].groupby(["model", "split"])["pointer_accuracy"].mean()
    for (model, split), v in base.items():
        rows.append({"model": model, "split": split, "at training T": 100 * v, "best T": None,
                     "at best T": None, "at largest T": None})
    return pd.DataFrame(rows).set_index(["model", "split"]).round(1)


def summary(curves: pd.DataFrame) -> str:
    """Sentences with the numbers: where more iterations help, and by how much."""
    table = best_iterations(curves)
    lines = []
    for (model, split), r in table.iterrows():
        if pd.isna(r["best T"]):
            continue
        gain = r["at best T"] - r["at training T"]
        verdict = "helps" if gain >= 1.0 else "does not help"
        lines.append(f"{model} on {split}: {r['at training T']:.1f}% at the training count, {r['at best T']:.1f}% at "
                     f"T = {int(r['best T'])} ({gain:+.1f} points; more iterations {verdict}), "
                     f"{r['at largest T']:.1f}% at the largest T.")
    return "\n".join(lines)


def findings_rows(curves: pd.DataFrame, runs: list[Run]) -> list[dict]:
    """README rows: each looped model at its training iteration count."""
    rows = []
    for model in dict.fromkeys(curves[curves.looped].model):
        dm = curves[curves.model == model]
        t = int(dm.trained_iterations.iloc[0])
        t = t if t in set(dm.iterations) else int(dm.iterations.max())  # (the smoke profile skips it)
        rs = [r for r in runs if r.config.label == model]
        rows.append(findings_row(f"{model} (T = {t})", ROUTES.get(model, ""), dm[dm.iterations == t],
                                 f"{t} iterations", rs))
    return rows
