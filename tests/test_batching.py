"""Batching: segment ops, pointer candidates, padded views and decoding."""

import numpy as np
import pytest
import torch

from lib.batching import collate, segment_argmax, segment_log_softmax
from lib.oracle import dijkstra
from lib.samplers import sample_split


@pytest.fixture
def graphs():
    return sample_split("train", 12) + sample_split("tree_64", 2)


def test_segment_log_softmax_normalises_each_group():
    x = torch.tensor([1.0, 2.0, 3.0, -1.0, 5.0])
    idx = torch.tensor([0, 0, 1, 1, 1])
    p = segment_log_softmax(x, idx, 2).exp()
    assert torch.allclose(torch.zeros(2).index_add_(0, idx, p), torch.ones(2))
    assert torch.allclose(p[:2], torch.softmax(x[:2], 0))


def test_segment_argmax_first_position_on_ties():
    x = torch.tensor([1.0, 3.0, 3.0, 0.0, 7.0])
    idx = torch.tensor([0, 0, 0, 1, 1])
    assert segment_argmax(x, idx, 2).tolist() == [1, 4]


def test_candidates_are_in_edges_plus_self(graphs):
    b = collate(graphs)
    assert b.cand_src.numel() == b.num_edges + b.num_nodes
    counts = torch.bincount(b.cand_dst, minlength=b.num_nodes)
    in_deg = torch.bincount(b.receivers, minlength=b.num_nodes)
    assert torch.equal(counts, in_deg + 1)
    tc = b.target_candidate()
    assert torch.equal(b.cand_dst[tc], torch.arange(b.num_nodes))
    assert torch.equal(b.cand_src[tc], b.target_pi)


def test_decoding_perfect_logits_reproduces_the_oracle(graphs):
    b = collate(graphs)
    logits = torch.zeros(b.num_edges + b.num_nodes)
    logits[b.target_candidate()] = 10.0
    preds = b.decode_pointers(logits)
    for g, pi in zip(graphs, preds):
        assert np.array_equal(pi, dijkstra(g)[1])


def test_padded_view_and_gather_agree_with_edges(graphs):
    b = collate(graphs)
    view = b.padded()
    assert view.weights.shape == (len(graphs), 64, 64)
    assert int(view.adjacency.sum()) == b.num_edges and int(view.node_mask.sum()) == b.num_nodes
    scores = view.weights.transpose(1, 2)  # scores[b, v, u] = w(u -> v)
    assert torch.allclose(b.gather_dense(scores)[: b.num_edges], b.weights)


def test_targets_require_ground_truth(graphs):
    with pytest.raises(ValueError, match="no ground truth"):
        collate(graphs, with_targets=False).target_candidate()
    with pytest.raises(ValueError, match="empty"):
        collate([])
