"""The report's plan and its recorded cold times."""

import json

import pytest

from lib import report_plan


def test_record_timing_merges_notebooks_keeps_slowest_cells_and_totals_only_the_full_report(tmp_path, monkeypatch):
    monkeypatch.setattr(report_plan, "TIMING_FILE", tmp_path / "timing.json")
    report_plan.record_timing([("00_the_task", 20.04)], "cold",
                              cells={"00_the_task": [{"cell": 3, "seconds": 12.0, "code": "x()"}]})
    report_plan.record_timing([("01_baselines", 100.0), ("06_distilled_energy_search", 999.0)], "cold")
    report_plan.record_timing([("00_the_task", 2.0), ("01_baselines", 30.0)], "cached")
    data = json.loads((tmp_path / "timing.json").read_text())
    assert data["notebooks"] == {"00_the_task": 20.0, "01_baselines": 100.0, "06_distilled_energy_search": 999.0}
    assert data["total_s"] == 120.0  # 06 is long-only: not part of the 90-minute full report
    assert data["slowest_cells"]["00_the_task"][0]["code"] == "x()"
    assert data["cache"] == "cold" and data["cores"] >= 1
    assert data["cached_rerun"] == {"notebooks": {"00_the_task": 2.0, "01_baselines": 30.0}, "total_s": 32.0}
    table = report_plan.timing_markdown(data)
    assert "| 01_baselines | 1.7 min | 30 s |" in table and "(PROFILE=long only)" in table
    assert "**2.0 min**" in table and "`x()` 12 s" in table


def test_a_partly_filled_cache_is_not_recorded(tmp_path, monkeypatch):
    monkeypatch.setattr(report_plan, "TIMING_FILE", tmp_path / "timing.json")
    with pytest.raises(ValueError, match="partly"):
        report_plan.record_timing([("00_the_task", 1.0)], "partly cached")
    assert not (tmp_path / "timing.json").exists()


def test_plan_counts_runs_and_cached_runs_per_notebook(tmp_path):
    from lib.runs import RunCache
    rows = report_plan.plan(["00_the_task", "01_baselines"], "smoke", RunCache(tmp_path / "runs"))
    assert [r["notebook"] for r in rows] == ["00_the_task", "01_baselines"]
    assert rows[0]["runs"] == 0 and rows[1]["runs"] > 0 and rows[1]["cached"] == 0


def test_a_notebook_is_cold_with_only_the_runs_an_earlier_notebook_trains_first_cached(tmp_path):
    """04 reads 01's generators: measuring 04 alone with them cached (as in a whole report) is a
    cold measurement; any run 04 trains first being cached is not."""
    from lib.experiments.notebooks import config_key as key
    from lib.experiments.notebooks import training_configs
    from lib.runs import RunCache
    shared = report_plan.shared_with_earlier("04_energy_landscapes", "full")
    configs = training_configs("04_energy_landscapes", "full")
    assert len(shared) == 3 and shared <= {key(c) for c in training_configs("01_baselines", "full")}
    assert report_plan.shared_with_earlier("01_baselines", "full") == set()
    cache = RunCache(tmp_path / "runs")

    def cached(config):  # a stand-in for a trained run: what the plan reads of one
        path = cache.path_for(config)
        path.mkdir(parents=True)
        (path / "config.json").write_text(json.dumps({"label": config.label}))
        (path / "metrics.json").write_text(json.dumps({"train_seconds": 1.0}))
    for c in configs:
        if key(c) in shared:
            cached(c)
    rows = report_plan.plan(["04_energy_landscapes"], "full", cache)
    assert rows[0]["shared"] == rows[0]["cached"] == 3 and rows[0]["own_cached"] == 0
    assert report_plan.cache_state(rows) == "cold"
    cached(next(c for c in configs if key(c) not in shared))
    assert report_plan.cache_state(report_plan.plan(["04_energy_landscapes"], "full", cache)) == "partly cached"
