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
