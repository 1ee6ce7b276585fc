"""Notebook 04, the energies as verifiers: do they rank the truth above wrong candidates, in
and out of distribution? Random corruptions of the truth (pooled AUC and the paired rate), and
hard negatives: a generator's own mistakes and the states where the verifier's own search
stops, with the false-certificate rate at a threshold set on validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..batching import collate
from ..energy.candidates import corrupt, decode, target_candidate
from ..metrics import evaluate_predictions
from ..oracle import verify
from ..runs import evaluation_key
from ..samplers import sample_split
from ..sweep import cached_map, run_sweep
from .energy_landscapes import EnergyStudyConfig, search_cell


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
    cells = [(run, split, cfg.graphs) for run in runs for split in cfg.auc_splits]
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


def hard_negatives(runs, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """Each verifier on two kinds of hard negative: the wrong proposals of the generator of the
    same seed, and the wrong states where the verifier's own search stops after `stop_steps`
    steps (`energy_landscapes.search_cell`, shared with the budget curves; the validation split
    gives only the threshold). Per (method, seed, split, kind): ROC-AUC of -energy separating
    truths from those negatives, and the false-certificate rate, the share of them the verifier
    accepts at a threshold set on the validation split (the 95th percentile of the truths'
    energies there, so 5% of correct answers would be refused). Cached; missing cells computed
    in parallel."""
    generators = {run.config.seed: run for run in run_sweep(cfg.generator_configs(), workers=cfg.workers,
                                                             device=cfg.device, progress=False)}  # 01 trained them
    mistakes = cached_map(_cached_hard_scores, [(run, generators[run.config.seed], split, cfg.graphs)
                                                for run in runs for split in ("val", *cfg.auc_splits)],
                          cfg.workers, "energy models: the generator's mistakes")
    cells = [(run, split, cfg.graphs, cfg.search_steps, cfg.stop_steps) for run in runs for split in cfg.auc_splits]
    stops = iter(cached_map(search_cell, cells, cfg.workers, "energy models: search stops"))
    mistakes = iter(mistakes)
    rows = []
    for run in runs:
        threshold = float(np.quantile(next(mistakes).truth_energy, 0.95))  # the "val" cell
        for split in cfg.auc_splits:
            stop = pd.DataFrame(next(stops)["stops"])
            for kind, s in (("generator's mistakes", next(mistakes)), ("search stops", stop)):
                bad = s[s.proposal_wrong.astype(bool)]
                rows.append({"method": run.config.method, "seed": run.config.seed, "split": split,
                             "negatives": kind, "graphs": len(s), "wrong proposals": len(bad),
                             "auc": _auc(-s.truth_energy.to_numpy(), -bad.proposal_energy.to_numpy())
                             if len(bad) else np.nan,
                             "false certificates": float((bad.proposal_energy <= threshold).mean())
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


def all_scores(run, cfg: EnergyStudyConfig) -> pd.DataFrame:
    """`verifier_scores` of one run on every calibration split, stacked (cached in its evaluations)."""
    tables = [run.cached_evaluation(evaluation_key(study="verifier_scores", split=s, graphs=cfg.graphs),
                                    lambda s=s: {"rows": verifier_scores(run, s, cfg.graphs).to_dict("records")})
              for s in cfg.auc_splits]
    return pd.concat([pd.DataFrame(t["rows"]) for t in tables], ignore_index=True)


