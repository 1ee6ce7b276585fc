"""Energy landscapes and search at test time (notebooks 04, 05)."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE, _mean_std, log_axis_with_zero


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


def plot_energy_vs_error(scores, title: str = "") -> Figure:
    """Energy against the true error of each candidate (distance error, wrong pointers) and
    against the exact verifier's violation count, one colour per split. ``title`` should say
    which energy and which candidates are shown."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9), sharey=True)
    cols = [("distance_error", "mean |y - d| over reachable nodes"), ("wrong_pointers", "wrong pointers (decoded)"),
            ("violations", "exact verifier: nodes violating Bellman")]
    zero_at = log_axis_with_zero(axes[0], scores.distance_error.to_numpy())
    for i, split in enumerate(dict.fromkeys(scores.split)):
        d = scores[scores.split == split]
        for ax, (col, label) in zip(axes, cols):
            x = d[col].to_numpy(dtype=float)
            if col == "distance_error":
                x = np.where(x > 0, x, zero_at)  # the exact answer: drawn left of the dotted line
            else:
                x = x + 0.15 * np.random.default_rng(0).standard_normal(len(d))
            ax.scatter(x, d.energy, s=10, alpha=0.5, color=PALETTE[i % 10], label=split)
            ax.set_xlabel(label)
    axes[0].set_xlabel(cols[0][1] + " (left of the dotted line: 0)")
    axes[0].set_ylabel("learned energy")
    axes[-1].legend(fontsize=8, frameon=False, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "Is the learned energy a verifier? Energy against the true error of each candidate",
                 fontsize=11)
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
