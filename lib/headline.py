"""The headline solver: a generator proposes, a learned verifier checks, search repairs.

A looped GNN predicts distances; a learned energy trained to imitate the exact local
Bellman check scores candidates; backtracking gradient descent on that energy, started from
the generator's distances, refines them; the result is decoded into pointers. The config
names its two parts by preset; `lib.run_kinds` trains them through the run cache and records
the pair (``python -m lib train --config headline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .runs import Run, RunCache, RunConfig


@dataclass(frozen=True)
class HeadlineConfig(RunConfig):
    KIND: ClassVar[str] = "headline"  # run-cache kind

    model: str = "headline"  # run-name prefix
    generator: str = "looped_gnn"  # preset of the generator (proposes distances)
    verifier: str = "energy_residual"  # preset of the learned verifier (scores candidates)
    seed: int = 0  # seed of both parts
    search_steps: int = 80  # gradient steps on the verifier's energy at test time
    label: str = ""  # human-readable name; not part of the cache key


class HeadlineRun(Run):
    """A recorded generator + verifier pair; its two part runs are loaded with it."""

    CONFIG = HeadlineConfig

    def __init__(self, path, config: HeadlineConfig, metrics: dict, parts: tuple = ()):
        super().__init__(path, config, metrics)
        self.parts = parts  # (generator run, verifier run)

    def part_names(self) -> tuple[str, str]:
        return self.metrics["generator_run"], self.metrics["verifier_run"]

    def solver(self, device: str = "auto", search_steps: int | None = None, **options):
        if options.pop("iterations", None) is not None:
            raise ValueError(f"run {self.name!r} is the headline solver: use --search-steps, not --iterations")
        gen, ver = self.parts
        return ver.solver(device, search_steps=search_steps or self.config.search_steps, init=gen.name, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", search_steps: int | None = None) -> dict:
        gen, ver = self.parts
        return ver.evaluate(split, num_graphs, device, search_steps=search_steps or self.config.search_steps,
                            init=gen.name)


def record_headline(cfg: HeadlineConfig, generator, verifier, cache: RunCache, wall_seconds: float) -> None:
    """Commit the pair of trained part runs as one headline run."""
    metrics = {"generator_run": generator.name, "verifier_run": verifier.name,
               "train_seconds": generator.metrics["train_seconds"] + verifier.metrics["train_seconds"],
               "wall_seconds_this_call": wall_seconds,
               "parameters": generator.metrics["parameters"] + verifier.metrics["parameters"]}
    cache.commit(cfg, metrics, {})


__all__ = ["HeadlineConfig", "HeadlineRun", "record_headline"]
