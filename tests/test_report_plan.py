"""The report's plan and its recorded cold times."""

import json

from lib import report_plan


def test_record_timing_merges_notebooks_keeps_slowest_cells_and_totals_only_the_full_report(tmp_path, monkeypatch):
    monkeypatch.setattr(report_plan, "TIMING_FILE", tmp_path / "timing.json")
    report_plan.record_timing([("00_the_task", 20.04)], cold=True,
                              cells={"00_the_task": [{"cell": 3, "seconds": 12.0, "code": "x()"}]})
    report_plan.record_timing([("01_baselines", 100.0), ("06_distilled_energy_search", 999.0)], cold=True)
    data = json.loads((tmp_path / "timing.json").read_text())
    assert data["notebooks"] == {"00_the_task": 20.0, "01_baselines": 100.0, "06_distilled_energy_search": 999.0}
    assert data["total_s"] == 120.0  # 06 is long-only: not part of the 90-minute full report
    assert data["slowest_cells"]["00_the_task"][0]["code"] == "x()"
    assert data["cache"] == "cold" and data["cores"] >= 1


def test_plan_counts_runs_and_cached_runs_per_notebook(tmp_path):
    from lib.runs import RunCache
    rows = report_plan.plan(["00_the_task", "01_baselines"], "smoke", RunCache(tmp_path / "runs"))
    assert [r["notebook"] for r in rows] == ["00_the_task", "01_baselines"]
    assert rows[0]["runs"] == 0 and rows[1]["runs"] > 0 and rows[1]["cached"] == 0
