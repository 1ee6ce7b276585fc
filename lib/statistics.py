"""Confidence intervals and two-sample tests over seeds (small samples: Student t)."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its t confidence interval (0 for a single value)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float(x.mean()) if x.size else float("nan"), 0.0)
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


def wilson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) of a binomial proportion, e.g. exact match over graphs."""
    if trials < 1:
        raise ValueError("a proportion needs at least one trial")
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def compare(a, b, level: float = 0.95) -> dict:
    """Welch's t-test of mean(a) - mean(b), with the difference's confidence interval."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = np.sqrt(va + vb)
    if se == 0:
        return {"diff": float(diff), "ci": 0.0, "p": 1.0 if diff == 0 else 0.0, "df": float(a.size + b.size - 2)}
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    t = diff / se
    return {"diff": float(diff), "ci": float(stats.t.ppf(0.5 + level / 2, df) * se),
            "p": float(2 * stats.t.sf(abs(t), df)), "df": float(df)}


def verdict(result: dict, what: str, alpha: float = 0.05, unit: str = " points", scale: float = 100.0,
            test: str = "Welch") -> str:
    """One honest sentence about a comparison from `compare` (or `paired`, with ``test="paired"``)."""
    d, ci, p = scale * result["diff"], scale * result["ci"], result["p"]
    sig = "significant" if p < alpha else "not significant"
    return f"{what}: {d:+.1f}{unit} (95% CI {d - ci:+.1f} to {d + ci:+.1f}; {test} p = {p:.3f}, {sig} at {alpha})."


def paired(a, b, level: float = 0.95) -> dict:
    """Paired t-test of mean(a - b) over matched units (seeds that share training data), with the
    difference's confidence interval; same keys as `compare`."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if d.size < 2:
        raise ValueError("a paired test needs at least two pairs")
    se = d.std(ddof=1) / np.sqrt(d.size)
    if se == 0:
        return {"diff": float(d.mean()), "ci": 0.0, "p": 1.0 if d.mean() == 0 else 0.0, "df": float(d.size - 1)}
    t = d.mean() / se
    return {"diff": float(d.mean()), "ci": float(stats.t.ppf(0.5 + level / 2, d.size - 1) * se),
            "p": float(2 * stats.t.sf(abs(t), d.size - 1)), "df": float(d.size - 1)}


def correlation(x, y, level: float = 0.95) -> dict:
    """Pearson r with its Fisher-z confidence interval (low, high) and the number of points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 4:
        raise ValueError("a correlation interval needs at least four points")
    r = float(np.corrcoef(x, y)[0, 1])
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(x.size - 3)
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    return {"r": r, "low": float(np.tanh(z - half)), "high": float(np.tanh(z + half)), "n": int(x.size)}
