"""The regularization study (notebook 03)."""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE, _mean_std


def plot_regularizer_strength(curves, metric: str = "gap_ood",
                              ylabel: str = "generalization gap: train - mean OOD accuracy") -> Figure:
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
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Explicit regularizers: the generalization gap against strength (mean ± std over seeds)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_ood_vs(results, xs=(("param_norm", "parameter norm"), ("sharpness", "sharpness (loss rise, rho = 0.05)")),
                y: str = "ood_acc", ylabel: str = "mean OOD pointer accuracy") -> Figure:
    """OOD accuracy against parameter norm and against sharpness, one point per run, coloured by
    architecture; each panel's title gives every architecture's own Pearson r (norms differ by
    design between architectures, so no r is pooled across them)."""
    fig, axes = plt.subplots(1, len(xs), figsize=(6 * len(xs), 4))
    family = results.config.map(lambda name: name.split(" + ")[0].replace("+progressive", ""))
    groups = list(dict.fromkeys(family))
    for ax, (col, label) in zip(np.atleast_1d(axes), xs):
        rs = []
        for i, g in enumerate(groups):
            d = results[family == g]
            ax.scatter(d[col], d[y], s=16, alpha=0.7, color=PALETTE[i % 10], label=f"{g} ({len(d)} runs)")
            rs.append(f"{g} {np.corrcoef(d[col], d[y])[0, 1]:+.2f}" if len(d) > 2 else f"{g} —")
        ax.set_xlabel(label)
        ax.set_ylabel(ylabel)
        ax.set_title("Pearson r within each architecture:\n" + ", ".join(rs), fontsize=9)
    np.atleast_1d(axes)[-1].legend(fontsize=8, frameon=False, title="architecture", loc="center left",
                                   bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_accuracy_vs_flops(points, metric: str = "pointer_accuracy", ylabel: str = "pointer accuracy") -> Figure:
    """One panel per split: the metric against counted FLOPs per graph (log), mean ± std over
    seeds; the tied model as a line over its test-time iterations, each untied model as a point
    at its fixed depth, and the exact Dijkstra's operation count as a dotted line."""
    splits = list(dict.fromkeys(points.split))
    fig, axes = plt.subplots(1, len(splits), figsize=(3.6 * len(splits), 3.8), squeeze=False, sharey=True)
    configs = [c for c in dict.fromkeys(points.config) if not c.startswith("Dijkstra")]
    for ax, split in zip(axes[0], splits):
        d = points[points.split == split]
        for i, name in enumerate(configs):
            dc = d[d.config == name]
            g = dc.groupby("flops")[metric]
            mean, std = g.mean(), g.std(ddof=1).fillna(0.0)
            params = int(dc.parameters.iloc[0])
            label = f"{name} ({params / 1e3:.0f}k params)"
            if dc.iterations.notna().any():
                ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, color=PALETTE[i],
                            label=label + ", T = " + ", ".join(str(int(t)) for t in sorted(set(dc.iterations))))
            else:
                ax.errorbar(mean.index, mean.values, yerr=std.values, marker="s", ms=7, capsize=3, ls="none",
                            color=PALETTE[i], label=label)
        dij = d[d.config.str.startswith("Dijkstra")]
        if len(dij):
            ax.axvline(float(dij.flops.iloc[0]), color="black", ls=":", lw=1.2,
                       label="exact Dijkstra: E + n log2 n operations")
        ax.set_xscale("log")
        ax.set_xlabel("counted FLOPs per graph")
        ax.set_title(split, fontsize=10)
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Compute-matched: accuracy against FLOPs per graph on the same graphs (mean ± std over seeds)",
                 fontsize=11)
    fig.tight_layout()
    return fig
