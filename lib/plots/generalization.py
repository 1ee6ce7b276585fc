"""Learning and generalization: accuracy against size, family, hop depth and iterations (notebooks 01, 02)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .figures import PALETTE, _mean_std, log_axis_with_zero

#: The no-learning shortcut solvers, drawn hatched beside the trained models.
SHORTCUTS = ("min_hop", "nearest")


def plot_learning_curves(runs) -> Figure:
    """Training loss and validation pointer accuracy against step; mean ± std over seeds."""
    import pandas as pd

    rows = []
    for r in runs:
        c = r.metrics["curve"]
        for s, loss, acc in zip(c["step"], c["train_loss"], c["val_pointer_accuracy"]):
            rows.append({"model": r.config.label, "seed": r.config.seed, "step": s, "loss": loss, "acc": acc})
    return plot_training_curves(pd.DataFrame(rows), "training loss (pointer CE + distance)",
                                "validation pointer accuracy (n = 16)")


def plot_training_curves(df, loss_label: str = "training loss", acc_label: str = "validation accuracy",
                         title: str = "Learning curves (mean ± std over seeds)") -> Figure:
    """``df`` (model, seed, step, loss, acc): loss (log) and validation accuracy against step,
    one line per model, mean ± std over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for i, model in enumerate(dict.fromkeys(df.model)):
        d = df[df.model == model]
        for ax, col in zip(axes, ("loss", "acc")):
            mean, std = _mean_std(d, "step", col)
            ax.plot(mean.index, mean.values, color=PALETTE[i % 10], label=model)
            ax.fill_between(mean.index, mean - std, mean + std, color=PALETTE[i % 10], alpha=0.15)
    axes[0].set_yscale("log")
    axes[0].set_ylabel(loss_label)
    axes[1].set_ylabel(acc_label)
    for ax in axes:
        ax.set_xlabel("optimizer step")
    axes[1].legend(fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
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
        shortcut = model in SHORTCUTS
        ax.bar(x + (i - (len(models) - 1) / 2) * width, mean.values, width, yerr=std.values, capsize=2,
               color="white" if shortcut else PALETTE[i % 10], edgecolor="0.3" if shortcut else None,
               hatch="///" if shortcut else None, label=f"{model} (shortcut)" if shortcut else model)
    ax.set_xticks(x, [s.rsplit("_", 1)[0] for s in splits])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, ncol=min(3, len(models)), loc="upper left", bbox_to_anchor=(0, -0.15))
    fig.tight_layout()
    return fig


def plot_accuracy_vs_depth(results, shortcuts, depth_stats, metric: str = "pointer_accuracy",
                           title: str = "") -> Figure:
    """One panel per fixed-degree family: metric against the split's mean hop depth (log axis),
    one line per model (mean ± std over seeds), the shortcut solvers dotted; each tick gives the
    split's n. ``depth_stats`` is `baselines.depth_statistics` (index: split)."""
    stats = depth_stats.reset_index()
    families = list(dict.fromkeys(stats.family))
    fig, axes = plt.subplots(1, len(families), figsize=(4.0 * len(families), 3.8), squeeze=False, sharey=True)
    models = list(dict.fromkeys(results.model))
    for ax, family in zip(axes[0], families):
        fs = stats[stats.family == family].set_index("split")
        for i, model in enumerate(models):
            d = results[(results.model == model) & results.split.isin(fs.index)]
            if d.empty:
                continue
            mean, std = _mean_std(d, "split", metric)
            ax.errorbar(fs.loc[mean.index, "mean hop depth"], mean.values, yerr=std.values, marker="o", capsize=3,
                        color=PALETTE[i % 10], label=model)
        for j, name in enumerate(dict.fromkeys(shortcuts.model)):
            sc = shortcuts[(shortcuts.model == name) & shortcuts.split.isin(fs.index)].set_index("split")
            ax.plot(fs.loc[sc.index, "mean hop depth"], sc[metric], ls=":", marker="x", color=f"{0.35 + 0.3 * j}",
                    label=f"{name} (shortcut)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(fs["mean hop depth"], [f"{d:.1f}\nn={n:.0f}" for d, n in zip(fs["mean hop depth"], fs.n)],
                      fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("mean hop depth (log axis; n below)")
        low, high = fs["mean degree"].min(), fs["mean degree"].max()
        ax.set_title(f"{family}: mean degree {low:.1f} to {high:.1f}", fontsize=10)
    axes[0][0].set_ylabel(metric.replace("_", " "))
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or f"{metric.replace('_', ' ').capitalize()} against the hop depth of the shortest paths, "
                 "at nearly fixed degree (mean ± std over seeds)", fontsize=11)
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
    """One panel per split: metric against test-time iterations (log scale; a budget of 0 is drawn
    as its own marker left of the dotted line) for looped models, mean ± std over seeds;
    fixed-depth models as a horizontal band; each model's training count as a dashed line."""
    splits = list(dict.fromkeys(curves.split))
    fig, axes = plt.subplots(1, len(splits), figsize=(3.6 * len(splits), 3.6), squeeze=False, sharey=True)
    models = list(dict.fromkeys(curves.model))
    budgets = np.array(sorted(set(curves[curves.looped].iterations))) if curves.looped.any() else np.array([1])
    for ax, split in zip(axes[0], splits):
        d = curves[curves.split == split]
        zero_at = log_axis_with_zero(ax, budgets, base=2) if (budgets == 0).any() else None
        if zero_at is None:
            ax.set_xscale("log", base=2)
        for i, model in enumerate(models):
            dm = d[d.model == model]
            color = PALETTE[i % 10]
            if dm.looped.iloc[0]:
                mean, std = _mean_std(dm, "iterations", metric)
                pos = mean.index > 0
                ax.errorbar(mean.index[pos], mean.values[pos], yerr=std.values[pos], marker="o", capsize=3,
                            color=color, label=model)
                if zero_at is not None and (~pos).any():
                    ax.errorbar([zero_at], mean.values[~pos], yerr=std.values[~pos], marker="o", mfc="white",
                                capsize=3, color=color, ls="none")
                t = int(dm.trained_iterations.iloc[0])
                ax.axvline(t, color=color, ls="--", lw=0.8, alpha=0.6, label=f"{model}: trained at {t}")
            else:
                m, s = dm[metric].mean(), dm[metric].std(ddof=1) if len(dm) > 1 else 0.0
                ax.axhspan(m - s, m + s, color=color, alpha=0.2)
                ax.axhline(m, color=color, lw=1.5, label=f"{model} (fixed depth {dm.iterations.iloc[0]})")
        ticks = [b for b in budgets if b > 0]
        ax.set_xticks(([zero_at] if zero_at is not None else []) + ticks)
        ax.set_xticklabels((["0"] if zero_at is not None else []) + [f"{b:g}" for b in ticks], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_title(split, fontsize=10)
    axes[0][0].set_ylabel(metric.replace("_", " "))
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "Accuracy against test-time iterations (dashed: each model's training count)", fontsize=11)
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
