"""What `make report` is about to do, and how long it took: the plan printed before a run
(notebooks, runs needed, runs already cached, an estimate), and the recorded cold wall times
(``results/report_timing.json``) that each run is compared with."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .experiments.notebooks import NOTEBOOK_EXPERIMENTS, config_key, in_report, training_configs
from .paths import ROOT
from .runs import RunCache, atomic_write_json

TIMING_FILE = ROOT / "results" / "report_timing.json"


def _recorded_times() -> dict:
    return json.loads(TIMING_FILE.read_text()) if TIMING_FILE.exists() else {}


def _train_seconds_by_label(cache: RunCache) -> dict[str, float]:
    """Mean recorded training time of each preset label among the cached runs."""
    seen: dict[str, list[float]] = {}
    for path in cache.entries():
        label = json.loads((path / "config.json").read_text()).get("label")
        seconds = json.loads((path / "metrics.json").read_text()).get("train_seconds")
        if label and seconds is not None:
            seen.setdefault(label, []).append(float(seconds))
    return {k: sum(v) / len(v) for k, v in seen.items()}


def shared_with_earlier(stem: str, profile: str) -> set[str]:
    """Keys of the runs notebook ``stem`` shares with an earlier notebook of the ``profile`` report,
    which trains them first (04 reads 01's generators, 05 03's)."""
    earlier = {config_key(c) for s in NOTEBOOK_EXPERIMENTS if s < stem and in_report(s, profile)
               for c in training_configs(s, profile)}
    return {config_key(c) for c in training_configs(stem, profile)} & earlier


def plan(stems: list[str], profile: str, cache: RunCache | None = None) -> list[dict]:
    """Per notebook: the runs it trains under ``profile``, how many the cache holds (``own_cached``:
    of those no earlier notebook of the report trains first), and the estimated training seconds of
    the missing ones (from cached runs of the same preset; runs of a preset never trained here are
    counted as unknown)."""
    cache = cache or RunCache()
    seconds = _train_seconds_by_label(cache)
    recorded = _recorded_times().get("notebooks", {})
    rows = []
    for stem in stems:
        configs = training_configs(stem, profile)
        missing = [c for c in configs if not cache.exists(c)]
        known = [seconds[c.label] for c in missing if c.label in seconds]
        shared = shared_with_earlier(stem, profile)
        rows.append({"notebook": stem, "runs": len(configs), "cached": len(configs) - len(missing),
                     "shared": sum(config_key(c) in shared for c in configs),
                     "own_cached": sum(config_key(c) not in shared and cache.exists(c) for c in configs),
                     "estimate_s": sum(known), "unknown": len(missing) - len(known),
                     "recorded_cold_s": recorded.get(stem) if profile == "full" else None})
    return rows


def cache_state(rows: list[dict]) -> str:
    """"cold" when no notebook finds a run it trains first already cached (runs shared with an
    earlier notebook may be, as in a whole report), "cached" when every run is, else "partly cached"."""
    if all(r["own_cached"] == 0 for r in rows):
        return "cold"
    return "cached" if all(r["cached"] == r["runs"] for r in rows) else "partly cached"


def _duration(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def print_plan(rows: list[dict], profile: str, cache: RunCache | None = None, stream=None) -> None:
    stream = stream or sys.stderr
    cache = cache or RunCache()
    cores = os.cpu_count()
    print(f"plan: {len(rows)} notebook(s), profile {profile}, run cache {cache.root}, {cores} cores", file=stream)
    for r in rows:
        todo = r["runs"] - r["cached"]
        known = todo - r["unknown"]
        est = f"~{_duration(r['estimate_s'])} for {known} of them (from cached runs of the same preset)" if known \
            else "nothing to train" if not todo else "no estimate"
        if r["unknown"]:
            est += f"; {r['unknown']} of presets never trained in this cache"
        shared = f" ({r['shared']} shared with an earlier notebook)" if r["shared"] else ""
        print(f"  {r['notebook']}: {r['runs']} runs{shared}, {r['cached']} cached, {todo} to train: {est}; "
              f"recorded cold time {_duration(r['recorded_cold_s'])}", file=stream)
    recorded = _recorded_times()
    if profile == "full" and recorded:
        print(f"  recorded cold total: {_duration(recorded.get('total_s'))} on {recorded.get('cores')} cores "
              f"({TIMING_FILE.relative_to(ROOT)})", file=stream)
    elif profile == "full":
        print(f"  no recorded cold time yet ({TIMING_FILE.relative_to(ROOT)} is written by "
              "`python -m lib report --record-timing` from an empty run cache)", file=stream)


def compare_with_recorded(times: list[tuple[str, float]], stream=None) -> None:
    """Print each notebook's time beside its recorded cold time."""
    recorded = _recorded_times().get("notebooks", {})
    stream = stream or sys.stderr
    for stem, wall in times:
        if stem in recorded:
            print(f"  {stem}: {wall:.1f} s now, {recorded[stem]:.1f} s recorded cold "
                  f"({wall - recorded[stem]:+.1f} s)", file=stream)


def record_timing(times: list[tuple[str, float]], cache_state: str, cells: dict[str, list] | None = None) -> Path:
    """Write the notebooks' wall times (with the core count) to ``results/report_timing.json``.
    ``cache_state`` "cold" (no run a notebook trains first was cached: `cache_state`) records them as
    the cold times, beside ``cells`` (notebook -> its slowest cells, to show where the time went);
    "cached" (every run already in the cache) records them under ``cached_rerun``."""
    if cache_state not in ("cold", "cached"):
        raise ValueError(f"cache_state must be 'cold' or 'cached', not {cache_state!r} (a partly filled cache "
                         "measures neither)")
    data = _recorded_times()
    part = data if cache_state == "cold" else data.setdefault("cached_rerun", {})
    part.setdefault("notebooks", {}).update({stem: round(wall, 1) for stem, wall in times})
    part["total_s"] = round(sum(w for stem, w in part["notebooks"].items() if in_report(stem, "full")), 1)
    if cells and cache_state == "cold":
        data.setdefault("slowest_cells", {}).update(cells)
    data.update(cores=os.cpu_count(), cache="cold")
    atomic_write_json(TIMING_FILE, data)
    return TIMING_FILE


TIMING_START, TIMING_END = "<!-- timing:start -->", "<!-- timing:end -->"


def timing_markdown(data: dict | None = None) -> str:
    """The recorded times as a README table: per notebook of the full report, cold and cached."""
    data = _recorded_times() if data is None else data
    cold, cached = data.get("notebooks", {}), data.get("cached_rerun", {}).get("notebooks", {})
    slowest = data.get("slowest_cells", {})
    lines = [f"Measured by `python -m lib report --record-timing` on {data.get('cores', '?')} cores "
             "(cold: none of the runs a notebook trains first cached; cached: every run and evaluation "
             "already cached).",
             "",
             "| notebook | cold | cached rerun | slowest cell (cold) |", "|---|---|---|---|"]
    for stem in sorted(set(cold) | set(cached)):
        cell = (slowest.get(stem) or [{}])[0]
        where = f"`{cell['code']}` {_duration(cell['seconds'])}" if cell else "—"
        lines.append(f"| {stem}{'' if in_report(stem, 'full') else ' (PROFILE=long only)'} | "
                     f"{_duration(cold.get(stem))} | {_duration(cached.get(stem))} | {where} |")
    lines.append(f"| **full report** | **{_duration(data.get('total_s'))}** | "
                 f"**{_duration(data.get('cached_rerun', {}).get('total_s'))}** | |")
    return "\n".join(lines)


def update_readme_timing(readme: Path | None = None) -> bool:
    """Rewrite the README's timing block from ``results/report_timing.json``; True if it changed."""
    readme = readme or ROOT / "README.md"
    text = readme.read_text()
    if TIMING_START not in text or TIMING_END not in text or not TIMING_FILE.exists():
        return False
    start, end = text.index(TIMING_START) + len(TIMING_START), text.index(TIMING_END)
    new = text[:start] + "\n" + timing_markdown() + "\n" + text[end:]
    if new != text:
        readme.write_text(new)
    return new != text


__all__ = ["TIMING_FILE", "cache_state", "compare_with_recorded", "plan", "print_plan", "record_timing",
           "shared_with_earlier", "timing_markdown", "update_readme_timing"]
