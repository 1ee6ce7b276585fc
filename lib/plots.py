"""Figures for the report. Every function returns a `matplotlib.figure.Figure`;
`save_figure` writes it to ``figures/`` (or ``$LAB_FIGURES_DIR``) as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .graphs import Graph
from .paths import figures_dir

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "dijkstra-lab"})

#: One colour per graph family / model, so figures agree with each other.
PALETTE = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def save_figure(fig: Figure, name: str, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``<figures>/<name>.<fmt>`` and return the paths.

    The figures folder is ``figures/`` at the repository root unless ``LAB_FIGURES_DIR``
    points elsewhere (the smoke runs of ``make test`` use a scratch folder).
    """
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=meta)
        paths.append(path)
    return paths


def graph_layout(graph: Graph, seed: int = 0) -> dict[int, np.ndarray]:
    """Node positions: the family's own geometry where it has one, else a spring layout."""
    import networkx as nx

    if "pos" in graph.meta:
        return {i: p for i, p in enumerate(np.asarray(graph.meta["pos"]))}
    if "cols" in graph.meta:
        cols = graph.meta["cols"]
        return {i: np.array([i % cols, -(i // cols)], float) for i in range(graph.num_nodes)}
    G = graph.to_networkx().to_undirected()
    return nx.spring_layout(G, seed=seed, weight=None)


def draw_graph(graph: Graph, pi: np.ndarray | None = None, ax=None, wrong: np.ndarray | None = None,
               pos=None, title: str | None = None, node_size: float = 60):
    """Draw a graph with its pointer tree ``pi`` highlighted.

    Grey lines are edges; dark arrows are the pointers ``pi[v] -> v``; the source is a
    star. Nodes flagged in ``wrong`` (bool [n]) are drawn red with a red pointer.
    """
    import networkx as nx

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    pos = graph_layout(graph) if pos is None else pos
    und = [(int(u), int(v)) for u, v in zip(graph.senders, graph.receivers) if u < v]
    nx.draw_networkx_edges(nx.Graph(und), pos, ax=ax, edge_color="#bbbbbb", width=0.8)
    colors = np.array(["#4c72b0"] * graph.num_nodes, dtype=object)
    if pi is not None:
        tree, bad_tree = [], []
        for v, u in enumerate(np.asarray(pi).tolist()):
            if u != v:
                (bad_tree if wrong is not None and wrong[v] else tree).append((u, v))
        G = nx.DiGraph()
        G.add_nodes_from(range(graph.num_nodes))
        nx.draw_networkx_edges(G, pos, edgelist=tree, ax=ax, edge_color="#222222", width=1.6,
                               arrows=True, arrowsize=8, node_size=node_size)
        if bad_tree:
            nx.draw_networkx_edges(G, pos, edgelist=bad_tree, ax=ax, edge_color="#d62728", width=1.8,
                                   arrows=True, arrowsize=9, node_size=node_size)
    if wrong is not None:
        colors[np.asarray(wrong, bool)] = "#d62728"
    others = [i for i in range(graph.num_nodes) if i != graph.source]
    xy = np.array([pos[i] for i in range(graph.num_nodes)])
    ax.scatter(xy[others, 0], xy[others, 1], s=node_size, c=list(colors[others]), zorder=3, edgecolors="white")
    ax.scatter(*xy[graph.source], s=node_size * 3.5, c="#f0a202", marker="*", zorder=4, edgecolors="black",
               linewidths=0.6, label="source")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_graph_gallery(graphs: Sequence[Graph], pis: Sequence[np.ndarray], titles: Sequence[str],
                       ncols: int = 3) -> Figure:
    """A grid of graphs, each with its shortest-path tree drawn."""
    nrows = int(np.ceil(len(graphs) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.6 * nrows), squeeze=False)
    for ax, g, pi, t in zip(axes.flat, graphs, pis, titles):
        draw_graph(g, pi, ax=ax, title=t, node_size=40 if g.num_nodes > 40 else 60)
    for ax in list(axes.flat)[len(graphs):]:
        ax.set_axis_off()
    fig.suptitle("Shortest-path trees (arrows: predecessor pointers pi[v] -> v; orange star: source; "
                 "grey: edges)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_distribution_shift(stats: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Histograms of degree, hop depth and distance for each split (one colour per split).

    ``stats[split]`` has arrays ``degree``, ``hops`` and ``dist`` (see
    `lib.stats.graph_statistics`).
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
