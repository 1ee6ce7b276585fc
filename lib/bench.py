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
    cols = list(rows[0])
    fmt = lambda v: "n/a" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))  # noqa: E731
    widths = [max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(w) for c, w in zip(cols, widths)))
    print(f"(device: {resolve_device(device)}; one thread per model; n/a: the MLP is fixed to n <= 16)")
    return rows
