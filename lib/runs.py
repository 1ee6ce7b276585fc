"""The run cache and the run protocol that every kind of run shares.

A config's hash names a folder holding its config, metrics and checkpoint. Entries are written
into a hidden temporary folder and renamed into place in one step, so a killed run never
leaves a half-written entry; the next call simply trains again. Two processes that train the
same config at once take a per-config lock, so the second waits and reuses the first's entry.

`RunConfig` is the base of every training config (its ``key`` and ``replace``); `Run` is the
base of every finished run (path, config, metrics, name, loading, cached evaluation). Each
kind of run (graph generator, sequence model, energy, headline) adds only what is its own;
`lib.run_kinds` maps kinds to their run classes and trainers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, ClassVar

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


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive advisory lock on ``path`` (created if missing), released on exit or death."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def config_from_json(cls, data: dict):
    """Rebuild a config dataclass from its JSON (dropping the ``_kind`` tag, restoring tuples)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in data.items():
        if k == "_kind" or k not in fields:
            continue
        kwargs[k] = tuple(v) if isinstance(v, list) and "tuple" in str(fields[k].type) else v
    return cls(**kwargs)


def run_kind(config) -> str:
    """The kind a config trains: its class attribute ``KIND``."""
    return getattr(config, "KIND", "graph")


class RunConfig:
    """Base of the training configs (frozen dataclasses): ``KIND`` names the run kind,
    ``model`` prefixes the run's folder name, ``label`` is a human name outside the hash."""

    KIND: ClassVar[str] = "graph"

    @property
    def key(self) -> str:
        return config_hash(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


class NotCached(LookupError):
    """Raised inside `cache_only()` by an evaluation that would have to be computed."""


_CACHE_ONLY = False


@contextlib.contextmanager
def cache_only():
    """Inside the block, a run's cached evaluations are read, and a missing one raises
    `NotCached` instead of being computed (to find what a parallel pass must compute)."""
    global _CACHE_ONLY
    old, _CACHE_ONLY = _CACHE_ONLY, True
    try:
        yield
    finally:
        _CACHE_ONLY = old


def evaluation_key(**fields) -> str:
    """The key of one cached evaluation: its arguments as sorted JSON."""
    return json.dumps(fields, sort_keys=True)


class Run:
    """A finished (cached) run: its folder, config and metrics, and its cached evaluations."""

    CONFIG: ClassVar[type]  # the config dataclass of this kind

    def __init__(self, path: Path, config, metrics: dict):
        self.path, self.config, self.metrics = Path(path), config, metrics

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def load(cls, path: Path):
        """Load a run of this kind from its folder."""
        path = Path(path)
        data = json.loads((path / "config.json").read_text())
        return cls(path, config_from_json(cls.CONFIG, data), json.loads((path / "metrics.json").read_text()))

    def state_dict(self) -> dict:
        return torch.load(self.path / "model.pt", map_location="cpu", weights_only=True)

    def cached_evaluations(self, keys: list[str], compute: Callable[[list[str]], dict[str, dict]]) -> list[dict]:
        """The evaluations named by ``keys`` from the run's ``evals.json``; ``compute`` gets the
        missing keys and returns their results, which are merged in atomically (under a lock,
        so concurrent evaluations of one run keep each other's entries)."""
        cache_path = self.path / "evals.json"
        cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
        missing = [k for k in dict.fromkeys(keys) if k not in cache]
        if missing and _CACHE_ONLY:
            raise NotCached(f"{self.name}: {missing[0]}")
        if missing:
            found = compute(missing)
            with file_lock(self.path / ".evals.lock"):
                fresh = json.loads(cache_path.read_text()) if cache_path.exists() else {}
                atomic_write_json(cache_path, {**fresh, **found})
            cache.update(found)
        return [cache[k] for k in keys]

    def cached_evaluation(self, key: str, compute: Callable[[], dict]) -> dict:
        """One cached evaluation (see `cached_evaluations`)."""
        return self.cached_evaluations([key], lambda missing: {key: compute()})[0]


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

    @contextlib.contextmanager
    def lock(self, config):
        """Hold the config's lock: a second process training the same config waits here."""
        with file_lock(self.root / ".locks" / f"{self.name_for(config)}.lock"):
            yield

    def get_or_train(self, config, load: Callable[[Path], Any], train: Callable[[], Any]):
        """The cached run of ``config``, or ``train()`` under the config's lock (re-checking the
        cache once the lock is held, so a concurrent trainer's entry is reused)."""
        if self.exists(config):
            return load(self.path_for(config))
        with self.lock(config):
            if self.exists(config):
                return load(self.path_for(config))
            return train()

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

    def result_path(self, key: str) -> Path:
        """Where `cached_result` keeps the result for ``key``."""
        return self.root / "_results" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"

    def cached_result(self, key: str, compute: Callable[[], Any]) -> Any:
        """A computed result that belongs to no single run (a shortcut solver on a split, say),
        kept as JSON in ``_results/`` under the hash of ``key`` and written atomically."""
        path = self.result_path(key)
        if path.exists():
            return json.loads(path.read_text())["value"]
        value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"key": key, "value": value})
        return value

    def clean_stale(self, older_than_s: float = 600.0) -> int:
        """Remove temporary folders left by killed runs (older than ``older_than_s``)."""
        now = time.time()
        stale = [p for p in self.root.glob(".tmp-*") if now - p.stat().st_mtime > older_than_s] \
            if self.root.exists() else []
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)


def kind_of(path: Path) -> str:
    """The kind recorded in a run folder's config."""
    return json.loads((Path(path) / "config.json").read_text()).get("_kind", "graph")


__all__ = ["RunCache", "RunConfig", "Run", "config_hash", "config_from_json", "atomic_write_json", "file_lock",
           "evaluation_key", "run_kind", "kind_of"]
