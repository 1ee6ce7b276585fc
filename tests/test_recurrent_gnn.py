"""The recurrent GNN: halting per graph, the drift penalty, and measured state drift."""

import pytest
import torch

from lib.batching import collate
from lib.determinism import set_seed
from lib.metrics import evaluate_predictions
from lib.models import build_model
from lib.samplers import sample_split


@pytest.fixture
def model():
    set_seed(0)
    return build_model("recurrent_gnn", hidden=16, iterations=4).eval()


def test_halting_stops_each_graph_when_its_pointers_stop_changing(model):
    graphs = sample_split("test_16", 4) + sample_split("maze_64", 2)
    b = collate(graphs, with_targets=False)
    out = model(b, iterations=40, halt=True)
    used = out.iterations
    assert used.shape == (len(graphs),) and bool((used >= 1).all()) and bool((used <= 40).all())
    # a halted graph's pointers equal those of a plain run of exactly its iteration count
    for i, k in enumerate(used.tolist()):
        one = collate([graphs[i]], with_targets=False)
        plain = one.decode_pointers(model(one, iterations=k).pointer_logits)[0]
        halted = b.decode_pointers(out.pointer_logits)[i]
        assert (plain == halted).all()
        if k < 40:  # it stopped because one more iteration changed nothing
            again = one.decode_pointers(model(one, iterations=k + 1).pointer_logits)[0]
            assert (again == plain).all()


def test_halting_reports_iterations_through_the_metrics(model):
    graphs = sample_split("test_16", 3)
    preds = model.predict(collate(graphs, with_targets=False), iterations=10, halt=True)
    m = evaluate_predictions(graphs, preds)
    assert 1 <= m["mean_iterations"] <= m["max_iterations"] <= 10
    assert "mean_iterations" not in evaluate_predictions(graphs, model.predict(collate(graphs, with_targets=False)))


def test_the_cap_bounds_a_graph_that_never_settles(model):
    g = sample_split("maze_64", 1)
    out = model(collate(g, with_targets=False), iterations=1, halt=True)
    assert out.iterations.tolist() == [1]


def test_drift_penalty_is_a_loss_part_with_gradient():
    set_seed(0)
    m = build_model("recurrent_gnn", hidden=16, iterations=3, drift_weight=1.0)
    loss, parts = m.loss(collate(sample_split("train", 4)), distance_weight=1.0)
    loss.backward()
    assert parts["drift"] >= 0 and torch.isfinite(loss)
    assert m.layer.update[0].weight.grad is not None
    with pytest.raises(ValueError, match="drift_weight"):
        build_model("recurrent_gnn", drift_weight=-1.0)


def test_state_drift_is_measured_per_iteration(model):
    d = model.state_drift(collate(sample_split("test_16", 2), with_targets=False), 7)
    assert len(d["state_norm"]) == len(d["relative_change"]) == 7
    assert all(x >= 0 for x in d["relative_change"])


def test_min_plus_model_settles_and_its_states_are_shortest_path_costs():
    """With every channel's cost equal to the weight, the min-plus states are Dijkstra's
    distances once enough iterations have run, and more iterations change nothing."""
    from lib.oracle import dijkstra

    set_seed(0)
    model = build_model("min_plus_gnn", hidden=2, iterations=4).eval()
    model.edge_cost = lambda w: w.unsqueeze(1).expand(-1, 2)  # phi_c(w) = w
    g = sample_split("maze_dfs_side8", 1)[0]
    b = collate([g], with_targets=False)
    h0, x = model.initial_state(b)
    settled = model.step(h0, x, b, g.num_nodes)
    assert torch.allclose(settled[:, 0].double(), torch.as_tensor(dijkstra(g)[0]), atol=1e-4)
    assert torch.equal(model.step(settled, x, b, 5), settled)
    assert model.state_drift(b, g.num_nodes + 3)["relative_change"][-1] == 0.0


def test_min_plus_edge_costs_are_kept_between_steps_only_while_the_network_is_unchanged():
    set_seed(0)
    model = build_model("min_plus_gnn", hidden=4, iterations=4).eval()
    b = collate(sample_split("test_16", 2), with_targets=False)
    h0, x = model.initial_state(b)
    with torch.no_grad():
        kept = model._batch_edge_cost(b)
        assert model._batch_edge_cost(b) is kept  # the next halting step reuses it
        before = model.step(h0, x, b, 3)
        for p in model.cost.parameters():
            p.mul_(2.0)  # an optimizer step changes the network in place
        assert model._batch_edge_cost(b) is not kept
        after = model.step(h0, x, b, 3)
    assert not torch.equal(before, after) and torch.equal(after, model.step(h0, x, b, 3).detach())


@pytest.mark.parametrize("name", ["recurrent_gnn", "min_plus_gnn"])
def test_one_loop_read_out_along_the_way_matches_a_fresh_run_per_budget(name):
    import numpy as np

    from lib.models.predict import predict_along, predict_graphs

    set_seed(0)
    model = build_model(name, hidden=8, iterations=4).eval()
    graphs = sample_split("test_16", 5) + sample_split("maze_dfs_side4", 2)
    budgets = [1, 2, 4, 8]
    along = predict_along(model, graphs, budgets, batch_size=3, device="cpu")
    for t in budgets:
        fresh = predict_graphs(model, graphs, batch_size=3, device="cpu", iterations=t)
        assert all(np.array_equal(a.pi, p.pi) and np.array_equal(a.dist, p.dist) for a, p in zip(along[t], fresh))
    with pytest.raises(ValueError, match="ascending"):
        predict_along(model, graphs, [4, 2])


def test_evaluate_along_fills_the_same_cache_entries_as_evaluate(tmp_path):
    from lib.models.train import TrainConfig, train
    from lib.runs import RunCache

    cfg = TrainConfig(model="min_plus_gnn", model_args={"hidden": 4, "iterations": 2}, steps=2, batch_size=4,
                      train_graphs=8, val_graphs=4, eval_every=2)
    run = train(cfg, RunCache(tmp_path), progress=False)
    along = run.evaluate_along("test_16", 6, [1, 3, 8], device="cpu")
    fresh = train(cfg, RunCache(tmp_path / "other"), progress=False)
    assert along == [fresh.evaluate("test_16", 6, device="cpu", iterations=t) for t in (1, 3, 8)]
    assert run.evaluate("test_16", 6, device="cpu", iterations=3) == along[1]  # read back from the same key
