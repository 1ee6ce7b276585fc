"""The README's findings table, generated from results the notebooks record.

Each notebook ends by calling `record` with one row per approach it measured; `make report`
then rewrites the table between the README's markers with `update_readme`. Nothing in the
table is typed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .paths import ROOT, results_dir
from .runs import atomic_write_json

START, END = "<!-- findings:start -->", "<!-- findings:end -->"
COLUMNS = ["approach", "route", "notebook", "seeds", "ID n=16", "OOD n=64", "OOD n=128", "exact match n=64",
           "train s/run", "test-time cost"]


def pct(values) -> str:
    """``mean ± std`` in percent over seeds (or the single value)."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return "—"
    return f"{100 * v.mean():.1f} ± {100 * v.std(ddof=1):.1f}" if v.size > 1 else f"{100 * v.mean():.1f}"


def record(notebook: str, rows: list[dict]) -> Path:
    """Write a notebook's findings rows (keys from `COLUMNS`) to ``results/<notebook>.json``."""
    unknown = {k for r in rows for k in r} - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown findings columns {sorted(unknown)}; use {COLUMNS}")
    path = results_dir() / f"{notebook}.json"
    atomic_write_json(path, [{**{c: "—" for c in COLUMNS}, "notebook": notebook, **r} for r in rows])
    return path


def table(folder: Path | None = None) -> pd.DataFrame:
    """All recorded rows, in notebook order."""
    folder = folder or results_dir()
    rows = [r for p in sorted(folder.glob("*.json")) for r in json.loads(p.read_text())]
    return pd.DataFrame(rows, columns=COLUMNS)


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
