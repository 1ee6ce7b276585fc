"""Notebook 00, the task: distributions, the oracle's cross-check, verify-vs-generate cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..graphs import Graph, read_jsonl
from ..oracle import dijkstra
from ..paths import SHARED_DATA
from ..samplers import FAMILIES, SPLITS, Split, sample_er, sample_split
from ..solvers import get_solver, evaluate_solver
from ..findings import pct_wilson
from ..crosscheck import agreement_table
from ..graph_statistics import graph_statistics
from ..timing import verify_vs_generate as measure


@dataclass(frozen=True)
class TaskConfig:
    seed: int = 0  # seed for the example drawings
    stats_graphs: int = 300  # graphs per split for the distribution statistics
    agreement_graphs: int = 500  # graphs per family and size for the oracle-vs-networkx check
    agreement_sizes: tuple[int, ...] = (5, 16, 64)  # sizes for that check
    reference_graphs: int = 1000  # our graphs compared with each CLRS reference file
    heuristic_graphs: int = 256  # graphs per split for the shortcut-solver table (as notebook 01)
    timing_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512)  # n for verify vs generate
    timing_graphs: int = 20  # graphs per size in the timing
    timing_repeats: int = 5  # repeats per timing (min / median / max)


PROFILES = {
    "full": TaskConfig(),
    "smoke": TaskConfig(stats_graphs=20, agreement_graphs=8, agreement_sizes=(5, 16), reference_graphs=64,
                        heuristic_graphs=10, timing_sizes=(16, 32), timing_graphs=3, timing_repeats=1),
}

#: The ER splits compared in the distribution-shift figure.
SHIFT_SPLITS = {"train (n in 4..16, p in 0.1..0.9)": "train", "n = 16": "test_16",
                "n = 64": "test_64", "n = 128": "test_128"}


def example_graphs(seed: int = 0) -> tuple[list[Graph], list[np.ndarray], list[str]]:
    """Three n = 16 ER graphs at p = 0.3, 0.5, 0.8, and one at n = 64, with oracle trees."""
    rng = np.random.default_rng(seed)
    graphs = [sample_er(16, p, rng) for p in (0.3, 0.5, 0.8)] + [sample_er(64, 0.5, rng)]
    titles = [f"ER n = {g.num_nodes}, p = {g.meta['p']}, {g.num_edges // 2} edges" for g in graphs]
    return graphs, [dijkstra(g)[1] for g in graphs], titles


def family_examples(n: int = 36, seed: int = 0) -> tuple[list[Graph], list[np.ndarray], list[str]]:
    """One graph of each family at about n nodes, with oracle trees."""
    rng = np.random.default_rng(seed)
    graphs = [FAMILIES[f](n, rng) for f in FAMILIES]
    titles = [f"{f} (n = {g.num_nodes}, {g.num_edges // 2} edges)" for f, g in zip(FAMILIES, graphs)]
    return graphs, [dijkstra(g)[1] for g in graphs], titles


def distribution_shift(cfg: TaskConfig) -> dict[str, dict[str, np.ndarray]]:
    """`graph_statistics` for the training mix and the n = 16, 64, 128 test splits."""
    return {label: graph_statistics(sample_split(split, cfg.stats_graphs, with_pi=False))
            for label, split in SHIFT_SPLITS.items()}


def shift_table(stats: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Means of the distribution statistics per split."""
    rows = {label: {"mean degree": s["degree"].mean(), "mean hops": s["hops"].mean(),
                    "max hops": int(s["hops"].max()), "mean distance": s["dist"].mean(),
                    "max distance": s["dist"].max(), "unreachable fraction": s["unreachable"].mean()}
            for label, s in stats.items()}
    return pd.DataFrame(rows).T


def oracle_agreement(cfg: TaskConfig) -> pd.DataFrame:
    """Oracle vs networkx on every family and size, plus ER over the full p range."""
    graphs = []
    for i, n in enumerate(cfg.agreement_sizes):
        for j, fam in enumerate(FAMILIES):
            split = Split(1000 + 10 * i + j, (n,), family=fam) if fam != "er" else Split(
                1000 + 10 * i + j, (n,), tuple(round(0.1 * k, 1) for k in range(1, 10)))
            graphs += sample_split(split, cfg.agreement_graphs, with_pi=False)
    table = pd.DataFrame(agreement_table(graphs)).T
    table["graphs"] = table["graphs"].astype(int)
    return table


def per_graph_means(graphs: list[Graph]) -> pd.DataFrame:
    """One row per graph: density, mean degree, mean weight, unreachable fraction, mean hops."""
    rows = []
    for g in graphs:
        s = graph_statistics([g])
        rows.append({"edge density": s["density"][0], "mean degree": s["degree"].mean(),
                     "mean weight": s["weight"].mean() if s["weight"].size else np.nan,
                     "unreachable fraction": s["unreachable"][0],
                     "mean hops": s["hops"].mean() if s["hops"].size else np.nan})
    return pd.DataFrame(rows)


def reference_comparison(num_graphs: int, n: int, seed: int = 11) -> pd.DataFrame:
    """Our sampler against the CLRS reference file at size n (p = 0.5), graph by graph.

    For each statistic: the mean over graphs for both samplers, the standard error of the
    difference, and the z-score of the difference (|z| < 3 means "within sampling error").
    Where the sampling law gives a closed form (density p², degree p²(n-1), mean weight
    E[sqrt(u u' + 1e-3)]) the table also gives that value and the CLRS file's z against it.
    """
    ref = per_graph_means(read_jsonl(SHARED_DATA / f"clrs_reference_n{n}.jsonl.gz"))
    ours = per_graph_means(sample_split(Split(seed, (n,), (0.5,)), num_graphs, with_pi=False))
    expected = {"edge density": 0.25, "mean degree": 0.25 * (n - 1), "mean weight": expected_er_weight()}
    rows = {}
    for col in ref.columns:
        a, b = ours[col].dropna(), ref[col].dropna()
        se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
        se_ref = float(b.std(ddof=1) / np.sqrt(len(b)))
        exp = expected.get(col, np.nan)
        rows[col] = {"ours": a.mean(), "CLRS": b.mean(), "std. error": se,
                     "z": (a.mean() - b.mean()) / se if se > 0 else 0.0,
                     "expected": exp, "z CLRS vs expected": (b.mean() - exp) / se_ref if se_ref > 0 else np.nan}
    return pd.DataFrame(rows).T


def reference_table(num_graphs: int, n: int, seed: int = 11) -> pd.DataFrame:
    """`reference_comparison` for reading: four decimals, and "—" where a statistic has no
    closed-form expected value."""
    table = reference_comparison(num_graphs, n, seed)
    return table.apply(lambda col: col.map(lambda v: "—" if pd.isna(v) else f"{v:.4f}"))


def expected_er_weight() -> float:
    """E[sqrt(u u' + 1e-3)] for u, u' ~ U(0, 1): the mean CLRS edge weight."""
    from scipy import integrate

    return integrate.dblquad(lambda u, v: np.sqrt(u * v + 1e-3), 0, 1, 0, 1)[0]


def reference_statistics(num_graphs: int, n: int = 16, seed: int = 11) -> tuple[dict, dict]:
    """Pooled statistics of our graphs and of the CLRS reference file (for the histogram)."""
    ref = graph_statistics(read_jsonl(SHARED_DATA / f"clrs_reference_n{n}.jsonl.gz"))
    ours = graph_statistics(sample_split(Split(seed, (n,), (0.5,)), num_graphs, with_pi=False))
    return ours, ref


def heuristic_scores(cfg: TaskConfig, splits=("test_16", "test_64", "test_128", "grid_64", "tree_64")) -> pd.DataFrame:
    """Pointer accuracy and exact match (%) of the oracle and two shortcut solvers per split, on the
    first ``cfg.heuristic_graphs`` graphs of each split (notebook 01 evaluates on the same graphs).
    Exact match carries its 95% Wilson interval."""
    rows = {}
    for split in splits:
        graphs = sample_split(split, cfg.heuristic_graphs)
        rows[split] = {("", "graphs"): len(graphs)}
        for name in ("oracle", "min_hop", "nearest"):
            m = evaluate_solver(get_solver(name), graphs)
            rows[split][(name, "pointer acc. %")] = f"{100 * m['pointer_accuracy']:.1f}"
            rows[split][(name, "exact match % [95% CI]")] = pct_wilson([m["exact_match"]], [len(graphs)])
    table = pd.DataFrame(rows).T
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


__all__ = ["TaskConfig", "PROFILES", "SPLITS"]


def verify_vs_generate(cfg: TaskConfig) -> list[dict]:
    """`lib.timing.verify_vs_generate` at the config's sizes."""
    return measure(cfg.timing_sizes, cfg.timing_graphs, repeats=cfg.timing_repeats)


def timing_table(records: list[dict]) -> pd.DataFrame:
    """Microseconds per graph by method and n, plus how many times cheaper verifying is."""
    df = pd.DataFrame(records).pivot(index="n", columns="method", values="seconds_per_graph") * 1e6
    verify = [c for c in df.columns if c.startswith("verify")][0]
    for c in [c for c in df.columns if c.startswith("generate")]:
        df[f"{c.split('(')[1].rstrip(')')} / verify"] = df[c] / df[verify]
    df.columns = [c if "/" in c else f"{c} [µs]" for c in df.columns]
    return df


def summary(shift: dict, timing: list[dict]) -> str:
    """The notebook's findings as sentences, with the numbers filled in from the results."""
    table = shift_table(shift)
    small, large = table.loc["n = 16"], table.loc["n = 128"]
    t = timing_table(timing)
    ratio_col = [c for c in t.columns if c.startswith("SciPy")][0]
    py_col = [c for c in t.columns if c.startswith("pure Python")][0]
    return (
        f"Mean degree grows {large['mean degree'] / small['mean degree']:.1f}x from n = 16 to 128 "
        f"({small['mean degree']:.2f} -> {large['mean degree']:.2f}), while the mean hop count of a shortest "
        f"path goes from {small['mean hops']:.2f} to {large['mean hops']:.2f}.\n"
        f"Over n = {t.index.min()}..{t.index.max()}, SciPy's compiled Dijkstra takes {t[ratio_col].min():.1f}x to "
        f"{t[ratio_col].max():.1f}x the verifier's time per graph, and our pure-Python Dijkstra "
        f"{t[py_col].min():.1f}x to {t[py_col].max():.1f}x (below 1: the verifier is slower there)."
    )
