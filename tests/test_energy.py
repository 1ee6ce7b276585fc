"""Energy models, their three training methods, decoding and the energy solver."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from lib.batching import collate
from lib.cli import main
from lib.energy import EnergyConfig, EnergyModel, EnergyTrainConfig, train_energy
from lib.energy.candidates import corrupt, decode, target_candidate
from lib.graphs import Graph, write_jsonl
from lib.metrics import evaluate_predictions
from lib.runs import RunCache
from lib.samplers import sample_split
from lib.determinism import set_seed

TINY = dict(energy_args={"candidate": "distance", "hidden": 8, "layers": 1, "aggregation": "min",
                         "layer_norm": False, "edge_weighting": "mean"},
            train_graphs=16, steps=4, batch_size=4, eval_every=2, val_graphs=4, inner_steps=3, truncate=2,
            negatives=2)


@pytest.mark.parametrize("kind", ["distance", "pointer"])
def test_one_energy_per_graph_and_invariant_to_relabelling(kind):
    set_seed(0)
    model = EnergyModel(EnergyConfig(candidate=kind, hidden=8, layers=1))
    g = sample_split("test_16", 1)[0]
    perm = np.random.default_rng(0).permutation(g.num_nodes)
    h = Graph.from_arrays(g.num_nodes, int(perm[g.source]), perm[g.senders], perm[g.receivers], g.weights)
    b, c = collate([g]), collate([h])
    yb, yc = target_candidate(b, kind), target_candidate(c, kind)
    assert model(b, yb).shape == (1,)
    assert torch.allclose(model(b, yb), model(c, yc), atol=1e-5)
    big = collate(sample_split("test_128", 2))
    assert model(big, target_candidate(big, kind)).shape == (2,)  # any n


@pytest.mark.parametrize("kind", ["distance", "pointer"])
def test_decoding_the_truth_is_perfect_and_corruptions_are_not(kind):
    graphs = sample_split("test_16", 8)
    b = collate(graphs)
    truth = target_candidate(b, kind)
    assert evaluate_predictions(graphs, decode(b, kind, truth))["pointer_accuracy"] == 1.0
    bad = corrupt(b, kind, truth, np.random.default_rng(0))
    assert not torch.equal(bad, truth)


@pytest.mark.parametrize("method", ["irem", "contrastive", "denoise"])
def test_each_training_method_runs_and_is_deterministic(tmp_path, method):
    cfg = EnergyTrainConfig(method=method, **TINY)
    a = train_energy(cfg, RunCache(tmp_path / "a"), device="cpu", progress=False)
    b = train_energy(cfg, RunCache(tmp_path / "b"), device="cpu", progress=False)
    assert a.metrics["curve"] == b.metrics["curve"] and len(a.metrics["curve"]["step"]) == 2
    m = a.evaluate("test_16", 4, device="cpu", search_steps=3)
    assert 0 <= m["pointer_accuracy"] <= 1


@pytest.mark.parametrize("method, groups", [("irem", [[0, 2, 5, 10, 20]]),  # gradient descent: one search
                                             ("denoise", [[0, 2, 5, 10], [20]])])  # annealed, 10 levels
def test_budgets_from_shared_searches_equal_separate_searches(tmp_path, method, groups):
    run = train_energy(EnergyTrainConfig(method=method, **TINY), RunCache(tmp_path), device="cpu", progress=False)
    graphs = sample_split("test_16", 4)
    budgets = [0, 2, 5, 10, 20]
    assert run.solver("cpu").shared_searches(budgets) == groups
    together = run.solver("cpu").solve_budgets(graphs, budgets)
    for k in budgets:
        alone = run.solver("cpu", search_steps=k).solve(graphs)
        assert all(np.array_equal(x.pi, y.pi) for x, y in zip(together[k], alone))


def test_bad_energy_configs_are_clear_errors():
    with pytest.raises(ValueError, match="unknown training method"):
        EnergyTrainConfig(method="gan")
    with pytest.raises(ValueError, match="unknown candidate kind"):
        EnergyConfig(candidate="flows")
    with pytest.raises(ValueError, match="unknown search routine"):
        EnergyTrainConfig(search={"routine": "bfs"})


def test_cli_evaluates_an_energy_run_with_search_steps(tmp_path, capsys):
    run = train_energy(EnergyTrainConfig(method="irem", label="tiny-energy", **TINY), progress=False)
    data = write_jsonl(sample_split("grid_64", 2), tmp_path / "grid.jsonl")
    assert main(["evaluate", "--solver", run.name, "--data", str(data), "--search-steps", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["num_graphs"] == 2
    assert main(["evaluate", "--solver", run.name, "--data", str(data), "--iterations", "4"]) == 2
    assert "--search-steps" in capsys.readouterr().err


def test_residual_method_learns_the_exact_local_check(tmp_path):
    """The residual verifier regresses |y_v - min_u (y_u + w_uv)|; its targets vanish at the truth."""
    from lib.energy.objectives import bellman_residual

    graphs = sample_split("test_64", 4)
    b = collate(graphs)
    truth = target_candidate(b, "distance")
    assert bellman_residual(b, truth).abs().max() < 1e-5
    bad = truth.clone()
    bad[1] += 0.5
    assert bellman_residual(b, bad)[1] == pytest.approx(0.5, abs=1e-5)
    run = train_energy(EnergyTrainConfig(method="residual", **TINY), RunCache(tmp_path), device="cpu", progress=False)
    assert run.metrics["curve"]["train_loss"][-1] < run.metrics["curve"]["train_loss"][0]


def test_headline_trains_both_parts_and_solves(tmp_path, monkeypatch):
    from lib.headline import HeadlineConfig
    from lib.presets import PRESETS
    from lib.run_kinds import train_any

    monkeypatch.setitem(PRESETS, "tiny_energy", EnergyTrainConfig(method="residual", **TINY))
    cfg = HeadlineConfig(generator="tiny", verifier="tiny_energy", search_steps=3)
    run = train_any(cfg, RunCache(tmp_path), device="cpu", progress=False)
    gen, ver = run.parts
    assert gen.config.label == "tiny" and ver.config.method == "residual"
    graphs = sample_split("test_16", 3)
    assert len(run.solver("cpu").solve(graphs)) == 3
    assert 0 <= run.evaluate("test_16", 3, device="cpu")["pointer_accuracy"] <= 1


def test_search_explorer_status_line_follows_the_step_slider():
    """Without a browser: moving the step slider redraws and the status line names the step."""
    from lib.experiments.energy_landscapes import explorer
    from lib.presets import PRESETS
    from lib.run_kinds import train_any

    run = train_any(PRESETS["energy_residual_tiny"], device="cpu", progress=False)
    view = explorer(run, "test_16", 0, steps=4).widget()
    step = next(c for c in view.children[0].children if c.description == "step")
    status = next(c for c in view.children if "search-status" in c._dom_classes)
    assert step.value == 4 and status.value.startswith("step 4:")
    step.value = 1
    assert status.value.startswith("step 1:")
    size = next(c for c in view.children[0].children if c.description == "step size")
    learned = [label for label, _ in size.options if label.endswith("*")]
    assert len(learned) == 1 and len(learned[0]) <= 8  # short enough for the slider's readout
    assert any(f"{learned[0]} is the model's learned step" in getattr(c, "value", "") for c in view.children)


def test_hard_negatives_are_the_generators_mistakes_and_the_states_where_search_stops(one_thread):
    """Both kinds per split; the search-stop rows count the wrong states of the run's own search
    (the same trees its solver returns after `stop_steps` steps, though they come from the one
    search behind the budget curve), and a false certificate is a wrong state at or below the
    threshold set on the validation truths."""
    import dataclasses

    from lib.experiments import energy_landscapes as study
    from lib.experiments import energy_verifiers as verifiers
    from lib.sweep import run_sweep

    cfg = dataclasses.replace(study.PROFILES["smoke"], methods=("residual",), auc_splits=("test_16",))
    runs = study.train_all(cfg)
    hard = verifiers.hard_negatives(runs, cfg)
    assert list(hard.columns[:6]) == ["method", "seed", "split", "negatives", "graphs", "wrong proposals"]
    assert sorted(hard.negatives) == sorted(["generator's mistakes", "search stops"] * len(runs))
    run = runs[0]
    graphs = sample_split("test_16", cfg.graphs)
    cell = study.search_cell(run, "test_16", cfg.graphs, cfg.search_steps, cfg.stop_steps)
    stops = pd.DataFrame(cell["stops"])
    solved = run.solver("cpu", search_steps=cfg.stop_steps).solve(graphs)
    assert list(stops.proposal_wrong) == [evaluate_predictions([g], [p])["exact_match"] < 1
                                          for g, p in zip(graphs, solved)]
    for k, m in zip(cell["budgets"], cell["metrics"]):  # each budget's answer is a search of that length
        assert m == evaluate_predictions(graphs, run.solver("cpu", search_steps=k).solve(graphs))
    gen = {r.config.seed: r for r in run_sweep(cfg.generator_configs(), workers=1, progress=False)}[run.config.seed]
    threshold = np.quantile(verifiers.hard_negative_scores(run, gen, "val", cfg.graphs).truth_energy, 0.95)
    row = hard[(hard.seed == run.config.seed) & (hard.negatives == "search stops")].iloc[0]
    bad = stops[stops.proposal_wrong]
    assert row.graphs == cfg.graphs and row["wrong proposals"] == len(bad)
    if len(bad):
        assert row["false certificates"] == pytest.approx(float((bad.proposal_energy <= threshold).mean()))
    else:
        assert np.isnan(row["false certificates"]) and np.isnan(row.auc)
    table = verifiers.auc_table(hard)
    assert list(table.index) == [("residual", "generator's mistakes"), ("residual", "search stops")]


def test_the_hard_negative_generators_are_notebook_01s_own_runs():
    """04 reads the mistakes of 01's trained runs of its generator (the same cache entries), and
    lists them in its plan, instead of training a second copy of them."""
    from lib.experiments import baselines
    from lib.experiments import energy_landscapes as study
    from lib.runs import config_hash

    cfg = study.PROFILES["full"]
    keys = [config_hash(c) for c in cfg.generator_configs()]
    assert len(set(keys)) == len(cfg.seeds) and {c.model for c in cfg.generator_configs()} == {"gnn"}
    assert set(keys) <= {config_hash(c) for c in baselines.PROFILES["full"].train_configs()}
    assert set(keys) <= {config_hash(c) for c in study.training_configs(cfg)}


def test_projected_first_layer_is_the_layer_on_the_concatenation():
    """Projecting node blocks before gathering them to the edges is the same function as the
    linear layer on the concatenated edge features (up to float rounding)."""
    from lib.energy.model import projected_first_layer

    torch.manual_seed(0)
    h, e = torch.randn(7, 5), torch.randn(12, 3)
    s, r = torch.randint(0, 7, (12,)), torch.randint(0, 7, (12,))
    layer = torch.nn.Linear(13, 4)
    full = layer(torch.cat([e, h[s], h[r]], 1))
    assert torch.allclose(projected_first_layer(layer, [(e, None), (h, s), (h, r)]), full, atol=1e-6)
    with pytest.raises(ValueError, match="13"):
        projected_first_layer(layer, [(e, None), (h, s)])


def test_chosen_budget_table_puts_each_method_at_its_validation_budget_beside_the_shortcuts():
    from lib.experiments.energy_landscapes import chosen_budget_table

    rows = [{"model": m, "seed": s, "split": sp, "iterations": k, "graphs": 10, "pointer_accuracy": acc,
             "exact_match": acc / 2} for m in ("irem", "residual") for s in (0, 1) for sp in ("val", "test_16")
            for k, acc in ((5, 0.4), (10, 0.8 if m == "irem" else 0.2))]
    table = pd.DataFrame(rows)
    val, acc = table[table.split == "val"], table[table.split == "test_16"]
    cuts = pd.DataFrame([{"model": "shortcut: fewest-hops tree", "seed": 0, "split": "test_16", "graphs": 10,
                          "pointer_accuracy": 0.5, "exact_match": 0.1}])
    pointer = chosen_budget_table(acc, val, cuts, "pointer_accuracy")
    assert list(pointer.index) == ["irem (10 steps)", "residual (5 steps)", "shortcut: fewest-hops tree"]
    assert list(pointer.columns) == ["test_16 (10 graphs)"]
    assert pointer.iloc[0, 0] == "80.0 ± 0.0" and pointer.iloc[2, 0] == "50.0"
    exact = chosen_budget_table(acc, val, cuts)
    assert exact.iloc[0, 0].startswith("40.0 [") and exact.iloc[2, 0].startswith("10.0 [")


def test_the_sweeps_order_names_every_model_they_train():
    """01 and 04 start their slowest runs first; a model missing from that order would start last."""
    from lib.experiments import baselines
    from lib.experiments import energy_landscapes as study

    assert set(baselines.SLOWEST_FIRST) == set(baselines.PROFILES["full"].models)
    assert set(study.SLOWEST_FIRST) == set(study.PROFILES["full"].methods) == set(study.METHOD_PRESETS)
