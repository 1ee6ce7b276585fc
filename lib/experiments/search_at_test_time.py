"""Notebook 05: search at test time. Accuracy against search budget for each routine,
a compute-matched comparison with generators, the verifier/generator asymmetry, and the
headline solver."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..energy.candidates import target_candidate
from ..findings import findings_row, pct
from ..flops import flops_per_graph
from ..metrics import Prediction, evaluate_predictions
from ..presets import ROUTES, preset
from ..run_kinds import headline_parts
from ..runs import evaluation_key
from ..samplers import SPLITS, sample_split
from ..search.pointers import (
    best_of_n,
    energy_score,
    hill_climb,
    move_scale,
    options,
    oracle_score,
    simulated_annealing,
)
from ..sweep import run_sweep
from .energy_verifiers import _auc, paired_win_rate, verifier_scores


@dataclass(frozen=True)
class SearchStudyConfig:
    energy: str = "energy_residual"  # preset of the learned verifier (trained in notebook 04)
    generator: str = "looped_gnn"  # preset of the generator (notebook 08 trains it too)
    seeds: tuple[int, ...] = (0, 1, 2)  # seeds of both
    steps_budgets: tuple[int, ...] = (0, 10, 40, 160)  # continuous search steps
    samples: tuple[int, ...] = (1, 2, 4, 8, 16)  # best-of-N sample counts
    visits: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)  # hill-climbing node visits, in multiples of n
    splits: tuple[str, ...] = ("test_16", "test_64", "test_128", "maze_64")  # evaluation splits
    discrete_splits: tuple[str, ...] = ("test_16", "test_64", "maze_64")  # splits for the discrete routines
    eval_graphs: int = 16  # graphs per split (continuous routines; half that at n >= 128)
    generator_eval_graphs: int = 64  # graphs per split for the generator (shared with notebook 02's cache)
    discrete_graphs: int = 12  # graphs per split (discrete routines: one graph at a time)
    generator_iterations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # for the compute-matched comparison
    asym_sizes: tuple[int, ...] = (100, 1000, 10000)  # training-set sizes for the asymmetry study
    asym_seeds: tuple[int, ...] = (0, 1)  # seeds for the asymmetry study
    asym_generator_steps: int = 1500  # generator steps in the asymmetry study
    asym_energy_steps: int = 1000  # verifier steps in the asymmetry study
    headline: str = "headline_distilled"  # preset of this study's headline solver (the earlier one)
    headline_seeds: tuple[int, ...] = (0, 1, 2)  # its seeds
    headline_graphs: int = 64  # graphs per split for the headline figures (half that at n >= 128)
    preset_changes: dict = field(default_factory=dict)  # changes to the verifier and generator presets
    asym_changes: dict = field(default_factory=dict)  # further changes to the asymmetry study's runs
    headline_changes: dict = field(default_factory=dict)  # changes to the headline preset
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"


PROFILES = {
    "full": SearchStudyConfig(),
    "smoke": SearchStudyConfig(seeds=(0,), steps_budgets=(0, 3),
                               samples=(1, 2), visits=(0.0, 0.5), splits=("test_16", "maze_64"),
                               discrete_splits=("test_16",), eval_graphs=3, generator_eval_graphs=3, discrete_graphs=2,
                               generator_iterations=(1, 2), asym_sizes=(16, 32), asym_seeds=(0,),
                               asym_generator_steps=4, asym_energy_steps=3, headline_seeds=(0,), headline_graphs=3,
                               preset_changes={"steps": 4, "train_graphs": 16, "eval_every": 2, "val_graphs": 4,
                                               "batch_size": 4},
                               asym_changes={"eval_every": 2, "val_graphs": 4},
                               headline_changes={"generator": "tiny", "verifier": "energy_residual_tiny",
                                                 "search_steps": 3},
                               workers=1),
}


def graphs_for(split: str, num: int) -> int:
    """Fewer graphs at n >= 128, where every search step costs the most."""
    return max(1, num // 2) if max(SPLITS[split].sizes) >= 128 else num


def part_configs(cfg: SearchStudyConfig) -> list:
    """The verifier runs, then the generator runs, one per seed."""
    return [preset(name, seed=s).replace(**cfg.preset_changes) for name in (cfg.energy, cfg.generator)
            for s in cfg.seeds]


def train_all(cfg: SearchStudyConfig) -> dict[str, list]:
    """The verifier and generator runs (normally served from notebooks 04 and 02's cache)."""
    confs = part_configs(cfg)
    runs = run_sweep(confs, workers=cfg.workers, device=cfg.device, desc="verifiers and generators")
    k = len(cfg.seeds)
    return {"energy": runs[:k], "generator": runs[k:]}


# -- continuous search on the learned energy ----------------------------------------------------

def continuous_scaling(runs: dict[str, list], cfg: SearchStudyConfig) -> pd.DataFrame:
    """Accuracy against search steps for gradient descent (random and generator starts),
    Langevin and restarts, every energy seed, every split."""
    routines = {"GD (random start)": {}, "GD (generator start)": {"init": None},
                "Langevin": {"routine": "langevin", "noise": 0.01}, "GD, 2 restarts": {"routine": "restarts",
                                                                                      "restarts": 2}}
    rows = []
    for e_run, g_run in zip(runs["energy"], runs["generator"]):
        for name, over in routines.items():
            over = dict(over)
            if "init" in over:
                over["init"] = g_run.name
            for split in cfg.splits:
                res = e_run.evaluate_budgets(split, graphs_for(split, cfg.eval_graphs), cfg.steps_budgets,
                                             device=cfg.device, **over)
                for k, m in zip(cfg.steps_budgets, res):
                    rows.append({"model": name, "seed": e_run.config.seed, "split": split, "iterations": k,
                                 "looped": True, "trained_iterations": e_run.config.inner_steps,
                                 "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


# -- discrete search over pointers --------------------------------------------------------------

def _generator_probs(g_model, graph) -> list[np.ndarray]:
    """The generator's per-node pointer distribution, in `options` order."""
    batch = collate([graph], with_targets=False)
    with torch.no_grad():
        logp = batch.pointer_log_probs(g_model(batch).pointer_logits).exp().numpy()
    src, dst = batch.cand_src.numpy(), batch.cand_dst.numpy()
    by = {(int(d), int(s)): p for s, d, p in zip(src, dst, logp)}
    out = []
    for v, opts in enumerate(options(graph)):
        p = np.array([by[(v, int(u))] for u in opts], dtype=float)
        out.append(p / p.sum())
    return out


def discrete_scaling(runs: dict[str, list], cfg: SearchStudyConfig) -> pd.DataFrame:
    """Best-of-N reranking of generator samples, and hill climbing and simulated annealing from
    the generator's greedy tree, each scored by the learned energy and by the exact oracle (the
    upper bound). Annealing runs once per graph with its schedule spread over the largest budget
    (temperature from the score's typical move size down by 100x); a smaller budget reports the
    best state it had seen by then. Budgets are node visits per node. Each (verifier, generator,
    split) block is cached in the verifier run's evaluations, wall times included."""
    rows = []
    for e_run, g_run in zip(runs["energy"], runs["generator"]):
        for split in cfg.discrete_splits:
            key = evaluation_key(study="discrete_search", generator=g_run.name, split=split,
                                 graphs=cfg.discrete_graphs, samples=list(cfg.samples), visits=list(cfg.visits))
            block = e_run.cached_evaluation(key, lambda e=e_run, g=g_run, s=split: {"rows": _discrete_block(e, g, s, cfg)})
            rows += block["rows"]
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def _discrete_block(e_run, g_run, split: str, cfg: SearchStudyConfig) -> list[dict]:
    """The per-graph rows of `discrete_scaling` for one verifier, generator and split."""
    e_model, g_model = e_run.model("cpu"), g_run.model("cpu")
    rows = []
    for gi, g in enumerate(sample_split(split, cfg.discrete_graphs)):
        probs = _generator_probs(g_model, g)
        greedy = np.array([options(g)[v][int(np.argmax(p))] for v, p in enumerate(probs)])
        for score_name, score in (("learned", energy_score(g, e_model)), ("oracle", oracle_score(g))):
            rng = np.random.default_rng(gi)
            t0 = time.perf_counter()
            bon = best_of_n(g, score, probs, max(cfg.samples), rng)
            for n in cfg.samples:
                best = bon.candidates[int(bon.energies[:n, 0].argmin())][0].numpy()
                rows.append(_row(f"best-of-N ({score_name} score)", e_run, split, n, g, best,
                                 (time.perf_counter() - t0) * n / max(cfg.samples)))
            steps = int(max(cfg.visits) * g.num_nodes)
            t0 = time.perf_counter()
            hc = hill_climb(g, score, greedy, steps, np.random.default_rng(gi))
            hc_wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            rng = np.random.default_rng(gi)
            temp = move_scale(g, score, greedy, rng)
            sa = simulated_annealing(g, score, greedy, steps, rng, t_start=temp, t_end=temp / 100)
            sa_wall = time.perf_counter() - t0
            for v in cfg.visits:
                k = int(v * g.num_nodes)
                best = hc.candidates[k][0].numpy()  # hill climbing never goes uphill
                rows.append(_row(f"hill climbing ({score_name} score)", e_run, split, v, g, best,
                                 hc_wall * k / max(1, steps)))
                sa_best = int(sa.energies[:k + 1, 0].argmin())  # the best state seen in k steps
                rows.append(_row(f"simulated annealing ({score_name} score)", e_run, split, v, g,
                                 sa.candidates[sa_best][0].numpy(), sa_wall * k / max(1, steps)))
    return rows


ROW_COLUMNS = ["model", "seed", "split", "iterations", "looped", "trained_iterations", "graph", "pointer_accuracy",
               "exact_match", "seconds"]


def _row(name, run, split, budget, graph, pi, seconds) -> dict:
    m = evaluate_predictions([graph], [Prediction(pi)])
    return {"model": name, "seed": run.config.seed, "split": split, "iterations": budget, "looped": True,
            "trained_iterations": 0, "graph": graph.name, "pointer_accuracy": m["pointer_accuracy"],
            "exact_match": m["exact_match"], "seconds": seconds}


def pool_graphs(df: pd.DataFrame) -> pd.DataFrame:
    """Per-graph rows -> per (routine, seed, split, budget) means, like the continuous table."""
    keys = ["model", "seed", "split", "iterations", "looped", "trained_iterations"]
    return df.groupby(keys, as_index=False)[["pointer_accuracy", "exact_match", "seconds"]].mean()


# -- compute-matched: FLOPs per graph ------------------------------------------------------------

def search_step_flops(e_run, graphs) -> float:
    """Counted FLOPs per graph of one backtracking gradient step as `lib.search.continuous` runs
    it: the trial's energy and, where the trial is accepted, its gradient (counted always, so an
    upper bound; a rejected trial skips the backward pass)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = e_run.model("cpu")
    batch = collate(graphs)
    y = target_candidate(batch, "distance").clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        model(batch, y).sum().backward()  # FlopCounterMode needs .backward to count the gradient
    return counter.get_total_flops() / len(graphs)


def compute_matched(runs: dict[str, list], continuous: pd.DataFrame, cfg: SearchStudyConfig) -> pd.DataFrame:
    """Accuracy against counted FLOPs per graph: the generator with more iterations against
    the learned verifier with more search steps (generator start counted in its cost)."""
    rows = []
    for split in cfg.splits:
        graphs = sample_split(split, 4, with_pi=False)
        for g_run in runs["generator"]:
            model = g_run.model("cpu")
            for k in cfg.generator_iterations:
                m = g_run.evaluate(split, cfg.generator_eval_graphs, device=cfg.device, iterations=k)
                rows.append({"approach": f"generator ({cfg.generator}), more iterations", "seed": g_run.config.seed,
                             "split": split, "budget": k, "flops": flops_per_graph(model, graphs, iterations=k),
                             "pointer_accuracy": m["pointer_accuracy"]})
        gen_flops = flops_per_graph(runs["generator"][0].model("cpu"), graphs)
        step = search_step_flops(runs["energy"][0], graphs)
        for name, base in (("GD (random start)", 0.0), ("GD (generator start)", gen_flops)):
            d = continuous[(continuous.model == name) & (continuous.split == split)]
            for _, r in d.iterrows():
                rows.append({"approach": f"learned verifier + {name}", "seed": r.seed, "split": split,
                             "budget": r.iterations, "flops": base + step * max(r.iterations, 0),
                             "pointer_accuracy": r.pointer_accuracy})
    return pd.DataFrame(rows)


# -- the asymmetry: same data for a generator and a verifier --------------------------------------

def asymmetry_configs(cfg: SearchStudyConfig) -> list:
    out = []
    for n in cfg.asym_sizes:
        for s in cfg.asym_seeds:
            gen = preset("gnn_max", seed=s, train_graphs=n, steps=cfg.asym_generator_steps,
                         batch_size=min(32, n), label=f"generator@{n}")
            ver = preset(cfg.energy, seed=s, train_graphs=n, steps=cfg.asym_energy_steps,
                         batch_size=min(32, n), label=f"verifier@{n}")
            out += [gen.replace(**cfg.asym_changes), ver.replace(**cfg.asym_changes)]
    return out


def asymmetry(cfg: SearchStudyConfig) -> pd.DataFrame:
    """Generator accuracy against verifier discrimination and verifier+search accuracy, for
    the same training sets of each size."""
    runs = run_sweep(asymmetry_configs(cfg), workers=cfg.workers, device=cfg.device, desc="asymmetry")
    rows = []
    for gen, ver in zip(runs[::2], runs[1::2]):
        n = gen.config.train_graphs
        for split in ("test_16", "test_64", "test_128"):
            eval_n = graphs_for(split, cfg.eval_graphs)
            s = verifier_scores(ver, split, eval_n)
            rows.append({"train graphs": n, "seed": gen.config.seed, "split": split,
                         "generator accuracy": gen.evaluate(split, eval_n, device=cfg.device)["pointer_accuracy"],
                         "verifier AUC": _auc(-s[s.correct].energy.to_numpy(), -s[~s.correct].energy.to_numpy()),
                         "verifier paired rate": paired_win_rate(s),
                         "verifier + search accuracy": ver.evaluate(split, eval_n, device=cfg.device,
                                                                    search_steps=40)["pointer_accuracy"]})
    return pd.DataFrame(rows)


# -- the headline -----------------------------------------------------------------------------

TARGETS = {("test_64", "pointer_accuracy"): 0.995, ("test_128", "pointer_accuracy"): 0.99,
           ("test_64", "exact_match"): 0.90}


def headline_configs(cfg: SearchStudyConfig) -> list:
    return [preset(cfg.headline, seed=s).replace(**cfg.headline_changes) for s in cfg.headline_seeds]


def headline_runs(cfg: SearchStudyConfig) -> list:
    """The headline preset for every seed (both parts trained through the cache)."""
    return run_sweep(headline_configs(cfg), workers=cfg.workers, device=cfg.device, desc="headline")


def training_configs(cfg: SearchStudyConfig) -> list:
    """Every run this notebook trains (the headline's parts count as its own runs)."""
    from_headline = [c for h in headline_configs(cfg) for c in headline_parts(h)]
    return part_configs(cfg) + asymmetry_configs(cfg) + from_headline + headline_configs(cfg)


def headline_results(runs: list, cfg: SearchStudyConfig,
                     splits=("test_16", "test_64", "test_128", "maze_64", "grid_64", "tree_64")) -> pd.DataFrame:
    """Pointer accuracy and exact match of the headline solver per seed and split."""
    rows = []
    for run in runs:
        for split in splits:
            m = run.evaluate(split, graphs_for(split, cfg.headline_graphs), device=cfg.device)
            rows.append({"seed": run.config.seed, "split": split, "pointer_accuracy": m["pointer_accuracy"],
                         "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


def headline_table(results: pd.DataFrame) -> pd.DataFrame:
    """mean ± std over seeds (in %), with the targets of the issue where they apply."""
    rows = {}
    for split, d in results.groupby("split", sort=False):
        rows[split] = {"pointer accuracy": pct(d.pointer_accuracy), "exact match": pct(d.exact_match),
                       "target (pointer / exact)": " / ".join(
                           f"≥ {100 * TARGETS[(split, m)]:.1f}" if (split, m) in TARGETS else "—"
                           for m in ("pointer_accuracy", "exact_match"))}
    return pd.DataFrame(rows).T


def targets_met(results: pd.DataFrame) -> str:
    """One line per target: the measured mean over seeds, and whether it is met."""
    lines = []
    for (split, metric), target in TARGETS.items():
        d = results[results.split == split][metric]
        if d.empty:
            continue
        met = "met" if d.mean() >= target else "NOT met"
        lines.append(f"{metric.replace('_', ' ')} at {split}: {100 * d.mean():.2f}% (seeds: "
                     + ", ".join(f"{100 * v:.2f}" for v in d) + f") against a target of {100 * target:.1f}%: {met}.")
    return "\n".join(lines)


def findings_rows(runs: list, results: pd.DataFrame, continuous: pd.DataFrame) -> list[dict]:
    k = continuous.iterations.max()
    best = continuous[continuous.iterations == k]
    rows = [findings_row(f"learned verifier + {name}", "learned verifier (aligned min prior) + search",
                         best[best.model == name], f"{k} search steps") for name in dict.fromkeys(best.model)]
    rows.append(findings_row("headline_distilled: looped GNN + residual verifier distilled from the checker + GD",
                             ROUTES["headline_distilled"], results,
                             f"generator + {runs[0].config.search_steps} search steps", runs))
    return rows
