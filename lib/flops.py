"""FLOPs per graph, counted by torch's own `FlopCounterMode`: matrix products; optionally also the
aggregations of message passing (one op per aggregated element). Element-wise work is not counted,
so GNN figures are lower bounds."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from .batching import collate
from .graphs import Graph


def _aggregated(source_arg: int):
    """A FLOP formula for a scatter: one operation per element of its source (argument ``source_arg``)."""
    def formula(*args, out_shape=None, **kwargs) -> int:
        return math.prod(args[source_arg])
    return formula


#: Message passing's aggregations: a min, max or sum over incoming messages, one op per message element.
AGGREGATIONS = {op: _aggregated(3) for op in (torch.ops.aten.scatter_reduce, torch.ops.aten.scatter_reduce_,
                                               torch.ops.aten.scatter_add, torch.ops.aten.scatter_add_,
                                               torch.ops.aten.index_add, torch.ops.aten.index_add_)}


def count_flops(fn, aggregations: bool = False) -> float:
    """Counted FLOPs of calling ``fn()`` without gradients: matrix products, and with
    ``aggregations`` also one per element that a scatter or index-add aggregates: message passing's
    min, max and sum (the min of a min-plus loop), and any other scatter, such as a segment argmax."""
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=AGGREGATIONS if aggregations else {}) as c:
        fn()
    return float(c.get_total_flops())


def flops_per_graph(model, graphs: Sequence[Graph], aggregations: bool = False, **forward_kw) -> float:
    """Counted forward FLOPs per graph for one batched forward pass over ``graphs``."""
    batch = collate(graphs, with_targets=False)
    model = model.eval()
    return count_flops(lambda: model(batch, **forward_kw), aggregations) / len(graphs)
