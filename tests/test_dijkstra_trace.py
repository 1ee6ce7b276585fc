"""Dijkstra as a sequence: encoding, relabelling, decoding and the trace metrics."""

import dataclasses

import numpy as np
import pytest
import torch

from lib.graphs import Graph
from lib.metrics import Prediction, evaluate_predictions
from lib.oracle import dijkstra, dijkstra_trace
from lib.samplers import SPLITS, Split, sample_split
from lib.sequence.dijkstra_trace import (BOS, EOS, SEP, DijkstraTraceTask, TraceCoding, decode, encode,
                                      quantisation_ceiling, true_answer)


pytestmark = pytest.mark.usefixtures("one_thread")


def _graphs():
    out = sample_split("train", 40) + sample_split("test_16", 8) + sample_split("test_64", 4)
    out += sample_split(Split(99, (64,), (0.05, 0.1)), 6)  # sparse: unreachable nodes
    out += sample_split("grid_64", 2) + sample_split("tree_64", 2)
    return out


def test_round_trip_gives_the_oracle_pi_up_to_n64():
    rng = np.random.default_rng(0)
    graphs = _graphs()
    assert any(np.isinf(dijkstra(g)[0]).any() for g in graphs)  # unreachable nodes are covered
    preds = []
    for g in graphs:
        ex = encode(g, rng)
        pi = decode(ex.tokens[ex.prompt_length:], g, ex.node_ids)
        assert np.array_equal(pi, dijkstra(g)[1])
        preds.append(Prediction(pi))
    m = evaluate_predictions(graphs, preds)
    assert m["pointer_accuracy"] == 1.0 and m["exact_match"] == 1.0


def test_layout_and_loss_mask():
    g = Graph.from_edges(4, 2, [[0, 1, 0.2], [1, 0, 0.2], [1, 2, 0.9], [2, 1, 0.9], [0, 2, 0.5], [2, 0, 0.5]])
    coding = TraceCoding(bins=4, id_vocab=10)
    ids = np.array([7, 3, 5, 0])
    ex = encode(g, np.random.default_rng(0), coding, node_ids=ids)
    node = lambda v: int(coding.node_token(ids[v]))  # noqa: E731
    w = lambda x: int(coding.weight_token(x))  # noqa: E731
    edges = sorted([(node(1), node(0), w(0.2)), (node(1), node(2), w(0.9)), (node(2), node(0), w(0.5))])
    prompt = [BOS, node(2)] + [t for e in edges for t in e] + [SEP]
    trace = dijkstra_trace(g)
    assert trace == [(2, 2), (0, 2), (1, 0)]  # node 3 is unreachable
    answer = [node(v) for pair in trace for v in pair] + [EOS]
    assert ex.tokens.tolist() == prompt + answer
    assert ex.prompt_length == len(prompt)
    assert ex.loss_mask.tolist() == [False] * len(prompt) + [True] * len(answer)
    seq = ex.seq_example()
    assert seq.targets[seq.mask].tolist() == answer  # the model is scored on writing the answer


def test_relabelling_uses_the_whole_id_vocabulary():
    coding = TraceCoding(id_vocab=128)
    rng = np.random.default_rng(1)
    seen = set()
    for g in sample_split("train", 60):
        ids = encode(g, rng, coding).node_ids
        assert len(set(ids.tolist())) == g.num_nodes
        seen |= set(ids.tolist())
    assert len(seen) > 120  # graphs of <= 16 nodes still exercise (nearly) every id
    with pytest.raises(ValueError, match="more than"):
        encode(sample_split("test_64", 1)[0], rng, TraceCoding(id_vocab=32))


def test_decode_falls_back_to_self_on_garbage():
    g = sample_split("test_16", 1)[0]
    ex = encode(g, np.random.default_rng(2))
    n, s = g.num_nodes, g.source
    assert np.array_equal(decode([], g, ex.node_ids), np.arange(n))
    assert np.array_equal(decode([EOS, 99, 100], g, ex.node_ids), np.arange(n))
    answer = ex.tokens[ex.prompt_length:].tolist()
    truth = dijkstra(g)[1]
    # a truncated trace keeps the decoded prefix; a dangling token is ignored
    part = decode(answer[:5], g, ex.node_ids)
    named = [v for v, _ in dijkstra_trace(g)[:2]]
    assert all(part[v] == truth[v] for v in named) and part[s] == s
    # ids of nodes that are not in this graph, weight tokens and specials are ignored
    unused = sorted(set(range(128)) - set(ex.node_ids.tolist()))[:2]
    junk = [int(TraceCoding().node_token(unused[0])), int(TraceCoding().node_token(unused[1])), SEP, BOS]
    assert np.array_equal(decode(junk + answer, g, ex.node_ids), truth)
    # the first pair naming a node wins
    v, p = answer[2], answer[3]
    assert np.array_equal(decode(answer[:2] + [v, answer[0]] + answer, g, ex.node_ids)[[s]], [s])


def test_quantisation_is_scored_against_the_true_graph():
    """Binning makes the two-hop path 0-2-1 look shorter than the edge 0-1 (bin centres .125 +
    .125 < .375) although it is longer (0.48 > 0.26). The target is the true trace, decoding it
    scores 1.0 on the true graph, and Dijkstra on the binned weights (the ceiling) is wrong."""
    g = Graph.from_edges(3, 0, [[0, 1, 0.26], [1, 0, 0.26], [0, 2, 0.24], [2, 0, 0.24],
                                [2, 1, 0.24], [1, 2, 0.24]])
    coding = TraceCoding(bins=4)
    assert dijkstra(g)[1].tolist() == [0, 0, 0]
    ex = encode(g, np.random.default_rng(0), coding)
    pi = decode(ex.tokens[ex.prompt_length:], g, ex.node_ids, coding)
    assert evaluate_predictions([g], [Prediction(pi)])["exact_match"] == 1.0
    assert quantisation_ceiling([g], coding)["pointer_accuracy"] == 0.5  # node 1 wrong, node 2 right


def test_ceiling_is_high_with_16_bins():
    graphs = sample_split("test_16", 32)
    fine, coarse = quantisation_ceiling(graphs, TraceCoding(bins=16)), quantisation_ceiling(graphs, TraceCoding(2))
    assert fine["pointer_accuracy"] > 0.95 > coarse["pointer_accuracy"]


def test_true_answer_and_eval_encoding_are_fixed():
    task = DijkstraTraceTask()
    graphs = sample_split("test_16", 3)
    a, b = task.encode_eval(graphs), task.encode_eval(graphs)
    assert all(np.array_equal(x.tokens, y.tokens) for x, y in zip(a, b))
    assert true_answer(graphs[0], a[0].node_ids) == a[0].tokens[a[0].prompt_length:].tolist()


class _Oracle(torch.nn.Module):
    """A 'model' that writes the true answer: checks generate/decode plumbing end to end."""

    def __init__(self, task, graphs):
        super().__init__()
        self.answers = {tuple(e.tokens[:e.prompt_length].tolist()): e.tokens[e.prompt_length:].tolist()
                        for e in task.encode_eval(graphs)}

    def generate(self, prompt, steps, prompt_lengths, stop_token, **kw):
        out = torch.full((prompt.shape[0], max(prompt_lengths) + steps), stop_token)
        for b, n in enumerate(prompt_lengths):
            ans = self.answers[tuple(prompt[b, :n].tolist())]
            out[b, :n] = prompt[b, :n]
            out[b, n:n + len(ans)] = torch.tensor(ans)
        return out


def test_predictions_of_a_perfect_generator_score_one():
    task = DijkstraTraceTask()
    graphs = sample_split("test_16", 5) + sample_split("test_32", 3)
    preds = task.predictions(_Oracle(task, graphs), graphs, batch_size=3)
    assert evaluate_predictions(graphs, preds)["exact_match"] == 1.0


def test_evaluate_metrics_of_an_untrained_model_are_in_range():
    from lib.sequence.models import build_sequence_model

    task = DijkstraTraceTask()
    torch.manual_seed(0)
    model = build_sequence_model("decoder_transformer", task.vocab_size, d_model=16, heads=2, layers=1).eval()
    m = task.evaluate(model, sample_split("test_16", 4), batch_size=2)
    assert set(m) >= {"trace_token_accuracy", "trace_exact", "pointer_accuracy", "exact_match"}
    assert 0 <= m["trace_token_accuracy"] < 0.5 and 0 <= m["pointer_accuracy"] <= 1


def test_bad_arguments_fail_clearly():
    with pytest.raises(KeyError, match="unknown split"):
        DijkstraTraceTask(train_split="nope")
    with pytest.raises(KeyError, match="unknown split"):
        DijkstraTraceTask(val_split="nope")
    with pytest.raises(ValueError, match="more than the 8 node ids"):
        DijkstraTraceTask(id_vocab=8)  # CLRS's training split reaches n = 16
    with pytest.raises(ValueError):
        TraceCoding(bins=0)
    g = sample_split("test_16", 1)[0]
    with pytest.raises(ValueError, match="distinct"):
        encode(g, np.random.default_rng(0), node_ids=np.zeros(g.num_nodes, dtype=int))


def test_small_trace_splits_and_the_validation_split():
    train = sample_split("trace_train", 60)
    assert {g.num_nodes for g in train} <= set(range(4, 9)) and len({g.num_nodes for g in train}) > 1
    assert {g.num_nodes for g in sample_split("trace_test_12", 3)} == {12}
    task = DijkstraTraceTask(id_vocab=16, train_split="trace_train", val_split="trace_val")
    val = task.eval_items("val", 4)
    assert [g.num_nodes for g in val] == [8] * 4
    assert all(np.array_equal(a.weights, b.weights) for a, b in zip(val, sample_split("trace_val", 4)))
    assert task.eval_items("trace_test_8", 2)[0].num_nodes == 8
    assert DijkstraTraceTask().eval_items("val", 1)[0].num_nodes == 16  # the default keeps CLRS's val split


def test_trace_conclusion_gates_on_learning_then_pairs_arms_trained_as_long():
    import pandas as pd

    from lib.experiments import sequence_models, trace_study
    from lib.experiments.code_execution_study import FEEDBACK, TRANSFORMER

    cfg = sequence_models.SequenceConfig(eval_graphs=8, trace_splits=("trace_test_8", "trace_test_12"))

    def results(home_t, away_ft, home_ft=0.99, seeds=3, suffix=""):
        rows = [{"model": m + suffix, "seed": s, "split": split, "pointer_accuracy": acc + 0.001 * s}
                for s in range(seeds) for m, (h, a) in ((FEEDBACK, (home_ft, away_ft)), (TRANSFORMER, (home_t, 0.5)))
                for split, acc in (("trace_test_8", h), ("trace_test_12", a))]
        return pd.DataFrame(rows)

    floor, ceiling = sequence_models.trace_bounds("trace_test_8", cfg)
    assert 0 <= floor < ceiling <= 1
    assert trace_study.matched_arms(cfg) == {4000: (FEEDBACK, TRANSFORMER),
                                             16000: (f"{FEEDBACK}, 16000 steps", f"{TRANSFORMER}, 16000 steps")}
    text = trace_study.conclusion(results(0.6, 0.9), cfg)
    assert "Inconclusive: Transformer (8 layers) stays below 95%" in text and "+40.0" in text
    assert "Feedback Transformer (4 layers) does clear the bar" in text
    text = trace_study.conclusion(results(0.98, 0.9), cfg)
    assert "helps out of distribution here (both models learned in 4000 steps): +40.0 points over Transformer" in text
    assert "3 seeds: the rules ask 5" in text
    assert "5 seeds" not in trace_study.conclusion(results(0.98, 0.9, seeds=5), cfg)
    assert "No significant out-of-distribution difference" in trace_study.conclusion(results(0.98, 0.5), cfg)
    assert "does worse out of distribution here" in trace_study.conclusion(results(0.98, 0.3), cfg)
    assert "under two seeds" in trace_study.conclusion(results(0.98, 0.9).query("seed == 0"), cfg)
    long_t = results(0.97, 0.9, suffix=", 16000 steps").query("model.str.startswith('Transformer')")
    text = trace_study.conclusion(pd.concat([results(0.6, 0.9, home_ft=0.7), long_t]), cfg)  # no matched pair learned
    assert "Transformer (8 layers), 16000 steps does clear the bar" in text and text.count("paired p") == 1
    long_both = results(0.97, 0.9, home_ft=0.96, suffix=", 16000 steps")
    text = trace_study.conclusion(pd.concat([results(0.6, 0.9, home_ft=0.7), long_both]), cfg)
    assert text.count("paired p") == 2  # each matched pair's difference, the longer pair decides
    assert "(both models learned in 16000 steps): +40.0 points over Transformer (8 layers), 16000 steps" in text
    with pytest.raises(ValueError, match="must exceed trace_steps"):
        sequence_models.SequenceConfig(trace_long_steps=4000).trace_configs()
    configs = sequence_models.PROFILES["full"].trace_configs()
    assert len({c.key for c in configs}) == len(configs)  # no two arms share a cache key


def test_notebook_07_trains_on_the_shrunk_graphs_and_tests_first_in_distribution():
    from lib.experiments import trace_study

    for name, cfg in trace_study.PROFILES.items():
        configs = trace_study.training_configs(cfg)
        trained = {n for c in configs for n in SPLITS[c.task_args["train_split"]].sizes}
        assert trained == {4, 5, 6}, name
        assert SPLITS[configs[0].task_args["val_split"]].sizes == (6,)
        home, *away = cfg.trace_splits
        assert SPLITS[home].sizes[0] in trained and all(SPLITS[s].sizes[0] > max(trained) for s in away), name
        assert cfg.tasks == ("trace",) and len({c.key for c in configs}) == len(configs)
        long = {c.model for c in configs if c.steps == cfg.trace_long_steps}
        assert long == {"feedback_transformer", "decoder_transformer"}, name  # both models also trained longer
    assert len(trace_study.PROFILES["full"].seeds) >= 5  # the rules ask 5 seeds for a claim about a difference
    with pytest.raises(ValueError, match="unknown model"):
        dataclasses.replace(trace_study.PROFILES["full"], trace_long_models=("gpt",)).trace_configs()
    sizes = {g.num_nodes for g in sample_split("trace_train_6", 60)}
    assert sizes == {4, 5, 6}
    assert [g.num_nodes for g in sample_split("trace_test_6", 3)] == [6] * 3
