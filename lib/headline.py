"""The headline solver: a generator and a learned verifier, and search under the verifier.

The config names its two parts by preset; `lib.run_kinds` trains them through the run cache and
records the pair (``python -m lib train --config headline``). Two kinds of verifier part:

* a verifier learned from right / wrong labels (`lib.verifier`, the ``headline`` preset): the
  parallel parent-move search runs under it until no node can lower its term (cap: n rounds),
  from ``start``: "far" (every node unreached but the source), "random", or "generator" (the
  generator's distances);
* an energy (`lib.energy`, the ``headline_distilled`` preset, notebook 06): backtracking gradient
  descent on it for ``search_steps`` steps, always from the generator's distances, then decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .runs import Run, RunCache, RunConfig, evaluation_key
from .samplers import sample_split


@dataclass(frozen=True)
class HeadlineConfig(RunConfig):
    KIND: ClassVar[str] = "headline"  # run-cache kind

    model: str = "headline"  # run-name prefix
    generator: str = "looped_gnn"  # preset of the generator (proposes distances)
    verifier: str = "energy_residual"  # preset of the learned verifier (scores candidates)
    seed: int = 0  # seed of both parts
    search_steps: int = 80  # energy verifiers: gradient steps on the energy at test time
    start: str = "generator"  # where the search starts: "far", "random" or "generator" (energy verifiers: "generator")
    label: str = ""  # human-readable name; not part of the cache key

    def __post_init__(self):
        if self.start not in STARTS:
            raise ValueError(f"unknown search start {self.start!r}; choose from {STARTS}")


STARTS = ("far", "random", "generator")


class HeadlineRun(Run):
    """A recorded generator + verifier pair; its two part runs are loaded with it."""

    CONFIG = HeadlineConfig

    def __init__(self, path, config: HeadlineConfig, metrics: dict, parts: tuple = ()):
        super().__init__(path, config, metrics)
        self.parts = parts  # (generator run, verifier run)

    def part_names(self) -> tuple[str, str]:
        return self.metrics["generator_run"], self.metrics["verifier_run"]

    @property
    def searches_to_fixed_point(self) -> bool:
        """True when the verifier part learned from labels (its search needs no step count)."""
        return self.parts[1].config.KIND == "verifier"

    def solver(self, device: str = "auto", search_steps: int | None = None, start=None, **options):
        """The search under the verifier part; ``start`` ("far", "random" or a generator run)
        overrides the config's."""
        if options.pop("iterations", None) is not None:
            raise ValueError(f"run {self.name!r} is the headline solver: it takes no --iterations")
        gen, ver = self.parts
        start = start or self.config.start
        if self.searches_to_fixed_point:
            if search_steps is not None:
                raise ValueError(f"run {self.name!r} searches until no move lowers its verifier's score (cap: n "
                                 "rounds); it takes no --search-steps")
            return ver.solver(device, start=gen if start == "generator" else start, **options)
        if start != "generator":
            raise ValueError(f"run {self.name!r} searches an energy from its generator's distances only; "
                             f"got start {start!r}")
        return ver.solver(device, search_steps=search_steps or self.config.search_steps, init=gen.name, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", search_steps: int | None = None) -> dict:
        """Metrics on a named split, cached in the verifier's (energy) or this run's folder."""
        gen, ver = self.parts
        if not self.searches_to_fixed_point:
            return ver.evaluate(split, num_graphs, device, search_steps=search_steps or self.config.search_steps,
                                init=gen.name)
        key = evaluation_key(split=split, num_graphs=num_graphs, start=self.config.start, search="parallel_moves",
                             margins="fine")
        return self.cached_evaluation(key, lambda: self.solver(device, search_steps).evaluate(
            sample_split(split, num_graphs)))


def record_headline(cfg: HeadlineConfig, generator, verifier, cache: RunCache, wall_seconds: float) -> None:
    """Commit the pair of trained part runs as one headline run."""
    metrics = {"generator_run": generator.name, "verifier_run": verifier.name,
               "train_seconds": generator.metrics["train_seconds"] + verifier.metrics["train_seconds"],
               "wall_seconds_this_call": wall_seconds,
               "parameters": generator.metrics["parameters"] + verifier.metrics["parameters"]}
    cache.commit(cfg, metrics, {})


__all__ = ["HeadlineConfig", "HeadlineRun", "record_headline"]
