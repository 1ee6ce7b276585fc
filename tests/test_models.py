"""The three baseline models: one interface, shapes, equivariance, limits."""

import numpy as np
import pytest
import torch

from lib.batching import collate
from lib.graphs import Graph
from lib.models import MODELS, build_model
from lib.samplers import sample_split
from lib.determinism import set_seed

SMALL = {"mlp": {"hidden": 32, "layers": 2}, "transformer": {"hidden": 16, "heads": 2, "layers": 2},
         "gnn": {"hidden": 16, "layers": 2}, "looped_gnn": {"hidden": 16, "iterations": 3},
         "looped_transformer": {"hidden": 16, "heads": 2, "iterations": 3},
         "recurrent_gnn": {"hidden": 16, "iterations": 3, "drift_weight": 0.5},
         "min_plus_gnn": {"hidden": 4, "iterations": 3}}


def permuted(g: Graph, perm: np.ndarray) -> Graph:
    """Relabel node i as perm[i]."""
    return Graph.from_arrays(g.num_nodes, int(perm[g.source]), perm[g.senders], perm[g.receivers], g.weights)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_interface_and_gradients(name):
    set_seed(0)
    model = build_model(name, **SMALL[name])
    b = collate(sample_split("train", 6))
    out = model(b)
    assert out.pointer_logits.shape == (b.num_edges + b.num_nodes,)
    assert out.dist is not None and out.dist.shape == (b.num_nodes,)
    loss, parts = model.loss(b, distance_weight=1.0)
    loss.backward()
    assert "pointer_loss" in parts and torch.isfinite(loss)
    unused = {"bias.no_edge_bias"} if getattr(model.cfg, "mask_adjacency", False) else set()
    assert all(p.grad is not None for k, p in model.named_parameters() if k not in unused), \
        [k for k, p in model.named_parameters() if p.grad is None]
    preds = model.predict(b)
    assert [len(p.pi) for p in preds] == b.sizes.tolist()
    assert all(p.pi[g.source] == g.source for p, g in zip(preds, b.graphs))


@pytest.mark.parametrize("name", ["gnn", "transformer", "looped_gnn", "looped_transformer", "recurrent_gnn",
                                  "min_plus_gnn"])
def test_node_relabelling_permutes_the_output(name):
    set_seed(0)
    model = build_model(name, **SMALL[name]).eval()
    g = sample_split("test_16", 1)[0]
    perm = np.random.default_rng(0).permutation(g.num_nodes)
    a = model.predict(collate([g]))[0]
    b = model.predict(collate([permuted(g, perm)]))[0]
    assert np.array_equal(perm[a.pi], b.pi[perm])
    assert np.allclose(a.dist, b.dist[perm], atol=1e-5)


@pytest.mark.parametrize("name", ["gnn", "transformer", "looped_gnn", "looped_transformer", "recurrent_gnn",
                                  "min_plus_gnn"])
def test_padding_does_not_change_predictions(name):
    """A graph's answer does not depend on what else is in its batch."""
    set_seed(0)
    model = build_model(name, **SMALL[name]).eval()
    small, big = sample_split("test_16", 1)[0], sample_split("test_32", 1)[0]
    alone = model.predict(collate([small]))[0]
    together = model.predict(collate([small, big]))[0]
    assert np.array_equal(alone.pi, together.pi) and np.allclose(alone.dist, together.dist, atol=1e-5)


def test_mlp_refuses_graphs_larger_than_its_padding():
    model = build_model("mlp", max_nodes=16, **{k: v for k, v in SMALL["mlp"].items()})
    with pytest.raises(ValueError, match="at most 16 nodes.*64 nodes"):
        model.predict(collate(sample_split("test_64", 1), with_targets=False))


def test_bad_model_configs_are_clear_errors():
    with pytest.raises(KeyError, match="unknown model 'gcn'"):
        build_model("gcn")
    with pytest.raises(TypeError, match="no config field"):
        build_model("gnn", hiddem=3)
    with pytest.raises(ValueError, match="unknown aggregation 'avg'"):
        build_model("gnn", aggregation="avg")
    with pytest.raises(ValueError, match="divisible"):
        build_model("transformer", hidden=10, heads=3)


def test_transformer_adjacency_mask_blocks_non_neighbours():
    set_seed(0)
    model = build_model("transformer", mask_adjacency=True, **SMALL["transformer"]).eval()
    b = collate(sample_split("test_16", 2))
    bias = model.bias(b)
    view = b.padded()
    allowed = view.adjacency.transpose(1, 2) | torch.eye(view.weights.shape[1], dtype=torch.bool)
    assert torch.isinf(bias[~allowed.unsqueeze(1).expand_as(bias)]).all()


@pytest.mark.parametrize("name", ["looped_gnn", "looped_transformer", "recurrent_gnn"])
def test_looped_models_take_iterations_at_test_time(name):
    set_seed(0)
    model = build_model(name, **SMALL[name]).eval()
    b = collate(sample_split("test_16", 3))
    default = model(b).pointer_logits
    assert torch.equal(model(b, iterations=3).pointer_logits, default)
    assert not torch.equal(model(b, iterations=12).pointer_logits, default)


@pytest.mark.parametrize("name", ["looped_gnn", "looped_transformer", "recurrent_gnn"])
def test_progressive_loss_mixes_full_and_partial_unrolls(name):
    set_seed(0)
    b = collate(sample_split("train", 4))
    both = build_model(name, **SMALL[name], progressive_alpha=0.5)
    _, parts = both.loss(b)
    assert {"full_loss", "progressive_loss"} <= set(parts)
    _, parts = build_model(name, **SMALL[name], progressive_alpha=0.0).loss(b)
    assert "progressive_loss" not in parts and "full_loss" in parts
