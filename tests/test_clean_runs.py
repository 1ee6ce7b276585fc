"""Running things leaves the checkout alone and gives the same numbers every time: smoke runs
write under their own folder, the findings table takes only full-profile results, concurrent
trainers share one cache entry, and a search repeats exactly in a fresh process."""

import json
import multiprocessing as mp
import subprocess
import sys

import pytest

from lib import findings
from lib.paths import ROOT
from lib.presets import PRESETS
from lib.runs import RunCache

TINY = PRESETS["tiny"]


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_findings_table_is_built_only_from_full_profile_results(tmp_path, monkeypatch):
    monkeypatch.setenv(findings.PROFILE_ENV, "smoke")
    monkeypatch.setenv("LAB_RESULTS_DIR", str(tmp_path))
    path = findings.record("01_baselines", [{"approach": "mlp"}])
    assert json.loads(path.read_text())["profile"] == "smoke"
    with pytest.raises(ValueError, match=r"profile 'smoke', not 'full'.*01_baselines|01_baselines.*'smoke'"):
        findings.table(tmp_path)
    findings.record("01_baselines", [{"approach": "mlp"}], profile="full")
    assert list(findings.table(tmp_path).approach) == ["mlp"]


def test_a_quick_run_outside_the_report_never_overwrites_the_committed_results(monkeypatch):
    """A reader who runs a notebook on the smoke profile (no report runner, no LAB_RESULTS_DIR)
    gets its rows under build/results, not over the report's."""
    monkeypatch.delenv(findings.PROFILE_ENV, raising=False)
    monkeypatch.delenv("LAB_RESULTS_DIR", raising=False)
    committed = (ROOT / "results" / "zz_probe.json")
    path = findings.record("zz_probe", [{"approach": "mlp"}], profile="smoke")
    try:
        assert path == ROOT / "build" / "results" / "zz_probe.json"
        assert not committed.exists()
        assert json.loads(path.read_text())["profile"] == "smoke"
    finally:
        path.unlink()


def test_committed_results_are_full_profile():
    assert not findings.table(ROOT / "results").empty  # raises if a committed results file is not from the full report


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_a_smoke_report_leaves_the_checkout_untouched(tmp_path):
    from lib.notebook_runner import run_report

    before = _git_status()
    run_report("smoke", ["00"], out_dir=tmp_path)
    assert _git_status() == before, "a smoke run changed files of the checkout"
    assert (tmp_path / "00_the_task.ipynb").exists() and any((tmp_path / "figures").glob("00_*.png"))


def _train_in_child(root: str, queue) -> None:
    from lib.models.train import train

    run = train(TINY, RunCache(root), device="cpu", progress=False)
    queue.put((run.name, run.metrics["train_seconds"]))


def test_two_processes_training_one_config_end_with_one_entry(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_train_in_child, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    (name_a, secs_a), (name_b, secs_b) = queue.get(timeout=5), queue.get(timeout=5)
    cache = RunCache(tmp_path)
    assert name_a == name_b and [p.name for p in cache.entries()] == [name_a]
    assert secs_a == secs_b  # the second process waited and reused the first one's entry
    assert not list(tmp_path.glob(".tmp-*"))


SEARCH_SCRIPT = """
import json, sys
from lib.energy.train import train_energy
from lib.presets import PRESETS
from lib.runs import RunCache
run = train_energy(PRESETS["energy_residual_tiny"], RunCache(sys.argv[1]), device="cpu", progress=False)
out = {routine: run.evaluate_budgets("test_16", 6, [0, 5], device="cpu", routine=routine)
       for routine in ("langevin", "gd")}
print(json.dumps(out, sort_keys=True))
"""


def test_a_search_gives_identical_numbers_in_separate_processes(tmp_path):
    """Evaluate in two fresh processes, each with its own copy of one trained run (so neither
    reads the other's cached evaluation), and compare every number exactly."""
    import shutil

    first = subprocess.run([sys.executable, "-c", SEARCH_SCRIPT, str(tmp_path / "a")], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    for evals in (tmp_path / "b").glob("*/evals.json"):
        evals.unlink()
    second = subprocess.run([sys.executable, "-c", SEARCH_SCRIPT, str(tmp_path / "b")], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(first) == json.loads(second)
