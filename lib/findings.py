"""The README's findings table, generated from results the notebooks record.

Each notebook ends by calling `record` with one row per approach it measured; `make report`
then rewrites the table between the README's markers with `update_readme`. Nothing in the
table is typed by hand.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .paths import ROOT, results_dir
from .runs import atomic_write_json
from .statistics import wilson

START, END = "<!-- findings:start -->", "<!-- findings:end -->"
COLUMNS = ["approach", "route", "notebook", "seeds", "ID n=16", "OOD n=64", "OOD n=128", "exact match n=64",
           "graphs n=64", "train s/run", "test-time cost"]


def pct(values) -> str:
    """``mean ± std`` in percent over seeds (or the single value)."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return "—"
    return f"{100 * v.mean():.1f} ± {100 * v.std(ddof=1):.1f}" if v.size > 1 else f"{100 * v.mean():.1f}"


def pct_wilson(rates, graphs) -> str:
    """``rate [low, high]`` in percent: per-seed rates over ``graphs`` graphs each, pooled, with
    the 95% Wilson interval."""
    hits = round(float(np.dot(np.asarray(rates, float), np.asarray(graphs, float))))
    trials = int(np.sum(graphs))
    low, high = wilson(hits, trials)
    return f"{100 * hits / trials:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def findings_row(approach: str, route: str, results: pd.DataFrame, test_time_cost: str, runs: Sequence = (),
                 seeds: int | None = None) -> dict:
    """One README row from a long results table (one row per seed and split, with columns
    ``split``, ``pointer_accuracy`` and ``exact_match``) and the trained runs behind it.

    ``seeds`` defaults to the number of runs, or to the table's distinct seeds without runs;
    the training time per run is shown only when runs are given."""
    def at(split: str, col: str = "pointer_accuracy") -> str:
        return pct(results[results.split == split][col])

    row = {"approach": approach, "route": route,
           "seeds": seeds if seeds is not None else (len(runs) if runs else int(results.seed.nunique())),
           "ID n=16": at("test_16"), "OOD n=64": at("test_64"), "OOD n=128": at("test_128"),
           "exact match n=64": at("test_64", "exact_match"), "test-time cost": test_time_cost}
    count = next((c for c in ("graphs", "num_graphs") if c in results), None)
    n64 = results[results.split == "test_64"]
    if count and len(n64):  # exact match pooled over seeds × graphs, with its 95% Wilson interval
        row["exact match n=64"] = pct_wilson(n64["exact_match"], n64[count])
    if count and len(n64):  # evaluation graphs per seed behind the n = 64 columns
        row["graphs n=64"] = "/".join(str(int(v)) for v in sorted(set(n64[count])))
    if runs:
        row["train s/run"] = f"{np.mean([r.metrics['train_seconds'] for r in runs]):.0f}"
    return row


#: The environment variable through which the report runner tells a notebook its profile.
PROFILE_ENV = "LAB_PROFILE"


def record(notebook: str, rows: list[dict], profile: str | None = None) -> Path:
    """Write a notebook's findings rows (keys from `COLUMNS`) to ``results/<notebook>.json``,
    with the profile that produced them (default: ``$LAB_PROFILE``, set by the report runner).

    Only the full report writes into the committed ``results/``: rows of any other profile (a
    reader's quick run in JupyterLab) go to ``build/results/`` unless ``LAB_RESULTS_DIR`` names
    a folder, so that they never overwrite the report's."""
    unknown = {k for r in rows for k in r} - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown findings columns {sorted(unknown)}; use {COLUMNS}")
    profile = profile or os.environ.get(PROFILE_ENV) or "unknown"
    folder = results_dir()
    if profile not in ("full", "long") and "LAB_RESULTS_DIR" not in os.environ:
        folder = ROOT / "build" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    atomic_write_json(path, {"notebook": notebook, "profile": profile,
                             "rows": [{**{c: "—" for c in COLUMNS}, "notebook": notebook, **r} for r in rows]})
    return path


def table(folder: Path | None = None) -> pd.DataFrame:
    """All recorded rows, in notebook order. Only full-profile results make the table: a file
    written by any other profile (a smoke run) is refused with an error naming it."""
    folder = folder or results_dir()
    rows = []
    for p in sorted(folder.glob("[0-9][0-9]_*.json")):  # one file per notebook, not report_timing.json
        data = json.loads(p.read_text())
        profile = data.get("profile") if isinstance(data, dict) else None
        if profile not in ("full", "long"):
            raise ValueError(f"{p} holds results of profile {profile!r}, not 'full': the findings table is built "
                             "only from the full report (`make report`); smoke runs write under build/")
        rows += data["rows"]
    return pd.DataFrame(rows, columns=COLUMNS).fillna("—")  # a column added after a file was written


def markdown(df: pd.DataFrame) -> str:
    if df.empty:
        return "_No results recorded yet: run `make report`._"
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def update_readme(readme: Path | None = None, folder: Path | None = None) -> bool:
    """Rewrite the block between the README's findings markers; True if it changed."""
    readme = readme or ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} block")
    block = f"{START}\n{markdown(table(folder))}\n{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    if new != text:
        readme.write_text(new)
    return new != text
