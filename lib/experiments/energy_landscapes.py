"""Notebook 04, energy landscapes: learned scores over (graph, candidate) pairs, how three
training methods shape them, whether they are calibrated out of distribution, and what
search on them finds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..energy.candidates import corrupt, decode, target_candidate
from ..metrics import evaluate_predictions
from ..findings import findings_row
from ..oracle import verify
from ..presets import ROUTES, preset
from ..runs import evaluation_key
from ..samplers import sample_split
from ..sweep import cached_map, evaluate_many, run_sweep
from ..widgets import SearchExplorer
from . import preset_grid

METHOD_PRESETS = {"irem": "energy_irem", "contrastive": "energy_contrastive", "denoise": "energy_denoise",
                  "residual": "energy_residual"}


@dataclass(frozen=True)
class EnergyStudyConfig:
    methods: tuple[str, ...] = ("irem", "contrastive", "denoise", "residual")  # training methods compared
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per method
    steps: int | None = None  # override the presets' optimizer steps (None: the preset's own)
    train_graphs: int | None = None  # override the training-set size
    own_data: bool = True  # each seed draws its own training graphs (rules of evidence)
    search_steps: tuple[int, ...] = (0, 5, 10, 20, 40)  # test-time search budgets (trained with 10)
    splits: tuple[str, ...] = ("test_16", "test_64", "test_128", "maze_64")  # evaluation splits
    eval_graphs: int = 32  # graphs per split for accuracy
    auc_graphs: int = 32  # graphs per split for the verifier's ROC-AUC
    auc_splits: tuple[str, ...] = ("test_16", "test_64", "test_128")  # splits for calibration
    hard_generator: str = "looped_gnn"  # preset whose own outputs are the hard negatives (trained in 02)
    hard_graphs: int = 256  # graphs per split for the hard negatives
    stop_steps: int = 10  # search budget behind the search-stop negatives (the inner steps of training)
    workers: int | None = None  # training processes (None: one per core)
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def train_configs(self):
        return preset_grid([METHOD_PRESETS[m] for m in self.methods], self.seeds, self.steps, self.train_graphs, evals=4,
                           own_data=self.own_data)


PROFILES = {
    "full": EnergyStudyConfig(),
    "smoke": EnergyStudyConfig(seeds=(0,), steps=6, train_graphs=32, search_steps=(0, 4), splits=("test_16", "maze_64"),
                               eval_graphs=3, auc_graphs=3, auc_splits=("test_16", "test_64"), hard_generator="tiny",
                               hard_graphs=4, stop_steps=4, workers=1),
}


def training_configs(cfg) -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan)."""
    return cfg.train_configs()


def train_all(cfg: EnergyStudyConfig) -> list:
    """Every method × seed through the run cache."""
    return run_sweep(cfg.train_configs(), workers=cfg.workers, device=cfg.device, desc="energy models")


def accuracy_vs_steps(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """(method, seed, split, search steps) -> pointer accuracy and exact match of search + decode."""
    cells = [(run, split) for run in runs for split in cfg.splits]
    budgets = evaluate_many([(run, (split, cfg.eval_graphs, cfg.search_steps), {"device": cfg.device})
                             for run, split in cells], cfg.workers, "energy models: search budgets", "evaluate_budgets")
    rows = []
    for (run, split), metrics in zip(cells, budgets):
        for k, m in zip(cfg.search_steps, metrics):
            rows.append({"model": run.config.method, "seed": run.config.seed, "split": split, "iterations": k,
                         "looped": True, "trained_iterations": run.config.inner_steps,
                         "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"]})
    return pd.DataFrame(rows)


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting half (Mann-Whitney)."""
    scores = np.concatenate([pos, neg])
    ranks = pd.Series(scores).rank().to_numpy()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@torch.no_grad()
def verifier_scores(run, split: str, num_graphs: int, corruptions: int = 4, seed: int = 0) -> pd.DataFrame:
    """Per graph and candidate: the learned energy, whether the candidate is the truth, its
    distance error (mean |y - d| over reachable nodes), the wrong pointers and exact-verifier
    violations of its decoded tree. Candidates: the truth and ``corruptions`` random
    corruptions of it per graph (corruptions that change nothing measurable are dropped)."""
    graphs = sample_split(split, num_graphs)
    model = run.model("cpu")
    kind = run.config.energy_config.candidate
    batch = collate(graphs)
    rng = np.random.default_rng(seed)
    truth = target_candidate(batch, kind)
    rows = []
    for c in range(corruptions + 1):
        y = truth if c == 0 else corrupt(batch, kind, truth, rng)
        energies = model(batch, y).numpy()
        preds = decode(batch, kind, y)
        reach = torch.isfinite(batch.target_dist)
        err = (y - truth).abs().where(reach, torch.zeros_like(y)) if kind == "distance" else None
        for b, (g, p) in enumerate(zip(graphs, preds)):
            m = evaluate_predictions([g], [p])
            wrong = int(round((1 - m["pointer_accuracy"]) * (g.num_nodes - 1)))
            mask = (batch.node_graph == b) & reach
            d_err = float(err[mask].mean()) if err is not None and bool(mask.any()) else 0.0
            if c > 0 and wrong == 0 and d_err < 1e-3:
                continue  # the corruption missed: nothing to detect
            rows.append({"split": split, "graph": b, "candidate": "truth" if c == 0 else "corrupted",
                         "energy": float(energies[b]), "correct": c == 0, "wrong_pointers": wrong,
                         "distance_error": d_err, "violations": verify(g, p.pi).num_violations})
    return pd.DataFrame(rows)


def paired_win_rate(scores: pd.DataFrame) -> float:
    """Within each graph, the fraction of corruptions whose energy is above the truth's."""
    truth = scores[scores.correct].set_index("graph").energy
    bad = scores[~scores.correct]
    return float((bad.energy.to_numpy() > truth.reindex(bad.graph).to_numpy()).mean()) if len(bad) else np.nan


def verifier_auc(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """Verifier quality per method and split: the pooled ROC-AUC of -energy separating the
    truth from corruptions across graphs (needs a calibrated scale), and the paired rate at
    which a graph's truth scores below its own corruptions (ranking within a graph)."""
    cells = [(run, split, cfg.auc_graphs) for run in runs for split in cfg.auc_splits]
    rows = cached_map(_verifier_auc_cell, cells, cfg.workers, "energy models: verifier AUC")
    return pd.DataFrame([{"method": run.config.method, "seed": run.config.seed, "split": split,
                          "auc": np.nan if r["auc"] is None else r["auc"],
                          "paired": np.nan if r["paired"] is None else r["paired"]}
                         for (run, split, _), r in zip(cells, rows)])


def _verifier_auc_cell(run, split: str, num_graphs: int) -> dict:
    """One run's pooled AUC and paired rate on one split, cached in the run's evaluations."""
    def compute():
        s = verifier_scores(run, split, num_graphs)
        pos, neg = -s[s.correct].energy.to_numpy(), -s[~s.correct].energy.to_numpy()
        paired = paired_win_rate(s)
        return {"auc": _auc(pos, neg) if len(pos) and len(neg) else None,
                "paired": None if np.isnan(paired) else paired}
    return run.cached_evaluation(evaluation_key(study="verifier_auc", split=split, graphs=num_graphs), compute)


@torch.no_grad()
def hard_negative_scores(run, generator, split: str, num_graphs: int) -> pd.DataFrame:
    """Per graph: the verifier's energy of the truth and of the generator's own proposal (its
    predicted distances), and whether that proposal decodes to a wrong tree (a hard negative)."""
    graphs = sample_split(split, num_graphs)
    batch = collate(graphs)
    kind = run.config.energy_config.candidate
    if kind != "distance":
        raise ValueError(f"hard negatives need a distance verifier; {run.name} scores {kind!r} candidates")
    proposal = generator.model("cpu")(batch).dist
    energy = run.model("cpu")
    truth_e, prop_e = energy(batch, target_candidate(batch, kind)).numpy(), energy(batch, proposal).numpy()
    wrong = [evaluate_predictions([g], [p])["exact_match"] < 1 for g, p in zip(graphs, decode(batch, kind, proposal))]
    return pd.DataFrame({"split": split, "graph": range(len(graphs)), "truth_energy": truth_e,
                         "proposal_energy": prop_e, "proposal_wrong": wrong})


def _cached_hard_scores(run, generator, split: str, num_graphs: int) -> pd.DataFrame:
    """`hard_negative_scores`, cached in the verifier run's evaluations."""
    key = evaluation_key(study="hard_negatives", generator=generator.name, split=split, graphs=num_graphs)
    rows = run.cached_evaluation(key, lambda: {"rows": hard_negative_scores(run, generator, split, num_graphs)
                                               .astype({"proposal_wrong": bool}).to_dict("records")})["rows"]
    return pd.DataFrame(rows, columns=["split", "graph", "truth_energy", "proposal_energy", "proposal_wrong"])


def search_stop_scores(run, split: str, num_graphs: int, steps: int) -> pd.DataFrame:
    """Per graph: the energy of the truth and of the state where the run's own search stops (its
    routine, from its usual start, after ``steps`` steps), and whether that state decodes to a
    wrong tree (a hard negative: a low point of the learned score that is not the answer)."""
    graphs = sample_split(split, num_graphs)
    solver = run.solver("cpu", search_steps=steps)
    kind, model = solver.kind, solver.model
    rows = []
    order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
    for start in range(0, len(order), solver.batch_size):
        chunk = [graphs[i] for i in order[start:start + solver.batch_size]]
        _, traj = solver.trajectory(chunk)
        batch = collate(chunk)
        stop = (traj.best() if solver.settings.keep_best else traj.final()).detach()
        with torch.no_grad():
            truth_e, stop_e = model(batch, target_candidate(batch, kind)).numpy(), model(batch, stop).numpy()
        for b, (g, p) in enumerate(zip(chunk, decode(batch, kind, stop))):
            rows.append({"split": split, "graph": order[start + b], "truth_energy": float(truth_e[b]),
                         "proposal_energy": float(stop_e[b]),
                         "proposal_wrong": bool(evaluate_predictions([g], [p])["exact_match"] < 1)})
    return pd.DataFrame(rows).sort_values("graph").reset_index(drop=True)


def _cached_stop_scores(run, split: str, num_graphs: int, steps: int) -> pd.DataFrame:
    """`search_stop_scores`, cached in the run's evaluations."""
    key = evaluation_key(study="search_stops", split=split, graphs=num_graphs, steps=steps)
    rows = run.cached_evaluation(key, lambda: {"rows": search_stop_scores(run, split, num_graphs, steps)
                                               .to_dict("records")})
    return pd.DataFrame(rows["rows"], columns=["split", "graph", "truth_energy", "proposal_energy", "proposal_wrong"])


def _hard_cell(run, generator, split: str, num_graphs: int, stop_steps: int | None) -> dict:
    """The hard negatives of one verifier run on one split (each kind cached): the generator's
    mistakes, and (unless ``stop_steps`` is None) the states where its search stops."""
    out = {"generator's mistakes": _cached_hard_scores(run, generator, split, num_graphs).to_dict("list")}
    if stop_steps is not None:
        out["search stops"] = _cached_stop_scores(run, split, num_graphs, stop_steps).to_dict("list")
    return out


def hard_negatives(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """Each verifier on two kinds of hard negative: the wrong proposals of the generator of the
    same seed, and the wrong states where the verifier's own search stops after `stop_steps`
    steps (the validation split gives only the threshold). Per (method, seed,
    split, kind): ROC-AUC of -energy separating truths from those negatives, and the
    false-certificate rate, the share of them the verifier accepts at a threshold set on the
    validation split (the 95th percentile of the truths' energies there, so 5% of correct
    answers would be refused). Cached; missing cells computed in parallel."""
    generators = {s: run_sweep([preset(cfg.hard_generator, seed=s)], workers=1, device=cfg.device,
                               desc="hard-negative generator", progress=False)[0]
                  for s in dict.fromkeys(r.config.seed for r in runs)}
    val_graphs = min(cfg.hard_graphs, 64)
    cells = [(run, generators[run.config.seed], split, n, None if split == "val" else cfg.stop_steps) for run in runs
             for split, n in (("val", val_graphs), *((s, cfg.hard_graphs) for s in cfg.auc_splits))]
    scores = cached_map(_hard_cell, cells, cfg.workers, "energy models: hard negatives")
    thresholds, rows = {}, []
    for (run, _, split, _, _), by_kind in zip(cells, scores):
        if split == "val":
            thresholds[run.name] = float(np.quantile(by_kind["generator's mistakes"]["truth_energy"], 0.95))
            continue
        for kind, table in by_kind.items():
            s = pd.DataFrame(table)
            bad = s[s.proposal_wrong.astype(bool)]
            rows.append({"method": run.config.method, "seed": run.config.seed, "split": split, "negatives": kind,
                         "graphs": len(s), "wrong proposals": len(bad),
                         "auc": _auc(-s.truth_energy.to_numpy(), -bad.proposal_energy.to_numpy()) if len(bad) else np.nan,
                         "false certificates": float((bad.proposal_energy <= thresholds[run.name]).mean())
                         if len(bad) else np.nan})
    return pd.DataFrame(rows)


def auc_table(aucs: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """``mean ± std`` over seeds of a verifier metric: method (and kind of negative, where the
    table has one) × split; "—" where no seed had a negative to score."""
    index = ["method", "negatives"] if "negatives" in aucs else ["method"]
    g = aucs.groupby([*index, "split"], sort=False)[metric]
    text = g.mean().map("{:.3f}".format) + " ± " + g.std(ddof=1).fillna(0).map("{:.3f}".format)
    text = text.where(g.mean().notna(), "—").unstack("split")
    return text[[s for s in ("test_16", "test_64", "test_128") if s in text.columns]].sort_index()


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
    at = acc[acc.apply(lambda r: r.iterations == budgets.get(r.model), axis=1)]
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


def all_scores(run, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """`verifier_scores` of one run on every calibration split, stacked."""
    return pd.concat([verifier_scores(run, s, cfg.auc_graphs) for s in cfg.auc_splits], ignore_index=True)


def best_run(runs, val: pd.DataFrame):
    """The run (method and seed) with the best validation accuracy at its method's chosen budget."""
    budgets = selected_budgets(val)
    s = val[val.apply(lambda r: r.iterations == budgets.get(r.model), axis=1)]
    top = s.sort_values(["pointer_accuracy", "model", "seed"], ascending=[False, True, True]).iloc[0]
    return next(r for r in runs if r.config.method == top.model and r.config.seed == top.seed)


def explorer(run, split: str = "maze_64", index: int = 0, steps: int = 80):
    """A `SearchExplorer` on one graph for the widget section."""
    graph = sample_split(split, index + 1)[index]
    return SearchExplorer(run.solver("cpu", search_steps=steps), graph)


def findings_rows(acc: pd.DataFrame, runs) -> list[dict]:
    """README rows: each training method at its largest search budget (random start)."""
    k = acc.iterations.max()
    rows = []
    for method in dict.fromkeys(acc.model):
        rs = [r for r in runs if r.config.method == method]
        rows.append(findings_row(f"energy ({method}) + GD, random start", ROUTES.get(f"energy_{method}", ""),
                                 acc[(acc.model == method) & (acc.iterations == k)], f"{k} search steps", rs))
    return rows
