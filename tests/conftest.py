import os
from pathlib import Path

import numpy as np
import pytest

from lib.paths import SHARED_DATA

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def reference_files() -> dict[int, Path]:
    files = {n: SHARED_DATA / f"clrs_reference_n{n}.jsonl.gz" for n in (16, 32)}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        pytest.fail(f"CLRS reference data missing (expected beside the checkout): {missing}")
    return files


@pytest.fixture(autouse=True)
def _scratch_outputs(tmp_path, monkeypatch):
    """Tests never write into the committed figures/ or the run cache."""
    monkeypatch.setenv("LAB_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("LAB_RUNS_DIR", str(tmp_path / "runs"))

from hypothesis import settings  # noqa: E402

# Deterministic property tests: the same examples every run, no example database on disk.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.load_profile("deterministic")


@pytest.fixture
def one_thread():
    """Tiny models: one torch thread is faster and immune to a busy machine's oversubscription."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
