"""The exact local check as a verifier: the ceiling that the learned verifiers are measured against.

    e_v = |y_v| at the source;
    elsewhere |y_v - a_v| with a_v = min_{u -> v} (y_u + w_uv) over reached in-neighbours u,
    0 when the node and every in-neighbour are unreached, and ``MISMATCH`` when only one side is.

A candidate has every term zero exactly when it equals the true distances (inf where unreachable),
for positive weights. It has nothing to learn."""

from __future__ import annotations

import torch

from .base import Verifier

MISMATCH = 1e6  # a node unreached while offered a path, or reached without one


class ExactChecker(Verifier):
    ACCEPT = 1e-3  # tolerance on the summed absolute residual (float32 sums of weights)

    def option_terms(self, batch, y, nodes, values, rows=None):  # no network: ``rows`` is unused
        a = torch.full_like(y, float("inf")).scatter_reduce(
            0, batch.receivers, y[batch.senders] + batch.weights, "amin")[nodes]
        fin_v, fin_a = torch.isfinite(values), torch.isfinite(a)
        diff = torch.where(fin_v & fin_a, values - torch.where(fin_a, a, torch.zeros_like(a)), torch.zeros_like(a))
        term = torch.where(fin_v == fin_a, diff.abs(), torch.full_like(a, MISMATCH))
        src_term = torch.where(fin_v, values.abs(), torch.full_like(values, MISMATCH))
        return torch.where(batch.is_source[nodes] > 0, src_term, term)
