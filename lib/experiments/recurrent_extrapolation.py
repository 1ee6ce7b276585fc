"""Notebook 03, part 1, the long-path regime: does a recurrent model keep improving, or at least hold, when
it runs longer than it was trained to, on graphs whose paths are longer than any it saw?

Three recurrent variants train on short paths (sparse ER, depth-first mazes and grids at
n <= 16, each seed its own graphs): a generic one (max aggregation), one with the min
aggregation prior, and the min-plus model whose update is Bellman-Ford-shaped. They are
scored at 1x, 4x and 16x their training iterations. The min-plus model, which reaches a fixed
point by construction, is then run until it settles (halting) on mazes and grids up to 32 x 32
and SALSA-CLRS sparse graphs up to n = 1600; whether the generic variants settle at all is
measured on one split (`iterations_vs_depth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..batching import collate
from ..findings import findings_row
from ..models import model_config
from ..models.predict import predict_graphs
from ..oracle import dijkstra, hop_depth
from ..presets import ROUTES, preset
from ..runs import RunCache, evaluation_key
from ..samplers import SPLITS, sample_split
from ..solvers import SHORTCUTS, evaluate_solver, get_solver
from ..statistics import wilson
from ..sweep import evaluate_curves, evaluate_many, run_sweep


@dataclass(frozen=True)
class RecurrentStudyConfig:
    variants: tuple[str, ...] = ("recurrent_generic", "recurrent_min", "recurrent")  # presets, generic first
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds (each draws its own training graphs)
    steps: int | None = None  # override the presets' optimizer steps (None: the preset's own)
    multiples: tuple[int, ...] = (1, 4, 16)  # test-time iterations, in multiples of the training count
    curve_splits: tuple[str, ...] = ("val_short_paths", "maze_dfs_side8", "grid_side8", "salsa_delaunay_80",
                                     "maze_dfs_side16")  # splits for accuracy against iterations
    curve_graphs: int = 256  # graphs per split for the curves
    halt_splits: tuple[str, ...] = ("val_short_paths", "test_16", "test_64", "test_128", "maze_dfs_side16", "maze_dfs_side32", "grid_side16",
                                    "grid_side32", "salsa_er_160", "salsa_ws_160", "salsa_delaunay_160",
                                    "salsa_er_1600", "salsa_ws_1600", "salsa_delaunay_1600")  # run-until-settled
    halt_variants: tuple[str, ...] = ("recurrent",)  # variants run until settled on every halting split
    halt_graphs: int = 256  # graphs per split when halting (64 at n >= 800)
    halt_cap: int = 1000  # most iterations a graph may use when halting
    depth_split: str = "maze_dfs_side16"  # split for iterations used against hop depth, and for state drift
    depth_graphs: int = 32  # its graphs
    depth_cap: int = 256  # iteration cap there (16x the training count)
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"


PROFILES = {
    "full": RecurrentStudyConfig(),
    "smoke": RecurrentStudyConfig(seeds=(0,), steps=6, multiples=(1, 4), curve_splits=("val_short_paths",
                                  "maze_dfs_side8"), curve_graphs=3, halt_splits=("val_short_paths", "maze_dfs_side8"),
                                  halt_graphs=3, halt_cap=50, depth_split="maze_dfs_side4", depth_graphs=3, depth_cap=64,
                                  workers=1),
}


def training_configs(cfg: RecurrentStudyConfig) -> list:
    changes = {} if cfg.steps is None else {"steps": cfg.steps, "eval_every": max(1, cfg.steps // 2),
                                            "val_graphs": 8}
    return [preset(v, seed=s, **changes) for v in cfg.variants for s in cfg.seeds]


def train_all(cfg: RecurrentStudyConfig) -> list:
    return run_sweep(training_configs(cfg), workers=cfg.workers, device=cfg.device, desc="recurrent models")


def trained_iterations(run) -> int:
    return model_config(run.config.model, **run.config.model_args).iterations


def _eval_graphs(split: str, num: int) -> int:
    """The rules of evidence: 64 graphs at n >= 800."""
    return min(num, 64) if max(SPLITS[split].sizes) >= 800 else num


def hop_depth_of(split: str) -> float:
    """Mean over graphs of the deepest shortest-path hop count (from the split's first 16 graphs)."""
    return float(np.mean([hop_depth(g, g.pi).max() for g in sample_split(split, 16)]))


def iteration_curves(runs: list, cfg: RecurrentStudyConfig) -> pd.DataFrame:
    """(variant, seed, split, multiple) -> pointer accuracy and exact match at that many iterations."""
    curves = [(run, split, cfg.curve_graphs, [{"model": run.config.label, "seed": run.config.seed, "split": split,
                                               "iterations": k * t, "multiple": k, "looped": True,
                                               "trained_iterations": t} for k in cfg.multiples])
              for run in runs for t in [trained_iterations(run)] for split in cfg.curve_splits]
    return pd.DataFrame(evaluate_curves(curves, cfg.workers, "recurrent models: iteration curves", cfg.device))


def holds_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Per variant and split: mean pointer accuracy (%) at each multiple, and whether every larger
    multiple is at least the training count's (within 0.5 points, the seed-mean's rounding)."""
    mean = curves.groupby(["model", "split", "multiple"], sort=False)["pointer_accuracy"].mean().mul(100)
    table = mean.unstack("multiple")
    table.columns = [f"{k}x" for k in table.columns]
    first = table.columns[0]
    table["holds"] = (table[table.columns[1:]].ge(table[first] - 0.5, axis=0)).all(axis=1)
    return table.round(1)


def halting_results(runs: list, cfg: RecurrentStudyConfig) -> pd.DataFrame:
    """Each run of ``halt_variants``, run until it settles (cap ``halt_cap``) on every halting split."""
    rows, requests = [], []
    for run in (r for r in runs if r.config.label in cfg.halt_variants):
        for split in cfg.halt_splits:
            num = _eval_graphs(split, cfg.halt_graphs)
            requests.append((run, (split, num), {"device": cfg.device, "iterations": cfg.halt_cap, "halt": True}))
            rows.append({"model": run.config.label, "seed": run.config.seed, "split": split,
                         "n": max(SPLITS[split].sizes)})
    for row, m in zip(rows, evaluate_many(requests, cfg.workers, "recurrent models: run until settled")):
        row.update(graphs=m["num_graphs"], pointer_accuracy=m["pointer_accuracy"], exact_match=m["exact_match"],
                   exact=round(m["exact_match"] * m["num_graphs"]), mean_iterations=m["mean_iterations"],
                   max_iterations=m["max_iterations"])
    return pd.DataFrame(rows)


def shortcut_results(cfg: RecurrentStudyConfig) -> pd.DataFrame:
    """The no-learning shortcuts on the same graphs, as trivial baselines (on a tree, such as a
    perfect maze, the fewest-hops tree is the shortest-path tree, so mazes alone prove little)."""
    rows, cache = [], RunCache()
    for name in SHORTCUTS:
        for split in cfg.halt_splits:
            num = _eval_graphs(split, cfg.halt_graphs)
            m = cache.cached_result(evaluation_key(solver=name, split=split, graphs=num),
                                    lambda n=name, s=split, k=num: evaluate_solver(get_solver(n), sample_split(s, k)))
            rows.append({"model": f"{name} (shortcut)", "seed": 0, "split": split, "n": max(SPLITS[split].sizes),
                         "graphs": m["num_graphs"], "pointer_accuracy": m["pointer_accuracy"],
                         "exact_match": m["exact_match"], "exact": round(m["exact_match"] * m["num_graphs"]),
                         "mean_iterations": np.nan, "max_iterations": np.nan})
    return pd.DataFrame(rows)


def halting_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per split (n, hop depth, graphs per seed); per model its exact match in %, pooled
    over seeds, with the Wilson 95% interval, and for learned models the pointer accuracy (mean
    over seeds) and the mean iterations used."""
    rows = {}
    for split, ds in results.groupby("split", sort=False):
        row = {"n": int(ds.n.iloc[0]), "hop depth": round(hop_depth_of(split), 1), "graphs": int(ds.graphs.iloc[0])}
        for model, d in ds.groupby("model", sort=False):
            k, n = int(d.exact.sum()), int(d.graphs.sum())
            lo, hi = wilson(k, n)
            if not d.mean_iterations.isna().all():
                row[f"{model}: pointer %"] = round(100 * float(d.pointer_accuracy.mean()), 1)
                row[f"{model}: iterations"] = round(float(d.mean_iterations.mean()), 1)
            row[f"{model}: exact % [95% CI]"] = f"{100 * k / n:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
        rows[split] = row
    return pd.DataFrame(rows).T


def iterations_vs_depth(runs: list, cfg: RecurrentStudyConfig) -> pd.DataFrame:
    """Per graph of ``depth_split``: its deepest shortest-path hop count and the iterations each
    variant (seed 0) used before it settled, capped at ``depth_cap`` (cached in each run)."""
    graphs = sample_split(cfg.depth_split, cfg.depth_graphs)
    depths = [int(hop_depth(g, dijkstra(g)[1]).max()) for g in graphs]
    rows = []
    for run in runs:
        if run.config.seed != cfg.seeds[0]:
            continue
        key = evaluation_key(study="iterations_vs_depth", split=cfg.depth_split, graphs=cfg.depth_graphs,
                             cap=cfg.depth_cap)
        used = run.cached_evaluation(key, lambda r=run: {"iterations": [p.iterations for p in predict_graphs(
            r.model(cfg.device), graphs, device=cfg.device, iterations=cfg.depth_cap, halt=True)]})["iterations"]
        rows += [{"model": run.config.label, "hop depth": d, "iterations used": k} for d, k in zip(depths, used)]
    return pd.DataFrame(rows)


def settling_summary(depth: pd.DataFrame, cap: int) -> str:
    """Per variant: mean iterations used on the depth split, and the share of graphs that never
    settled (hit the cap)."""
    lines = []
    for model, d in depth.groupby("model", sort=False):
        hit = float((d["iterations used"] >= cap).mean())
        lines.append(f"{model}: {d['iterations used'].mean():.1f} iterations on average (hop depth "
                     f"{d['hop depth'].mean():.1f}); {100 * hit:.0f}% of graphs never settled within {cap}.")
    return "\n".join(lines)


def state_drift(runs: list, cfg: RecurrentStudyConfig) -> pd.DataFrame:
    """Mean state norm and per-iteration relative change against iterations, up to 16x the
    training count (seed 0 of each variant, on ``depth_split``)."""
    batch = collate(sample_split(cfg.depth_split, min(cfg.depth_graphs, 16)), with_targets=False)
    rows = []
    for run in runs:
        if run.config.seed != cfg.seeds[0]:
            continue
        t = trained_iterations(run)
        d = run.model("cpu").state_drift(batch, max(cfg.multiples) * t)
        rows += [{"model": run.config.label, "iteration": i + 1, "state norm": n, "relative change": c,
                  "trained_iterations": t} for i, (n, c) in enumerate(zip(d["state_norm"], d["relative_change"]))]
    return pd.DataFrame(rows)


def conclusion(curves: pd.DataFrame, halting: pd.DataFrame, shortcuts: pd.DataFrame | None = None) -> str:
    """The verdict, computed: which variants hold at 4x and 16x on every curve split, which does
    best when run until settled, and on which splits it beats the best shortcut's exact match."""
    held = holds_table(curves)["holds"].groupby("model", sort=False).all()
    lines = []
    for model, ok in held.items():
        lines.append(f"{model}: accuracy at {'/'.join(f'{k}x' for k in sorted(set(curves.multiple))[1:])} the "
                     f"training count is {'at least' if ok else 'NOT always at least'} the accuracy at 1x on every "
                     "curve split.")
    settled = halting.groupby("model", sort=False).exact_match.mean()
    best = settled.idxmax()
    others = ", ".join(f"{m} {100 * v:.1f}%" for m, v in settled.items() if m != best)
    lines.append(f"Exact match when run until settled, averaged over the halting splits: {best} "
                 f"{100 * settled[best]:.1f}%" + (f"; {others}" if others else "") + ".")
    if shortcuts is not None and not shortcuts.empty:
        mine = halting[halting.model == best].groupby("split", sort=False).exact_match.mean()
        floor = shortcuts.groupby("split").exact_match.max()
        beats = [s for s in mine.index if mine[s] > floor.get(s, 0.0) + 1e-9]
        lines.append(f"{best} beats the best shortcut's exact match on {len(beats)} of {len(mine)} halting splits"
                     + (f" ({', '.join(beats)})" if beats else "") + ".")
    return "\n".join(lines)


def findings_rows(halting: pd.DataFrame, runs: list) -> list[dict]:
    """README rows: each variant run until it settles, on the CLRS splits of the table (these
    models trained on sparse short-path graphs, so even n = 16 is another distribution for them)."""
    rows = []
    for model in dict.fromkeys(halting.model):
        d = halting[halting.model == model]
        rs = [r for r in runs if r.config.label == model]
        er = d[d.split.isin(["test_16", "test_64", "test_128"])]
        rows.append(findings_row(f"{model} (trained on short paths), run until settled", ROUTES.get(model, ""), d,
                                 f"halting: {er.mean_iterations.mean():.0f} iterations on average on CLRS ER", rs))
    return rows
