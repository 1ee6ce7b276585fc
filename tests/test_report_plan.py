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
