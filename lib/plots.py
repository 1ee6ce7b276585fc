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
    points elsewhere (the smoke runs of ``make test`` use a scratch folder). The figure is
    closed in pyplot, so a notebook cell that ends in ``fig`` shows it once, not twice.
    """
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=meta)
        paths.append(path)
    plt.close(fig)
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


def _mean_std(df, by, value):
    g = df.groupby(by)[value]
    return g.mean(), g.std(ddof=1).fillna(0.0)


def plot_learning_curves(runs) -> Figure:
    """Training loss and validation pointer accuracy against step; mean ± std over seeds."""
    import pandas as pd

    rows = []
    for r in runs:
        c = r.metrics["curve"]
        for s, loss, acc in zip(c["step"], c["train_loss"], c["val_pointer_accuracy"]):
            rows.append({"model": r.config.label, "seed": r.config.seed, "step": s, "loss": loss, "acc": acc})
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for i, model in enumerate(dict.fromkeys(df.model)):
        d = df[df.model == model]
        for ax, col in zip(axes, ("loss", "acc")):
            mean, std = _mean_std(d, "step", col)
            ax.plot(mean.index, mean.values, color=PALETTE[i % 10], label=model)
            ax.fill_between(mean.index, mean - std, mean + std, color=PALETTE[i % 10], alpha=0.15)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("training loss (pointer CE + distance)")
    axes[1].set_ylabel("validation pointer accuracy (n = 16)")
    for ax in axes:
        ax.set_xlabel("optimizer step")
    axes[1].legend(fontsize=8, frameon=False)
    fig.suptitle("Learning curves (mean ± std over seeds)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_accuracy_vs_size(results, shortcuts=None, sizes: Mapping[str, int] | None = None,
                          metric: str = "pointer_accuracy", title: str = "") -> Figure:
    """Metric against n on the ER test splits, one line per model, error bars over seeds."""
    sizes = sizes or {"test_16": 16, "test_32": 32, "test_64": 64, "test_128": 128}
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    df = results[results.split.isin(sizes)].assign(n=lambda d: d.split.map(sizes))
    for i, model in enumerate(dict.fromkeys(df.model)):
        mean, std = _mean_std(df[df.model == model], "n", metric)
        ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=PALETTE[i % 10],
                    label=model)
    if shortcuts is not None:
        sc = shortcuts[shortcuts.split.isin(sizes)].assign(n=lambda d: d.split.map(sizes))
        for j, name in enumerate(dict.fromkeys(sc.model)):
            s = sc[sc.model == name].sort_values("n")
            ax.plot(s.n, s[metric], ls=":", color="grey", marker="x", label=f"{name} (shortcut)")
    ax.axvspan(3.5, 16.5, color="green", alpha=0.06, label="training sizes")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes.values()), [str(v) for v in sizes.values()])
    ax.set_xlabel("number of nodes n (ER, p = 0.5)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1.02)
    ax.set_title(title or f"{metric.replace('_', ' ').capitalize()} in and out of distribution", fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_grouped_bars(results, splits: Sequence[str], metric: str = "pointer_accuracy", title: str = "",
                      xlabel: str = "graph family (n = 64)") -> Figure:
    """Grouped bars: splits on the x axis, one bar per model, error bars over seeds."""
    df = results[results.split.isin(splits)]
    models = list(dict.fromkeys(df.model))
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(splits) * max(1, len(models)) / 3), 4.2))
    width = 0.8 / max(1, len(models))
    x = np.arange(len(splits))
    for i, model in enumerate(models):
        mean, std = _mean_std(df[df.model == model], "split", metric)
        mean, std = mean.reindex(splits), std.reindex(splits)
        ax.bar(x + (i - (len(models) - 1) / 2) * width, mean.values, width, yerr=std.values, capsize=2,
               color=PALETTE[i % 10], label=model)
    ax.set_xticks(x, [s.rsplit("_", 1)[0] for s in splits])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, ncol=min(3, len(models)), loc="upper left", bbox_to_anchor=(0, -0.15))
    fig.tight_layout()
    return fig


def plot_hop_depth(per_seed, title: str = "") -> Figure:
    """Pointer accuracy against the true hop depth, mean ± std over seeds, with node counts."""
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    for i, model in enumerate(dict.fromkeys(per_seed.model)):
        mean, std = _mean_std(per_seed[per_seed.model == model], "depth", "accuracy")
        ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=PALETTE[i % 10],
                    label=model)
    ax.set_xlabel("hops from the source on the true shortest path")
    ax.set_ylabel("pointer accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_accuracy_vs_iterations(curves, metric: str = "pointer_accuracy", title: str = "",
                                xlabel: str = "test-time iterations") -> Figure:
    """One panel per split: metric against test-time iterations (log scale) for looped models,
    mean ± std over seeds; fixed-depth models as a horizontal band; the training count dashed."""
    splits = list(dict.fromkeys(curves.split))
    fig, axes = plt.subplots(1, len(splits), figsize=(3.6 * len(splits), 3.6), squeeze=False, sharey=True)
    models = list(dict.fromkeys(curves.model))
    for ax, split in zip(axes[0], splits):
        d = curves[curves.split == split]
        for i, model in enumerate(models):
            dm = d[d.model == model]
            color = PALETTE[i % 10]
            if dm.looped.iloc[0]:
                mean, std = _mean_std(dm, "iterations", metric)
                ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=color, label=model)
                ax.axvline(dm.trained_iterations.iloc[0], color=color, ls="--", lw=0.8, alpha=0.6)
            else:
                m, s = dm[metric].mean(), dm[metric].std(ddof=1) if len(dm) > 1 else 0.0
                ax.axhspan(m - s, m + s, color=color, alpha=0.2)
                ax.axhline(m, color=color, lw=1.5, label=f"{model} (fixed depth {dm.iterations.iloc[0]})")
        if d.iterations.min() > 0:
            ax.set_xscale("log", base=2)
        else:
            ax.set_xscale("symlog", base=2, linthresh=1)
        ax.set_xlabel(xlabel)
        ax.set_title(split, fontsize=10)
    axes[0][0].set_ylabel(metric.replace("_", " "))
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "Accuracy against test-time iterations (dashed: training count)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_cost_vs_iterations(costs) -> Figure:
    """FLOPs and wall time per graph against iterations, one line per (model, n)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for i, ((model, n), d) in enumerate(costs.groupby(["model", "n"], sort=False)):
        d = d.sort_values("iterations")
        for ax, col in zip(axes, ("MFLOPs per graph", "ms per graph")):
            ax.plot(d.iterations, d[col], marker="o", color=PALETTE[i % 10], label=f"{model}, n = {n}")
    for ax, col in zip(axes, ("counted MFLOPs per graph (matrix products)", "wall time per graph (ms, CPU)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("test-time iterations")
        ax.set_ylabel(col)
    axes[1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("What test-time iterations cost", fontsize=11)
    fig.tight_layout()
    return fig


def plot_energy_slices(slices: Mapping) -> Figure:
    """1-D slices of the energy through the truth (t = 0) along a random and an error
    direction, and the 2-D slice spanned by both as contours."""
    t, grid = slices["t"], slices["grid"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, e) in enumerate(slices["line"].items()):
        ax1.plot(t, e - e[len(t) // 2], color=PALETTE[i], label=f"{name} direction")
    ax1.axvline(0, color="black", lw=0.8, ls=":")
    ax1.set_xlabel("distance from the true solution along the direction (unit vector, step t)")
    ax1.set_ylabel("energy - energy at the truth")
    ax1.legend(fontsize=8, frameon=False)
    ax1.set_title("1-D slices", fontsize=10)
    cs = ax2.contourf(t, t, grid, levels=30, cmap="viridis")
    ax2.contour(t, t, grid, levels=10, colors="white", linewidths=0.4)
    ax2.scatter([0], [0], marker="*", color="red", s=120, label="truth")
    fig.colorbar(cs, ax=ax2, label="energy")
    ax2.set_xlabel("error direction")
    ax2.set_ylabel("random direction")
    ax2.legend(fontsize=8, frameon=False, loc="upper right")
    ax2.set_title("2-D slice", fontsize=10)
    g = slices["graph"]
    fig.suptitle(f"The learned landscape around the truth ({g.name}, n = {g.num_nodes})", fontsize=11)
    fig.tight_layout()
    return fig


def plot_energy_vs_error(scores) -> Figure:
    """Energy against the true error of each candidate (distance error, wrong pointers) and
    against the exact verifier's violation count, one colour per split."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9))
    cols = [("distance_error", "mean |y - d| over reachable nodes"), ("wrong_pointers", "wrong pointers (decoded)"),
            ("violations", "exact verifier: nodes violating Bellman")]
    for i, split in enumerate(dict.fromkeys(scores.split)):
        d = scores[scores.split == split]
        for ax, (col, label) in zip(axes, cols):
            jitter = 0.15 * np.random.default_rng(0).standard_normal(len(d)) if col != "distance_error" else 0
            ax.scatter(d[col] + jitter, d.energy, s=10, alpha=0.5, color=PALETTE[i % 10], label=split)
            ax.set_xlabel(label)
    axes[0].set_xscale("symlog", linthresh=1e-3)
    axes[0].set_ylabel("learned energy")
    axes[-1].legend(fontsize=8, frameon=False, markerscale=2)
    fig.suptitle("Is the learned energy a verifier? Energy against the true error of each candidate", fontsize=11)
    fig.tight_layout()
    return fig


def plot_regularizer_strength(curves, metric: str = "gap_ood64",
                              ylabel: str = "generalization gap: train - OOD (n = 64) accuracy") -> Figure:
    """One panel per regularizer: the metric against its strength, tied vs untied, mean ± std."""
    regs = list(dict.fromkeys(curves.regularizer))
    fig, axes = plt.subplots(1, len(regs), figsize=(3.4 * len(regs), 3.6), sharey=True, squeeze=False)
    for ax, reg in zip(axes[0], regs):
        d = curves[curves.regularizer == reg]
        for i, arch in enumerate(dict.fromkeys(d.architecture)):
            mean, std = _mean_std(d[d.architecture == arch], "strength", metric)
            ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=PALETTE[i], label=arch)
        ax.set_xlabel("strength" if reg != "early stopping" else "early stopping (0 off, 1 on)")
        ax.set_title(reg, fontsize=10)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=8, frameon=False)
    fig.suptitle("Explicit regularizers: the generalization gap against strength (mean ± std over seeds)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_ood_vs(results, xs=(("param_norm", "parameter norm"), ("sharpness", "sharpness (loss rise, rho = 0.05)")),
                y: str = "ood64_acc") -> Figure:
    """OOD accuracy against parameter norm and against sharpness, one point per run."""
    fig, axes = plt.subplots(1, len(xs), figsize=(6 * len(xs), 4))
    groups = list(dict.fromkeys(results.config.str.split(" + ").str[0]))
    for ax, (col, label) in zip(np.atleast_1d(axes), xs):
        for i, g in enumerate(groups):
            d = results[results.config.str.split(" + ").str[0] == g]
            ax.scatter(d[col], d[y], s=16, alpha=0.7, color=PALETTE[i % 10], label=g)
        r = np.corrcoef(results[col], results[y])[0, 1]
        ax.set_xlabel(label)
        ax.set_ylabel("pointer accuracy at n = 64 (OOD)")
        ax.set_title(f"Pearson r = {r:+.2f} over all runs", fontsize=10)
    np.atleast_1d(axes)[-1].legend(fontsize=8, frameon=False, title="architecture")
    fig.tight_layout()
    return fig


def plot_compute_matched(df, title: str = "") -> Figure:
    """Accuracy against counted FLOPs per graph (log), one line per approach, one panel per split.
    Points at zero FLOPs (a random start, decoded) cannot sit on the log axis and are left out."""
    df = df[df.flops > 0]
    splits = list(dict.fromkeys(df.split))
    fig, axes = plt.subplots(1, len(splits), figsize=(3.8 * len(splits), 3.8), squeeze=False, sharey=True)
    for ax, split in zip(axes[0], splits):
        d = df[df.split == split]
        for i, name in enumerate(dict.fromkeys(d.approach)):
            a = d[d.approach == name]
            g = a.groupby("budget").agg(flops=("flops", "mean"), acc=("pointer_accuracy", "mean"),
                                        std=("pointer_accuracy", "std")).sort_values("flops")
            ax.errorbar(g.flops, g.acc, yerr=g["std"].fillna(0), marker="o", capsize=2, color=PALETTE[i % 10],
                        label=name)
        ax.set_xscale("log")
        ax.set_xlabel("counted FLOPs per graph")
        ax.set_title(split, fontsize=10)
    axes[0][0].set_ylabel("pointer accuracy")
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "Compute-matched: accuracy against test-time FLOPs per graph (mean ± std over seeds; "
                          "the random start itself, at 0 FLOPs, is not drawn)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def plot_asymmetry(df) -> Figure:
    """Against training-set size: generator accuracy, verifier discrimination, verifier + search
    accuracy; one panel per split, mean ± std over seeds."""
    splits = list(dict.fromkeys(df.split))
    cols = ["generator accuracy", "verifier paired rate", "verifier AUC", "verifier + search accuracy"]
    fig, axes = plt.subplots(1, len(splits), figsize=(3.8 * len(splits), 3.8), squeeze=False, sharey=True)
    for ax, split in zip(axes[0], splits):
        d = df[df.split == split]
        for i, col in enumerate(cols):
            mean, std = _mean_std(d, "train graphs", col)
            ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=PALETTE[i], label=col)
        ax.set_xscale("log")
        ax.set_xlabel("training graphs (the same for both)")
        ax.set_title(split, fontsize=10)
    axes[0][0].set_ylim(0, 1.02)
    axes[0][0].set_ylabel("accuracy / AUC / rate")
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Is verifying easier to learn? Generator and verifier trained on the same graphs", fontsize=11)
    fig.tight_layout()
    return fig
