"""Measurement helpers, each against a value worked out by hand: confidence intervals and
tests, the findings rows, parameter norm and sharpness, the FLOP counter."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from lib import findings
from lib.flops import flops_per_graph
from lib.graphs import Graph
from lib.model_diagnostics import parameter_norm, sharpness
from lib.statistics import compare, mean_ci, verdict


def test_mean_ci_is_the_student_t_half_width():
    mean, half = mean_ci([1.0, 2.0, 3.0])
    # sd = 1, n = 3, t(0.975, df=2) = 4.302653
    assert mean == 2.0 and half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert mean_ci([5.0]) == (5.0, 0.0)


def test_welch_comparison_of_two_known_samples():
    out = compare([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    # diff = -3, se = sqrt(1/3 + 1/3) = 0.816497, df = 4, t = -3.674235, two-sided p = 0.021312
    assert out["diff"] == -3.0 and out["df"] == pytest.approx(4.0)
    assert out["p"] == pytest.approx(0.021312, rel=1e-4)
    assert out["ci"] == pytest.approx(2.776445 * 0.816497, rel=1e-5)  # t(0.975, 4) * se
    assert compare([1.0, 1.0], [1.0, 1.0])["p"] == 1.0
    assert "-300.0 points" in verdict(out, "a vs b") and "significant at 0.05" in verdict(out, "a vs b")


def test_pct_and_findings_row():
    assert findings.pct([0.5, 0.7]) == "60.0 ± 14.1"  # mean 0.6, sd 0.141421
    assert findings.pct([0.25]) == "25.0" and findings.pct([]) == "—"
    results = pd.DataFrame({"seed": [0, 1, 0, 1], "split": ["test_16", "test_16", "test_64", "test_64"],
                            "pointer_accuracy": [0.9, 1.0, 0.5, 0.7], "exact_match": [0.0, 0.0, 0.25, 0.25]})
    runs = [SimpleNamespace(metrics={"train_seconds": 10.0}), SimpleNamespace(metrics={"train_seconds": 20.0})]
    row = findings.findings_row("m", "imitation", results, "8 iterations", runs)
    assert row == {"approach": "m", "route": "imitation", "seeds": 2, "ID n=16": "95.0 ± 7.1",
                   "OOD n=64": "60.0 ± 14.1", "OOD n=128": "—", "exact match n=64": "25.0 ± 0.0",
                   "test-time cost": "8 iterations", "train s/run": "15"}
    assert findings.findings_row("m", "r", results, "c")["seeds"] == 2  # no runs: the table's seeds
    assert "train s/run" not in findings.findings_row("m", "r", results, "c")


def test_parameter_norm_of_known_weights():
    lin = torch.nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0]]))
        lin.bias.fill_(4.0)
    assert parameter_norm(lin) == pytest.approx(5.0)


class _Scaled(torch.nn.Module):
    """Pointer logits = w * (fixed scores): its loss moves only through w."""

    def __init__(self, w: float):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))

    def forward(self, batch):
        return SimpleNamespace(pointer_logits=self.w * torch.arange(len(batch.cand_dst), dtype=torch.float32))


def test_sharpness_is_zero_without_perturbation_or_parameters():
    from lib.batching import collate
    from lib.samplers import sample_split

    batch = collate(sample_split("val", 2))
    assert sharpness(_Scaled(1.0), batch, rho=0.0) == 0.0  # no perturbation, no rise
    assert sharpness(_Scaled(0.0), batch, rho=0.5) == 0.0  # relative perturbation of a zero weight is zero
    assert sharpness(_Scaled(1.0), batch, rho=0.5, seed=3) == sharpness(_Scaled(1.0), batch, rho=0.5, seed=3)


class _OneMatmul(torch.nn.Module):
    def forward(self, batch):
        return torch.ones(batch.num_nodes, 8) @ torch.ones(8, 4)


def test_flops_per_graph_counts_one_matmul():
    graphs = [Graph(n, 0, np.array([0]), np.array([1]), np.array([1.0])) for n in (3, 5)]
    # one [8 nodes, 8] x [8, 4] product: 2 * 8 * 8 * 4 = 512 FLOPs over 2 graphs
    assert flops_per_graph(_OneMatmul(), graphs) == 256.0
