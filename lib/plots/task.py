"""The task and its distributions (notebook 00)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE


def plot_distribution_shift(stats: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Histograms of degree, hop depth and distance for each split (one colour per split).

    ``stats[split]`` has arrays ``degree``, ``hops`` and ``dist`` (see
    `lib.graph_statistics.graph_statistics`).
    """
    panels = [("degree", "node degree", "fraction of nodes"),
              ("hops", "hops on the shortest path from the source", "fraction of reachable nodes"),
              ("dist", "shortest-path distance from the source", "density")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for ax, (key, xlabel, ylabel) in zip(axes, panels):
        allv = np.concatenate([np.asarray(s[key], float) for s in stats.values()])
        if key == "dist":
            bins = np.linspace(0, np.percentile(allv, 99.5), 40)
        else:
            bins = np.arange(-0.5, allv.max() + 1.5, max(1, int(allv.max() // 40) or 1))
        for i, (name, s) in enumerate(stats.items()):
            ax.hist(s[key], bins=bins, density=True, histtype="step", linewidth=1.8, color=PALETTE[i % 10],
                    label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, [lab.split(" (mean")[0] for lab in labels], loc="lower center", ncol=len(labels),
               frameon=False, fontsize=9, bbox_to_anchor=(0.5, -0.06))
    fig.suptitle("How the distribution shifts with n (ER, p = 0.5 at test sizes)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_time_per_graph(records: Sequence[Mapping], x: str = "n", y: str = "seconds_per_graph",
                        group: str = "method", title: str = "", xlabel: str = "number of nodes n",
                        ylabel: str = "time per graph (s)") -> Figure:
    """Log-log time per graph against size, one line per method, with min–max bands."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    methods = list(dict.fromkeys(r[group] for r in records))
    for i, m in enumerate(methods):
        rows = sorted((r for r in records if r[group] == m), key=lambda r: r[x])
        xs = np.array([r[x] for r in rows])
        ys = np.array([r[y] for r in rows])
        ax.plot(xs, ys, "o-", color=PALETTE[i % 10], label=m)
        if "min" in rows[0] and "max" in rows[0]:
            ax.fill_between(xs, [r["min"] for r in rows], [r["max"] for r in rows], color=PALETTE[i % 10], alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_sampler_vs_reference(ours: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], label: str) -> Figure:
    """Our sampler's statistics against the CLRS reference graphs, as overlaid histograms."""
    keys = [("degree", "node degree"), ("weight", "edge weight"), ("hops", "hops from the source")]
    fig, axes = plt.subplots(1, len(keys), figsize=(13, 3.5))
    for ax, (k, xlabel) in zip(axes, keys):
        a, b = np.asarray(ours[k], float), np.asarray(ref[k], float)
        bins = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), 25)
        ax.hist(a, bins=bins, density=True, alpha=0.5, label=f"ours (n = {a.size} values)")
        ax.hist(b, bins=bins, density=True, histtype="step", linewidth=2, color="black",
                label=f"CLRS sampler (n = {b.size} values)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"Our ER sampler against CLRS's own Dijkstra sampler ({label})", fontsize=11)
    fig.tight_layout()
    return fig
