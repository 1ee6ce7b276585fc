"""Notebook 05's units table: the same graphs with their weights in other units."""

import pandas as pd

from lib.experiments import decisive_scale as dsc


def _frame() -> pd.DataFrame:
    rows = []
    for split, far in (("test_64", (4, 4)), ("test_64_x10", (0, 3))):
        for seed, exact in enumerate(far):
            rows.append({"split": split, "route": "verifier_far", "prior": "aligned", "seed": seed, "n": 64,
                         "hop_depth": 5.0, "graphs": 4, "exact": exact})
            rows.append({"split": split, "route": "verifier_far_rescaled", "prior": "aligned", "seed": seed, "n": 64,
                         "hop_depth": 5.0, "graphs": 4, "exact": 4})
        rows.append({"split": split, "route": "checker_far", "prior": "none", "seed": 0, "n": 64, "hop_depth": 5.0,
                     "graphs": 4, "exact": 4})
    return pd.DataFrame(rows)


def test_the_table_pools_seeds_per_route_and_split_and_shows_each_seed():
    table = dsc.table(_frame())
    assert list(table.index) == [dsc.LABELS[r] for r in ("verifier_far", "verifier_far_rescaled", "checker_far")]
    x10 = next(c for c in table.columns if c.startswith("test_64_x10 (x10 weights"))
    assert table.loc[dsc.LABELS["verifier_far"], x10].startswith("37.5 [") and "(seeds 0.0/75.0)" in table.loc[
        dsc.LABELS["verifier_far"], x10]
    assert table.loc[dsc.LABELS["checker_far"], x10].startswith("100.0 [")


def test_the_summary_compares_each_reweighted_split_with_its_base():
    seeds, line = dsc.summary(_frame()).split("\n")
    assert seeds == "seeds 0, 1:"
    assert line.startswith("test_64_x10 (x10): learned verifier + far-start search 37.5% exact")
    assert "test_64: 100.0%" in line and "rescaled per graph first 100.0%" in line and "imitation not run" in line
