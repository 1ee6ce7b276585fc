"""Notebook 05, the decisive experiment's tables and conclusion, computed from the long results of
`lib.experiments.decisive_search.results` (one row per split, route, prior and seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from ..statistics import paired, wilson
from .decisive_headline import summary as targets_summary
from .decisive_headline import targets as targets_table
from .decisive_search import PRIORS, ROUTE_LABELS, VERIFIERS


def _interval(exact: int, graphs: int) -> str:
    lo, hi = wilson(exact, graphs)
    return f"{100 * exact / graphs:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


#: The no-learning answer beside the compute-matched and ablation tables (no learned FLOPs at all).
BASELINE = "no learning: fewest-hops tree %"


def shortcut_exact(dec: pd.DataFrame, split: str, route: str = "shortcut_min_hop") -> float:
    """Exact match (%) of a no-learning shortcut on a split's graphs, from `decisive_search.results`."""
    d = dec[(dec.split == split) & (dec.route == route)]
    if d.empty:
        raise ValueError(f"no {route!r} result on {split!r}")
    return 100 * float(d.exact.sum() / d.graphs.sum())


def pooled(df: pd.DataFrame) -> pd.DataFrame:
    """Seeds pooled per (split, route, prior): exact match with a Wilson interval over all graphs,
    the spread of exact match across seeds, pointer accuracy, rounds, certificates, time."""
    rows = []
    for (split, route, prior), g in df.groupby(["split", "route", "prior"], sort=False):
        exact, graphs = int(g.exact.sum()), int(g.graphs.sum())
        per_seed = 100 * g.exact / g.graphs
        row = {"split": split, "n": int(g.n.iloc[0]), "hop depth": round(float(g.hop_depth.iloc[0]), 1),
               "route": ROUTE_LABELS[route], "prior": prior, "seeds": len(g), "graphs": graphs,
               "exact match % [95% CI]": _interval(exact, graphs),
               "seed spread (min-max)": f"{per_seed.min():.1f}-{per_seed.max():.1f}",
               "pointer acc %": round(100 * float(g.pointer_accuracy.mean()), 2),
               "mean rounds": round(float(np.mean([r for rs in g.rounds for r in rs])), 1)
               if g.rounds.map(lambda rs: all(r is not None for r in rs)).all() else np.nan,
               "ms / graph": round(1000 * float(g.seconds_per_graph.mean()), 2)}
        if "accepted" in g and g.accepted.notna().all():
            acc, false = int(g.accepted.sum()), int(g.false_certificates.sum())
            row["accepted"] = acc
            row["false certificates % of accepted"] = round(100 * false / acc, 1) if acc else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def two_by_two(df: pd.DataFrame, split: str) -> pd.DataFrame:
    """Route (imitation / learned verifier + search from the far start) by prior, on one split:
    exact match with its 95% interval first; beneath, where ``df`` has it, the no-learning fewest-hops
    tree on the same graphs (no prior: one value for both columns)."""
    p = pooled(df[df.split == split])
    rows = [ROUTE_LABELS["imitation"], ROUTE_LABELS["verifier_far"]]
    table = p[p.route.isin(rows) & p.prior.isin(PRIORS)].pivot(index="route", columns="prior",
                                                                values="exact match % [95% CI]").loc[rows, list(PRIORS)]
    shortcut = p[p.route == ROUTE_LABELS["shortcut_min_hop"]]
    if len(shortcut):
        table.loc[ROUTE_LABELS["shortcut_min_hop"]] = shortcut["exact match % [95% CI]"].iloc[0]
    return table


def difference(df: pd.DataFrame, split: str) -> pd.DataFrame:
    """Per prior on one split: each seed's exact match (%) of imitation and of the far-start search on
    the same graphs, and the search's gain with its 95% t interval (clipped to the possible gains,
    -100 to 100 points) and paired t-test over seeds, beside the assumption-free two-sided sign test."""
    rows = []
    for prior in PRIORS:
        d = df[(df.split == split) & (df.prior == prior)].assign(em=lambda t: 100 * t.exact / t.graphs)
        if d.empty:
            raise ValueError(f"no {prior} results on {split!r}: the difference needs both routes there")
        imit, search = (d[d.route == r].set_index("seed").em.sort_index() for r in ("imitation", "verifier_far"))
        if list(imit.index) != list(search.index) or d.graphs.nunique() != 1:
            raise ValueError(f"{prior}: imitation and search were not run on the same seeds and graphs")
        wins, decided = int((search > imit).sum()), int((search != imit).sum())
        test = paired(search.to_numpy(), imit.to_numpy()) if len(search) > 1 else None
        spread = test is not None and test["ci"] > 0
        rows.append({"prior": prior, "seeds": len(search), "graphs per seed": int(d.graphs.iloc[0]),
                     "imitation % per seed": " / ".join(f"{x:.1f}" for x in imit),
                     "search % per seed": " / ".join(f"{x:.1f}" for x in search),
                     "gain (points)": round(float((search - imit).mean()), 1),
                     "95% CI": "—" if test is None else "[{:.1f}, {:.1f}]".format(
                         max(-100.0, test["diff"] - test["ci"]), min(100.0, test["diff"] + test["ci"])),
                     "paired t p": f"{test['p']:.2g}" if spread else "none (one seed)" if test is None
                     else "none (the same gain on every seed)",
                     "sign test p": float(binomtest(wins, decided).pvalue) if decided else 1.0,
                     "seeds where search wins": f"{wins} of {len(search)}"})
    return pd.DataFrame(rows).set_index("prior")


def scaling(df: pd.DataFrame) -> pd.DataFrame:
    """Exact match against n per family, route and prior (seeds pooled), with interval bounds."""
    rows = []
    for (split, route, prior), g in df.groupby(["split", "route", "prior"], sort=False):
        exact, graphs = int(g.exact.sum()), int(g.graphs.sum())
        lo, hi = wilson(exact, graphs)
        rows.append({"split": split, "family": _family(split), "n": int(g.n.iloc[0]), "route": route, "prior": prior,
                     "exact_match": exact / graphs, "low": lo, "high": hi, "graphs": graphs,
                     "seconds_per_graph": float(g.seconds_per_graph.mean())})
    return pd.DataFrame(rows)


def _family(split: str) -> str:
    return split.rsplit("_", 1)[0].removesuffix("_side8").removesuffix("_side16") if not split.startswith("test") \
        else "er (CLRS)"


def rounds_vs_depth(df: pd.DataFrame, routes=("verifier_far", "checker_far")) -> pd.DataFrame:
    """Per graph: search rounds used against the deepest shortest-path hop count."""
    rows = []
    for _, r in df[df.route.isin(routes)].iterrows():
        rows += [{"split": r.split, "route": r.route, "prior": r.prior, "seed": r.seed, "depth": d, "rounds": k}
                 for d, k in zip(r.depth, r.rounds)]
    return pd.DataFrame(rows)


def certificates(df: pd.DataFrame) -> pd.DataFrame:
    """Per split and search route: how many answers the verifier accepted, and how many of those were
    wrong (false certificates), with a Wilson 95% interval on the false-certificate rate."""
    rows = []
    searched = df[df.route.str.startswith(("verifier", "checker"))]
    for (split, route, prior), g in searched.groupby(["split", "route", "prior"], sort=False):
        acc, false = int(g.accepted.sum()), int(g.false_certificates.sum())
        lo, hi = wilson(false, acc) if acc else (np.nan, np.nan)
        rows.append({"split": split, "n": int(g.n.iloc[0]), "route": ROUTE_LABELS[route], "prior": prior,
                     "graphs": int(g.graphs.sum()), "accepted": acc, "accepted & wrong": false,
                     "false certificates % [95% CI]": f"{100 * false / acc:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
                     if acc else "— (none accepted)"})
    return pd.DataFrame(rows)


def certificates_table(df: pd.DataFrame) -> pd.DataFrame:
    """`certificates` as one row per split and one column per search route and prior ("—" where a route
    was not run on a split)."""
    wide = certificates(df).pivot(index=["split", "n"], columns=["route", "prior"],
                                  values="false certificates % [95% CI]")
    return wide.loc[list(dict.fromkeys(df.split))].fillna("—")


def conclusion(df: pd.DataFrame, table_split: str, matched: pd.DataFrame | None = None,
               table: pd.DataFrame | None = None, units: str = "") -> str:
    """The section's conclusion in numbers, computed from the results (markdown bullets); with
    ``matched`` (`decisive_anytime.matched`), also the compute-matched comparison; with ``table``
    (`decisive_search.claim_results`), the 2 x 2 lines, the paired test and every line on the far-start
    search and imitation come from its seeds where it covers them; with ``units`` (`decisive_scale.summary`,
    seeds 0-4), the same graphs with their weights in other units. Each line names its seeds."""
    claims = df if table is None else table
    s, t = scaling(df), scaling(claims)

    def em(route, prior, split):
        r = t[(t.route == route) & (t.prior == prior) & (t.split == split)].iloc[0]
        return f"{100 * r.exact_match:.1f}% [{100 * r.low:.1f}, {100 * r.high:.1f}]", r

    lines = []
    gains = difference(claims, table_split)
    for prior in PRIORS:
        (gi, ri), (vi, rv) = em("imitation", prior, table_split), em("verifier_far", prior, table_split)
        verdict = ("beats" if rv.low > ri.high else "loses to" if rv.high < ri.low else "does not separate from")
        g = gains.loc[prior]
        lines.append(f"- **{prior} prior, {table_split}:** learned verifier + search {vi} {verdict} imitation {gi} "
                     f"(exact match, {int(rv.graphs)} and {int(ri.graphs)} graphs, 95% intervals); per seed the "
                     f"search gains {g['gain (points)']:+.1f} points {g['95% CI']} over {g.seeds} seeds "
                     "(paired t-test p: "
                     f"{g['paired t p']}; it wins on {g['seeds where search wins']} seeds, two-sided sign test "
                     f"p = {g['sign test p']:.4g}).")
    for prior in PRIORS:
        far, imitation = _widest(df, table, prior), _widest(df, table, prior, "imitation")
        v, g = scaling(far), scaling(imitation)
        both = v.merge(g, on="split", suffixes=("_v", "_g"))
        above = int((both.low_v > both.high_g).sum())
        below = int((both.high_v < both.low_g).sum())
        worst = v.loc[v.exact_match.idxmin()]
        lines.append(f"- **{prior} prior, all {len(v)} splits ({_seeds(far)}):** the verifier route's interval lies "
                     f"above imitation's on {above}, below it on {below}; its lowest exact match is "
                     f"{100 * worst.exact_match:.1f}% ({worst.split}).")
    for prior in PRIORS:
        v = _widest(df, table, prior).assign(em=lambda d: 100 * d.exact / d.graphs)
        per_seed = v[v.split == table_split].sort_values("seed").em
        worst = v.groupby("seed").em.min()
        lines.append(f"- **Seeds [{prior}] ({_seeds(v)}):** the verifier route per seed on {table_split}: "
                     + " / ".join(f"{x:.1f}" for x in per_seed) + f"%; each seed's worst of {v.split.nunique()} "
                     "splits: " + " / ".join(f"{x:.1f}" for x in worst) + "%.")
    for (split, prior), m in ([] if matched is None else matched.groupby(["split", "prior"], sort=False)):
        at = {r.route: f"{r['exact match %']:.1f}% {r['95% CI']} at {r.budget} ({r['FLOPs per graph']:.2e} FLOPs)"
              for _, r in m.iterrows()}
        lines.append(f"- **Compute-matched [{prior}], {split}:** within the FLOP range both routes cover (up to "
                     f"{m['shared FLOPs up to'].iloc[0]:.2e} per graph), the search reaches {at.get('verifier_far')}; "
                     f"the generator, run longer, {at.get('imitation')}; its best at any iteration count tried: "
                     f"{m['generator best %'].iloc[0]:.1f}%" + (f"; the no-learning fewest-hops tree, "
                                                                 f"{m[BASELINE].iloc[0]:.1f}%" if BASELINE in m else "")
                     + ".")
    rnd = s[s.route == "verifier_random"]
    far = s[(s.route == "verifier_far") & s.split.isin(rnd.split)]
    far, rnd = far.groupby("prior").exact_match.mean(), rnd.groupby("prior").exact_match.mean()
    lines.append(f"- **The start matters ({_seeds(df)}):** mean exact match over the {s[s.route == 'verifier_random'].split.nunique()} "
                 "splits run from both starts: from the far start " + ", ".join(f"{p} {100 * far[p]:.1f}%" for p in
                                                                                far.index)
                 + "; from a random start " + ", ".join(f"{p} {100 * rnd[p]:.1f}%" for p in rnd.index) + ".")
    searched = df[df.route.str.startswith("verifier")][["route", "prior"]].drop_duplicates()
    counts = [(r, p, _widest(df, table, p, r)) for r, p in searched.itertuples(index=False)]
    lines.append("- **Certificates:** accepted answers that were wrong, " + "; ".join(
        f"{ROUTE_LABELS[r].split(', ')[-1]} [{p}] {int(d.false_certificates.sum())} of {int(d.accepted.sum())} "
        f"({_seeds(d)})" for r, p, d in counts) + ".")
    rd = rounds_vs_depth(df, routes=("verifier_far",))
    if len(rd):
        for prior in PRIORS:
            d = rd[rd.prior == prior]
            lines.append(f"- **Rounds against depth [{prior}] ({_seeds(df)}):** "
                         f"{100 * float((d.rounds == d.depth).mean()):.1f}% of "
                         f"{len(d)} graphs used exactly as many rounds as their hop depth.")
    if units:
        lines.append("- **Units [aligned]:** " + units.replace("\n", " "))
    if len(targets := targets_table(claims)):
        lines.append("- **The headline preset** (the aligned verifier from the far start): "
                     + targets_summary(targets).removeprefix("The headline "))
    return "\n".join(lines)


def _seeds(df: pd.DataFrame) -> str:
    """"seeds 0-2" (or "seeds 0, 2, 4"): the learned routes' seeds in ``df``."""
    seeds = sorted(int(x) for x in df[df.prior.isin(PRIORS)].seed.unique())
    run = seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2
    return f"seeds {seeds[0]}-{seeds[-1]}" if run else "seed" + "s" * (len(seeds) > 1) + " " + ", ".join(map(str, seeds))


def _widest(df: pd.DataFrame, table: pd.DataFrame | None, prior: str, route: str = "verifier_far") -> pd.DataFrame:
    """The route's rows of ``table`` (`decisive_search.claim_results`: more seeds) where it covers every
    split ``df`` has for the route and prior, else those of ``df``."""
    rows = df[(df.route == route) & (df.prior == prior)]
    if table is not None:
        more = table[(table.route == route) & (table.prior == prior)]
        if set(more.split) >= set(rows.split):
            return more
    return rows


def findings_rows(df: pd.DataFrame, runs: dict | None = None, table: pd.DataFrame | None = None) -> list[dict]:
    """README rows: each route and prior, per seed, on the splits of the findings table (from ``table``,
    `decisive_search.claim_results`, where it covers the route on every split); with ``runs`` (from
    `decisive_search.train_all`), the verifiers' training seconds per run."""
    from ..findings import findings_row
    rows = []
    for route in ("verifier_far", "verifier_generator"):
        for prior in PRIORS:
            d = _widest(df, table, prior, route)
            d = d.assign(exact_match=d.exact / d.graphs)
            verifiers = [runs["verifier", prior, s] for s in sorted(set(d.seed))] if runs else ()
            headline = "headline = " if (route, prior) == ("verifier_far", "aligned") else ""
            if len(d):
                rows.append(findings_row(f"{headline}{VERIFIERS[prior]} ({ROUTE_LABELS[route].split(', ')[-1]})",
                                         ROUTE_LABELS[route].split(", ")[0] + f" [{prior} prior]", d,
                                         "rounds to a fixed point (cap n)", runs=verifiers))
    return rows


SHORT = {"imitation": "imitation", "verifier_far": "verifier, far", "verifier_generator": "verifier, from gen.",
         "verifier_random": "verifier, random", "checker_far": "checker, far", "checker_random": "checker, random",
         "shortcut_min_hop": "fewest hops", "shortcut_nearest": "lightest edge"}


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Exact match % per split (rows: split, n, hop depth, mean degree) and route [prior] (columns),
    seeds pooled; the graph counts behind each cell are in `pooled`."""
    s = scaling(df).assign(column=lambda d: d.route.map(SHORT) + " [" + d.prior + "]")
    facts = df.groupby("split", sort=False)[["n", "hop_depth", "mean_degree"]].first().round(1)
    wide = s.pivot(index="split", columns="column", values="exact_match").mul(100).round(1)
    order = [c for r in ROUTE_LABELS for c in wide.columns if c.startswith(SHORT[r] + " [")]
    graphs = s[s.route == "imitation"].groupby("split").graphs.first().rename("graphs (imitation, all seeds)")
    return facts.join(graphs).join(wide[order]).loc[list(dict.fromkeys(df.split))]


def parts_table(runs: dict) -> pd.DataFrame:
    """The matched parts: parameters, training graphs seen and training time of each run."""
    rows = []
    for (part, prior, seed), r in runs.items():
        seen = r.metrics.get("examples_seen", r.config.steps * r.config.batch_size)
        rows.append({"part": part, "prior": prior, "seed": seed, "run": r.name, "parameters": r.metrics["parameters"],
                     "training split": r.config.train_split, "graphs seen": seen,
                     "train s": round(r.metrics["train_seconds"], 1)})
    return pd.DataFrame(rows)



__all__ = [
    "BASELINE",
    "certificates",
    "certificates_table",
    "conclusion",
    "difference",
    "findings_rows",
    "parts_table",
    "pooled",
    "rounds_vs_depth",
    "scaling",
    "shortcut_exact",
    "summary_table",
    "two_by_two",
]
