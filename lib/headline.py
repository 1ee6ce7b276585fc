"""The headline solver: a generator proposes, a learned verifier checks, search repairs.

A looped GNN predicts distances; a learned energy trained to imitate the exact local
Bellman check scores candidates; backtracking gradient descent on that energy, started from
the generator's distances, refines them; the result is decoded into pointers. One preset
trains both parts through the run cache (``python -m lib train --config headline``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .runs import RunCache, config_from_json, train_any


@dataclass(frozen=True)
class HeadlineConfig:
    KIND: ClassVar[str] = "headline"  # run-cache kind

    model: str = "headline"  # run-name prefix
    generator: str = "looped_gnn"  # preset of the generator (proposes distances)
    verifier: str = "energy_residual"  # preset of the learned verifier (scores candidates)
    seed: int = 0  # seed of both parts
    search_steps: int = 80  # gradient steps on the verifier's energy at test time
    label: str = ""  # human-readable name; not part of the cache key

    def replace(self, **changes) -> "HeadlineConfig":
        import dataclasses

        return dataclasses.replace(self, **changes)

    def parts(self):
        from .presets import preset

        return preset(self.generator, seed=self.seed), preset(self.verifier, seed=self.seed)


class HeadlineRun:
    def __init__(self, path: Path, config: HeadlineConfig, metrics: dict):
        self.path, self.config, self.metrics = path, config, metrics

    @property
    def name(self) -> str:
        return self.path.name

    def part_runs(self):
        from .runs import load_any_run

        root = self.path.parent
        return load_any_run(root / self.metrics["generator_run"]), load_any_run(root / self.metrics["verifier_run"])

    def solver(self, device: str = "auto", search_steps: int | None = None, **options):
        if options.pop("iterations", None) is not None:
            raise ValueError(f"run {self.name!r} is the headline solver: use --search-steps, not --iterations")
        gen, ver = self.part_runs()
        return ver.solver(device, search_steps=search_steps or self.config.search_steps, init=gen.name, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", search_steps: int | None = None) -> dict:
        gen, ver = self.part_runs()
        return ver.evaluate(split, num_graphs, device, search_steps=search_steps or self.config.search_steps,
                            init=gen.name)


def load_headline_run(path: Path) -> HeadlineRun:
    data = json.loads((path / "config.json").read_text())
    return HeadlineRun(path, config_from_json(HeadlineConfig, data), json.loads((path / "metrics.json").read_text()))


def train_headline(cfg: HeadlineConfig, cache: RunCache | None = None, device: str = "auto",
                   progress: bool = True) -> HeadlineRun:
    """Train (or load) both parts, then record the pair as one run."""
    cache = cache or RunCache()
    if cache.exists(cfg):
        return load_headline_run(cache.path_for(cfg))
    t0 = time.perf_counter()
    gen_cfg, ver_cfg = cfg.parts()
    gen = train_any(gen_cfg, cache, device=device, progress=progress)
    ver = train_any(ver_cfg, cache, device=device, progress=progress)
    metrics = {"generator_run": gen.name, "verifier_run": ver.name,
               "train_seconds": gen.metrics["train_seconds"] + ver.metrics["train_seconds"],
               "wall_seconds_this_call": time.perf_counter() - t0,
               "parameters": gen.metrics["parameters"] + ver.metrics["parameters"]}
    return load_headline_run(cache.commit(cfg, metrics, {}))
