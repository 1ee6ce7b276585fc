"""Every kind of run in one table: its config class, run class and trainer. Training, loading
and finding a run of any kind go through here (the CLI, sweeps, solvers and notebooks).

| kind | config | run | trainer |
|---|---|---|---|
| graph | `models.train.TrainConfig` | `models.train.Run` | `models.train.train` |
| sequence | `sequence.train.SeqTrainConfig` | `sequence.train.SequenceRun` | `sequence.train.train_sequence` |
| energy | `energy.config.EnergyTrainConfig` | `energy.train.EnergyRun` | `energy.train.train_energy` |
| headline | `headline.HeadlineConfig` | `headline.HeadlineRun` | `train_headline` (below) |
| verifier | `verifier.train.VerifierTrainConfig` | `verifier.train.VerifierRun` | `verifier.train.train_verifier`, with its generator preset trained first |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .energy.train import EnergyRun, train_energy
from .headline import HeadlineConfig, HeadlineRun, record_headline
from .models.train import Run, train
from .presets import preset
from .runs import RunCache, kind_of, run_kind
from .sequence.train import SequenceRun, train_sequence
from .verifier.train import VerifierRun, train_verifier


@dataclass(frozen=True)
class RunKind:
    load: Callable[[Path], object]  # run folder -> run
    train: Callable[..., object]  # (config, cache, device=, progress=) -> run


def train_any(config, cache: RunCache | None = None, device: str = "auto", progress: bool = True):
    """Train (or load from the cache) a config of any kind."""
    kind = run_kind(config)
    if kind not in KINDS:
        raise KeyError(f"no trainer for run kind {kind!r}; known: {sorted(KINDS)}")
    return KINDS[kind].train(config, cache or RunCache(), device=device, progress=progress)


def load_any_run(path: Path):
    """Load a cached run of any kind."""
    kind = kind_of(path)
    if kind not in KINDS:
        raise KeyError(f"run {Path(path).name} has unknown kind {kind!r}; known: {sorted(KINDS)}")
    return KINDS[kind].load(Path(path))


def find_run(name: str, cache: RunCache | None = None):
    """A cached run of any kind by name, unique prefix or label (None if there is none)."""
    path = (cache or RunCache()).find(name)
    return load_any_run(path) if path is not None else None


def list_runs(cache: RunCache | None = None) -> list:
    """Every cached run, of every kind."""
    return [load_any_run(p) for p in (cache or RunCache()).entries()]


def headline_parts(cfg: HeadlineConfig) -> tuple:
    """The generator and verifier configs a headline config names (by preset)."""
    return preset(cfg.generator, seed=cfg.seed), preset(cfg.verifier, seed=cfg.seed)


def train_headline(cfg: HeadlineConfig, cache: RunCache | None = None, device: str = "auto",
                   progress: bool = True) -> HeadlineRun:
    """Train (or load) both parts, then record the pair as one run."""
    cache = cache or RunCache()

    def fit():
        t0 = time.perf_counter()
        gen_cfg, ver_cfg = headline_parts(cfg)
        gen = train_any(gen_cfg, cache, device=device, progress=progress)
        ver = train_any(ver_cfg, cache, device=device, progress=progress)
        record_headline(cfg, gen, ver, cache, time.perf_counter() - t0)
        return load_headline_run(cache.path_for(cfg))

    return cache.get_or_train(cfg, load_headline_run, fit)


def load_headline_run(path: Path) -> HeadlineRun:
    """Load a headline run with its two part runs (from the same cache folder)."""
    run = HeadlineRun.load(path)
    run.parts = tuple(load_any_run(Path(path).parent / name) for name in run.part_names())
    return run


def train_verifier_with_generator(cfg, cache: RunCache | None = None, device: str = "auto", progress: bool = True):
    """Train (or load) the verifier's matched generator preset first, then the verifier."""
    gen = train_any(preset(cfg.generator, seed=cfg.seed), cache, device, False) if cfg.generator else None
    return train_verifier(cfg, cache, device, progress, generator=gen)


KINDS: dict[str, RunKind] = {
    "graph": RunKind(Run.load, train),
    "sequence": RunKind(SequenceRun.load, train_sequence),
    "energy": RunKind(EnergyRun.load, train_energy),
    "headline": RunKind(load_headline_run, train_headline),
    "verifier": RunKind(VerifierRun.load, train_verifier_with_generator),
}

__all__ = [
    "KINDS",
    "RunKind",
    "find_run",
    "headline_parts",
    "list_runs",
    "load_any_run",
    "train_any",
    "train_headline",
    "train_verifier_with_generator",
]
