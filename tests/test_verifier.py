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


def test_the_headline_with_a_label_trained_verifier_searches_from_its_start(tmp_path):
    """The headline preset's shape (a verifier learned from labels, searched to a fixed point from
    the far start), on tiny parts: it trains both parts, solves, caches its evaluation, and refuses
    the energy headline's options with a clear message."""
    from lib.headline import HeadlineConfig
    from lib.runs import RunCache

    cfg = HeadlineConfig(generator="tiny", verifier="verifier_tiny", start="far")
    run = train_any(cfg, RunCache(tmp_path), device="cpu", progress=False)
    assert run.searches_to_fixed_point and run.parts[1].config.label == "verifier_tiny"
    graphs = sample_split("test_16", 3)
    far = run.solver("cpu").solve(graphs)
    assert len(far) == 3 and all(p.iterations <= g.num_nodes for p, g in zip(far, graphs))
    same = run.parts[1].solver("cpu", start="far").solve(graphs)
    assert all((a.pi == b.pi).all() for a, b in zip(far, same))  # exactly the verifier's own far-start search
    m = run.evaluate("test_16", 3, device="cpu")
    assert m["num_graphs"] == 3 and run.evaluate("test_16", 3, device="cpu") == m
    with pytest.raises(ValueError, match="takes no --search-steps"):
        run.solver("cpu", search_steps=5)
    with pytest.raises(ValueError, match="unknown search start"):
        HeadlineConfig(generator="tiny", verifier="verifier_tiny", start="uniform")


def test_the_headline_preset_obeys_the_rules_of_evidence():
    """The verifier learns from labels (no distillation of the checker) with the aligned prior, and its
    matched generator has the same prior and trains on the same graphs."""
    from lib.run_kinds import headline_parts

    gen, ver = headline_parts(preset("headline"))
    assert ver.KIND == "verifier" and ver.model == "min_plus_verifier" and ver.generator == "recurrent"
    assert gen.model == "min_plus_gnn"
    assert (gen.train_split, gen.train_graphs, gen.own_data) == (ver.train_split, ver.train_graphs, ver.own_data)
    assert preset("headline").start == "far"


def test_label_warmup_trains_the_local_ranking_alone_first(tmp_path):
    """During the warm-up no candidate is labelled (no wrong fraction is logged); the label loss joins
    after it; an impossible fraction is a clear error; and 0 leaves training exactly as before."""
    from lib.runs import RunCache

    cfg = preset("verifier_tiny").replace(steps=8, eval_every=2, label_warmup=0.5)
    run = train_any(cfg, RunCache(tmp_path), device="cpu", progress=False)
    wrong = run.metrics["curve"]["train_wrong_fraction"]
    assert wrong[:2] == [None, None] and all(0.0 <= w <= 1.0 for w in wrong[2:])
    with pytest.raises(ValueError, match="label_warmup"):
        preset("verifier_tiny").replace(label_warmup=1.0)
    assert preset("verifier_tiny").replace(label_warmup=0.0).key == preset("verifier_tiny").key  # cached runs stay valid


@pytest.mark.parametrize("name,args", [("min_plus_verifier", {"hidden": 4}), ("generic_verifier", {"hidden": 8})])
def test_mining_searches_both_starts_at_once_as_if_apart(name, args):
    """The mined candidates of a step: both starts searched as one batch (the graphs twice) give the
    states where each start's own search stops, with the same random start."""
    import numpy as np

    from lib.search.parallel_moves import COARSE, parallel_descent, start_candidate
    from lib.verifier.train import _candidates

    set_seed(0)
    model = build_verifier(name, **args)
    graphs = sample_split("train_short_paths", 5)
    batch, cfg = collate(graphs), VerifierTrainConfig(corruptions=0)
    mined = _candidates(model, batch, graphs, cfg, None, None, np.random.default_rng(0), torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)
    apart = [parallel_descent(model.eval(), batch, start_candidate(batch, how, gen), None, COARSE).y
             for how in ("far", "random")]
    assert len(mined) == 3 and torch.equal(mined[0], truth(batch))
    for got, want in zip(mined[1:], apart):
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)
        assert torch.equal(torch.isinf(got), torch.isinf(want))


def test_training_searches_with_its_configured_margins(monkeypatch, tmp_path):
    """The mining search and validation use ``search_margins`` (coarse by default, as the report's
    verifiers were trained); the default leaves the cache key as it was; an unknown name is an error."""
    import lib.verifier.solver as vs
    import lib.verifier.train as vt
    from lib.runs import RunCache
    from lib.search.parallel_moves import COARSE, FINE

    seen = []
    real = vt.parallel_descent
    for module in (vt, vs):  # the mining search; the validation search (`VerifierSolver`)
        monkeypatch.setattr(module, "parallel_descent", lambda *a, **k: seen.append(a[4]) or real(*a, **k))
    for name, margins in (("coarse", COARSE), ("fine", FINE)):
        seen.clear()
        cfg = preset("verifier_tiny").replace(steps=2, eval_every=2, search_margins=name)
        train_any(cfg, RunCache(tmp_path), device="cpu", progress=False)
        assert len(seen) >= 3 and all(m == margins for m in seen)  # 2 mining searches (both starts), 1 validation
    assert preset("verifier_tiny").replace(search_margins="coarse").key == preset("verifier_tiny").key
    with pytest.raises(ValueError, match="search_margins"):
        preset("verifier_tiny").replace(search_margins="exact")
