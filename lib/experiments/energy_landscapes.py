"""Notebook 04, energy landscapes: learned scores over (graph, candidate) pairs, how the
training methods shape them, and what gradient search on them finds as its budget grows
(`energy_verifiers` asks how well they verify)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..energy.candidates import corrupt, decode, target_candidate
from ..findings import findings_row, pct_wilson
from ..metrics import evaluate_predictions
from ..presets import ROUTES
from ..runs import evaluation_key
from ..samplers import sample_split
from ..solvers import shortcut_metrics
from ..statistics import mean_ci
from ..sweep import cached_map, longest_first, run_sweep
from ..widgets import SearchExplorer
from . import preset_grid
from .baselines import BaselinesConfig, split_size

METHOD_PRESETS = {"irem": "energy_irem", "contrastive": "energy_contrastive", "denoise": "energy_denoise",
                  "residual": "energy_residual"}
#: The methods by their training time on 2 CPU cores, the slowest first (the order a sweep starts them in).
SLOWEST_FIRST = ("irem", "contrastive", "residual", "denoise")


@dataclass(frozen=True)
class EnergyStudyConfig:
    methods: tuple[str, ...] = ("irem", "contrastive", "denoise", "residual")  # training methods compared
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per method
    steps: int | None = None  # override the presets' optimizer steps (None: the preset's own)
    train_graphs: int | None = None  # override the training-set size
    own_data: bool = True  # each seed draws its own training graphs (rules of evidence)
    search_steps: tuple[int, ...] = (0, 5, 10, 20)  # test-time search budgets (trained with 10)
    splits: tuple[str, ...] = ("test_16", "test_64", "maze_64")  # evaluation splits (test_128 in PROFILE=long)
    graphs: int = 256  # graphs per split, the same ones for every measure (validation included)
    auc_splits: tuple[str, ...] = ("test_16", "test_64")  # splits for calibration (test_128 in PROFILE=long)
    hard_generator: str = "gnn_max"  # preset whose own outputs are the hard negatives (01's runs of it)
    stop_steps: int = 10  # search budget behind the search-stop negatives (the inner steps of training)
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def train_configs(self):
        return preset_grid([METHOD_PRESETS[m] for m in self.methods], self.seeds, self.steps, self.train_graphs, evals=4,
                           own_data=self.own_data)

    def generator_configs(self):
        """The runs of ``hard_generator`` that notebook 01 trains, one per seed: the same cached runs."""
        return BaselinesConfig(models=(self.hard_generator,), seeds=self.seeds).train_configs()


PROFILES = {
    "full": EnergyStudyConfig(),
    # budgets to 4x the training steps, and the n = 128 split (the costliest to search: its edges outnumber the rest)
    "long": EnergyStudyConfig(search_steps=(0, 5, 10, 20, 40), splits=("test_16", "test_64", "test_128", "maze_64"),
                              auc_splits=("test_16", "test_64", "test_128")),
    "smoke": EnergyStudyConfig(seeds=(0,), steps=6, train_graphs=32, search_steps=(0, 4), splits=("test_16", "maze_64"),
                               graphs=4, auc_splits=("test_16", "test_64"), hard_generator="tiny", stop_steps=4,
                               workers=1),
}


def training_configs(cfg) -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan), 01's generators included."""
    return cfg.train_configs() + cfg.generator_configs()


def train_all(cfg: EnergyStudyConfig) -> list:
    """Every method × seed through the run cache."""
    return run_sweep(cfg.train_configs(), workers=cfg.workers, device=cfg.device, desc="energy models",
                     first=longest_first([METHOD_PRESETS[m] for m in SLOWEST_FIRST]))


def accuracy_vs_steps(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """(method, seed, split, search steps) -> pointer accuracy and exact match of search + decode,
    with the number of graphs behind each."""
    cells = [(run, split, cfg.graphs, cfg.search_steps, cfg.stop_steps) for run in runs for split in cfg.splits]
    found = cached_map(search_cell, cells, cfg.workers, "energy models: search budgets",
                       first=lambda cell: cell[2] * split_size(cell[1]))  # the larger graphs first
    rows = []
    for (run, split, num, *_), cell in zip(cells, found):
        for k, m in zip(cell["budgets"], cell["metrics"]):
            rows.append({"model": run.config.method, "seed": run.config.seed, "split": split, "iterations": k,
                         "looped": True, "trained_iterations": run.config.inner_steps, "graphs": num,
                         "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


def budget_table(acc: pd.DataFrame, metric: str = "pointer_accuracy") -> pd.DataFrame:
    """(method, split) × search steps: ``metric`` in percent, mean ± 95% CI half-width over seeds."""
    def cell(v):
        mean, half = mean_ci(v)
        return f"{100 * mean:.1f} ± {100 * half:.1f}"
    table = acc.groupby(["model", "split", "iterations"], sort=False)[metric].apply(cell).unstack("iterations")
    return table.rename_axis(columns="search steps")


def search_cell(run, split: str, num_graphs: int, budgets, stop_steps: int) -> dict:
    """The searches of ``run`` on a split, cached in its evaluations: the metrics of its answer at
    each budget, and per graph the energies of the truth and of the state where a search of
    ``stop_steps`` steps stops (with whether that state decodes to a wrong tree). As few
    searches as `EnergySolver.shared_searches` allows serve every budget and the stopping states
    (one, for gradient descent)."""
    budgets = sorted({int(k) for k in budgets})
    key = evaluation_key(study="search", split=split, graphs=num_graphs, budgets=budgets, stop_steps=stop_steps)
    return run.cached_evaluation(key, lambda: _search(run, split, num_graphs, budgets, stop_steps))


def _search(run, split: str, num_graphs: int, budgets: list[int], stop_steps: int) -> dict:
    graphs = sample_split(split, num_graphs)
    answers, stops = {k: [None] * len(graphs) for k in budgets}, []
    for group in run.solver("cpu").shared_searches([*budgets, stop_steps]):
        solver = run.solver("cpu", search_steps=group[-1])
        for idx, _, traj in solver.batched_trajectories(graphs):
            batch = collate([graphs[i] for i in idx])
            for k in set(group) & set(budgets):
                for i, p in zip(idx, decode(batch, solver.kind, solver.answer(traj, k))):
                    answers[k][i] = p
            if stop_steps in group:
                stops += _stop_rows(solver, batch, idx, graphs, solver.answer(traj, stop_steps))
    return {"budgets": budgets, "metrics": [evaluate_predictions(graphs, answers[k]) for k in budgets],
            "stops": sorted(stops, key=lambda r: r["graph"])}


@torch.no_grad()
def _stop_rows(solver, batch, idx, graphs, stop: torch.Tensor) -> list[dict]:
    """Per graph of a batch: the energies of the truth and of the stopping state ``stop``."""
    truth_e, stop_e = solver.model(batch, target_candidate(batch, solver.kind)), solver.model(batch, stop)
    return [{"graph": i, "truth_energy": float(truth_e[b]), "proposal_energy": float(stop_e[b]),
             "proposal_wrong": bool(evaluate_predictions([graphs[i]], [p])["exact_match"] < 1)}
            for b, (i, p) in enumerate(zip(idx, decode(batch, solver.kind, stop)))]


@torch.no_grad()
def energy_slices(run, graph_split: str = "test_16", index: int = 0, radius: float = 0.3, points: int = 41,
                  seed: int = 0) -> dict:
    """1-D and 2-D slices of the energy through the true distances of one graph.

    Directions: a random unit direction, and the "error" direction from the truth to a
    corrupted candidate (unit length). Returns the grids and energies for plotting.
    """
    g = sample_split(graph_split, index + 1)[index]
    batch = collate([g])
    model = run.model("cpu")
    kind = run.config.energy_config.candidate
    truth = target_candidate(batch, kind)
    rng = np.random.default_rng(seed)
    rand = torch.from_numpy(rng.standard_normal(truth.shape)).float()
    rand /= rand.norm()
    err = corrupt(batch, kind, truth, rng) - truth
    err /= err.norm().clamp(min=1e-9)
    ts = torch.linspace(-radius, radius, points)
    many = collate([g] * points)  # one batch element per point along a line

    def along(base: torch.Tensor, direction: torch.Tensor) -> np.ndarray:
        ys = base.unsqueeze(0) + ts.unsqueeze(1) * direction.unsqueeze(0)  # [points, N]
        return model(many, ys.reshape(-1)).numpy()

    line = {"random": along(truth, rand), "error": along(truth, err)}
    grid = np.stack([along(truth + b * rand, err) for b in ts])  # rows: random offset, cols: error offset
    return {"t": ts.numpy(), "line": line, "grid": grid, "graph": g}


def validation_accuracy(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """`accuracy_vs_steps` on the validation split (n = 16, the training sizes), where search
    budgets and the best run are chosen; the test splits are then reported once."""
    return accuracy_vs_steps(runs, dataclasses.replace(cfg, splits=("val",)))


def selected_budgets(val: pd.DataFrame) -> dict[str, int]:
    """Per method, the search budget with the best mean validation accuracy (ties: the smaller)."""
    mean = val.groupby(["model", "iterations"])["pointer_accuracy"].mean().reset_index()
    mean = mean.sort_values(["model", "pointer_accuracy", "iterations"], ascending=[True, False, True])
    return {m: int(d.iterations.iloc[0]) for m, d in mean.groupby("model", sort=False)}


def summary(acc: pd.DataFrame, aucs: pd.DataFrame, val: pd.DataFrame) -> str:
    """Which method wins on each test split at the budget chosen on validation, and how
    calibration moves out of distribution."""
    budgets = selected_budgets(val)
    at = at_chosen_budgets(acc, val)
    mean = at.groupby(["split", "model"])["pointer_accuracy"].mean()
    lines = ["budgets chosen on the validation split (n = 16): "
             + ", ".join(f"{m} {k} steps" for m, k in budgets.items()) + "."]
    for split in dict.fromkeys(acc.split):
        top = mean.xs(split).sort_values(ascending=False)
        lines.append(f"{split}: best method {top.index[0]} at {100 * top.iloc[0]:.1f}%, "
                     + ", ".join(f"{m} {100 * v:.1f}%" for m, v in top.iloc[1:].items()) + ".")
    a = aucs.groupby(["method", "split"])["auc"].mean().unstack("split")
    for method, row in a.iterrows():
        lines.append(f"verifier AUC of {method}: " + ", ".join(f"{s} {v:.3f}" for s, v in row.items()) + ".")
    return "\n".join(lines)


def best_run(runs, val: pd.DataFrame):
    """The run (method and seed) with the best validation accuracy at its method's chosen budget."""
    top = at_chosen_budgets(val, val).sort_values(["pointer_accuracy", "model", "seed"], ascending=[False, True, True]).iloc[0]
    return next(r for r in runs if r.config.method == top.model and r.config.seed == top.seed)


def explorer(run, split: str = "maze_64", index: int = 0, steps: int = 80):
    """A `SearchExplorer` on one graph for the widget section."""
    graph = sample_split(split, index + 1)[index]
    return SearchExplorer(run.solver("cpu", search_steps=steps), graph)


def at_chosen_budgets(acc: pd.DataFrame, val: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``acc`` at each method's budget chosen on validation (`selected_budgets`)."""
    budgets = selected_budgets(val)
    return acc[acc.model.map(budgets) == acc.iterations]


def chosen_budget_table(acc: pd.DataFrame, val: pd.DataFrame, shortcuts: pd.DataFrame | None = None,
                        metric: str = "exact_match") -> pd.DataFrame:
    """Each method at its budget chosen on validation, beside the no-learning shortcuts: method ×
    split, each column naming its graphs per seed. Exact match is pooled over seeds × graphs with
    its 95% Wilson interval; pointer accuracy is the mean ± 95% CI half-width over seeds."""
    at = at_chosen_budgets(acc, val)
    budgets = selected_budgets(val)
    at = at.assign(model=at.model.map(lambda m: f"{m} ({budgets[m]} steps)"))
    if shortcuts is not None:
        at = pd.concat([at, shortcuts[shortcuts.split.isin(at.split)]], ignore_index=True)

    def cell(d: pd.DataFrame) -> str:
        if metric == "exact_match":
            return pct_wilson(d.exact_match, d.graphs)
        mean, half = mean_ci(100 * d[metric])
        return f"{mean:.1f} ± {half:.1f}" if len(d) > 1 else f"{mean:.1f}"

    cells = at.groupby(["model", "split"], sort=False)[[metric, "graphs"]].apply(cell).unstack("split")
    graphs = at.groupby("split").graphs.first()
    cells = cells.loc[list(dict.fromkeys(at.model))]
    return cells[list(dict.fromkeys(at.split))].rename(columns=lambda s: f"{s} ({graphs[s]} graphs)")


def shortcut_results(cfg: EnergyStudyConfig) -> pd.DataFrame:
    """The no-learning shortcuts (`lib.solvers.SHORTCUTS`) on the same graphs of every split."""
    labels = {"min_hop": "shortcut: fewest-hops tree", "nearest": "shortcut: lightest in-edge"}
    return pd.DataFrame([{"model": labels[name], "seed": 0, "split": split, "graphs": cfg.graphs,
                          "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"]}
                         for split in cfg.splits
                         for name, m in shortcut_metrics(sample_split(split, cfg.graphs)).items()])


def findings_rows(acc: pd.DataFrame, runs, val: pd.DataFrame) -> list[dict]:
    """README rows: each training method at its search budget chosen on validation (random start)."""
    at, budgets = at_chosen_budgets(acc, val), selected_budgets(val)
    rows = []
    for method in dict.fromkeys(acc.model):
        rs = [r for r in runs if r.config.method == method]
        rows.append(findings_row(f"energy ({method}) + GD, random start", ROUTES.get(f"energy_{method}", ""),
                                 at[at.model == method], f"{budgets[method]} search steps (chosen on validation)",
                                 rs))
    return rows
