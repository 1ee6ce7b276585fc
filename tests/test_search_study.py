"""Notebook 05's study code: its expensive discrete-search block is served from the run cache."""

import dataclasses

import pandas as pd

from lib.experiments import search_at_test_time as study


def test_discrete_search_is_cached_in_the_verifier_run(one_thread, monkeypatch):
    cfg = dataclasses.replace(study.PROFILES["smoke"], discrete_graphs=1)
    runs = study.train_all(cfg)
    first = study.discrete_scaling(runs, cfg)
    assert set(first.model) >= {"best-of-N (learned score)", "hill climbing (oracle score)"}
    assert len(first) == 2 * (len(cfg.samples) + 2 * len(cfg.visits))  # 2 scores x routines x budgets

    def recompute(*args):
        raise AssertionError("the discrete search ran again instead of reading the cache")

    monkeypatch.setattr(study, "_discrete_block", recompute)
    pd.testing.assert_frame_equal(study.discrete_scaling(runs, cfg), first)
    changed = dataclasses.replace(cfg, visits=(0.0, 1.0))  # a different budget is a different entry
    monkeypatch.undo()
    again = study.discrete_scaling(runs, changed)
    assert again[again.model.str.startswith("hill")].iterations.max() == 1.0
