"""Recurrence in the long-path regime (notebook 03, part 1): iterations used against hop depth, and
the measured drift of the recurrent state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE


def plot_iterations_vs_depth(df, title: str = "") -> Figure:
    """Iterations each graph used before it settled against its deepest shortest-path hop count,
    one colour per model, with the line iterations = hop depth for reference."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, model in enumerate(dict.fromkeys(df.model)):
        d = df[df.model == model]
        ax.scatter(d["hop depth"], d["iterations used"], s=14, alpha=0.7, color=PALETTE[i % 10], label=model)
    top = float(max(df["hop depth"].max(), 1))
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1, label="iterations = hop depth")
    ax.set_xlabel("deepest shortest-path hop count of the graph")
    ax.set_ylabel("iterations used before settling")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_state_drift(df, title: str = "") -> Figure:
    """Two panels against iterations: the mean node-state norm, and the mean relative change of
    the state per iteration; dashed lines mark each model's training count."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, model in enumerate(dict.fromkeys(df.model)):
        d = df[df.model == model]
        color = PALETTE[i % 10]
        for ax, col in zip(axes, ("state norm", "relative change")):
            ax.plot(d.iteration, d[col], color=color, label=model)
            ax.axvline(int(d.trained_iterations.iloc[0]), color=color, ls="--", lw=0.8, alpha=0.6)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("mean node-state norm (log scale)")
    axes[1].set_ylabel("mean ‖h_t − h_{t−1}‖ / ‖h_{t−1}‖")
    axes[1].set_ylim(0, min(1.05, float(np.nanmax(df["relative change"])) * 1.05 + 1e-3))
    for ax in axes:
        ax.set_xlabel("iteration t")
    axes[1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "State drift (dashed: training iteration count)", fontsize=11)
    fig.tight_layout()
    return fig
