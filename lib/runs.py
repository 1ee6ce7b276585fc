"""The run cache: a config's hash names a folder holding its config, metrics and checkpoint.

Entries are written into a hidden temporary folder and renamed into place in one step,
so a killed run never leaves a half-written entry; the next call simply trains again.
Evaluation results are cached inside each run's folder the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from .paths import runs_dir


def _jsonable(obj):
    if dataclasses.is_dataclass(obj):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def config_hash(config, length: int = 10) -> str:
    """Stable hash of a config (dataclass or dict).

    The ``label`` does not count, and neither does any field left at its default, so adding
    a new field with a default never invalidates the cached runs of older configs.
    """
    data = _jsonable(config)
    if dataclasses.is_dataclass(config):
        defaults = {f.name: _jsonable(f.default if f.default is not dataclasses.MISSING else f.default_factory())
                    for f in dataclasses.fields(config)
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
        data = {k: v for k, v in data.items() if k not in defaults or defaults[k] != v}
    data = {k: v for k, v in data.items() if k != "label"} if isinstance(data, dict) else data
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:length]


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON next to ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True, allow_nan=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: Kinds of runs: where their loader and their trainer live (imported lazily, avoiding
#: import cycles). A loader takes the run folder and returns a run object with ``name``,
#: ``config``, ``metrics`` and ``solver(device, **options)``; a trainer takes
#: ``(config, cache, device=, progress=)`` and returns such a run.
RUN_KINDS: dict[str, str] = {
    "graph": "lib.train:load_run",
    "energy": "lib.energy.train:load_energy_run",
    "headline": "lib.headline:load_headline_run",
    "sequence": "lib.seqtrain:load_sequence_run",
}
TRAINERS: dict[str, str] = {
    "graph": "lib.train:train",
    "energy": "lib.energy.train:train_energy",
    "headline": "lib.headline:train_headline",
    "sequence": "lib.seqtrain:train_sequence",
}


def _resolve(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def train_any(config, cache: "RunCache | None" = None, device: str = "auto", progress: bool = True):
    """Train (or load from the cache) a config of any kind."""
    kind = run_kind(config)
    if kind not in TRAINERS:
        raise KeyError(f"no trainer for run kind {kind!r}; known: {sorted(TRAINERS)}")
    return _resolve(TRAINERS[kind])(config, cache, device=device, progress=progress)


def run_kind(config) -> str:
    """The kind a config trains: its class attribute ``KIND`` (default "graph")."""
    return getattr(config, "KIND", "graph")


def load_any_run(path: Path):
    """Load a cached run of any kind."""
    data = json.loads((Path(path) / "config.json").read_text())
    kind = data.get("_kind", "graph")
    if kind not in RUN_KINDS:
        raise KeyError(f"run {Path(path).name} has unknown kind {kind!r}; known: {sorted(RUN_KINDS)}")
    return _resolve(RUN_KINDS[kind])(Path(path))


def config_from_json(cls, data: dict):
    """Rebuild a config dataclass from its JSON (dropping the ``_kind`` tag, restoring tuples)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in data.items():
        if k == "_kind" or k not in fields:
            continue
        kwargs[k] = tuple(v) if isinstance(v, list) and "tuple" in str(fields[k].type) else v
    return cls(**kwargs)


class RunCache:
    """Folder-per-run cache rooted at ``runs/`` (or ``$LAB_RUNS_DIR``)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else runs_dir()

    def name_for(self, config) -> str:
        return f"{config.model}-{config_hash(config)}"

    def path_for(self, config) -> Path:
        return self.root / self.name_for(config)

    def exists(self, config) -> bool:
        return (self.path_for(config) / "metrics.json").exists()

    def commit(self, config, metrics: dict, state_dict: dict) -> Path:
        """Write a finished run atomically; if another process got there first, keep theirs."""
        final = self.path_for(config)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".tmp-{final.name}-"))
        try:
            torch.save(state_dict, tmp / "model.pt")
            atomic_write_json(tmp / "config.json", {**_jsonable(config), "_kind": run_kind(config)})
            atomic_write_json(tmp / "metrics.json", metrics)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / "metrics.json").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def entries(self) -> list[Path]:
        """Finished runs (hidden temporary folders of killed runs are ignored)."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
                      and (p / "metrics.json").exists())

    def find(self, name: str) -> Path | None:
        """A run by exact folder name, unique prefix, hash, or unique ``label``."""
        entries = self.entries()
        exact = [p for p in entries if p.name == name]
        if exact:
            return exact[0]
        matches = [p for p in entries if p.name.startswith(name) or p.name.split("-")[-1].startswith(name)]
        if not matches:
            matches = [p for p in entries if json.loads((p / "config.json").read_text()).get("label") == name]
        if len(matches) > 1:
            raise KeyError(f"run name {name!r} is ambiguous: {[p.name for p in matches]}")
        return matches[0] if matches else None

    def clean_stale(self, older_than_s: float = 600.0) -> int:
        """Remove temporary folders left by killed runs (older than ``older_than_s``)."""
        import time

        now = time.time()
        stale = [p for p in self.root.glob(".tmp-*") if now - p.stat().st_mtime > older_than_s] \
            if self.root.exists() else []
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)
