"""Tie-aware metrics: pointer accuracy, graph exact match, relative distance error.

Ground truth is always recomputed with the exact oracle, so a file's own ``pi`` (which
picks one shortest path among ties) never penalises another equally short choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .graphs import Graph
from .oracle import dijkstra, hop_depth, pointer_correct


@dataclass
class Prediction:
    """A solver's answer for one graph: predecessor pointers, optionally distances."""

    pi: np.ndarray  # int64 [n]
    dist: np.ndarray | None = None  # float64 [n], inf where unreachable
    iterations: int | None = None  # iterations a halting model used on this graph, or None


def graph_scores(graph: Graph, pred: Prediction, true_dist: np.ndarray | None = None) -> dict:
    """Per-graph counts: correct non-source pointers, their number, and distance error sum."""
    if true_dist is None:
        true_dist = dijkstra(graph)[0]
    pi = np.asarray(pred.pi)
    if pi.shape != (graph.num_nodes,):
        raise ValueError(f"{graph!r}: predicted pi has shape {pi.shape}, expected ({graph.num_nodes},)")
    ok = pointer_correct(graph, pi, true_dist)
    mask = np.arange(graph.num_nodes) != graph.source
    out = {"correct": int(ok[mask].sum()), "total": int(mask.sum())}
    if pred.dist is not None:
        reach = mask & np.isfinite(true_dist)
        d = np.asarray(pred.dist, dtype=float)
        missed = reach & ~np.isfinite(d)  # reachable, but predicted unreachable (or NaN)
        ok_d = reach & ~missed
        err = np.abs(d[ok_d] - true_dist[ok_d]) / np.maximum(true_dist[ok_d], 1e-12)
        out["dist_err_sum"], out["dist_count"], out["dist_missed"] = float(err.sum()), int(ok_d.sum()), int(missed.sum())
    return out


def fully_right(graph: Graph, pred: Prediction, true_dist: np.ndarray | None = None) -> bool:
    """Is every pointer of ``pred`` correct (the graph counts toward exact match)?"""
    s = graph_scores(graph, pred, true_dist)
    return s["correct"] == s["total"]


def evaluate_predictions(graphs: Sequence[Graph], preds: Sequence[Prediction],
                         true_dists: Sequence[np.ndarray] | None = None) -> dict:
    """Aggregate metrics over a list of graphs (``true_dists``: their exact distances, when already
    computed; by default the oracle runs here).

    * ``pointer_accuracy``: fraction of non-source nodes (pooled over graphs) whose pointer
      lies on some shortest path (self for unreachable nodes);
    * ``exact_match``: fraction of graphs with every pointer correct;
    * ``mean_relative_distance_error``: over reachable non-source nodes given a finite
      distance, when distances are predicted (``None`` otherwise);
    * ``distance_missed_fraction``: of reachable non-source nodes, those predicted unreachable
      (an infinite or NaN distance), kept out of the mean above (``None`` without distances).
    """
    if len(graphs) != len(preds):
        raise ValueError(f"{len(graphs)} graphs but {len(preds)} predictions")
    if not graphs:
        raise ValueError("no graphs to evaluate")
    correct = total = exact = 0
    err_sum, err_count, missed, any_dist = 0.0, 0, 0, False
    if true_dists is not None and len(true_dists) != len(graphs):
        raise ValueError(f"{len(graphs)} graphs but {len(true_dists)} true distance arrays")
    for i, (g, p) in enumerate(zip(graphs, preds)):
        s = graph_scores(g, p, None if true_dists is None else true_dists[i])
        correct, total = correct + s["correct"], total + s["total"]
        exact += s["correct"] == s["total"]
        if "dist_count" in s:
            any_dist = True
            err_sum, err_count = err_sum + s["dist_err_sum"], err_count + s["dist_count"]
            missed += s["dist_missed"]
    used = [p.iterations for p in preds if p.iterations is not None]
    out = {
        "pointer_accuracy": correct / total if total else 1.0,
        "exact_match": exact / len(graphs),
        "mean_relative_distance_error": (err_sum / err_count if err_count else 0.0) if any_dist else None,
        "distance_missed_fraction": (missed / (err_count + missed) if err_count + missed else 0.0)
        if any_dist else None,
        "num_graphs": len(graphs),
        "mean_num_nodes": float(np.mean([g.num_nodes for g in graphs])),
    }
    if used:  # a model that halts by itself: how long it ran
        out["mean_iterations"] = float(np.mean(used))
        out["max_iterations"] = int(max(used))
    return out


def errors_by_hop_depth(graphs: Sequence[Graph], preds: Sequence[Prediction]) -> dict[int, tuple[int, int]]:
    """Pointer accuracy broken down by hop depth of the true shortest path.

    Returns ``{depth: (correct, total)}`` over reachable non-source nodes; the depth is
    measured in the oracle's shortest-path tree.
    """
    table: dict[int, list[int]] = {}
    for g, p in zip(graphs, preds):
        dist, pi = dijkstra(g)
        depth = hop_depth(g, pi)
        ok = pointer_correct(g, np.asarray(p.pi), dist)
        for v in range(g.num_nodes):
            if v == g.source or depth[v] < 0:
                continue
            row = table.setdefault(int(depth[v]), [0, 0])
            row[0] += int(ok[v])
            row[1] += 1
    return {d: (c, t) for d, (c, t) in sorted(table.items())}
