"""The decisive experiment (notebook 05): exact match against n per family and route, search rounds
against hop depth, and wall time per graph against n beside the exact Dijkstra."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .figures import PALETTE

_STYLE = {"aligned": "-", "generic": "--", "none": ":"}


def _series(df):
    """(route, prior) pairs in a stable order, each with its colour and line style."""
    pairs = list(dict.fromkeys(zip(df.route, df.prior)))
    routes = list(dict.fromkeys(r for r, _ in pairs))
    return [(r, p, PALETTE[routes.index(r) % 10], _STYLE.get(p, "-")) for r, p in pairs]


MAIN_ROUTES = ("imitation", "verifier_far", "verifier_generator", "checker_far", "shortcut_min_hop")


def plot_exact_vs_n(df, labels: dict, title: str = "", routes=MAIN_ROUTES) -> Figure:
    """One panel per family: exact match (with its Wilson 95% interval as a band) against n, on a
    log n axis; colour = route, line style = prior (solid aligned, dashed generic, dotted checker).
    A family of one size (the real graphs) gets its routes side by side with interval bars.
    The random starts, which fail everywhere, are left to the tables."""
    df = df[df.route.isin(routes)]
    families = list(dict.fromkeys(df.family))
    cols = min(3, len(families))
    rows = -(-len(families) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows + 1.6), sharey=True, squeeze=False)
    for ax in axes.ravel()[len(families):]:
        ax.set_visible(False)
    for ax, fam in zip(axes.ravel(), families):
        d = df[df.family == fam]
        series = list(_series(d))
        single = d.n.nunique() == 1  # one size (the real graphs): spread the routes apart, bars for intervals
        for k, (route, prior, color, ls) in enumerate(series):
            s = d[(d.route == route) & (d.prior == prior)].sort_values("n")
            label = f"{labels[route]} [{prior}]"
            if single:
                x = s.n * 1.05 ** (k - (len(series) - 1) / 2)
                ax.errorbar(x, 100 * s.exact_match, yerr=100 * np.clip([s.exact_match - s.low, s.high - s.exact_match], 0, None),
                            marker="o", ms=3, color=color, ls="none", capsize=2, label=label)
                continue
            ax.plot(s.n, 100 * s.exact_match, ls=ls, marker="o", ms=3, color=color, label=label)
            ax.fill_between(s.n, 100 * s.low, 100 * s.high, color=color, alpha=0.12, lw=0)
        ax.set_xscale("log")
        ns = sorted(set(d.n))
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(ns[0] / 1.4, ns[-1] * 1.4)
        ax.set_title(f"{fam} (one size: routes side by side, in legend order)" if single else fam, fontsize=10)
        ax.set_xlabel("nodes n (log scale)")
    for ax in axes[:, 0]:
        ax.set_ylabel("graphs fully correct (%)\nband: 95% Wilson interval")
    axes[0][0].set_ylim(-3, 103)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, frameon=False, loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, (0.3 + 0.2 * ((len(names) + 1) // 2)) / fig.get_figheight(), 1, 1))
    return fig


def plot_rounds_vs_depth(df, labels: dict, title: str = "") -> Figure:
    """Search rounds each graph used against its deepest shortest-path hop count (one point per graph,
    seeds pooled), with rounds = hop depth for reference."""
    fig, ax = plt.subplots(figsize=(8.4, 4.2))
    for i, (route, prior) in enumerate(dict.fromkeys(zip(df.route, df.prior))):
        d = df[(df.route == route) & (df.prior == prior)]
        ax.scatter(d.depth, d.rounds, s=10, alpha=0.5, color=PALETTE[i % 10], label=f"{labels[route]} [{prior}]")
    top = float(max(df.depth.max(), 1))
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1, label="rounds = hop depth")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("deepest shortest-path hop count of the graph")
    ax.set_ylabel("search rounds used (cap: n)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_seconds_vs_n(df, dijkstra, labels: dict, title: str = "", routes=MAIN_ROUTES) -> Figure:
    """Wall time per graph against n on log-log axes, one line per (route, prior), pooled over
    families at each n, with the exact Dijkstra (SciPy) beside them and each line's fitted slope."""
    return _cost_vs_n(df[df.route.isin(routes)], "seconds_per_graph", dijkstra, "exact Dijkstra (SciPy)",
                      labels, "wall seconds per graph (log scale)", title)


def plot_flops_vs_n(flops, labels: dict, title: str = "") -> Figure:
    """Counted FLOPs per graph against n (log-log), one line per (route, prior), seeds and families
    pooled at each n, with Dijkstra's operation count E + n log2 n as a reference line."""
    routes = flops[flops.route != "dijkstra"]
    mean = routes.groupby(["split", "route", "prior"], sort=False).agg(n=("n", "first"),
                                                                      flops_per_graph=("flops_per_graph", "mean"))
    dijkstra = flops[flops.route == "dijkstra"]
    return _cost_vs_n(mean.reset_index(), "flops_per_graph", dijkstra, "exact Dijkstra: E + n log2 n operations",
                      labels, "counted FLOPs per graph (log scale)", title)


def _cost_vs_n(df, column: str, reference, reference_label: str, labels: dict, ylabel: str, title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(11, 4.6))
    for route, prior, color, ls in _series(df):
        s = df[(df.route == route) & (df.prior == prior)].groupby("n")[column].mean().dropna()
        slope = np.polyfit(np.log(s.index), np.log(s.values), 1)[0] if len(s) > 1 else np.nan
        ax.plot(s.index, s.values, ls=ls, marker="o", ms=3, color=color,
                label=f"{labels[route]} [{prior}], slope {slope:.2f}")
    d = reference.groupby("n")[column].mean()
    slope = np.polyfit(np.log(d.index), np.log(d.values), 1)[0]
    ax.plot(d.index, d.values, color="black", lw=2, marker="s", ms=3, label=f"{reference_label}, slope {slope:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("nodes n (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_exact_vs_flops(curves, labels: dict, title: str = "") -> Figure:
    """One panel per (split, prior): exact match (seeds pooled, 95% Wilson band) against counted FLOPs
    per graph (log axis) as each learned route gets more compute: the generator's iterations, the
    search's rounds (``curves``: `decisive_anytime.pooled`). The grey span is the FLOP range both share."""
    panels = list(dict.fromkeys(zip(curves.split, curves.prior)))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.2), squeeze=False, sharey=True)
    routes = list(dict.fromkeys(curves.route))
    for ax, (split, prior) in zip(axes[0], panels):
        d = curves[(curves.split == split) & (curves.prior == prior)]
        for k, route in enumerate(routes):
            r = d[d.route == route].sort_values("budget")
            budget = "T iterations" if route == "imitation" else "r rounds"
            ax.plot(r.flops_per_graph, 100 * r.exact_match, marker="o", ms=3.5, color=PALETTE[k],
                    label=f"{labels[route]} ({budget})")
            ax.fill_between(r.flops_per_graph, 100 * r.low, 100 * r.high, color=PALETTE[k], alpha=0.15, lw=0)
        ranges = [d[d.route == route].flops_per_graph for route in routes]
        lo, hi = max(x.min() for x in ranges), min(x.max() for x in ranges)
        if lo < hi:
            ax.axvspan(lo, hi, color="0.5", alpha=0.1, lw=0, label="FLOP range both cover")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("counted FLOPs per graph (log scale)")
        ax.set_title(f"{split}, {prior} prior ({int(d.graphs.max())} graphs, seeds pooled)", fontsize=10)
    axes[0][0].set_ylabel("graphs fully correct (%)\nband: 95% Wilson interval")
    axes[0][0].set_ylim(-3, 103)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, frameon=False, loc="lower center", ncol=len(names))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
