"""Training: determinism, the run cache (atomic, resumable), and the trained-solver CLI."""

import json

import pytest
import torch

from lib.cli import main
from lib.graphs import write_jsonl
from lib.presets import PRESETS, preset
from lib.runs import RunCache, config_hash
from lib.samplers import sample_split
from lib.models.train import TrainConfig, train

TINY = PRESETS["tiny"]


def test_same_config_gives_identical_metrics_and_weights(tmp_path):
    a = train(TINY, RunCache(tmp_path / "a"), device="cpu", progress=False)
    b = train(TINY, RunCache(tmp_path / "b"), device="cpu", progress=False)
    assert a.metrics["curve"] == b.metrics["curve"]
    wa, wb = a.model().state_dict(), b.model().state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = train(TINY.replace(seed=1), RunCache(tmp_path / "c"), device="cpu", progress=False)
    assert c.metrics["curve"] != a.metrics["curve"]


def test_rerun_loads_from_cache_without_training(tmp_path, monkeypatch):
    cache = RunCache(tmp_path)
    first = train(TINY, cache, progress=False)
    mtime = (first.path / "model.pt").stat().st_mtime_ns
    monkeypatch.setattr("lib.models.train.build_model", lambda *a, **k: pytest.fail("retrained a cached run"))
    again = train(TINY, cache, progress=False)
    assert again.path == first.path and again.metrics == first.metrics
    assert (again.path / "model.pt").stat().st_mtime_ns == mtime


def test_killed_run_leaves_no_entry_and_trains_again(tmp_path, monkeypatch):
    cache = RunCache(tmp_path)
    real_save = torch.save

    def die(*a, **k):
        raise KeyboardInterrupt("killed while writing the checkpoint")

    monkeypatch.setattr("lib.runs.torch.save", die)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, cache, progress=False)
    assert cache.entries() == [] and not cache.exists(TINY)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".locks"] == []  # the temporary folder was removed
    (tmp_path / f".tmp-{cache.name_for(TINY)}-stale").mkdir()  # as if killed with SIGKILL
    monkeypatch.setattr("lib.runs.torch.save", real_save)
    run = train(TINY, cache, progress=False)
    assert cache.entries() == [run.path] and (run.path / "model.pt").exists()


def test_hash_ignores_label_and_covers_everything_else():
    assert config_hash(TINY) == config_hash(TINY.replace(label="other"))
    assert config_hash(TINY) != config_hash(TINY.replace(lr=TINY.lr * 2))
    assert config_hash(TINY) != config_hash(TINY.replace(model_args={"hidden": 16, "layers": 3}))


def test_impossible_configs_are_clear_errors():
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(train_graphs=4, batch_size=8)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        TrainConfig(steps=0)
    with pytest.raises(TypeError, match="no config field"):
        TrainConfig(model="gnn", model_args={"depth": 3})
    with pytest.raises(KeyError, match="unknown preset"):
        preset("gnn_median")


def test_run_evaluation_is_cached_in_the_run_folder(tmp_path):
    run = train(TINY, RunCache(tmp_path), progress=False)
    m = run.evaluate("test_16", 4, device="cpu")
    assert 0 <= m["pointer_accuracy"] <= 1 and m["num_graphs"] == 4
    assert len(json.loads((run.path / "evals.json").read_text())) == 1
    assert run.evaluate("test_16", 4, device="cpu") == m


def test_cli_train_runs_and_evaluate_a_run(tmp_path, capsys):
    assert main(["train", "--config", "tiny"]) == 0
    name = json.loads(capsys.readouterr().out)["name"]
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [name] and rows[0]["model"] == "gnn"
    data = write_jsonl(sample_split("maze_64", 3), tmp_path / "maze.jsonl")
    for solver in (name, "tiny"):  # by name, or by its preset label
        assert main(["evaluate", "--solver", solver, "--data", str(data)]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["num_graphs"] == 3 and 0 <= result["pointer_accuracy"] <= 1


def test_cli_mlp_on_too_large_graph_is_a_clear_error(tmp_path, capsys):
    cfg = preset("mlp", model_args={"hidden": 16, "layers": 1}, train_graphs=16, steps=2, batch_size=4,
                 eval_every=1, val_graphs=2, label="mlp-tiny")
    run = train(cfg, progress=False)
    data = write_jsonl(sample_split("test_64", 2), tmp_path / "big.jsonl")
    assert main(["evaluate", "--solver", run.name, "--data", str(data)]) == 2
    assert "at most 16 nodes" in capsys.readouterr().err


def test_cli_unknown_preset_exits_nonzero(capsys):
    assert main(["train", "--config", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err


def test_new_fields_at_their_default_leave_the_hash_unchanged():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Old:
        model: str = "gnn"
        lr: float = 1e-3

    @dataclasses.dataclass(frozen=True)
    class New:
        model: str = "gnn"
        lr: float = 1e-3
        weight_noise: float = 0.0

    assert config_hash(Old(lr=0.1)) == config_hash(New(lr=0.1))
    assert config_hash(New(lr=0.1)) != config_hash(New(lr=0.1, weight_noise=0.1))


def test_weight_noise_changes_training_but_not_the_targets(tmp_path):
    noisy = train(TINY.replace(weight_noise=0.5), RunCache(tmp_path), device="cpu", progress=False)
    clean = train(TINY, RunCache(tmp_path), device="cpu", progress=False)
    assert noisy.path != clean.path and noisy.metrics["curve"] != clean.metrics["curve"]


def test_own_data_gives_each_seed_its_own_training_graphs(tmp_path, monkeypatch):
    import lib.models.train as module

    drawn = []
    real = module.sample_split

    def spy(split, num, seed_offset=0, **kw):
        drawn.append((split, num, seed_offset))
        return real(split, num, seed_offset=seed_offset, **kw)

    monkeypatch.setattr(module, "sample_split", spy)
    for seed in (0, 1):
        train(TINY.replace(seed=seed, own_data=True), RunCache(tmp_path), progress=False)
    train(TINY.replace(seed=1), RunCache(tmp_path), progress=False)
    offsets = [o for split, _, o in drawn if split == TINY.train_split]
    assert offsets == [1, 2, 0]  # seeds 0 and 1 draw their own sets; the default shares offset 0
    a, b = sample_split("train", 8, seed_offset=1), sample_split("train", 8, seed_offset=2)
    assert [g.num_nodes for g in a] != [g.num_nodes for g in b] or any(
        (x.weights != y.weights).any() for x, y in zip(a, b) if x.num_edges == y.num_edges)


def test_cached_result_computes_once_and_survives_a_new_cache_object(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"pointer_accuracy": 0.5, "mean_num_nodes": 16.0}

    first = RunCache(tmp_path).cached_result("solver=min_hop split=test_16", compute)
    again = RunCache(tmp_path).cached_result("solver=min_hop split=test_16", compute)
    assert first == again == {"pointer_accuracy": 0.5, "mean_num_nodes": 16.0} and len(calls) == 1
    assert RunCache(tmp_path).entries() == []  # results are not runs
