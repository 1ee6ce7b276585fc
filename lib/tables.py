"""Tables for reading: numbers at a fixed precision and "—" wherever a value is missing."""

from __future__ import annotations

import numbers

import pandas as pd


def readable(df: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """A copy of ``df`` with floats at ``decimals`` places, integers as they are, and every missing
    value (None, NaN) as "—" rather than "NaN"."""
    def cell(v):
        if v is None or (isinstance(v, numbers.Real) and pd.isna(v)):
            return "—"
        if isinstance(v, numbers.Integral):
            return str(v)
        if isinstance(v, numbers.Real):
            return f"{v:.{decimals}f}"
        return v

    return df.apply(lambda col: col.map(cell))
