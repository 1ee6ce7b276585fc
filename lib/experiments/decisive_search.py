"""Notebook 05, the decisive experiment: does a verifier learned from data, plus a search that runs
until the verifier is satisfied, beat imitation when both routes get the same help?

For each prior, a generator and a verifier train on the same graphs (short paths, each seed its own)
and see the same number of training graphs:

| prior | generator | verifier |
|---|---|---|
| aligned | `recurrent` (min-plus recurrence, run until it settles) | `verifier_aligned` (min-plus messages) |
| generic | `recurrent_generic` (max-aggregation recurrence) | `verifier_generic` (max-aggregation MLP messages) |

The verifier learns from correct / wrong labels only (`lib.verifier.train`). Its search is the
parallel parent moves of `lib.search.parallel_moves`, run to a fixed point or to a cap of n rounds,
from the far start (no generator), from the generator's output, and from a random start. The exact
checker under the same search is the ceiling. Every split states n, hop depth and graph count; exact
match carries a Wilson 95% interval.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ..edge_weights import to_training_scale
from ..metrics import evaluate_predictions, fully_right
from ..oracle import dijkstra, hop_depth
from ..presets import preset
from ..runs import RunCache
from ..samplers import SPLITS, sample_split
from ..solvers import get_solver
from ..sweep import parallel_map, run_sweep
from ..verifier.exact_checker import ExactChecker
from ..verifier.solver import VerifierSolver

PRIORS = ("aligned", "generic")
GENERATORS = {"aligned": "recurrent", "generic": "recurrent_generic"}
VERIFIERS = {"aligned": "verifier_aligned", "generic": "verifier_generic"}
#: Route labels; "parent moves" names the hand-written move set of the search.
ROUTE_LABELS = {
    "imitation": "imitation: generator alone",
    "verifier_far": "learned verifier + parent moves, far start",
    "verifier_generator": "learned verifier + parent moves, from the generator",
    "verifier_random": "learned verifier + parent moves, random start",
    "checker_far": "exact checker + parent moves, far start (ceiling)",
    "checker_random": "exact checker + parent moves, random start (ceiling)",
    "shortcut_min_hop": "no learning: fewest-hops tree (shortcut)",
    "shortcut_nearest": "no learning: lightest in-edge (shortcut)",
}
#: Routes with no prior and no seed: one row per split.
PRIORLESS = ("checker", "shortcut")


@dataclass(frozen=True)
class DecisiveConfig:
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds of both routes (each draws its own graphs)
    splits: tuple[str, ...] = ("test_16", "test_64", "test_128", "salsa_er_160", "salsa_ws_160",
                               "salsa_delaunay_160", "salsa_er_800", "salsa_ws_800", "salsa_delaunay_800",
                               "salsa_er_1600", "salsa_ws_1600", "salsa_delaunay_1600", "maze_dfs_side8",
                               "maze_dfs_side16", "tree_64", "tree_256", "nx_real_graphs")
    graphs: int = 256  # graphs per split (64 at n >= 800)
    generic_graphs: int = 64  # graphs per split for the generic verifier's search, O(sum of squared degrees) a round
    generic_skip: tuple[str, ...] = ("test_128", "salsa_er_800", "salsa_ws_800", "salsa_delaunay_800", "salsa_er_1600",
                                     "salsa_ws_1600", "salsa_delaunay_1600")  # the generic prior's search is too slow
    # there on 2 cores, so neither of its routes runs there: every row of the prior on the same splits
    random_max_n: int = 128  # random starts only up to this n: they fail there already, and cost n rounds above
    table_split: str = "test_64"  # the split of the 2 x 2 table (every route at `graphs` graphs there)
    table_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # seeds of the 2 x 2 table (the rules: 5 for a difference)
    scale_splits: tuple[str, ...] = ("test_64", "test_64_unit", "test_64_x10", "test_64_div10")  # the units table:
    # the 2 x 2 table's split and its reweighted twins (`lib.samplers.REWEIGHTS`), every seed of `table_seeds`
    steps: int | None = None  # override both routes' optimizer steps (None: the presets')
    workers: int | None = None  # training processes (None: one per core)
    device: str = "cpu"


PROFILES = {
    "full": DecisiveConfig(),
    "long": DecisiveConfig(random_max_n=256),  # random starts also on the n = 160 and 256 splits
    "smoke": DecisiveConfig(seeds=(0,), splits=("test_16", "maze_dfs_side4"), graphs=3, generic_graphs=2,
                            table_split="test_16", table_seeds=(0, 1), scale_splits=("test_64", "test_64_x10"), steps=4,
                            workers=1),
}


def num_graphs(split: str, cfg: DecisiveConfig, generic: bool = False) -> int:
    """The rules of evidence: ``graphs`` per split, 64 at n >= 800 (fewer for the generic search,
    except on the 2 x 2 table's split, where every row has the same graphs)."""
    n = min(cfg.graphs, 64) if max(SPLITS[split].sizes) >= 800 else cfg.graphs
    return min(n, cfg.generic_graphs) if generic and split != cfg.table_split else n


def all_seeds(cfg: DecisiveConfig) -> tuple[int, ...]:
    """The seeds trained: those of every table, then the 2 x 2 table's extra ones."""
    return tuple(dict.fromkeys((*cfg.seeds, *cfg.table_seeds)))


def training_configs(cfg: DecisiveConfig) -> list:
    """Both parts of both priors, per seed, the longest first (a verifier trains its generator first,
    in the same worker: the generic verifiers take longest), so that two workers finish together.
    With ``steps`` overridden (the smoke profile) the verifiers train without generator negatives,
    which would need the presets' full generators."""
    changes = {} if cfg.steps is None else {"steps": cfg.steps, "eval_every": max(1, cfg.steps // 2), "val_graphs": 4}
    generators = [preset(GENERATORS[p], seed=s, **changes) for p in PRIORS for s in all_seeds(cfg)]
    verifiers = [preset(VERIFIERS[p], seed=s, **changes, **({} if cfg.steps is None else {"generator": ""}))
                 for p in PRIORS for s in all_seeds(cfg)]
    return verifiers[::-1] + generators


def train_all(cfg: DecisiveConfig) -> dict[tuple[str, str, int], object]:
    """{(part, prior, seed): run} for part in ("generator", "verifier")."""
    configs = training_configs(cfg)
    runs = run_sweep(configs, workers=cfg.workers, device=cfg.device, desc="decisive experiment")
    by_label = {(c.label, c.seed): r for c, r in zip(configs, runs)}
    out = {}
    for prior in PRIORS:
        for s in all_seeds(cfg):
            out["generator", prior, s] = by_label[GENERATORS[prior], s]
            out["verifier", prior, s] = by_label[VERIFIERS[prior], s]
    return out


def split_facts(split: str, graphs, depths=None) -> dict:
    """n, mean deepest hop count (``depths``: each graph's, when already computed) and mean degree of
    a split's evaluation graphs."""
    depths = [hop_depth(g, g.pi).max() for g in graphs] if depths is None else depths
    return {"n": int(np.mean([g.num_nodes for g in graphs])),
            "hop_depth": float(np.mean(depths)),
            "mean_degree": float(np.mean([len(g.senders) / g.num_nodes for g in graphs]))}


def _truth(graphs) -> tuple[list, list[int]]:
    """Each graph's exact distances (Dijkstra) and deepest hop count in its own tree."""
    return [dijkstra(g)[0] for g in graphs], [int(hop_depth(g, g.pi).max()) for g in graphs]


def _score(graphs, preds, seconds: float, solver=None, truth=None) -> dict:
    dists, depths = truth or _truth(graphs)
    m = evaluate_predictions(graphs, preds, dists)
    right = [fully_right(g, p, d) for g, p, d in zip(graphs, preds, dists)]
    out = {"exact": int(sum(right)), "graphs": len(graphs), "pointer_accuracy": m["pointer_accuracy"],
           "seconds_per_graph": seconds / len(graphs), "rounds": [p.iterations for p in preds], "depth": list(depths)}
    if solver is not None:
        accepted = np.array(solver.last_accepted)
        out.update(settled=float(np.mean(solver.last_settled)), accepted=int(accepted.sum()),
                   false_certificates=int((accepted & ~np.array(right)).sum()))
    return out


#: A route name ending in this runs that route on each graph rescaled to the training range's largest
#: weight (`lib.edge_weights.to_training_scale`, a hand-written input rule; notebook 05's units table).
RESCALED = "_rescaled"


def _solve(route: str, prior: str, runs: dict, seed: int, graphs, truth=None) -> dict:
    """One route on ``graphs`` (``truth``: their `_truth`, when already computed), scored."""
    if route.endswith(RESCALED):  # pointers do not change under the rescaling, so the scores compare
        return _solve(route[:-len(RESCALED)], prior, runs, seed, [to_training_scale(g) for g in graphs])
    gen = runs.get(("generator", prior, seed))
    t0 = time.perf_counter()
    if route.startswith("shortcut"):
        preds = get_solver(route.split("_", 1)[1]).solve(graphs)
        return _score(graphs, preds, time.perf_counter() - t0, truth=truth)
    if route == "imitation":  # the min-plus model halts, with the search's budget of n rounds as its cap
        kw = {"halt": True, "iterations": max(g.num_nodes for g in graphs)} if gen.config.model == "min_plus_gnn" else {}
        preds = gen.solver("cpu", **kw).solve(graphs)
        return _score(graphs, preds, time.perf_counter() - t0, truth=truth)
    verifier = ExactChecker() if route.startswith("checker") else runs["verifier", prior, seed].model("cpu")
    start = route.split("_", 1)[1]
    solver = VerifierSolver(verifier, start=gen if start == "generator" else start, device="cpu", seed=seed)
    preds = solver.solve(graphs)
    return _score(graphs, preds, time.perf_counter() - t0, solver, truth)


def _cells(runs: dict, cfg: DecisiveConfig, splits=None, seeds=None, routes=None, priors=PRIORS) -> list[dict]:
    """Every (split, route, prior, seed) cell of the experiment (or of the given splits, seeds, routes
    and priors), with its graph count and cache key."""
    cells, seeds = [], seeds or cfg.seeds
    for split in splits or cfg.splits:
        for prior in priors:
            for seed in seeds:
                for route in routes or ROUTE_LABELS:
                    if route.startswith(PRIORLESS) and (prior != priors[0] or seed != seeds[0]):
                        continue  # the checker and the shortcuts have no prior and no seed: one row per split
                    generic_search = prior == "generic" and route.startswith("verifier")
                    if (prior == "generic" and split in cfg.generic_skip and not route.startswith(PRIORLESS)) or (
                            route.endswith("random") and max(SPLITS[split].sizes) > cfg.random_max_n):
                        continue
                    n = num_graphs(split, cfg, generic_search)
                    parts = [] if route.startswith("shortcut") else [runs["generator", prior, seed].name]
                    if route.startswith("verifier"):
                        parts.append(runs["verifier", prior, seed].name)
                    key = f"decisive|{split}|{n}|{route}|{'|'.join(parts)}" + (
                        "|halt<=n" if route == "imitation" else "" if route.startswith("shortcut") else "|margins=fine")
                    cells.append({"split": split, "route": route, "prior": prior, "seed": seed, "n": n, "key": key})
    return cells


@functools.lru_cache(maxsize=None)
def _evaluation_graphs(split: str, n: int) -> tuple[tuple, dict, tuple]:
    """A split's first ``n`` graphs, their facts and their `_truth`, drawn once per worker process:
    every route, prior and seed of a split reads the same graphs (no solver changes a graph)."""
    graphs = tuple(sample_split(split, n))
    truth = _truth(graphs)
    return graphs, split_facts(split, graphs, truth[1]), truth


def _compute_cell(cell: dict, runs: dict, root: str) -> None:
    """Evaluate one cell into the run cache at ``root`` (a worker of `results`)."""
    def compute():
        graphs, facts, truth = _evaluation_graphs(cell["split"], cell["n"])
        return {**facts, **_solve(cell["route"], cell["prior"], runs, cell["seed"], list(graphs), truth)}
    RunCache(root).cached_result(cell["key"], compute)


def _own_runs(runs: dict, prior: str, seed: int) -> dict:
    return {k: r for k, r in runs.items() if k[1:] == (prior, seed)}


def results(runs: dict, cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """One row per (split, route, prior, seed), cached per cell in the run cache; the missing
    cells are evaluated in parallel (``cfg.workers`` processes, one thread each), largest first."""
    return _frame(_cells(runs, cfg), runs, cfg, cache or RunCache())


def claim_results(runs: dict, cfg: DecisiveConfig, cache: RunCache | None = None) -> pd.DataFrame:
    """The cells behind the claims about a difference, for every seed of ``cfg.table_seeds`` (the rules:
    5): imitation and the far-start search of both priors on the 2 x 2 table's split, and of the
    aligned prior (the headline) on every split, beside the fewest-hops tree. The cells of
    ``cfg.seeds`` are the same cached cells as `results`'."""
    routes = ("imitation", "verifier_far")
    cells = (_cells(runs, cfg, None, cfg.table_seeds, (*routes, "shortcut_min_hop"), ("aligned",))
             + _cells(runs, cfg, (cfg.table_split,), cfg.table_seeds, routes, ("generic",)))
    return _frame(cells, runs, cfg, cache or RunCache())


def _frame(cells: list[dict], runs: dict, cfg: DecisiveConfig, cache: RunCache) -> pd.DataFrame:
    """The cells' results as one frame, the missing ones evaluated first, in parallel."""
    missing = [c for c in cells if not cache.result_path(c["key"]).exists()]
    parallel_map(_compute_cell, [(c, _own_runs(runs, c["prior"], c["seed"]), str(cache.root)) for c in missing],
                 workers=cfg.workers, desc="decisive experiment: evaluations",
                 first=lambda task: max(SPLITS[task[0]["split"]].sizes) * task[0]["n"])  # the largest first
    rows = []
    for c in cells:
        r = cache.cached_result(c["key"], lambda key=c["key"]: _raise_missing(key))
        rows.append({"split": c["split"], "route": c["route"], "prior": "none" if c["route"].startswith(PRIORLESS)
                     else c["prior"], "seed": c["seed"], **r})
    df = pd.DataFrame(rows)
    # A split whose graphs differ in size (the real graphs) has facts that depend on how many were
    # drawn: give every row its split's facts over the largest set evaluated, so tables key on one n.
    facts = df.sort_values("graphs", ascending=False, kind="stable").groupby("split")[list(SPLIT_FACTS)].first()
    df[list(SPLIT_FACTS)] = facts.loc[df.split].to_numpy()
    df["n"] = df["n"].astype(int)
    return df[[c for c in RESULT_COLUMNS if c in df]]  # one order, fresh or read back from the cache


def _raise_missing(key: str):
    raise RuntimeError(f"the evaluation {key!r} was not written to the run cache")


def cached_cells(fn, cells: list[tuple], keys: list[str], cache: RunCache, workers: int | None, desc: str,
                 first=None) -> list:
    """Each cell's cached result, in order: the cells whose key is not yet in the run cache are first
    computed in parallel, ``fn(*cell, cache root)`` writing the result under its key (those for which
    ``first(cell)`` holds, the slow ones, started first, so that the workers finish together)."""
    todo = [(*c, str(cache.root)) for c, k in zip(cells, keys) if not cache.result_path(k).exists()]
    parallel_map(fn, todo, workers=workers, desc=desc, first=first)
    return [cache.cached_result(k, lambda k=k: _raise_missing(k)) for k in keys]


SPLIT_FACTS = ("n", "hop_depth", "mean_degree")  # what `split_facts` gives
RESULT_COLUMNS = ["split", "route", "prior", "seed", "n", "hop_depth", "mean_degree", "graphs", "exact",
                  "pointer_accuracy", "rounds", "depth", "settled", "accepted", "false_certificates",
                  "seconds_per_graph"]


def dijkstra_seconds(split: str, n: int, cache: RunCache | None = None) -> float:
    """Wall time per graph of the exact Dijkstra (SciPy) on a split's first ``n`` graphs, measured once
    and kept in the run cache, as the routes' wall times are."""
    def measure() -> float:
        graphs = sample_split(split, n)
        t0 = time.perf_counter()
        for g in graphs:
            dijkstra(g)
        return (time.perf_counter() - t0) / len(graphs)
    return (cache or RunCache()).cached_result(f"dijkstra-seconds|{split}|{n}", measure)


__all__ = [
    "GENERATORS",
    "PRIORS",
    "PROFILES",
    "RESULT_COLUMNS",
    "ROUTE_LABELS",
    "VERIFIERS",
    "DecisiveConfig",
    "all_seeds",
    "cached_cells",
    "claim_results",
    "dijkstra_seconds",
    "explorer",
    "num_graphs",
    "results",
    "split_facts",
    "train_all",
    "training_configs",
]


def explorer(runs: dict, prior: str, seed: int, split: str, index: int = 0):
    """A `lib.widgets.MovesExplorer` on one graph of a split, under the learned verifier of a prior."""
    from ..widgets import MovesExplorer
    run = runs["verifier", prior, seed]
    return MovesExplorer(run.model("cpu"), sample_split(split, index + 1)[index], name=f"{run.config.label} (seed {seed})")
