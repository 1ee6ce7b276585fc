"""Same config, same numbers: one `set_seed` and one single-thread guard."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy's legacy global state and torch; return a torch generator for ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def single_thread():
    """One torch thread inside the block: the same floating-point results alone or inside a
    parallel sweep (the thread count changes the order of reductions)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


__all__ = ["set_seed", "single_thread"]
