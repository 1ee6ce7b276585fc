"""The decisive experiment end to end on its smoke profile: both routes of both priors train, every
table and the conclusion are computed from the results, and results are cached per cell."""

import numpy as np
import pandas as pd
import pytest

from lib.batching import collate
from lib.flops import count_flops
from lib.samplers import sample_split

from lib.experiments import config_for
from lib.experiments import decisive_auc as dauc
from lib.experiments import decisive_cost as dc
from lib.experiments import decisive_headline
from lib.experiments import decisive_search as ds
from lib.experiments import decisive_tables as dt
from lib.runs import RunCache


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_RUNS_DIR", str(root))
        cfg = config_for(ds.PROFILES, "smoke")
        runs = ds.train_all(cfg)
        return cfg, runs, ds.results(runs, cfg), root


def test_every_split_route_and_prior_has_a_row_with_its_facts(study):
    cfg, _, df, _ = study
    assert set(df.split) == set(cfg.splits)
    per_split = df.groupby("split").size()
    # 2 priors x 4 generator/verifier routes x seeds, plus the checker's 2 routes and the 2 shortcuts once
    assert (per_split == 2 * 4 * len(cfg.seeds) + 4).all()
    assert {"n", "hop_depth", "mean_degree", "exact", "graphs", "rounds", "depth"} <= set(df.columns)
    assert (df.exact <= df.graphs).all()
    ceiling = df[df.route == "checker_far"]
    assert (ceiling.exact == ceiling.graphs).all()  # the exact checker from the far start is Bellman-Ford


def test_matched_parts_train_on_the_same_graphs(study):
    _, runs, _, _ = study
    parts = dt.parts_table(runs)
    assert parts.groupby(["prior", "seed"])["training split"].nunique().eq(1).all()
    assert parts.groupby(["prior", "seed"])["graphs seen"].nunique().eq(1).all()


def test_tables_and_conclusion_come_from_the_results(study):
    cfg, _, df, _ = study
    table = dt.two_by_two(df, cfg.table_split)
    assert list(table.columns) == list(ds.PRIORS) and len(table) == 3
    hops = df[(df.route == "shortcut_min_hop") & (df.split == cfg.table_split)].iloc[0]
    assert table.index[-1] == ds.ROUTE_LABELS["shortcut_min_hop"]  # the no-learning baseline beneath both routes
    assert (table.iloc[-1] == dt._interval(int(hops.exact), int(hops.graphs))).all()
    assert all("[" in v for v in table.values.ravel())  # every cell carries its interval
    summary = dt.summary_table(df)
    assert list(summary.index) == list(cfg.splits)
    certs = dt.certificates(df)
    assert (certs["accepted & wrong"] <= certs.accepted).all()
    text = dt.conclusion(df, cfg.table_split)
    assert "aligned prior" in text and "generic prior" in text and "Certificates" in text
    rows = dt.findings_rows(df)
    assert rows and all(r["route"] for r in rows) and not any("train s/run" in r for r in rows)


def test_results_are_served_from_the_cache(study, monkeypatch):
    cfg, runs, df, root = study
    monkeypatch.setattr(ds, "_solve", lambda *a, **k: pytest.fail("recomputed a cached result"))
    again = ds.results(runs, cfg, RunCache(root))
    pd.testing.assert_frame_equal(again, df)


def test_hard_negative_auc_is_a_probability_per_kind(study):
    cfg, runs, _, root = study
    auc = dauc.hard_negative_auc(runs, cfg, RunCache(root))
    assert set(auc.negatives) == {"generator's wrong outputs", "search stops (random start)"}
    known = auc.auc.dropna()
    assert ((known >= 0) & (known <= 1)).all() and (auc["count"] >= 0).all()
    assert auc[auc["count"] == 0].auc.isna().all()


def test_the_auc_table_has_a_column_per_kind_of_negative(study):
    cfg, runs, _, root = study
    table = dauc.table(dauc.hard_negative_auc(runs, cfg, RunCache(root)))
    assert table.shape[1] == 4 and len(table) == 2  # (AUC, count) x 2 kinds; 1 split x 2 priors


def test_the_certificates_table_reads_dashes_not_nan(study):
    cfg, _, df, _ = study
    table = dt.certificates_table(df)
    assert list(table.index.get_level_values("split")) == list(cfg.splits)
    assert not table.isna().any().any()


def test_two_evaluation_workers_give_the_single_worker_results(study, tmp_path):
    cfg, runs, df, _ = study
    parallel = ds.results(runs, cfg.__class__(**{**cfg.__dict__, "workers": 2}), RunCache(tmp_path))
    pd.testing.assert_frame_equal(parallel.drop(columns="seconds_per_graph"), df.drop(columns="seconds_per_graph"))


def test_findings_rows_give_the_verifiers_training_seconds(study):
    cfg, runs, df, root = study
    rows = dt.findings_rows(df, runs)
    assert rows and all(float(r["train s/run"]) >= 0 for r in rows)
    with_claims = dt.findings_rows(df, runs, ds.claim_results(runs, cfg, RunCache(root)))
    seeds = {r["approach"]: r["seeds"] for r in with_claims}
    assert seeds[next(a for a in seeds if a.startswith("headline"))] == len(cfg.table_seeds)  # all its seeds
    assert all(seeds[r["approach"]] == len(cfg.seeds) for r in rows if not r["approach"].startswith("headline"))


def test_route_flops_count_a_round_times_the_rounds_used(study):
    """The far-start search's FLOPs are one round's counted FLOPs (aggregations included) times the
    mean rounds in the results plus the read-out; Dijkstra's reference is E + n log2 n."""
    from lib.search.parallel_moves import best_options, start_candidate

    cfg, runs, df, _ = study
    flops = dc.route_flops(runs, cfg, df, graphs_per_split=2)
    split, prior, seed = cfg.splits[0], "aligned", cfg.seeds[0]
    graphs = sample_split(split, 2)
    batch = collate(graphs, with_targets=False)
    verifier = runs["verifier", prior, seed].model("cpu")
    y = start_candidate(batch, "far")
    one_round = (count_flops(lambda: best_options(verifier, batch, y), aggregations=True)
                 + count_flops(lambda: verifier.node_terms(batch, y), aggregations=True)) / 2
    d = df[(df.split == split) & (df.route == "verifier_far") & (df.prior == prior) & (df.seed == seed)]
    rounds = np.mean([r for rs in d.rounds for r in rs])
    row = flops[(flops.split == split) & (flops.route == "verifier_far") & (flops.prior == prior) & (flops.seed == seed)]
    assert row.flops_per_graph.iloc[0] == pytest.approx(one_round * (rounds + 1)) and one_round > 0
    ref = flops[(flops.split == split) & (flops.route == "dijkstra")].flops_per_graph.iloc[0]
    n, e = np.mean([g.num_nodes for g in graphs]), np.mean([len(g.senders) for g in graphs])
    assert ref == pytest.approx(e + n * np.log2(n))
    assert set(flops.route) == {"dijkstra", *dc.FLOP_ROUTES}


def test_compute_matched_curves_cover_a_shared_flop_range_on_the_same_graphs(study, monkeypatch):
    """The generator runs longer until it costs as much as the search's last read-out; the search's
    last read-out is the far-start route's result on the same graphs; `matched` compares both
    within the shared range, and the conclusion says so."""
    from lib.experiments import decisive_anytime as da

    cfg, runs, df, root = study
    curves = da.curves(runs, cfg, RunCache(root))
    for (split, prior, seed), c in curves.groupby(["split", "prior", "seed"]):
        gen, search = c[c.route == "imitation"], c[c.route == "verifier_far"]
        assert list(gen.budget) == [2 ** k for k in range(len(gen))] and gen.flops_per_graph.is_monotonic_increasing
        assert list(search.budget) == list(range(len(search))) and search.flops_per_graph.is_monotonic_increasing
        assert gen.flops_per_graph.iloc[-1] >= search.flops_per_graph.iloc[-1] or gen.budget.max() == da.MAX_ITERATIONS
        row = df[(df.split == split) & (df.route == "verifier_far") & (df.prior == prior) & (df.seed == seed)]
        assert int(row.graphs.iloc[0]) == int(search.graphs.iloc[0])  # the same graphs as the route's results
        assert int(search.exact.iloc[-1]) == int(row.exact.iloc[0])
    matched = da.matched(curves, df)
    assert set(matched.route) == set(da.ROUTES)
    assert (matched["FLOPs per graph"] <= matched["shared FLOPs up to"]).all()
    hops = df[df.route == "shortcut_min_hop"].set_index("split")
    assert (matched[dt.BASELINE] == [round(100 * hops.exact[s] / hops.graphs[s], 1) for s in matched.split]).all()
    assert "Compute-matched" in dt.conclusion(df, cfg.table_split, matched)
    assert "fewest-hops tree" in dt.conclusion(df, cfg.table_split, matched)
    from lib.plots import plot_exact_vs_flops
    fig = plot_exact_vs_flops(da.pooled(curves), ds.ROUTE_LABELS)
    assert len(fig.axes) == curves.groupby(["split", "prior"]).ngroups
    assert all(ax.get_xscale() == "log" and len(ax.lines) == len(da.ROUTES) for ax in fig.axes)
    monkeypatch.setattr(da, "_cell", lambda *a: pytest.fail("recomputed a cached curve"))
    pd.testing.assert_frame_equal(da.curves(runs, cfg, RunCache(root)), curves)


def test_the_search_curve_ends_at_the_cost_route_flops_charges(study):
    from lib.experiments import decisive_anytime as da

    cfg, runs, df, root = study
    curves = da.curves(runs, cfg, RunCache(root))
    for (split, prior, seed), c in curves[curves.route == "verifier_far"].groupby(["split", "prior", "seed"]):
        # FLOPs counted on the same graphs (the smoke profile's generic search has fewer than FLOP_GRAPHS)
        flops = dc.route_flops(runs, cfg, df, graphs_per_split=min(da.FLOP_GRAPHS, int(c.graphs.iloc[0])))
        charged = flops[(flops.split == split) & (flops.route == "verifier_far") & (flops.prior == prior)
                        & (flops.seed == seed)].flops_per_graph.iloc[0]
        assert c.flops_per_graph.iloc[-1] == pytest.approx(charged)


def test_pooled_curves_carry_a_settled_search_and_keep_the_generator_budgets_every_seed_ran():
    from lib.experiments import decisive_anytime as da

    def rows(seed, route, budgets, exact, flops):
        return [{"split": "s", "prior": "aligned", "seed": seed, "graphs": 10, "route": route, "budget": b,
                 "exact": e, "flops_per_graph": f} for b, e, f in zip(budgets, exact, flops)]
    df = pd.DataFrame(rows(0, "verifier_far", [0, 1, 2], [0, 5, 10], [1.0, 2.0, 3.0])  # settled after 2 rounds
                      + rows(1, "verifier_far", [0, 1, 2, 3], [0, 2, 6, 9], [1.0, 2.0, 3.0, 4.0])
                      + rows(0, "imitation", [1, 2, 4], [1, 1, 1], [0.5, 1.0, 2.0])
                      + rows(1, "imitation", [1, 2], [2, 2], [0.5, 1.0]))
    p = da.pooled(df)
    search = p[p.route == "verifier_far"]
    assert list(search.budget) == [0, 1, 2, 3] and (search.graphs == 20).all()
    assert list(search.exact) == [0, 7, 16, 19]  # seed 0 carried at its final read-out
    assert list(search.flops_per_graph) == [1.0, 2.0, 3.0, 3.5]  # ... at its final cost
    assert list(p[p.route == "imitation"].budget) == [1, 2]
    m = da.matched(df).set_index("route")
    assert (m["shared FLOPs up to"] == 1.0).all()  # the generator's largest common cost
    assert m.loc["imitation", "budget"] == "T = 2" and m.loc["verifier_far", "budget"] == "r = 0"
    assert m.loc["verifier_far", "exact match %"] == 0.0 and m.loc["imitation", "generator best %"] == 15.0
    with pytest.raises(ValueError, match="different numbers of graphs"):
        da.pooled(df.assign(graphs=np.where((df.seed == 1) & (df.budget == 3), 5, 10)))


def test_the_exact_checker_is_exact_under_both_margins_on_small_graphs(study):
    """On the smoke profile's small graphs no path is near-tied below the coarse margin."""
    from lib.experiments import decisive_margins as dm

    cfg, _, _, root = study
    big = cfg.__class__(**{**cfg.__dict__, "splits": ("test_16", "salsa_er_800"), "graphs": 2})
    table = dm.ceiling_by_margins(big, RunCache(root))
    assert list(table.index) == ["salsa_er_800"] and (table.filter(like="exact checker") == 100.0).all().all()
    assert dm.ceiling_by_margins(cfg, RunCache(root)).empty  # no split of n >= 800 in the smoke profile


def test_the_parent_moves_ablation_runs_descent_on_the_same_graphs_and_is_cached(study, monkeypatch):
    from lib.experiments import decisive_ablation as da

    cfg, runs, df, root = study
    table = da.table(runs, cfg, df, RunCache(root))
    splits = [s for s in da.SPLITS if s in cfg.splits]
    assert list(table.index) == [(s, p) for s in splits for p in ds.PRIORS]  # both priors' verifiers
    far = df[(df.route == "verifier_far") & df.split.isin(splits)].groupby(["split", "prior"]).graphs.sum()
    assert (table.graphs == far.loc[table.index]).all()  # the same graphs as each prior's search
    assert {da.LABEL, ds.ROUTE_LABELS["verifier_far"], ds.ROUTE_LABELS["verifier_random"]} <= set(table.columns)
    assert all("[" in v for v in table[da.LABEL]) and (table.filter(like="energy") >= 0).all().all()
    assert (table[dt.BASELINE] == [round(dt.shortcut_exact(df, s), 1) for s, _ in table.index]).all()
    monkeypatch.setattr(da, "_descend", lambda *a: pytest.fail("recomputed a cached descent"))
    pd.testing.assert_frame_equal(da.table(runs, cfg, df, RunCache(root)), table)


def test_aggregations_count_one_op_per_aggregated_element():
    import torch

    x, index = torch.randn(10, 4), torch.tensor([0, 1] * 5)
    assert count_flops(lambda: torch.zeros(2, 4).index_add(0, index, x)) == 0.0
    assert count_flops(lambda: torch.zeros(2, 4).index_add(0, index, x), aggregations=True) == 40.0
    amin = lambda: torch.zeros(2, 4).scatter_reduce(0, index[:, None].expand(10, 4), x, "amin")
    assert count_flops(amin, aggregations=True) == 40.0
    assert count_flops(lambda: x @ x.T, aggregations=True) == count_flops(lambda: x @ x.T) == 2 * 10 * 4 * 10


def test_headline_targets_compare_the_value_over_all_seeds_with_each_target():
    """Exact match pools graphs over seeds, pointer accuracy averages seeds; a split with no results is
    left out; the summary names the furthest miss."""
    rows = [{"split": "test_64", "route": "verifier_far", "prior": "aligned", "seed": s, "n": 64, "exact": e,
             "graphs": 256, "pointer_accuracy": p} for s, e, p in ((0, 256, 1.0), (1, 192, 0.997))]
    rows += [{"split": "tree_64", "route": "verifier_far", "prior": "aligned", "seed": 0, "n": 64, "exact": 250,
              "graphs": 256, "pointer_accuracy": 0.999},
             {"split": "tree_64", "route": "imitation", "prior": "aligned", "seed": 0, "n": 64, "exact": 0,
              "graphs": 256, "pointer_accuracy": 0.5},
             {"split": "tree_64", "route": "shortcut_min_hop", "prior": "none", "seed": 0, "n": 64, "exact": 250,
              "graphs": 256, "pointer_accuracy": 0.999}]
    t = decisive_headline.targets(pd.DataFrame(rows))
    assert list(t.split) == ["test_64", "test_64", "tree_64"]
    ptr, em, tree = t.iloc[0], t.iloc[1], t.iloc[2]
    assert ptr["measured %"] == 99.85 and ptr["95% CI"] == "—" and ptr.met == "no"  # mean of 100 and 99.7
    assert em["measured %"] == 87.5 and em["95% CI"].startswith("[") and em["per seed %"] == "100.00 / 75.00"
    assert tree["fewest-hops tree %"] == 97.66 and pd.isna(ptr["fewest-hops tree %"])  # no shortcut row at test_64
    assert tree.met == "yes"  # 97.7 >= 95
    assert decisive_headline.targets(pd.DataFrame(rows[2:])).split.tolist() == ["tree_64"]
    assert decisive_headline.summary(decisive_headline.targets(pd.DataFrame(rows[3:4]))).startswith("No ")
    summary = decisive_headline.summary(t)
    assert summary.startswith("The headline meets 1 of its 3 targets") and "exact match on test_64" in summary


def test_the_claims_run_every_table_seed_on_the_same_graphs_and_share_the_cached_cells(study):
    cfg, runs, df, root = study
    claims = ds.claim_results(runs, cfg, RunCache(root))
    learned = claims[claims.prior.isin(ds.PRIORS)]
    assert set(learned.seed) == set(cfg.table_seeds) and len(cfg.table_seeds) > len(cfg.seeds)
    assert set(learned.route) == {"imitation", "verifier_far"}
    assert set(claims[claims.prior == "aligned"].split) == set(cfg.splits)  # the headline: every split
    assert set(claims[claims.prior == "generic"].split) == {cfg.table_split}
    assert set(claims[claims.prior == "none"].route) == {"shortcut_min_hop"}
    assert claims.groupby("split").graphs.nunique().eq(1).all()
    key = ["split", "route", "prior", "seed"]
    shared = df.merge(claims[key], on=key)
    pd.testing.assert_frame_equal(claims[claims.seed.isin(cfg.seeds)].sort_values(key).reset_index(drop=True),
                                  shared.sort_values(key).reset_index(drop=True))
    gains = dt.difference(claims, cfg.table_split)
    assert list(gains.index) == list(ds.PRIORS) and (gains.seeds == len(cfg.table_seeds)).all()
    assert len(decisive_headline.targets(claims)) == len(decisive_headline.targets(df))


def _pair_frame(imitation, search, graphs=100):
    return pd.DataFrame([{"split": "s", "route": route, "prior": prior, "seed": seed, "exact": e, "graphs": graphs}
                         for prior in ds.PRIORS for route, ex in (("imitation", imitation), ("verifier_far", search))
                         for seed, e in enumerate(ex)])


def test_the_difference_is_a_paired_test_over_seeds():
    from scipy import stats
    imitation, search = [10, 20, 30, 35, 50], [60, 65, 90, 80, 95]
    row = dt.difference(_pair_frame(imitation, search), "s").loc["aligned"]
    d = np.subtract(search, imitation)
    assert row["gain (points)"] == pytest.approx(d.mean(), abs=0.05)
    assert float(row["paired t p"]) == pytest.approx(stats.ttest_rel(search, imitation).pvalue, rel=0.05)
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    assert row["95% CI"] == f"[{d.mean() - half:.1f}, {d.mean() + half:.1f}]"
    assert row["sign test p"] == pytest.approx(0.0625) and row["seeds where search wins"] == "5 of 5"  # 2 / 2**5


def test_a_gain_without_spread_has_no_t_test_and_mismatched_graphs_are_refused():
    row = dt.difference(_pair_frame([0] * 5, [100] * 5), "s").loc["generic"]
    assert row["paired t p"] == "none (the same gain on every seed)" and row["95% CI"] == "[100.0, 100.0]"
    bad = _pair_frame([0, 1], [2, 3])
    bad.loc[0, "graphs"] = 50
    with pytest.raises(ValueError, match="same seeds and graphs"):
        dt.difference(bad, "s")


def test_the_edge_cost_error_is_zero_for_a_pure_scaling_and_grows_with_an_intercept():
    import torch

    from lib.experiments import decisive_edge_cost as de

    def stub(*channels):
        return type("Stub", (), {"cost": staticmethod(lambda w: torch.cat([c(w) for c in channels], 1))})()

    error, slope, _ = de.nearest_scaling(stub(lambda w: -3 * w, lambda w: 3 * w, lambda w: w + 0.5, lambda w: w ** 2))
    assert error == pytest.approx(0, abs=1e-6) and slope == pytest.approx(3, rel=1e-5)  # the exact channel, a > 0
    error, slope, _ = de.nearest_scaling(stub(lambda w: w + 0.01, lambda w: w + 0.05))
    assert 0.004 < error < 0.02 and slope > 1  # the nearest channel's intercept, about 1% of its largest cost
    assert de.nearest_scaling(stub(lambda w: -w))[0] == float("inf")  # no channel grows with the weight


def test_the_edge_cost_table_has_a_row_per_seed_of_the_claims_with_their_exact_match(study):
    from lib.experiments import decisive_edge_cost as de

    cfg, runs, _, root = study
    claims = ds.claim_results(runs, cfg, RunCache(root))
    table = de.table(runs, cfg, claims, cache=RunCache(root))
    assert list(table.index) == sorted(cfg.table_seeds) and (table[de.ERROR] >= 0).all()
    far = claims[(claims.route == "verifier_far") & (claims.prior == "aligned")].set_index(["seed", "split"])
    for split in [s for s in de.SPLITS if s in cfg.splits]:
        for seed in cfg.table_seeds:
            row = far.loc[(seed, split)]
            assert table.loc[seed, f"exact % {split}"] == round(100 * row.exact / row.graphs, 1)


def test_conclusion_lines_name_their_seeds_and_use_the_frame_that_covers_a_route():
    frame = pd.DataFrame({"prior": ["aligned"] * 5 + ["none"], "seed": [0, 1, 2, 3, 4, 0]})
    assert dt._seeds(frame) == "seeds 0-4"
    assert dt._seeds(frame[frame.seed.isin([0, 2])]) == "seeds 0, 2"
    assert dt._seeds(frame[frame.seed == 3]) == "seed 3"

    def rows(splits, seeds):
        return pd.DataFrame([{"split": s, "route": "verifier_far", "prior": "aligned", "seed": k}
                             for s in splits for k in seeds])

    three, five_all, five_one = rows(["a", "b"], [0, 1, 2]), rows(["a", "b"], range(5)), rows(["a"], range(5))
    assert dt._widest(three, five_all, "aligned").seed.nunique() == 5  # covers every split: its seeds
    assert dt._widest(three, five_one, "aligned").seed.nunique() == 3  # misses a split: the 3-seed rows
    assert dt._widest(three, None, "aligned").equals(three)


def test_the_intervention_sets_only_the_nearest_channel_to_its_scaling_and_is_cached(study):
    import torch

    from lib.experiments import decisive_edge_cost as de

    def cost(w):
        return torch.cat([w ** 2, 2 * w + 0.001, -w], 1)

    _, slope, channel = de.nearest_scaling(type("Stub", (), {"cost": staticmethod(cost)})())
    assert channel == 1 and slope == pytest.approx(2, rel=0.01)
    w = torch.linspace(0.1, 1, 5).unsqueeze(1)
    out = de.NearestScaled(cost, channel, slope)(w)
    assert torch.allclose(out[:, 1], slope * w[:, 0]) and torch.equal(out[:, [0, 2]], cost(w)[:, [0, 2]])
    cfg, runs, _, root = study
    run = runs["verifier", "aligned", cfg.seeds[0]]
    de._intervention_cell("test_16", 2, run, "edge-test", str(root))
    result = RunCache(root).cached_result("edge-test", lambda: pytest.fail("not cached"))
    assert result["graphs"] == 2 and 0 <= result["exact"] <= 2


def test_dijkstra_wall_time_is_measured_once_then_read_from_the_run_cache(tmp_path, monkeypatch):
    """The figure's Dijkstra line stays the same on a cached rerun, as the routes' wall times do."""
    cache = RunCache(tmp_path)
    first = ds.dijkstra_seconds("test_16", 3, cache)
    assert first > 0
    monkeypatch.setattr(ds, "dijkstra", lambda g: pytest.fail("timed Dijkstra again"))
    assert ds.dijkstra_seconds("test_16", 3, cache) == first
