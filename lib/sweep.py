"""The sweep runner: many training configs through the run cache, in parallel processes.

Finished configs are served from the cache, so an interrupted sweep resumes where it
stopped. Each worker trains with one thread, so a config gives the same weights whether it
ran alone or inside a sweep.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence

from .determinism import single_thread
from .progress import emit, progress_bar, progress_file
from .run_kinds import load_any_run, train_any
from .runs import RunCache
from .sweep_ray import choose_backend, run_sweep_ray


def default_workers() -> int:
    """One worker per available CPU core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent() -> None:
    """Worker initializer: on Linux, ask the kernel to stop this worker if the sweep dies,
    so a killed sweep leaves no orphan still training."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _describe(cfg) -> str:
    return f"{cfg.label or cfg.model} seed {cfg.seed}"


def _train_one(cfg, root: str, device: str) -> str:
    """Train one config; its step bar reaches the report runner's terminal (not the notebook)."""
    emit(f"training {_describe(cfg)}")
    return str(train_any(cfg, RunCache(root), device=device, progress=progress_file() is not None).path)


def run_sweep(configs: Sequence, workers: int | None = None, cache: RunCache | None = None,
              device: str = "auto", progress: bool = True, desc: str = "sweep", backend: str | None = None,
              first: Callable | None = None) -> list:
    """Train every config of any kind (cached ones are loaded); runs come back in the order given.

    ``first`` (config -> number) orders the training, largest first: give the longest runs the
    largest numbers and parallel workers finish together (the results do not depend on the order).

    ``workers=1`` trains in this process; more use a process pool (spawned, so it is safe
    to call from a notebook). Progress shows done/total and the estimated time left.
    ``backend="ray"`` (or ``$LAB_SWEEP_BACKEND=ray``, or ``$RAY_ADDRESS`` set) sends each config
    to Ray instead (`lib.sweep_ray`); ``workers`` then does not apply.
    """
    cache = cache or RunCache()
    if choose_backend(backend) == "ray":
        return run_sweep_ray(configs, cache, device=device, progress=progress, desc=desc)
    configs = list(configs)
    todo = list({cache.name_for(c): c for c in configs if not cache.exists(c)}.values())
    if first is not None:
        todo.sort(key=first, reverse=True)
    workers = default_workers() if workers is None else workers
    bar = progress_bar(total=len(configs), initial=len(configs) - len(todo), desc=desc, disable=not progress,
               unit="run", smoothing=0.0)
    try:
        for _ in _completed(_train_one, [(c, str(cache.root), device) for c in todo], workers):
            bar.update(1)
    finally:
        bar.close()
    return [load_any_run(cache.path_for(c)) for c in configs]


def longest_first(names: Sequence[str], field: str = "label") -> Callable:
    """A `run_sweep` ``first`` key from names listed from the longest to train to the shortest (matched
    against each config's ``field``); names not listed go last."""
    rank = {name: len(names) - i for i, name in enumerate(names)}
    return lambda cfg: rank.get(getattr(cfg, field), 0)


def _completed(fn: Callable, tasks: list[tuple], workers: int):
    """Yield ``(index, fn(*task))`` as tasks finish: in this process for one worker or one task,
    else over a spawned pool (safe from a notebook) whose workers stop if this process dies."""
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(*task)
        return
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=mp.get_context("spawn"),
                             initializer=_die_with_parent) as pool:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        for f in as_completed(futures):
            yield futures[f], f.result()


def _call_single_thread(fn: Callable, args: tuple):
    with single_thread():
        return fn(*args)


def parallel_map(fn: Callable, tasks: Sequence[tuple], workers: int | None = None, desc: str = "evaluations",
                 progress: bool = True, first: Callable | None = None) -> list:
    """``[fn(*task) for task in tasks]``, in that order, over a spawned process pool with one torch
    thread per worker (``workers=1``: in this process, also single-threaded, so results do not
    depend on the worker count). ``fn`` must be importable (module level), and its tasks
    picklable; for evaluations that cache their own results, so a stopped map resumes.
    ``first`` (task -> number) starts the tasks with the largest numbers first, so that the
    workers finish together; the results come back in the tasks' order all the same."""
    tasks = list(tasks)
    if not tasks:
        return []
    workers = default_workers() if workers is None else workers
    order = sorted(range(len(tasks)), key=lambda i: -first(tasks[i])) if first else list(range(len(tasks)))
    bar = progress_bar(total=len(tasks), desc=desc, disable=not progress, unit="task", smoothing=0.0)
    out: list = [None] * len(tasks)
    try:
        for j, value in _completed(_call_single_thread, [(fn, tasks[i]) for i in order], workers):
            out[order[j]] = value
            bar.update(1)
    finally:
        bar.close()
    return out


def cached_map(fn: Callable, tasks: Sequence[tuple], workers: int | None = None, desc: str = "evaluations",
               first: Callable | None = None) -> list:
    """``[fn(*task) for task in tasks]`` for an ``fn`` that caches its results in the run cache
    (`Run.cached_evaluations`): the tasks already cached are read here, inside `cache_only`;
    the rest go to `parallel_map` (``first``: its order of work), so a stopped pass resumes and a
    cached one starts no process."""
    from .runs import NotCached, cache_only
    tasks = list(tasks)
    out: list = [None] * len(tasks)
    missing = []
    with cache_only():
        for i, task in enumerate(tasks):
            try:
                out[i] = fn(*task)
            except NotCached:
                missing.append(i)
    for i, value in zip(missing, parallel_map(fn, [tasks[i] for i in missing], workers=workers, desc=desc,
                                              first=first)):
        out[i] = value
    return out


def evaluate_many(requests: Sequence[tuple], workers: int | None = None, desc: str = "evaluations",
                  method: str = "evaluate", first: Callable | None = None) -> list:
    """``[run.<method>(*args, **kwargs) for run, args, kwargs in requests]`` through `cached_map`
    (``first``: request -> number, the largest started first)."""
    tasks = [(run, method, args, kwargs) for run, args, kwargs in requests]
    return cached_map(_call_method, tasks, workers, desc,
                      first=(lambda task: first((task[0], task[2], task[3]))) if first else None)


def evaluate_curves(curves: Sequence[tuple], workers: int | None = None, desc: str = "iteration curves",
                    device: str = "auto") -> list[dict]:
    """Accuracy against test-time iterations: each ``(run, split, num_graphs, rows)``, where every row
    names an ``"iterations"`` count (ascending), is one run of the looped model's loop read out at
    each count (`Run.evaluate_along`); returns the rows, in order, with ``pointer_accuracy``,
    ``exact_match`` and ``graphs`` added."""
    requests = [(run, (split, num, [r["iterations"] for r in rows]), {"device": device})
                for run, split, num, rows in curves]
    out = []
    for (_, _, _, rows), metrics in zip(curves, evaluate_many(requests, workers, desc, method="evaluate_along")):
        out += [{**row, "pointer_accuracy": m["pointer_accuracy"], "exact_match": m["exact_match"],
                 "graphs": m["num_graphs"]} for row, m in zip(rows, metrics)]
    return out


def _call_method(obj, method: str, args: tuple, kwargs: dict):
    return getattr(obj, method)(*args, **kwargs)
