"""Notebook 01, the baselines: do MLP, Transformer and GNN learn Dijkstra or the dataset?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..findings import findings_row, pct_wilson
from ..flops import flops_per_graph
from ..graph_statistics import graph_statistics
from ..metrics import errors_by_hop_depth
from ..models.predict import predict_graphs
from ..models.train import Run
from ..presets import ROUTES
from ..published import CLRS_DIJKSTRA_N64
from ..samplers import SPLITS, sample_split
from ..solvers import shortcut_metrics
from ..statistics import mean_ci
from ..sweep import evaluate_many, longest_first, run_sweep
from . import preset_grid

ER_SPLITS = ("test_16", "test_32", "test_64", "test_128")
FAMILY_SPLITS = ("watts_strogatz_64", "delaunay_64", "grid_64", "maze_64", "tree_64")
REAL_SPLITS = ("nx_real_graphs",)  # the real graphs networkx ships, 15 to 77 nodes
#: Fixed mean degree, growing hop depth: size without density (SALSA-CLRS sparse ER, mazes, grids).
DEPTH_SPLITS = ("salsa_er_16", "salsa_er_80", "salsa_er_160", "salsa_er_800",
                "maze_dfs_side4", "maze_dfs_side8", "maze_dfs_side16", "grid_side4", "grid_side8", "grid_side16")
LARGE_N = 800  # from this many nodes a split is evaluated on `large_eval_graphs` graphs


def split_size(split: str) -> int:
    """The largest n a named split draws."""
    return max(SPLITS[split].sizes)


#: The presets by their training time on 2 CPU cores, the slowest first: a sweep starts them in this
#: order, so that its two workers finish together.
SLOWEST_FIRST = ("gnn_min", "gnn_max", "gnn_sum", "transformer_masked", "transformer", "mlp")


@dataclass(frozen=True)
class BaselinesConfig:
    models: tuple[str, ...] = ("mlp", "transformer", "transformer_masked", "gnn_sum", "gnn_max", "gnn_min")  # presets
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per model
    steps: int | None = None  # override every preset's optimizer steps (None: the preset's own)
    train_graphs: int | None = None  # override the training-set size (None: the preset's own)
    own_data: bool = True  # each seed draws its own training graphs (rules of evidence)
    eval_graphs: int = 256  # graphs per evaluation split (the same graphs for every row)
    large_eval_graphs: int = 64  # graphs per split at n >= 800
    splits: tuple[str, ...] = ER_SPLITS + FAMILY_SPLITS + REAL_SPLITS  # ER sizes, families at n = 64, real graphs
    depth_splits: tuple[str, ...] = DEPTH_SPLITS  # fixed-degree splits whose hop depth grows with n
    hop_split: str = "maze_64"  # split for the error-by-hop-depth breakdown (long paths)
    workers: int | None = None  # training and evaluation processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def train_configs(self):
        return preset_grid(self.models, self.seeds, self.steps, self.train_graphs, evals=8, own_data=self.own_data)

    def graphs_for(self, split: str) -> int:
        """Evaluation graphs for ``split``: fewer at n >= 800."""
        return self.large_eval_graphs if split_size(split) >= LARGE_N else self.eval_graphs


PROFILES = {
    "full": BaselinesConfig(),
    "smoke": BaselinesConfig(seeds=(0, 1), steps=16, train_graphs=64, eval_graphs=4, large_eval_graphs=2,
                             splits=("test_16", "test_64", "maze_64"), depth_splits=("salsa_er_16", "salsa_er_80"),
                             workers=1),
}


def training_configs(cfg) -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan)."""
    return cfg.train_configs()


def train_all(cfg: BaselinesConfig) -> list[Run]:
    """Every model × seed, through the run cache (parallel over processes)."""
    return run_sweep(cfg.train_configs(), workers=cfg.workers, device=cfg.device, desc="baselines",
                     first=longest_first(SLOWEST_FIRST))


def fits(run: Run, split: str) -> bool:
    """Can this model take this split at all? (The MLP is fixed to its padded size.)"""
    max_n = run.config.model_args.get("max_nodes", 16) if run.config.model == "mlp" else None
    return max_n is None or split_size(split) <= max_n


def _nodes_evaluated(request) -> int:
    """An evaluation request's graphs times their largest size: the larger ones start first."""
    _, (split, num), _ = request
    return num * split_size(split)


def evaluate_all(runs: list[Run], cfg: BaselinesConfig) -> pd.DataFrame:
    """Long table: one row per (model, seed, split) with pointer accuracy, exact match and the
    number of graphs, over `cfg.splits` and `cfg.depth_splits` (cached; missing ones in parallel)."""
    cells = [(run, split) for run in runs for split in (*cfg.splits, *cfg.depth_splits) if fits(run, split)]
    metrics = evaluate_many([(run, (split, cfg.graphs_for(split)), {"device": cfg.device}) for run, split in cells],
                            cfg.workers, "baselines: evaluations", first=_nodes_evaluated)
    return pd.DataFrame([{"model": run.config.label, "seed": run.config.seed, "split": split,
                          "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"],
                          "graphs": m["num_graphs"]} for (run, split), m in zip(cells, metrics)])


def shortcut_rows(cfg: BaselinesConfig) -> pd.DataFrame:
    """The same table for the shortcut solvers (no seeds), on the same graphs — a floor for
    "learned something"."""
    rows = []
    for split in (*cfg.splits, *cfg.depth_splits):
        graphs = sample_split(split, cfg.graphs_for(split))
        for name, m in shortcut_metrics(graphs).items():
            rows.append({"model": name, "seed": 0, "split": split, "pointer_accuracy": m["pointer_accuracy"],
                         "exact_match": m["exact_match"], "graphs": len(graphs)})
    return pd.DataFrame(rows)


def _cell(values: pd.DataFrame, metric: str) -> str:
    """One table cell: pointer accuracy as mean ± 95% CI half-width over seeds; exact match
    pooled over seeds × graphs with its 95% Wilson interval."""
    if metric == "exact_match":
        return pct_wilson(values.exact_match, values.graphs)
    mean, half = mean_ci(values[metric])
    return f"{100 * mean:.1f} ± {100 * half:.1f}" if len(values) > 1 else f"{100 * mean:.1f}"


def summary_table(results: pd.DataFrame, metric: str = "pointer_accuracy",
                  splits: Sequence[str] = ER_SPLITS + FAMILY_SPLITS + REAL_SPLITS) -> pd.DataFrame:
    """Model × split, with each model's route and seeds; '—' where a model cannot run. Pointer
    accuracy: mean ± 95% CI half-width over seeds; exact match: percent of all graphs (seeds
    pooled) with its 95% Wilson interval. Column headers give n and the graphs per seed."""
    results = results[results.split.isin(splits)]
    text = results.groupby(["model", "split"]).apply(_cell, metric, include_groups=False)
    table = text.unstack("split")
    graphs = results.groupby("split")["graphs"].max()
    order = [s for s in splits if s in table.columns]
    models = list(dict.fromkeys(results["model"]))
    table = table.reindex(index=models, columns=order).fillna("—")
    table.columns = [f"{s} ({graphs[s]} graphs)" for s in order]
    table.insert(0, "route", [ROUTES.get(m, "shortcut (no learning)") for m in table.index])
    table.insert(1, "seeds", [int(results[results.model == m].seed.nunique()) for m in table.index])
    return table


def depth_statistics(cfg: BaselinesConfig) -> pd.DataFrame:
    """Per fixed-degree split: its family, n, mean degree, mean and largest hop depth of the
    shortest paths, and the number of graphs, on the evaluation graphs themselves."""
    rows = []
    for split in cfg.depth_splits:
        graphs = sample_split(split, cfg.graphs_for(split), with_pi=False)
        stats = graph_statistics(graphs)
        rows.append({"split": split, "family": split.rsplit("_", 1)[0], "n": split_size(split),
                     "mean degree": stats["degree"].mean(),
                     "mean hop depth": stats["hops"].mean(), "max hop depth": int(stats["hops"].max()),
                     "graphs": len(graphs)})
    return pd.DataFrame(rows).set_index("split").round(2)


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
            + ", ".join(f"{100 * m.loc[s, 'pointer_accuracy']:.1f}% at n = {split_size(s)}" for s in ood)
            + f" (exact match {100 * m.loc[far, 'exact_match']:.0f}% at n = {split_size(far)}){fam_txt}. "
            + f"Learned: {verdict}.")
    return "\n".join(lines)


def depth_verdicts(results: pd.DataFrame, shortcuts: pd.DataFrame, depth: pd.DataFrame) -> str:
    """One generated line per fixed-degree family: how degree and hop depth move from its smallest
    to its largest n, the best trained model's pointer accuracy at both ends, and the best
    shortcut's at the largest n."""
    stats = depth.reset_index()
    mean = results.groupby(["split", "model"])["pointer_accuracy"].mean()
    best_shortcut = shortcuts.groupby(["split", "model"])["pointer_accuracy"].mean()
    lines = []
    for family, fs in stats.groupby("family", sort=False):
        first, last = fs.iloc[0], fs.iloc[-1]
        at_last = mean.loc[last.split]
        model = at_last.idxmax()
        sc = best_shortcut.loc[last.split]
        lines.append(
            f"{family}: n {first.n:.0f} -> {last.n:.0f}, mean degree {first['mean degree']:.1f} -> "
            f"{last['mean degree']:.1f}, mean hop depth {first['mean hop depth']:.1f} -> {last['mean hop depth']:.1f}. "
            f"Best model at n = {last.n:.0f}: {model}, {100 * mean.loc[first.split, model]:.1f}% -> "
            f"{100 * at_last[model]:.1f}% pointer accuracy; best shortcut there: {sc.idxmax()} {100 * sc.max():.1f}%"
            f" ({'above' if sc.max() > at_last[model] else 'below'} the best model).")
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
