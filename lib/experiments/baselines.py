"""Notebook 01, the baselines: do MLP, Transformer and GNN learn Dijkstra or the dataset?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..findings import findings_row
from ..flops import flops_per_graph
from ..metrics import errors_by_hop_depth
from ..models.predict import predict_graphs
from ..models.train import Run
from ..presets import ROUTES
from ..published import CLRS_DIJKSTRA_N64
from ..samplers import sample_split
from ..solvers import evaluate_solver, get_solver
from ..sweep import run_sweep
from . import preset_grid

ER_SPLITS = ("test_16", "test_32", "test_64", "test_128")
FAMILY_SPLITS = ("watts_strogatz_64", "delaunay_64", "grid_64", "maze_64", "tree_64")
SPLIT_SIZE = {"test_16": 16, "test_32": 32, "test_64": 64, "test_128": 128}


@dataclass(frozen=True)
class BaselinesConfig:
    models: tuple[str, ...] = ("mlp", "transformer", "transformer_masked", "gnn_sum", "gnn_max", "gnn_min")  # presets
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per model
    steps: int | None = None  # override every preset's optimizer steps (None: the preset's own)
    train_graphs: int | None = None  # override the training-set size (None: the preset's own)
    eval_graphs: int = 64  # graphs per evaluation split
    splits: tuple[str, ...] = ER_SPLITS + FAMILY_SPLITS  # evaluation splits
    hop_split: str = "maze_64"  # split for the error-by-hop-depth breakdown (long paths)
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def train_configs(self):
        return preset_grid(self.models, self.seeds, self.steps, self.train_graphs, evals=8)


PROFILES = {
    "full": BaselinesConfig(),
    "smoke": BaselinesConfig(seeds=(0, 1), steps=16, train_graphs=64, eval_graphs=4,
                             splits=("test_16", "test_64", "maze_64"), workers=1),
}


def training_configs(cfg) -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan)."""
    return cfg.train_configs()


def train_all(cfg: BaselinesConfig) -> list[Run]:
    """Every model × seed, through the run cache (parallel over processes)."""
    return run_sweep(cfg.train_configs(), workers=cfg.workers, device=cfg.device, desc="baselines")


def fits(run: Run, split: str) -> bool:
    """Can this model take this split at all? (The MLP is fixed to its padded size.)"""
    max_n = run.config.model_args.get("max_nodes", 16) if run.config.model == "mlp" else None
    return max_n is None or SPLIT_SIZE.get(split, 64) <= max_n


def evaluate_all(runs: list[Run], cfg: BaselinesConfig) -> pd.DataFrame:
    """Long table: one row per (model, seed, split) with pointer accuracy and exact match."""
    rows = []
    for run in runs:
        for split in cfg.splits:
            if not fits(run, split):
                continue
            m = run.evaluate(split, cfg.eval_graphs, device=cfg.device)
            rows.append({"model": run.config.label, "seed": run.config.seed, "split": split,
                         "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


def shortcut_rows(cfg: BaselinesConfig) -> pd.DataFrame:
    """The same table for the shortcut solvers (no seeds) — a floor for "learned something"."""
    rows = []
    for split in cfg.splits:
        graphs = sample_split(split, cfg.eval_graphs)
        for name in ("min_hop", "nearest"):
            m = evaluate_solver(get_solver(name), graphs)
            rows.append({"model": name, "seed": 0, "split": split, "pointer_accuracy": m["pointer_accuracy"],
                         "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


def summary_table(results: pd.DataFrame, metric: str = "pointer_accuracy") -> pd.DataFrame:
    """``mean ± std`` over seeds, model × split, with each model's route; '—' where it cannot run."""
    g = results.groupby(["model", "split"])[metric]
    stats = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1).fillna(0.0), "n": g.size()})
    text = stats.apply(lambda r: f"{100 * r['mean']:.1f} ± {100 * r['std']:.1f}" if r["n"] > 1
                       else f"{100 * r['mean']:.1f}", axis=1)
    table = text.unstack("split")
    order = [s for s in list(ER_SPLITS) + list(FAMILY_SPLITS) if s in table.columns]
    models = list(dict.fromkeys(results["model"]))
    table = table.reindex(index=models, columns=order).fillna("—")
    table.insert(0, "route", [ROUTES.get(m, "shortcut (no learning)") for m in table.index])
    table.insert(1, "seeds", [int(results[results.model == m].seed.nunique()) for m in table.index])
    return table


def hop_depth_table(runs: list[Run], cfg: BaselinesConfig) -> pd.DataFrame:
    """Pointer accuracy by hop depth of the true shortest path, pooled over seeds."""
    graphs = sample_split(cfg.hop_split, cfg.eval_graphs)
    rows = []
    for run in runs:
        if not fits(run, cfg.hop_split):
            continue
        preds = predict_graphs(run.model(cfg.device), graphs, device=cfg.device)
        for depth, (correct, total) in errors_by_hop_depth(graphs, preds).items():
            rows.append({"model": run.config.label, "seed": run.config.seed, "depth": depth,
                         "correct": correct, "total": total})
    df = pd.DataFrame(rows)
    per_seed = df.assign(accuracy=df.correct / df.total)
    return per_seed


def verdicts(results: pd.DataFrame, shortcuts: pd.DataFrame) -> str:
    """One sentence per model, with its numbers, saying what it learned."""
    mean = results.groupby(["model", "split"])[["pointer_accuracy", "exact_match"]].mean()
    best_shortcut = shortcuts.groupby("split")["pointer_accuracy"].max()
    lines = []
    for model in dict.fromkeys(results["model"]):
        m = mean.loc[model]
        id_acc = m.loc["test_16", "pointer_accuracy"] if "test_16" in m.index else np.nan
        ood = [s for s in ("test_64", "test_128") if s in m.index]
        if not ood:
            lines.append(f"{model}: {100 * id_acc:.1f}% pointer accuracy at n = 16 and no answer at all beyond its "
                         f"fixed input size: it learned the dataset's shape, by construction.")
            continue
        far = ood[-1]
        drop = id_acc - m.loc[far, "pointer_accuracy"]
        verdict = ("close to the algorithm on ER graphs" if drop < 0.02 and m.loc[far, "exact_match"] > 0.5 else
                   "part of the algorithm: it degrades with size" if m.loc[far, "pointer_accuracy"] >
                   best_shortcut.get(far, 0) + 0.1 else "mostly the dataset: OOD it is near a shortcut solver")
        fam = [s for s in FAMILY_SPLITS if s in m.index]
        fam_txt = "; on other families " + ", ".join(
            "{} {:.0f}%".format(s[:-3], 100 * m.loc[s, "pointer_accuracy"]) for s in fam) if fam else ""
        lines.append(
            f"{model}: {100 * id_acc:.1f}% at n = 16 -> "
            + ", ".join(f"{100 * m.loc[s, 'pointer_accuracy']:.1f}% at n = {SPLIT_SIZE[s]}" for s in ood)
            + f" (exact match {100 * m.loc[far, 'exact_match']:.0f}% at n = {SPLIT_SIZE[far]}){fam_txt}. "
            + f"Learned: {verdict}.")
    return "\n".join(lines)


def model_table(runs: list[Run]) -> pd.DataFrame:
    """Parameters, training steps and training wall time per model (mean over seeds)."""
    rows = [{"model": r.config.label, "route": ROUTES.get(r.config.label, ""), "parameters": r.metrics["parameters"],
             "steps": r.config.steps, "train seconds": r.metrics["train_seconds"]} for r in runs]
    df = pd.DataFrame(rows)
    return df.groupby("model", sort=False).agg(
        {"route": "first", "parameters": "first", "steps": "first", "train seconds": "mean"}).round(1)


def clrs_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Our best baseline at n = 64 next to the CLRS paper's published figures (with hints)."""
    at64 = results[results.split == "test_64"].groupby("model")["pointer_accuracy"]
    best = at64.mean().idxmax()
    rows = {f"{best} (ours, no hints, best baseline)": (100 * at64.mean()[best], 100 * at64.std(ddof=1)[best])}
    rows.update(CLRS_DIJKSTRA_N64)
    return pd.DataFrame(rows, index=["pointer accuracy at n = 64 (%)", "std over seeds"]).T.round(2)


def findings_rows(results: pd.DataFrame, runs: list[Run]) -> list[dict]:
    """One README findings row per model (accuracies mean ± std over seeds, in %)."""
    graphs = sample_split("test_64", 8, with_pi=False)
    rows = []
    for model in dict.fromkeys(results.model):
        rs = [r for r in runs if r.config.label == model]
        cost = "—" if not fits(rs[0], "test_64") else f"{flops_per_graph(rs[0].model(), graphs) / 1e6:.0f} MFLOPs/graph"
        rows.append(findings_row(model, ROUTES.get(model, ""), results[results.model == model], cost, rs))
    return rows
