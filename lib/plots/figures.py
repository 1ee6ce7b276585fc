"""Saving figures, the shared palette and small helpers every plot uses."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..paths import figures_dir

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "dijkstra-lab"})

#: One colour per graph family / model, so figures agree with each other.
PALETTE = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def save_figure(fig: Figure, name: str, formats: Sequence[str] = ("png", "svg")) -> Figure:
    """Write ``fig`` as ``<figures>/<name>.<fmt>`` and return it, so a cell can end in
    ``plots.save_figure(plots.plot_x(...), "name")`` and show the figure once.

    The figures folder is ``figures/`` at the repository root unless ``LAB_FIGURES_DIR``
    points elsewhere (the smoke runs of ``make test`` use a scratch folder). The figure is
    closed in pyplot, so a notebook cell that ends in ``fig`` shows it once, not twice.
    """
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return fig


def _mean_std(df, by, value):
    g = df.groupby(by)[value]
    return g.mean(), g.std(ddof=1).fillna(0.0)
