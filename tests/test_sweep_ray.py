"""The Ray sweep backend gives the same runs as the local one, through the same cache."""

from __future__ import annotations

import pytest
import torch

from lib.presets import PRESETS
from lib.runs import RunCache
from lib.sweep import run_sweep
from lib.sweep_ray import choose_backend

CONFIGS = [PRESETS["tiny"].replace(seed=s) for s in (0, 1)]


def test_backend_choice(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("LAB_SWEEP_BACKEND", raising=False)
    assert choose_backend() == "local"
    assert choose_backend("ray") == "ray"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert choose_backend() == "ray" and choose_backend("local") == "local"
    with pytest.raises(ValueError, match="unknown sweep backend 'dask'"):
        choose_backend("dask")


def test_missing_ray_says_how_to_install(monkeypatch):
    import builtins

    import lib.sweep_ray

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ImportError, match=r"\.\[cluster\]"):
        lib.sweep_ray.run_sweep_ray(CONFIGS, RunCache("unused"), progress=False)


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _weights(run) -> dict:
    return torch.load(run.path / "model.pt", map_location="cpu", weights_only=False)


def test_ray_sweep_matches_local_sweep(ray_local, tmp_path, monkeypatch):
    from lib.sweep_ray import run_sweep_ray

    local = run_sweep(CONFIGS, workers=1, cache=RunCache(tmp_path / "local"), progress=False)
    cache = RunCache(tmp_path / "ray")
    remote = run_sweep_ray(list(reversed(CONFIGS)) + CONFIGS[:1], cache, device="cpu", progress=False)
    assert [r.config.seed for r in remote] == [1, 0, 0]  # the order given, duplicates served twice
    assert len(cache.entries()) == 2
    remote = remote[1::-1]
    assert [r.name for r in remote] == [r.name for r in local]
    for a, b in zip(local, remote):
        assert a.metrics["curve"] == b.metrics["curve"]
        wa, wb = _weights(a), _weights(b)
        assert wa.keys() == wb.keys() and wa.keys()
        for k in wa:
            if isinstance(wa[k], torch.Tensor):
                assert torch.equal(wa[k], wb[k]), k
    assert not torch.equal(*(next(iter(_weights(r).values())) for r in remote))  # the seeds differ

    # A second sweep is served from the shared cache: no task is submitted.
    monkeypatch.setattr(ray_local, "remote", lambda *a, **k: pytest.fail("re-submitted a cached run"))
    again = run_sweep_ray(CONFIGS, cache, device="cpu", progress=False)
    assert [r.path for r in again] == [r.path for r in remote]


def test_a_failing_task_names_its_run(ray_local, tmp_path):
    from lib.sweep_ray import run_sweep_ray

    bad = CONFIGS[0].replace(train_split="no_such_split")  # valid config, fails while training
    with pytest.raises(RuntimeError, match=r"failed in a Ray task.*unknown split 'no_such_split'"):
        run_sweep_ray([bad], RunCache(tmp_path), device="cpu", progress=False)
    assert RunCache(tmp_path).entries() == []


def test_gpu_runs_need_a_gpu_in_the_cluster(ray_local, tmp_path):
    from lib.sweep_ray import run_sweep_ray

    if ray_local.cluster_resources().get("GPU", 0):
        pytest.skip("this Ray instance has GPUs")
    with pytest.raises(ValueError, match="no GPU"):
        run_sweep_ray(CONFIGS, RunCache(tmp_path), device="cuda", progress=False)


def test_run_sweep_dispatches_to_ray(ray_local, tmp_path, monkeypatch):
    """``run_sweep(backend="ray")`` and ``$RAY_ADDRESS`` pick this backend; the default stays local."""
    import inspect

    import lib.sweep
    import lib.sweep_ray

    if "backend" not in inspect.signature(run_sweep).parameters:
        pytest.skip("lib/sweep.py's run_sweep has no backend= parameter yet (see lib/sweep_ray.py)")
    calls = []
    real = lib.sweep_ray.run_sweep_ray
    monkeypatch.setattr(lib.sweep, "run_sweep_ray", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.delenv("LAB_SWEEP_BACKEND", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    cache = RunCache(tmp_path)
    runs = run_sweep(CONFIGS[:1], workers=1, cache=cache, progress=False, backend="ray")
    assert len(calls) == 1 and runs[0].path == cache.path_for(CONFIGS[0])
    run_sweep(CONFIGS[:1], workers=1, cache=cache, progress=False)
    assert len(calls) == 1  # local by default
    monkeypatch.setenv("RAY_ADDRESS", "auto")  # ray is initialised already: no connection is made
    run_sweep(CONFIGS[:1], workers=1, cache=cache, progress=False)
    assert len(calls) == 2
