"""Benchmarks that print figures (never asserted): training throughput, inference time per
graph at n = 64 and 128, peak memory, and Dijkstra's own time for comparison.

Each model is measured in a fresh process, so peak memory is its own.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time

import torch

from .batching import collate
from .oracle import dijkstra
from .samplers import sample_split
from .determinism import set_seed
from .devices import resolve_device
from .models import build_model
from .presets import preset
from .timing import time_per_graph


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench_model(preset_name: str, steps: int = 20, infer_graphs: int = 16, device: str = "auto") -> dict:
    """Measure one preset's model (run this in a fresh process for a clean peak memory)."""
    cfg = preset(preset_name)
    dev = resolve_device(device)
    set_seed(0)
    torch.set_num_threads(1)
    base_rss = _rss_mb()
    model = build_model(cfg.model, **cfg.model_args).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    data = sample_split("train", cfg.batch_size * steps)
    batches = [collate(data[i * cfg.batch_size:(i + 1) * cfg.batch_size]).to(dev) for i in range(steps)]
    model.train()
    t0 = time.perf_counter()
    for b in batches:
        loss, _ = model.loss(b, cfg.distance_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    row = {"model": preset_name, "parameters": model.num_parameters(),
           "train graphs/s": cfg.batch_size * steps / (time.perf_counter() - t0)}
    model.eval()
    for n in (64, 128):
        key = f"infer ms/graph n={n}"
        if model.max_nodes is not None and n > model.max_nodes:
            row[key] = None
            continue
        graphs = sample_split(f"test_{n}", infer_graphs, with_pi=False)
        batch = collate(graphs, with_targets=False).to(dev)
        model.predict(batch)  # warm-up
        t0 = time.perf_counter()
        model.predict(batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        row[key] = 1e3 * (time.perf_counter() - t0) / infer_graphs
    row["peak RSS MB (torch import excl.)"] = _rss_mb() - base_rss
    if dev.type == "cuda":
        row["peak CUDA MB"] = torch.cuda.max_memory_allocated() / 2**20
    return row


def run_bench(presets=("mlp", "transformer", "transformer_masked", "gnn_sum", "gnn_max", "gnn_min"),
              steps: int = 20, device: str = "auto") -> list[dict]:
    """Benchmark each preset in its own process, plus Dijkstra; print a table."""
    ctx = mp.get_context("spawn")
    rows = []
    for name in presets:
        with ctx.Pool(1) as pool:
            rows.append(pool.apply(bench_model, (name, steps, 16, device)))
    dij = {"model": "Dijkstra (oracle, pure Python)", "parameters": 0, "train graphs/s": None}
    for n in (64, 128):
        graphs = sample_split(f"test_{n}", 16, with_pi=False)
        dij[f"infer ms/graph n={n}"] = 1e3 * time_per_graph(dijkstra, graphs)["seconds_per_graph"]
    rows.append(dij)
    _print_table(rows, decimals=2)
    print(f"(device: {resolve_device(device)}; one thread per model; n/a: the MLP is fixed to n <= 16)")
    return rows


def bench_search(splits=("test_64", "test_128", "salsa_delaunay_160", "salsa_delaunay_1600"), graphs: int = 16,
                 repeats: int = 3) -> list[dict]:
    """Cost of one round of the parallel parent-move search (`lib.search.parallel_moves`): every node's
    options scored and its current term, per graph, for the exact checker and for untrained verifiers of
    the presets' shapes (a round's cost does not depend on the weights); beside Dijkstra's whole run.
    A search needs about as many rounds as the graph's deepest shortest path has hops (notebook 05)."""
    from .search.parallel_moves import best_options
    from .verifier.registry import build_verifier
    set_seed(0)
    torch.set_num_threads(1)
    verifiers = {"exact checker": build_verifier("exact_checker"),
                 "verifier_aligned": build_verifier(preset("verifier_aligned").model, **preset("verifier_aligned").model_args),
                 "verifier_generic": build_verifier(preset("verifier_generic").model, **preset("verifier_generic").model_args)}
    rows = []
    for split in splits:
        gs = sample_split(split, graphs if "1600" not in split else max(1, graphs // 4), with_pi=False)
        batch = collate(gs, with_targets=False)
        y = torch.rand(batch.num_nodes, generator=torch.Generator().manual_seed(0))
        row = {"split": split, "n": gs[0].num_nodes}
        for name, v in verifiers.items():
            with torch.no_grad():
                best_options(v, batch, y)  # warm-up
                t0 = time.perf_counter()
                for _ in range(repeats):
                    best_options(v, batch, y)
                    v.node_terms(batch, y)
            row[f"{name} ms/graph/round"] = 1e3 * (time.perf_counter() - t0) / (repeats * len(gs))
        row["Dijkstra ms/graph (whole run)"] = 1e3 * time_per_graph(dijkstra, gs)["seconds_per_graph"]
        rows.append(row)
    _print_table(rows)
    print("(CPU, one thread; a search runs about hop-depth rounds, so multiply a round by the depth)")
    return rows


def bench_headline(splits=("test_64", "test_128", "salsa_delaunay_1600"), graphs: int = 16) -> list[dict]:
    """The cached run of the ``headline`` preset (seed 0): its whole solve per graph (the search to a
    fixed point, one thread, batches of 32 graphs), beside Dijkstra (pure Python and SciPy) on the same
    graphs; prints a hint and returns nothing when that run is not cached."""
    from .metrics import evaluate_predictions
    from .run_kinds import load_any_run
    from .runs import RunCache
    from .timing import scipy_dijkstra
    cache = RunCache()
    if not cache.exists(preset("headline")):
        print("headline: no cached run; train it with `python -m lib train --config headline`")
        return []
    run = load_any_run(cache.path_for(preset("headline")))
    solver = run.solver("cpu")
    rows = []
    for split in splits:
        gs = sample_split(split, graphs if "1600" not in split else max(1, graphs // 4))
        solver.solve(gs[:1])  # warm-up
        t0 = time.perf_counter()
        preds = solver.solve(gs)
        seconds = (time.perf_counter() - t0) / len(gs)
        rows.append({"split": split, "n": gs[0].num_nodes, "graphs": len(gs), "headline ms/graph": 1e3 * seconds,
                     "exact match": evaluate_predictions(gs, preds)["exact_match"],
                     "Dijkstra ms/graph (Python)": 1e3 * time_per_graph(dijkstra, gs)["seconds_per_graph"],
                     "Dijkstra ms/graph (SciPy)": 1e3 * time_per_graph(scipy_dijkstra, gs)["seconds_per_graph"]})
    print(f"headline run {run.name} (seed {run.config.seed}):")
    _print_table(rows)
    return rows


def _print_table(rows: list[dict], decimals: int = 3) -> None:
    """Rows of dicts as aligned columns; None reads "n/a"."""
    cols = list(rows[0])
    fmt = lambda v: "n/a" if v is None else (f"{v:,.{decimals}f}" if isinstance(v, float) else str(v))  # noqa: E731
    widths = [max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(w) for c, w in zip(cols, widths)))
