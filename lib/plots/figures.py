"""Saving figures, the shared palette and small helpers every plot uses."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
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
    problems = check_figure(fig)
    if problems:
        plt.close(fig)
        raise ValueError(f"figure {name!r} is not fit to save: " + "; ".join(problems))
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return fig


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images)


def _label_in_group(ax, axis: str) -> bool:
    """Does ``ax`` or an axes sharing its x (or y) axis carry a label on that axis?"""
    group = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    get = (lambda a: a.get_xlabel()) if axis == "x" else (lambda a: a.get_ylabel())
    return any(get(a).strip() for a in group.get_siblings(ax))


def _data_points(ax) -> np.ndarray:
    """Display coordinates of the data an axes draws (line vertices and scatter points)."""
    pts = [ax.transData.transform(line.get_xydata()) for line in ax.lines
           if len(line.get_xydata()) and line.get_transform() == ax.transData]
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets())
        if offsets.ndim == 2 and len(offsets) and coll.get_offset_transform() == ax.transData:
            pts.append(ax.transData.transform(offsets))
    pts = [p for p in pts if np.isfinite(p).all(axis=1).any()]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def check_figure(fig: Figure) -> list[str]:
    """What makes a figure unfit for the report: an axes with data but no label on an axis (a
    label on an axes it shares that axis with counts), a symlog axis over data that is not all
    positive (draw zero as its own marker on a log axis instead), or a legend drawn over data."""
    problems = []
    fig.canvas.draw()
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison or not _has_data(ax) or getattr(ax, "_colorbar", None):
            continue  # drawings (axis off) and colour bars need no axis labels
        name = ax.get_title() or f"axes {i}"
        for axis in ("x", "y"):
            if not _label_in_group(ax, axis):
                problems.append(f"{name}: no {axis} label")
            scale = ax.get_xscale() if axis == "x" else ax.get_yscale()
            if scale == "symlog":
                problems.append(f"{name}: symlog {axis} axis (use a log axis; draw zero as a separate marker)")
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent()
            pts = _data_points(ax)
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            if inside.any():
                problems.append(f"{name}: the legend covers {int(inside.sum())} data point(s)")
    return problems


def log_axis_with_zero(ax, positive: np.ndarray, base: float = 10) -> float:
    """Put the x axis on a log scale and return where a value of 0 is drawn: one step (a factor
    ``base``) below the smallest positive value, apart from the rest behind a dotted line."""
    positive = np.asarray(positive, dtype=float)
    positive = positive[positive > 0]
    smallest = positive.min() if positive.size else 1.0
    zero_at = smallest / base
    ax.set_xscale("log", base=base)
    ax.axvline(np.sqrt(zero_at * smallest), color="0.6", lw=0.6, ls=":")
    return zero_at


def _mean_std(df, by, value):
    g = df.groupby(by)[value]
    return g.mean(), g.std(ddof=1).fillna(0.0)
