"""The regularization study (notebook 03)."""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE, _mean_std


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
    np.atleast_1d(axes)[-1].legend(fontsize=8, frameon=False, title="architecture", loc="center left",
                                   bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
