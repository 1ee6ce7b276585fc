"""Sequence-model training: determinism, the run cache, loading, solvers and bad configs."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from lib.run_kinds import load_any_run
from lib.runs import RunCache
from lib.sequence.train import (SeqTrainConfig, SequenceRun, bucketed_batches, load_sequence_run, train_sequence)

TINY = {"d_model": 16, "heads": 2, "layers": 2, "ffn_mult": 2}


def _code(model="feedback_transformer", **kw) -> SeqTrainConfig:
    kw.setdefault("model_args", TINY)
    return SeqTrainConfig(model=model, task="code_execution",
                          task_args={"statements": 6, "train_programs": 24}, steps=4, batch_size=8,
                          eval_every=2, val_items=8, **kw)


def _trace(model="decoder_transformer", **kw) -> SeqTrainConfig:
    kw.setdefault("model_args", TINY)
    return SeqTrainConfig(model=model, task="dijkstra_trace",
                          task_args={"train_graphs": 16}, steps=3, batch_size=4, eval_every=3, val_items=4, **kw)


@pytest.mark.parametrize("model", ["feedback_transformer", "decoder_transformer"])
def test_same_config_same_metrics(tmp_path, model):
    cfg = _code(model)
    a = train_sequence(cfg, RunCache(tmp_path / "a"), device="cpu", progress=False)
    b = train_sequence(cfg, RunCache(tmp_path / "b"), device="cpu", progress=False)
    assert a.metrics["curve"] == b.metrics["curve"]
    sa, sb = torch.load(a.path / "model.pt"), torch.load(b.path / "model.pt")
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    c = train_sequence(cfg.replace(seed=1), RunCache(tmp_path / "a"), device="cpu", progress=False)
    assert c.metrics["curve"]["train_loss"] != a.metrics["curve"]["train_loss"]


def test_trace_training_is_deterministic_with_relabelling(tmp_path):
    cfg = _trace()
    a = train_sequence(cfg, RunCache(tmp_path / "a"), device="cpu", progress=False)
    b = train_sequence(cfg, RunCache(tmp_path / "b"), device="cpu", progress=False)
    assert a.metrics["curve"] == b.metrics["curve"]
    assert a.evaluate("test_16", 3, device="cpu") == b.evaluate("test_16", 3, device="cpu")


def test_run_cache_round_trip(tmp_path):
    cache = RunCache(tmp_path)
    cfg = _code(label="tiny-ft")
    run = train_sequence(cfg, cache, device="cpu", progress=False)
    assert json.loads((run.path / "config.json").read_text())["_kind"] == "sequence"
    loaded = load_any_run(run.path)
    assert isinstance(loaded, SequenceRun) and loaded.config == cfg and loaded.metrics == run.metrics
    assert cache.find("tiny-ft") == run.path
    # a second call loads instead of training, and the weights come back
    again = train_sequence(cfg, cache, device="cpu", progress=False)
    assert again.path == run.path and again.metrics["train_seconds"] == run.metrics["train_seconds"]
    x = torch.randint(0, cfg.build_task().vocab_size, (2, 9))
    trained = run.model("cpu")
    torch.testing.assert_close(load_sequence_run(run.path).model("cpu")(x), trained(x))
    # evaluations are cached in the run folder
    m = run.evaluate("test", 6, device="cpu")
    assert 0 <= m["print_accuracy"] <= 1 and m["num_programs"] == 6
    assert json.loads((run.path / "evals.json").read_text())


def test_trace_run_is_a_solver_and_code_run_is_not(tmp_path, monkeypatch):
    import argparse

    from lib.cli import cmd_evaluate
    from lib.graphs import write_jsonl
    from lib.samplers import sample_split
    from lib.solvers import get_solver

    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path / "runs"))
    trace_run = train_sequence(_trace(label="tiny-trace"), device="cpu", progress=False)
    graphs = sample_split("test_16", 3)
    preds = get_solver("tiny-trace").solve(graphs)
    assert [p.pi.shape for p in preds] == [(g.num_nodes,) for g in graphs]
    path = write_jsonl(graphs, tmp_path / "g.jsonl")
    out = cmd_evaluate(argparse.Namespace(solver=trace_run.name, data=str(path), iterations=None,
                                          search_steps=None, device="cpu"))
    assert out["num_graphs"] == 3 and 0 <= out["pointer_accuracy"] <= 1
    with pytest.raises(ValueError, match="does not take --iterations"):
        get_solver("tiny-trace", iterations=3)
    code_run = train_sequence(_code(label="tiny-code"), device="cpu", progress=False)
    with pytest.raises(ValueError, match="only dijkstra_trace runs"):
        code_run.solver("cpu")


def test_universal_run_takes_iterations(tmp_path):
    cfg = _trace(model_args={**TINY, "universal": True})
    run = train_sequence(cfg, RunCache(tmp_path), device="cpu", progress=False)
    from lib.samplers import sample_split

    graphs = sample_split("test_16", 2)
    assert len(run.solver("cpu", iterations=5).solve(graphs)) == 2
    assert "trace_token_accuracy" in run.evaluate("test_16", 2, device="cpu", iterations=4, generate=False)


def test_bucketed_batches_cover_every_item_once_per_epoch():
    lengths = np.random.default_rng(0).integers(5, 100, 64)
    gen = bucketed_batches(lengths, 8, 4, np.random.default_rng(1))
    epoch = [next(gen) for _ in range(8)]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(64))
    spread = np.mean([np.ptp(lengths[b]) for b in epoch])
    assert spread < np.ptp(lengths) / 2  # batches hold similar lengths


@pytest.mark.parametrize("changes,err", [
    ({"model": "lstm"}, KeyError), ({"task": "sorting"}, KeyError),
    ({"model_args": {"depth": 3}}, TypeError), ({"model_args": {"vocab_size": 99}}, TypeError),
    ({"task_args": {"variables": 9}}, ValueError), ({"steps": 0}, ValueError),
    ({"model_args": {"d_model": 30, "heads": 4}}, ValueError),
])
def test_bad_configs_fail_clearly(changes, err):
    with pytest.raises(err):
        SeqTrainConfig(**changes)


class _PerfectCodeModel(torch.nn.Module):
    """Logits that put all mass on the interpreter's answer at print positions."""

    def __init__(self, task, programs):
        super().__init__()
        from lib.sequence.code_execution import make_example

        self.examples = {tuple(make_example(p).inputs.tolist()): make_example(p) for p in programs}
        self.vocab = task.vocab_size

    def forward(self, x):
        out = torch.zeros(*x.shape, self.vocab)
        for b in range(x.shape[0]):
            row = x[b].tolist()
            ex = next(e for k, e in self.examples.items() if row[:len(k)] == list(k))
            out[b, torch.arange(len(ex.targets)), torch.as_tensor(ex.targets)] = 1.0
        return out


def test_code_execution_metrics_of_a_perfect_model_are_one():
    from lib.sequence.code_execution import CodeExecutionTask

    task = CodeExecutionTask(statements=10)
    programs = task.programs("test", 12)
    m = task.evaluate(_PerfectCodeModel(task, programs), programs, batch_size=5)
    assert m["print_accuracy"] == 1.0 and m["program_accuracy"] == 1.0 and m["prints"] > 0


def test_experiment_smoke_profile_end_to_end(tmp_path, monkeypatch):
    """The functions notebook 02 calls, on the smoke profile (seconds)."""
    from lib.experiments import config_for
    from lib.experiments import code_execution_study as C
    from lib.experiments import sequence_models as S

    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path / "runs"))
    cfg = config_for(S.PROFILES, "smoke")
    code, trace = S.train_code_execution(cfg), S.train_trace(cfg)
    assert [r.config.model_args["layers"] for r in code] == [4, 8, 8]
    assert [S.label(r) for r in code] == [C.FEEDBACK, C.TRANSFORMER, C.TRANSFORMER + " + dropout 0.1"]
    results = C.results(code, cfg)
    assert list(dict.fromkeys(results.test)) == [c for c, _, _ in C.tests(cfg)]
    unseen = results[results.test.str.contains("unseen")]
    assert (unseen.programs <= results[results.test.str.contains("training length")].programs.to_numpy()).all()
    assert results.print_accuracy.between(0, 1).all() and (results.programs > 0).all()
    table = C.table(results, C.baselines(cfg), cfg)
    assert [i for i in table.index if i.startswith("no learning")] == [
        "no learning: most frequent value", "no learning: last assignment", "no learning: every if taken"]
    assert list(table.columns) == ["seeds", "4 statements (training length)", "4 statements, unseen in training",
                                   "8 statements (OOD)"]
    assert C.best_regularized(results) == C.TRANSFORMER + " + dropout 0.1"
    assert "Inconclusive" in C.conclusion(results, cfg).splitlines()[-1]  # three optimizer steps learn nothing
    assert 0 <= C.shared_programs(cfg) <= 1
    results = S.trace_results(trace, cfg)
    assert set(results.split) == set(cfg.trace_splits) and results.pointer_accuracy.between(0, 1).all()
    ptr = S.trace_table(results, "pointer_accuracy", cfg)
    assert ptr.index[-2].startswith("Dijkstra on 16-bin weights") and ptr.shape == (5, len(cfg.trace_splits))
    assert S.label(trace[-1]) == "Transformer (8 layers), 6 steps" and "Transformer (8 layers), 6 steps" in ptr.index
    curves = S.learning_curves(trace)
    assert {"model", "seed", "step", "loss", "acc"} <= set(curves) and set(curves.val_metric) == {"trace_token_accuracy"}
    exact = S.trace_table(results, "exact_match", cfg).iloc[0, 0]  # pooled over seeds, Wilson interval
    mean, low, high = (float(v) for v in exact.replace("[", "").replace("]", "").replace(",", "").split())
    assert 0 <= low <= mean <= high <= 100
    floor = [float(v) for v in ptr.loc["no answer: every node points to itself (floor)"]]
    assert all(0 <= v <= 100 for v in floor)
    cost = S.cost_table(code, trace, cfg)
    assert (cost["GFLOPs / sequence"] > 0).all() and (cost["ms / item"] > 0).all()
    assert len(S.memory_layer_weights(code + trace)) == 2
    # re-running loads every run from the cache
    assert [r.path for r in S.train_code_execution(cfg)] == [r.path for r in code]


def _code_results(ood: dict[str, list[float]], ind: float | dict = 0.97) -> pd.DataFrame:
    """Synthetic code-execution results: per model, OOD print accuracy per seed (two OOD lengths);
    ``ind``: the in-distribution accuracy, for every model or per model."""
    rows = []
    for model, values in ood.items():
        acc = ind.get(model, 0.97) if isinstance(ind, dict) else ind
        for seed, v in enumerate(values):
            val = 0.97 if "dropout 0.1" in model else 0.96
            rows += [{"model": model, "seed": seed, "test": t, "ood": False, "print_accuracy": acc,
                      "val_print_accuracy": val} for t in ("6 statements (training length)", "6 statements, unseen")]
            rows += [{"model": model, "seed": seed, "test": f"{n} statements (OOD)", "ood": True, "print_accuracy": v,
                      "val_print_accuracy": val} for n in (12, 24)]
    return pd.DataFrame(rows)


def test_code_execution_conclusion_follows_the_paired_numbers():
    from lib.experiments import code_execution_study as C
    from lib.experiments.sequence_models import PROFILES

    cfg = PROFILES["full"]
    ft, t = C.FEEDBACK, C.TRANSFORMER
    reg1, reg2 = t + " + dropout 0.1", t + " + dropout 0.3"
    base = {ft: [0.80, 0.82, 0.81], t: [0.60, 0.61, 0.63]}
    survives = C.conclusion(_code_results({**base, reg1: [0.62, 0.60, 0.61], reg2: [0.9, 0.9, 0.9]}), cfg)
    assert C.best_regularized(_code_results({**base, reg1: [0.6] * 3, reg2: [0.9] * 3})) == reg1  # on validation
    assert "Refuted here" in survives and "3 seeds" in survives
    vanishes = C.conclusion(_code_results({**base, reg1: [0.85, 0.78, 0.83]}), cfg)
    assert vanishes.splitlines()[-1].startswith("Supported")
    no_gain = C.conclusion(_code_results({ft: [0.60, 0.62, 0.61], t: [0.61, 0.60, 0.63], reg1: [0.6] * 3}), cfg)
    assert "no significant OOD advantage" in no_gain
    unlearned = C.conclusion(_code_results({ft: [0.8] * 3, t: [0.6] * 3}, ind=0.90), cfg)
    assert "neither has learned" in unlearned and "Refuted" not in unlearned and "indicative only" in unlearned


def test_longer_trained_transformer_arms_are_compared_when_the_short_ones_do_not_learn():
    from lib.experiments import code_execution_study as C
    from lib.experiments.code_execution_decided import PROFILES as DECIDED
    from lib.experiments.sequence_models import PROFILES

    ft, t = C.FEEDBACK, C.TRANSFORMER
    long, reg, long_reg = t + ", 3200 steps", t + " + dropout 0.1", t + " + dropout 0.1, 3200 steps"
    assert [C.steps_of(m) for m in (ft, t, long, long_reg)] == [None, None, 3200, 3200]
    ood = {ft: [0.80, 0.82, 0.81, 0.79, 0.80], t: [0.6] * 5, reg: [0.6] * 5,
           long: [0.60, 0.61, 0.63, 0.62, 0.60], long_reg: [0.85, 0.78, 0.83, 0.80, 0.79]}
    short_unlearned = {t: 0.90, reg: 0.90}
    out = C.conclusion(_code_results(ood, short_unlearned), PROFILES["full"])
    assert "Feedback Transformer - Transformer (3200 steps)" in out and f"{long_reg} (best on validation)" in out
    assert out.splitlines()[-1].startswith("Supported") and "seeds" not in out.splitlines()[-1]  # 5 seeds
    reg_unlearned = C.conclusion(_code_results(ood, {**short_unlearned, long_reg: 0.9}), PROFILES["full"])
    assert "the regularized arm has not learned" in reg_unlearned.splitlines()[-1]
    # the decided profile: 5 seeds, the Feedback Transformer at 800 steps, every Transformer arm longer
    cfg = DECIDED["full"]
    labels = {(c.label, c.steps) for c in cfg.code_configs()}
    assert labels == {("code-feedback_transformer", 800), ("code-decoder_transformer, 3200 steps", 3200),
                      ("code-decoder_transformer + dropout 0.1, 3200 steps", 3200)}
    assert len(cfg.code_configs()) == 15 and cfg.seeds == (0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match="code_long_steps"):
        dataclasses.replace(cfg, code_long_steps=800).code_configs()
    with pytest.raises(ValueError, match="no Transformer arm"):
        dataclasses.replace(cfg, code_long_steps=None).code_configs()


def test_each_seed_draws_its_own_training_programs():
    from lib.sequence.code_execution import CodeExecutionTask

    task = CodeExecutionTask(variables=1, statements=6, train_programs=20)
    shared, own1, own2 = task.train_items(), task.train_items(seed_offset=1), task.train_items(seed_offset=2)
    assert shared == task.train_items() and own1 == task.train_items(seed_offset=1)  # reproducible
    assert own1 != own2 and own1 != shared
    unseen = task.eval_items("unseen:1", 50)
    assert unseen and all(p not in own1 for p in unseen)  # the held-out programs training draw 1 lacks
    assert len(unseen) + sum(p in own1 for p in task.programs("test", 50)) == 50
