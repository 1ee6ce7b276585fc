"""Notebook 03's tests of the regularization reading, on the measurements of `regularization`.

Seed s of every configuration trains on the same graphs, so two arms are compared by a paired
t-test over seeds. Settings are chosen on the in-distribution validation split, never on a test
split; an arm whose runs equal its base's in every seed (early stopping that kept the final
checkpoint) is named and not counted as a setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import pct_wilson
from ..statistics import correlation, mean_ci, paired, verdict

#: The columns that `summary_table` shows, with their scale (accuracies in percent).
SUMMARY = {"train_acc": 100, "val_acc": 100, "id_acc": 100, "ood_acc": 100, "gap_ood": 100, "param_norm": 1,
           "sharpness": 1}


def by_seed(results: pd.DataFrame, metric: str) -> dict[str, pd.Series]:
    """Configuration -> its ``metric`` per seed."""
    return {name: d.set_index("seed")[metric] for name, d in results.groupby("config", sort=False)}


def paired_test(results: pd.DataFrame, a: str, b: str, metric: str = "ood_acc") -> dict:
    """`paired` test of configuration ``a`` against ``b`` over the seeds both have."""
    s = by_seed(results, metric)
    seeds = s[a].index.intersection(s[b].index)
    return paired(s[a][seeds].to_numpy(), s[b][seeds].to_numpy())


def base_of(name: str) -> str:
    """The configuration a regularized one modifies: "untied + dropout 0.1" -> "untied"."""
    return name.split(" + ")[0]


def unchanged(results: pd.DataFrame) -> list[str]:
    """Regularized configurations whose every measurement equals their base's in every seed."""
    cols = [c for c in results.columns if c.endswith(("_acc", "_exact"))]
    out = []
    for name, d in results.groupby("config", sort=False):
        base = results[results.config == base_of(name)]
        if " + " in name and len(base) == len(d) and np.array_equal(
                d.sort_values("seed")[cols].to_numpy(), base.sort_values("seed")[cols].to_numpy()):
            out.append(name)
    return out


def settings(results: pd.DataFrame, arch: str) -> list[str]:
    """The regularized settings of ``arch`` that changed something."""
    same = set(unchanged(results))
    return [n for n in dict.fromkeys(results.config) if base_of(n) == arch and " + " in n and n not in same]


def best_on_validation(results: pd.DataFrame, arch: str = "untied") -> str:
    """``arch`` or one of its regularized settings: the best mean validation accuracy (ties: the plainer)."""
    names = [arch, *settings(results, arch)]
    val = results.groupby("config").val_acc.mean()
    return max(names, key=lambda n: (round(float(val[n]), 12), -names.index(n)))


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Configuration -> parameters, FLOPs per graph, seeds, and mean ± 95% CI half-width over seeds of
    the training, validation, in-distribution and mean OOD accuracy, the gap, norm and sharpness."""
    out = {}
    for name, d in results.groupby("config", sort=False):
        row = {"parameters": int(d.parameters.iloc[0]), "MFLOPs/graph": f"{d.flops.iloc[0] / 1e6:.2f}",
               "seeds": len(d)}
        for col, scale in SUMMARY.items():
            m, h = mean_ci(scale * d[col])
            row[col] = f"{m:.1f} ± {h:.1f}" if scale == 100 else f"{m:.3g} ± {h:.2g}"
        out[name] = row
    return pd.DataFrame(out).T


def split_table(results: pd.DataFrame, kind: str = "acc") -> pd.DataFrame:
    """Configuration × split (ID and each OOD split): pointer accuracy (``kind="acc"``) as mean ±
    95% CI half-width over seeds, or exact match (``"exact"``) pooled over seeds × graphs with its
    95% Wilson interval. Column headers give the graphs per seed. Rows with one seed (the
    no-learning shortcuts of `regularization.shortcut_results`) show their value alone."""
    cols = [c[: -len(kind) - 1] for c in results.columns if c.endswith(f"_{kind}") and c.startswith(("id_", "ood:"))]

    def cell(v: pd.Series, graphs: pd.Series) -> str:
        if kind == "exact":
            return pct_wilson(v, graphs)
        m, h = mean_ci(100 * v)
        return f"{m:.1f} ± {h:.1f}" if len(v) > 1 else f"{m:.1f}"

    table = {name: {c: cell(d[f"{c}_{kind}"], d.graphs) for c in cols} for name, d in results.groupby("config", sort=False)}
    n = int(results.graphs.iloc[0])
    names = {c: ("in distribution" if c == "id" else c[4:]) + f" ({n} graphs)" for c in cols}
    return pd.DataFrame(table).T.rename(columns=names)


def comparisons(results: pd.DataFrame, metric: str = "ood_acc") -> list[str]:
    """The study's comparisons, one sentence each: paired difference over seeds, its 95% CI and p."""
    names = list(dict.fromkeys(results.config))
    pairs = [("tied", "untied", "tied vs untied at matched compute (6 rounds)"),
             ("tied", "untied shallow", "tied vs shallow untied at matched parameters"),
             ("tied+progressive", "tied", "progressive loss vs fixed-T training (tied)")]
    for arch in ("tied", "untied"):
        pairs += [(n, arch, f"{n} vs {arch}") for n in settings(results, arch)]
    out = [verdict(paired_test(results, a, b, metric), f"{what} [{metric}]", test="paired")
           for a, b, what in pairs if a in names and b in names and (results.config == a).sum() > 1]
    out += [f"{n}: equal to {base_of(n)} in every seed (nothing changed), not counted as a setting."
            for n in unchanged(results)]
    return out


def proxy_correlations(results: pd.DataFrame, metric: str = "ood_acc") -> pd.DataFrame:
    """Within each architecture (its plain and regularized runs; tied includes the progressive loss):
    Pearson r of ``metric`` with parameter norm and with sharpness, its 95% Fisher-z interval
    (``low``, ``high``) and the number of runs; one row per (architecture, proxy)."""
    rows = []
    family_of = results.config.map(lambda n: base_of(n).split("+")[0])
    for family in ("tied", "untied"):
        d = results[family_of == family]
        if len(d) >= 4:
            rows += [{"architecture": family, "proxy": proxy, **correlation(d[proxy], d[metric])}
                     for proxy in ("param_norm", "sharpness")]
    return pd.DataFrame(rows, columns=["architecture", "proxy", "r", "low", "high", "n"])


def say(r: dict) -> str:
    """A paired difference in points with its 95% CI and p, for a sentence."""
    low, high = 100 * (r["diff"] - r["ci"]), 100 * (r["diff"] + r["ci"])
    return f"{100 * r['diff']:+.1f} points (95% CI {low:+.1f} to {high:+.1f}; paired p = {r['p']:.3f})"


def conclusion(results: pd.DataFrame, alpha: float = 0.05, metric: str = "ood_acc") -> str:
    """The study's answer, every number computed from ``results``.

    The regularization reading predicts that tying changes OOD accuracy at matched compute the way
    an explicit regularizer does: the recurrent model's advantage should vanish once the untied
    model gets its best regularizer (chosen on validation), and OOD accuracy should track the usual
    proxies within an architecture. Each is tested in turn."""
    tied, shallow = paired_test(results, "tied", "untied", metric), paired_test(results, "tied", "untied shallow", metric)
    lines = [(f"Tying: at matched compute the tied model's mean OOD accuracy differs from the untied one's by "
              f"{say(tied)}; from the shallow untied model with about its parameters by {say(shallow)}.")]
    best = best_on_validation(results, "untied")
    gap = paired_test(results, "tied", best, metric)
    if tied["p"] >= alpha:
        lines.append("Tying has no significant effect on OOD accuracy at matched compute, so there is no recurrent "
                     f"advantage for a regularizer to explain. Against the untied model with its best setting on "
                     f"validation ({best}) the tied one differs by {say(gap)}.")
    elif tied["diff"] < 0:
        lines.append("Tying makes OOD accuracy significantly worse at matched compute: there is no recurrent advantage "
                     f"to explain. Against the untied model with its best setting on validation ({best}): {say(gap)}.")
    else:
        verdict_text = ("the advantage vanishes, as the regularization reading predicts." if gap["p"] >= alpha else
                        "the advantage remains, so recurrence does more here than regularize.")
        lines.append(f"Tying improves OOD accuracy significantly. Given the untied model's best setting on validation "
                     f"({best}), the tied model's advantage is {say(gap)}: {verdict_text}")
    regs = [n for arch in ("tied", "untied") for n in settings(results, arch)]
    tests = {n: paired_test(results, n, base_of(n), metric) for n in regs}
    helped = [n for n, r in tests.items() if r["p"] < alpha and r["diff"] > 0]
    hurt = [n for n, r in tests.items() if r["p"] < alpha and r["diff"] < 0]
    dropped = unchanged(results)
    lines.append(f"Explicit regularizers: of {len(regs)} settings, {len(helped)} improve"
                 f"{'s' if len(helped) == 1 else ''} OOD accuracy significantly "
                 f"({', '.join(helped) or 'none'}) and {len(hurt)} make it worse ({', '.join(hurt) or 'none'}); "
                 f"with this many tests, expect about {alpha * len(regs):.1f} false positives."
                 + (f" Not counted, as they changed nothing: {', '.join(dropped)}." if dropped else ""))
    corr = proxy_correlations(results, metric)
    if len(corr):
        cells = [f"{c.architecture} ({c.n} runs) with {c.proxy.replace('_', ' ')} r = {c.r:+.2f} "
                 f"[{c.low:+.2f}, {c.high:+.2f}]" for c in corr.itertuples()]
        tracking = [f"{c.architecture} / {c.proxy.replace('_', ' ')}" for c in corr.itertuples() if c.low > 0 or c.high < 0]
        lines.append("Proxies, within one architecture (Pearson r [95% CI]): "
                     + "; ".join(cells) + ". "
                     + (f"The interval excludes zero for {', '.join(tracking)}." if tracking else
                        "Every interval includes zero: no proxy is shown to track OOD accuracy.")
                     + (" A larger norm going with better OOD accuracy is the opposite of what reading the norm as "
                        "a regularizer predicts." if any(c.proxy == "param_norm" and c.low > 0 for c in corr.itertuples())
                        else ""))
    return "\n".join(lines)
