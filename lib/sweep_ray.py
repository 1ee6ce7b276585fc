"""A Ray backend for the sweep runner: each config a Ray task, on one machine or a cluster.

Every task trains one config with ``train_any`` into the same run cache, so the cache folder
must be visible at the same path on every node (a shared filesystem); finished configs are
served from it and an interrupted sweep resumes, exactly as with the local process pool.
Each run trains with one thread (the trainers set it), so a config gives the same weights
whichever backend or node trained it.

Ray is optional (``pip install -e '.[cluster]'``) and imported only when this backend runs.
``lib.sweep.run_sweep`` dispatches here with ``backend="ray"``, or when ``RAY_ADDRESS`` is set.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Sequence

from .progress import progress_bar
from .run_kinds import load_any_run
from .runs import RunCache

BACKENDS = ("local", "ray")


def choose_backend(backend: str | None = None) -> str:
    """``backend`` if given, else ``$LAB_SWEEP_BACKEND``, else "ray" when ``$RAY_ADDRESS`` names a
    cluster, else "local" (the process pool)."""
    backend = backend or os.environ.get("LAB_SWEEP_BACKEND") or ("ray" if os.environ.get("RAY_ADDRESS") else "local")
    if backend not in BACKENDS:
        raise ValueError(f"unknown sweep backend {backend!r}; choose from {BACKENDS}")
    return backend


def import_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray sweep backend needs Ray, an optional extra: pip install -e '.[cluster]' "
                          "(or pip install 'ray>=2.9'); the default backend='local' needs nothing") from None
    return ray


def _train_task(config, root: str, device: str) -> tuple[str, str]:
    """Inside a Ray worker: train (or load) one config into the cache at ``root``."""
    from lib.run_kinds import train_any
    from lib.runs import RunCache

    run = train_any(config, RunCache(root), device=device, progress=False)
    return str(run.path), socket.gethostname()


def run_sweep_ray(configs: Sequence, cache: RunCache | None = None, device: str = "auto", progress: bool = True,
                  desc: str = "sweep", address: str | None = None, cpus_per_task: float = 1,
                  gpus_per_task: float | None = None, runtime_env: dict | None = None) -> list:
    """Train every config as a Ray task (cached ones are loaded); runs come back in the order given.

    Connects to ``address`` (default ``$RAY_ADDRESS``; neither: a local Ray instance) unless Ray
    is already initialised. ``gpus_per_task`` defaults to 1 for ``device="cuda"``, else 0.
    ``runtime_env`` is passed to ``ray.init`` (e.g. ``{"py_modules": [...]}`` to ship ``lib``
    to nodes that lack the project). A failed task cancels the rest and raises naming its run.
    """
    ray = import_ray()
    cache = cache or RunCache()
    root = str(Path(cache.root).resolve())
    configs = list(configs)
    todo = list({cache.name_for(c): c for c in configs if not cache.exists(c)}.values())
    bar = progress_bar(total=len(configs), initial=len(configs) - len(todo), desc=desc, disable=not progress, unit="run",
               smoothing=0.0)
    try:
        if todo:
            if not ray.is_initialized():
                ray.init(address=address or os.environ.get("RAY_ADDRESS") or None, runtime_env=runtime_env,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            gpus = (1 if device == "cuda" else 0) if gpus_per_task is None else gpus_per_task
            if gpus and ray.cluster_resources().get("GPU", 0) < gpus:  # Ray would wait for one forever
                raise ValueError(f"device {device!r} asks {gpus} GPU per task but the Ray cluster has no GPU; "
                                 "use device='cpu' (or 'auto' with gpus_per_task=0)")
            task = ray.remote(_train_task).options(num_cpus=cpus_per_task, num_gpus=gpus, max_retries=0)
            pending = {task.remote(c, root, device): c for c in todo}
            try:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    cfg = pending.pop(ready[0])
                    try:
                        path, host = ray.get(ready[0])
                    except Exception as err:  # ray.exceptions.RayTaskError wraps the trainer's error
                        cause = getattr(err, "cause", None) or err
                        raise RuntimeError(f"training {cache.name_for(cfg)} ({getattr(cfg, 'label', '')}) failed "
                                           f"in a Ray task: {type(cause).__name__}: {cause}") from err
                    if not Path(path).exists():
                        raise RuntimeError(f"run {Path(path).name} was trained on {host} into {path}, which this "
                                           f"machine ({socket.gethostname()}) cannot see: the run cache "
                                           "(LAB_RUNS_DIR) must be on a filesystem shared by every node")
                    bar.update(1)
            finally:
                for ref in pending:  # after a failure or an interrupt; finished runs stay cached
                    ray.cancel(ref, force=True)
    finally:
        bar.close()
    return [load_any_run(cache.path_for(c)) for c in configs]
