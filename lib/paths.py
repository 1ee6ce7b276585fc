"""Where the project keeps things: figures, the run cache, notebooks.

Environment overrides let the smoke runs of ``make test`` write to a scratch folder:
``LAB_FIGURES_DIR`` and ``LAB_RUNS_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def figures_dir() -> Path:
    """The folder `save_figure` writes to."""
    return Path(os.environ.get("LAB_FIGURES_DIR", ROOT / "figures"))


def results_dir() -> Path:
    """The folder of per-notebook result summaries behind the README's findings table."""
    return Path(os.environ.get("LAB_RESULTS_DIR", ROOT / "results"))


def runs_dir() -> Path:
    """The run cache's root folder."""
    return Path(os.environ.get("LAB_RUNS_DIR", ROOT / "runs"))

#: The read-only data shared with the project (the CLRS reference graphs), beside the checkout.
SHARED_DATA = Path(os.environ.get("LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
