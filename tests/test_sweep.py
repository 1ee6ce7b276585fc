"""The sweep runner: parallel, cached, and resumable after a kill."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from lib.presets import PRESETS
from lib.runs import RunCache
from lib.sweep import run_sweep

TINY = PRESETS["tiny"]
CONFIGS = [TINY.replace(seed=s) for s in range(4)]


def test_sweep_returns_runs_in_order_and_serves_the_cache(tmp_path, monkeypatch):
    cache = RunCache(tmp_path)
    runs = run_sweep(CONFIGS[:2], workers=1, cache=cache, progress=False)
    assert [r.config.seed for r in runs] == [0, 1]
    monkeypatch.setattr("lib.sweep.train_any", lambda *a, **k: pytest.fail("retrained a finished run"))
    again = run_sweep(CONFIGS[:2], workers=1, cache=cache, progress=False)
    assert [r.path for r in again] == [r.path for r in runs]


def test_interrupted_sweep_resumes_without_retraining(tmp_path, monkeypatch):
    import lib.sweep

    cache = RunCache(tmp_path)
    real = lib.sweep.train_any
    calls = []

    def killed_on_third(cfg, *a, **k):
        calls.append(cfg.seed)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(cfg, *a, **k)

    monkeypatch.setattr(lib.sweep, "train_any", killed_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(CONFIGS, workers=1, cache=cache, progress=False)
    assert len(cache.entries()) == 2
    calls.clear()
    runs = run_sweep(CONFIGS, workers=1, cache=cache, progress=False)
    assert calls == [2, 3]  # only the unfinished configs trained
    assert [r.config.seed for r in runs] == [0, 1, 2, 3]


def test_first_orders_the_training_but_not_the_runs_returned(tmp_path, monkeypatch):
    """``first`` starts the largest keys first (longest runs, by `longest_first`'s ranking); the runs
    still come back in the order the configs were given."""
    import lib.sweep
    from lib.sweep import longest_first

    real, calls = lib.sweep.train_any, []

    def record(cfg, *a, **k):
        calls.append(cfg.seed)
        return real(cfg, *a, **k)

    monkeypatch.setattr(lib.sweep, "train_any", record)
    configs = [c.replace(label=f"run{c.seed}") for c in CONFIGS[:3]]
    runs = run_sweep(configs, workers=1, cache=RunCache(tmp_path), progress=False,
                     first=longest_first(("run2", "run0")))
    assert calls == [2, 0, 1]  # listed names first, in their order; the unlisted one last
    assert [r.config.seed for r in runs] == [0, 1, 2]


def test_parallel_sweep_matches_serial(tmp_path):
    serial = run_sweep(CONFIGS[:2], workers=1, cache=RunCache(tmp_path / "a"), progress=False)
    parallel = run_sweep(CONFIGS[:2], workers=2, cache=RunCache(tmp_path / "b"), progress=False)
    assert [r.metrics["curve"] for r in serial] == [r.metrics["curve"] for r in parallel]


@pytest.mark.skipif(sys.platform != "linux", reason="uses POSIX signals")
def test_sweep_killed_with_sigkill_completes_on_restart(tmp_path):
    """A real kill -9 of a sweep process: the restart trains only what is missing."""
    root = tmp_path / "runs"
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(f"""
        from lib.presets import PRESETS
        from lib.runs import RunCache
        from lib.sweep import run_sweep
        if __name__ == "__main__":
            cfgs = [PRESETS["tiny"].replace(seed=s, steps=60) for s in range(6)]
            run_sweep(cfgs, workers=1, cache=RunCache({str(root)!r}), progress=False)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=os.getcwd())
    cache = RunCache(root)
    deadline = time.time() + 120
    while len(cache.entries()) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {p.name: (p / "model.pt").stat().st_mtime_ns for p in cache.entries()}
    assert 2 <= len(done) < 6, "the sweep was not interrupted mid-way"
    subprocess.run([sys.executable, str(script)], check=True, cwd=os.getcwd())
    after = {p.name: (p / "model.pt").stat().st_mtime_ns for p in cache.entries()}
    assert len(after) == 6
    assert all(after[name] == mtime for name, mtime in done.items())  # finished runs untouched


def test_parallel_map_keeps_the_order_of_its_tasks_with_one_or_two_workers():
    import operator

    from lib.sweep import parallel_map
    tasks = [(i, 10 * i) for i in range(5)]
    assert parallel_map(operator.add, tasks, workers=1, progress=False) == [11 * i for i in range(5)]
    assert parallel_map(operator.add, tasks, workers=2, progress=False) == [11 * i for i in range(5)]


def test_parallel_map_starts_the_largest_tasks_first_and_answers_in_the_tasks_order():
    from lib.sweep import parallel_map
    started = []
    tasks = [(i,) for i in (3, 9, 1, 7)]
    out = parallel_map(lambda i: started.append(i) or -i, tasks, workers=1, progress=False, first=lambda t: t[0])
    assert started == [9, 7, 3, 1] and out == [-3, -9, -1, -7]
    assert parallel_map(abs, [(-3,), (-9,), (-1,)], workers=2, progress=False, first=lambda t: -t[0]) == [3, 9, 1]


class _CountingRun:
    """A stand-in run whose evaluations go through `Run.cached_evaluations`' cache-only check."""

    def __init__(self, path):
        from lib.runs import Run
        self.run = Run(path, None, {})

    def evaluate(self, split, num):
        return self.run.cached_evaluation(f"{split}|{num}", lambda: {"value": len(split) * num, "pid": __import__("os").getpid()})


def test_evaluate_many_reads_cached_evaluations_and_computes_only_the_missing(tmp_path):
    import os

    from lib.sweep import evaluate_many
    run = _CountingRun(tmp_path)
    first = run.evaluate("ab", 3)  # cached here, in this process
    out = evaluate_many([(run, ("ab", 3), {}), (run, ("abc", 2), {}), (run, ("a", 5), {})], workers=2)
    assert [o["value"] for o in out] == [6, 6, 5]
    assert out[0] == first and out[0]["pid"] == os.getpid()
    assert {o["pid"] for o in out[1:]} != {os.getpid()}  # the missing ones were computed by the workers
