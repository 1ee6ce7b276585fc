"""Notebook 01's tables: graph counts per split, 95% intervals, and the fixed-degree splits."""

import pandas as pd
import pytest

from lib.experiments import baselines
from lib.findings import findings_row, pct_wilson
from lib.statistics import mean_ci, wilson


def test_every_split_gets_256_graphs_and_64_from_n_800():
    cfg = baselines.PROFILES["full"]
    assert cfg.graphs_for("test_64") == 256 and cfg.graphs_for("maze_dfs_side16") == 256
    assert cfg.graphs_for("salsa_er_800") == 64
    assert cfg.own_data and all(c.own_data for c in cfg.train_configs())
    assert len({(c.seed, c.own_data) for c in cfg.train_configs() if c.label == "gnn_max"}) == len(cfg.seeds)


def _results():
    return pd.DataFrame([
        {"model": "gnn_max", "seed": 0, "split": "test_64", "pointer_accuracy": 0.90, "exact_match": 0.25, "graphs": 256},
        {"model": "gnn_max", "seed": 1, "split": "test_64", "pointer_accuracy": 0.80, "exact_match": 0.50, "graphs": 256},
        {"model": "gnn_max", "seed": 0, "split": "salsa_er_800", "pointer_accuracy": 0.5, "exact_match": 0.0,
         "graphs": 64},
    ])


def test_exact_match_cells_pool_seeds_and_graphs_with_a_wilson_interval():
    table = baselines.summary_table(_results(), metric="exact_match", splits=("test_64",))
    low, high = wilson(64 + 128, 512)
    assert table.loc["gnn_max", "test_64 (256 graphs)"] == f"37.5 [{100 * low:.1f}, {100 * high:.1f}]"
    assert pct_wilson([0.25, 0.5], [256, 256]) == table.loc["gnn_max", "test_64 (256 graphs)"]


def test_pointer_accuracy_cells_are_mean_and_95_percent_half_width_over_seeds():
    table = baselines.summary_table(_results(), splits=("test_64", "salsa_er_800"))
    mean, half = mean_ci([0.9, 0.8])
    assert table.loc["gnn_max", "test_64 (256 graphs)"] == f"{100 * mean:.1f} ± {100 * half:.1f}"
    assert table.loc["gnn_max", "salsa_er_800 (64 graphs)"] == "50.0"  # one seed: no interval
    assert table.loc["gnn_max", "seeds"] == 2


def test_the_findings_row_gives_exact_match_with_its_interval_and_graph_count():
    row = findings_row("gnn_max", "imitation", _results(), "—")
    assert row["exact match n=64"] == pct_wilson([0.25, 0.5], [256, 256]) and row["graphs n=64"] == "256"


def test_depth_splits_hold_degree_while_hop_depth_grows():
    cfg = baselines.BaselinesConfig(eval_graphs=16, large_eval_graphs=4,
                                    depth_splits=("maze_dfs_side4", "maze_dfs_side8", "maze_dfs_side16"))
    stats = baselines.depth_statistics(cfg)
    assert list(stats.graphs) == [16, 16, 16] and list(stats.n) == [16, 64, 256]
    assert set(stats.family) == {"maze_dfs"}
    assert stats["mean degree"].max() - stats["mean degree"].min() < 0.3
    assert stats["mean hop depth"].is_monotonic_increasing
    assert stats["mean hop depth"].iloc[-1] > 5 * stats["mean hop depth"].iloc[0]


def test_the_mlp_is_not_asked_about_graphs_larger_than_its_input():
    class FakeRun:
        class config:
            model, model_args = "mlp", {"max_nodes": 16}
    assert baselines.fits(FakeRun, "test_16") and not baselines.fits(FakeRun, "salsa_er_80")


def test_depth_verdicts_name_each_family_and_the_best_model():
    stats = pd.DataFrame({"split": ["maze_dfs_side4", "maze_dfs_side8"], "family": ["maze_dfs"] * 2, "n": [16, 64],
                          "mean degree": [1.9, 2.0],
                          "mean hop depth": [7.0, 25.0], "max hop depth": [15, 59], "graphs": [256, 256]}
                         ).set_index("split")
    res = pd.DataFrame([{"model": m, "seed": 0, "split": s, "pointer_accuracy": a, "exact_match": 0.0, "graphs": 256}
                        for m, s, a in [("gnn_max", "maze_dfs_side4", 0.6), ("gnn_max", "maze_dfs_side8", 0.3),
                                        ("gnn_sum", "maze_dfs_side4", 0.5), ("gnn_sum", "maze_dfs_side8", 0.2)]])
    sc = pd.DataFrame([{"model": "min_hop", "seed": 0, "split": s, "pointer_accuracy": 1.0, "exact_match": 1.0,
                        "graphs": 256} for s in ("maze_dfs_side4", "maze_dfs_side8")])
    text = baselines.depth_verdicts(res, sc, stats)
    assert text.startswith("maze_dfs: n 16 -> 64") and "gnn_max, 60.0% -> 30.0%" in text
    assert "min_hop 100.0% (above the best model)" in text


@pytest.mark.parametrize("bad", ["test_999"])
def test_an_unknown_split_is_named(bad):
    with pytest.raises(KeyError, match=bad):
        baselines.split_size(bad)
