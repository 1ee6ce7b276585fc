"""Verifiers learned from labels: option scoring holds neighbours fixed, labels compare with the
correct output only, the exact checker certifies exactly the truth, and a tiny run trains."""

import pytest
import torch

from lib.batching import collate
from lib.determinism import set_seed
from lib.presets import preset
from lib.run_kinds import find_run, train_any
from lib.samplers import sample_split
from lib.verifier.base import in_edge_pairs
from lib.verifier.candidates import corrupt, is_right, truth
from lib.verifier.exact_checker import ExactChecker
from lib.verifier.registry import build_verifier
from lib.verifier.train import VerifierTrainConfig, label_loss, local_choice_loss


@pytest.fixture
def batch():
    return collate(sample_split("train_short_paths", 6) + sample_split("test_16", 2))


@pytest.mark.parametrize("name,args", [("min_plus_verifier", {"hidden": 4}), ("generic_verifier", {"hidden": 8}),
                                       ("exact_checker", {})])
def test_option_terms_score_one_node_with_its_neighbours_fixed(batch, name, args):
    set_seed(0)
    model = build_verifier(name, **args).eval()
    y = truth(batch)
    with torch.no_grad():
        assert torch.allclose(model.node_terms(batch, y), model.option_terms(batch, y, torch.arange(batch.num_nodes), y))
        v = int(torch.nonzero(batch.is_source == 0)[3])
        changed = y.clone()
        changed[v] = y[v] + 0.25
        direct = model.node_terms(batch, changed)[v]
        assert torch.allclose(model.option_terms(batch, y, torch.tensor([v]), changed[v:v + 1])[0], direct)


def test_in_edge_pairs_list_each_options_in_edges(batch):
    nodes = torch.tensor([0, 5, 5, 9])
    opt, edge = in_edge_pairs(batch, nodes)
    for k, v in enumerate(nodes.tolist()):
        assert sorted(edge[opt == k].tolist()) == torch.nonzero(batch.receivers == v).flatten().tolist()


def test_the_exact_checker_accepts_the_truth_and_rejects_corruptions(batch, rng):
    checker = ExactChecker()
    y = truth(batch)
    assert bool(checker.accepts(batch, y).all())
    bad = corrupt(batch, y, rng)
    assert torch.equal(checker.accepts(batch, bad), is_right(batch, bad))


def test_labels_come_from_the_correct_output(batch, rng):
    y = truth(batch)
    assert bool(is_right(batch, y).all())
    bad = y.clone()
    bad[int(torch.nonzero(batch.is_source == 0)[0])] += 0.01
    assert is_right(batch, bad).tolist().count(False) == 1


def test_both_losses_are_finite_and_have_gradients(batch, rng):
    set_seed(0)
    model = build_verifier("min_plus_verifier", hidden=4)
    loss, wrong = label_loss(model, batch, [truth(batch), corrupt(batch, truth(batch), rng)])
    loss = loss + local_choice_loss(model, batch)
    loss.backward()
    assert torch.isfinite(loss) and 0.0 <= wrong <= 1.0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_bad_configs_are_clear_errors():
    with pytest.raises(ValueError, match="unknown verifier"):
        VerifierTrainConfig(model="oracle")
    with pytest.raises(ValueError, match="generic aggregation"):
        VerifierTrainConfig(model="generic_verifier", model_args={"aggregation": "min"})
    with pytest.raises(TypeError):
        VerifierTrainConfig(model="min_plus_verifier", model_args={"width": 3})


def test_a_generator_on_other_training_graphs_is_refused():
    cfg = preset("verifier_tiny").replace(generator="tiny")
    with pytest.raises(ValueError, match="trains on other graphs"):
        train_any(cfg, progress=False)


def test_a_tiny_verifier_trains_caches_and_solves():
    run = train_any(preset("verifier_tiny"), progress=False)
    assert run.metrics["examples_seen"] == run.config.steps * run.config.batch_size
    assert find_run(run.name).name == run.name  # through the run-kind table
    m = run.evaluate("test_16", 4, device="cpu")
    assert m["num_graphs"] == 4 and 0.0 <= m["exact_match"] <= 1.0
    assert {"settled_fraction", "accepted_fraction", "false_certificates", "mean_iterations"} <= set(m)
    assert run.evaluate("test_16", 4, device="cpu") == m  # cached
    with pytest.raises(ValueError, match="unknown search start"):
        run.solver("cpu", start="uniform")
