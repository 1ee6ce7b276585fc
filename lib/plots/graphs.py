"""Drawing graphs and shortest-path trees (notebook 00, the widgets)."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..graphs import Graph


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
