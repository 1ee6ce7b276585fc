"""FLOPs per graph, counted by torch's own `FlopCounterMode` (matrix products; the scatter
and element-wise work of message passing is not counted, so GNN figures are lower bounds)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from .batching import collate
from .graphs import Graph


def count_flops(fn) -> float:
    """Counted FLOPs (matrix products) of calling ``fn()`` without gradients."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def flops_per_graph(model, graphs: Sequence[Graph], **forward_kw) -> float:
    """Counted forward FLOPs per graph for one batched forward pass over ``graphs``."""
    batch = collate(graphs, with_targets=False)
    model = model.eval()
    return count_flops(lambda: model(batch, **forward_kw)) / len(graphs)
