"""The regularization study's tests: paired by seed, settings chosen on validation, arms that
change nothing not counted, and a conclusion that follows the data whichever way they go."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.experiments.regularization_analysis import (best_on_validation, comparisons, conclusion,
                                                    proxy_correlations, unchanged)
from lib.statistics import correlation, paired


def _results(ood: dict[str, list[float]], val: dict[str, float] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"config": name, "seed": i, "ood_acc": v, "id_acc": 0.9, "val_acc": (val or {}).get(name, 0.9),
             "param_norm": rng.normal(10, 1), "sharpness": rng.normal()}
            for name, vals in ood.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


BASE = {"untied": [0.70, 0.71, 0.69, 0.70, 0.72], "untied shallow": [0.60, 0.61, 0.62, 0.60, 0.59]}
TIED = [0.80, 0.83, 0.79, 0.81, 0.82]


def test_a_regularizer_chosen_on_validation_that_closes_the_gap_supports_the_reading():
    res = _results({"tied": TIED, **BASE, "untied + dropout 0.1": [0.80, 0.79, 0.81, 0.80, 0.81]},
                   val={"untied + dropout 0.1": 0.95})
    text = conclusion(res)
    assert "Tying improves OOD accuracy significantly" in text and "(untied + dropout 0.1)" in text
    assert "the advantage vanishes" in text
    assert "1 improves OOD accuracy significantly (untied + dropout 0.1)" in text


def test_the_best_setting_is_chosen_on_validation_not_on_the_test_splits():
    res = _results({"tied": TIED, **BASE, "untied + dropout 0.1": [0.80, 0.79, 0.81, 0.80, 0.81],
                    "untied + weight decay 0.1": [0.70, 0.70, 0.71, 0.69, 0.70]},
                   val={"untied + dropout 0.1": 0.80, "untied + weight decay 0.1": 0.97})
    assert best_on_validation(res) == "untied + weight decay 0.1"
    assert "the advantage remains" in conclusion(res)


def test_no_tying_effect_and_a_harmful_tying_are_said_plainly():
    same = conclusion(_results({"tied": [0.70, 0.72, 0.69, 0.71, 0.70], **BASE}))
    assert "no significant effect" in same
    worse = conclusion(_results({"tied": [0.50, 0.51, 0.49, 0.50, 0.52], **BASE}))
    assert "significantly worse" in worse


def test_an_arm_that_changes_nothing_is_named_and_not_counted():
    res = _results({"tied": TIED, **BASE, "untied + early stopping": BASE["untied"],
                    "untied + dropout 0.1": [0.71, 0.70, 0.70, 0.71, 0.72]})
    assert unchanged(res) == ["untied + early stopping"]
    text = conclusion(res)
    assert "of 1 settings" in text and "Not counted, as they changed nothing: untied + early stopping" in text
    assert any("untied + early stopping: equal to untied in every seed" in line for line in comparisons(res))


def test_comparisons_are_paired_by_seed():
    res = _results({"tied": TIED, **BASE})
    line = comparisons(res)[0]
    d = np.subtract(TIED, BASE["untied"])
    p = stats.ttest_rel(TIED, BASE["untied"]).pvalue
    assert line.startswith("tied vs untied at matched compute") and f"{100 * d.mean():+.1f} points" in line
    assert f"paired p = {p:.3f}" in line


def test_paired_test_and_correlation_interval_match_their_textbook_forms():
    a, b = np.array([0.8, 0.7, 0.9, 0.85]), np.array([0.75, 0.7, 0.8, 0.8])
    r = paired(a, b)
    assert r["p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert r["ci"] == pytest.approx(stats.t.ppf(0.975, 3) * (a - b).std(ddof=1) / 2)
    x = np.arange(20.0)
    y = x + np.random.default_rng(1).normal(0, 5, 20)
    c = correlation(x, y)
    assert c["r"] == pytest.approx(stats.pearsonr(x, y).statistic)
    assert c["low"] < c["r"] < c["high"] and c["n"] == 20
    with pytest.raises(ValueError, match="two pairs"):
        paired([1.0], [2.0])


def test_proxies_are_correlated_within_each_architecture_never_pooled():
    res = _results({"tied": TIED, "tied + dropout 0.1": TIED, **BASE, "untied + dropout 0.1": BASE["untied"]})
    table = proxy_correlations(res)
    assert list(table.architecture.unique()) == ["tied", "untied"]
    assert set(table.n) == {10}  # shallow untied is another architecture: in neither family


def test_shortcut_rows_sit_beside_the_models_in_the_split_tables():
    """The no-learning baselines fill the same columns, one row each; on depth-first mazes (trees)
    the fewest-hops tree is exact, and a one-seed row shows its value without an interval."""
    from lib.experiments.regularization import RegularizationConfig, shortcut_results
    from lib.experiments.regularization_analysis import split_table

    cuts = shortcut_results(RegularizationConfig(eval_graphs=8, ood_splits=("maze_dfs_side4",)))
    assert list(cuts.config) == ["shortcut: fewest-hops tree", "shortcut: lightest in-edge"]
    assert cuts.loc[0, "ood:maze_dfs_side4_exact"] == 1.0
    table = split_table(cuts)
    assert list(table.columns) == ["in distribution (8 graphs)", "maze_dfs_side4 (8 graphs)"]
    assert table.loc["shortcut: fewest-hops tree", "maze_dfs_side4 (8 graphs)"] == "100.0"
