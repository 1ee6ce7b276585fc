"""Energy + search as a solver: start from a random candidate, search the learned landscape
with a routine from `lib.search`, keep the lowest-energy iterate, decode it into pointers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch

from ..batching import GraphBatch, collate
from ..determinism import single_thread
from ..devices import resolve_device
from ..models.train import Run as GeneratorRun
from ..runs import RunCache, kind_of
from ..search.continuous import Trajectory, annealed, gradient_descent, langevin, random_restarts
from .candidates import decode, init_candidate
from .model import EnergyModel

ROUTINES = ("gd", "langevin", "annealed", "restarts")


@dataclass
class SearchSettings:
    routine: str = "gd"  # "gd", "langevin", "annealed" (noise-level ladder) or "restarts" (of gd)
    steps: int = 40  # total search steps per start
    lr: float | None = None  # step size (None: the run's learned step; annealed: scale of sigma^2)
    noise: float = 0.05  # Langevin noise temperature
    restarts: int = 4  # number of random starts for "restarts"
    keep_best: bool = True  # answer with the lowest-energy iterate (else the last)
    backtrack: bool = True  # gd/restarts: reject energy-raising steps and halve that graph's step
    levels: int = 10  # annealed: number of landscapes
    sigma_max: float = 1.0  # annealed: coarsest noise level
    sigma_min: float = 0.01  # annealed: finest noise level
    seed: int = 0  # seed of the random starts
    init: str = "random"  # "random", or a cached generator run whose predicted distances start the search

    def __post_init__(self):
        if self.routine not in ROUTINES:
            raise ValueError(f"unknown search routine {self.routine!r}; choose from {ROUTINES}")
        if self.steps < 0 or self.restarts < 1:
            raise ValueError("search steps must be >= 0 and restarts >= 1")


def search_trajectory(model: EnergyModel, batch: GraphBatch, kind: str, settings: SearchSettings,
                      generator: torch.Generator, y0: torch.Tensor | None = None) -> Trajectory:
    """Run the configured search on a batch and return its full trajectory.

    ``y0`` overrides the random start (e.g. a generator's predicted distances)."""
    lr = settings.lr if settings.lr is not None else getattr(model, "step_size", 0.1)
    energy = lambda y: model(batch, y)  # noqa: E731
    groups = batch.node_graph if kind == "distance" else batch.node_graph[batch.cand_dst]
    start = (lambda: y0.clone()) if y0 is not None else (lambda: init_candidate(batch, kind, generator))
    if settings.routine == "gd":
        return gradient_descent(energy, start(), settings.steps, lr, groups=groups, backtrack=settings.backtrack)
    if settings.routine == "langevin":
        return langevin(energy, start(), settings.steps, lr, settings.noise, generator=generator, groups=groups)
    if settings.routine == "restarts":
        return random_restarts(lambda y0: gradient_descent(energy, y0, settings.steps, lr, groups=groups,
                                                           backtrack=settings.backtrack),
                               lambda r: init_candidate(batch, kind, generator), settings.restarts)
    levels = model.cfg.noise_levels or settings.levels
    sig = torch.logspace(math.log10(settings.sigma_max), math.log10(settings.sigma_min), levels)
    fns = [(lambda y, l=lvl: model(batch, y, torch.full((batch.num_graphs,), l, device=y.device)))
           if model.cfg.noise_levels else energy for lvl in range(levels)]
    scale = settings.lr if settings.lr is not None else 1.0
    per_level = max(1, settings.steps // levels)
    return annealed(fns, start(), per_level, [scale * float(s) ** 2 for s in sig], groups=groups)


def search_candidates(model: EnergyModel, batch: GraphBatch, kind: str, settings: SearchSettings,
                      generator: torch.Generator) -> torch.Tensor:
    traj = search_trajectory(model, batch, kind, settings, generator)
    return traj.best() if settings.keep_best else traj.final()


class EnergySolver:
    """A cached energy run as a `Solver`: search each batch, decode, predict."""

    def __init__(self, run, device: str = "auto", search_steps: int | None = None, batch_size: int = 32,
                 **overrides):
        if overrides.pop("iterations", None) is not None:
            raise ValueError(f"run {run.name!r} is an energy model: use --search-steps, not --iterations")
        self.run, self.name, self.batch_size = run, run.name, batch_size
        self.device = resolve_device(device)
        self.model = run.model(self.device)
        self.kind = run.config.energy_config.candidate
        self.settings = run.config.search_settings(steps=search_steps, **overrides)
        self.init_model = None
        if self.settings.init != "random":
            found = RunCache(run.path.parent).find(self.settings.init)  # the same cache as this run
            gen = GeneratorRun.load(found) if found is not None and kind_of(found) == "graph" else None
            if gen is None or self.kind != "distance":
                raise ValueError(f"search init {self.settings.init!r} must name a cached generator run "
                                 "(and the energy must score distances)")
            self.init_model = gen.model(self.device)

    def trajectory(self, graphs) -> tuple[GraphBatch, Trajectory]:
        """The full search trajectory on one batch of graphs (for plots and widgets)."""
        batch = collate(graphs, with_targets=False).to(self.device)
        gen = torch.Generator().manual_seed(self.settings.seed)
        y0 = None
        # One thread: the backward pass through the energy's edge gathers adds floats in a racy
        # order when several threads run it, so a search would not repeat bit for bit.
        with single_thread():
            if self.init_model is not None:
                with torch.no_grad():
                    y0 = self.init_model(batch).dist.float()
            return batch, search_trajectory(self.model, batch, self.kind, self.settings, gen, y0)

    def solve(self, graphs):
        return self.solve_budgets(graphs, [self.settings.steps])[self.settings.steps]

    def solve_budgets(self, graphs, budgets) -> dict[int, list]:
        """Predictions after each budget of steps, one search per group of `shared_searches`."""
        out: dict[int, list] = {}
        for group in self.shared_searches(budgets):
            old, self.settings = self.settings, replace(self.settings, steps=group[-1])
            try:
                out.update(self._prefix_solve(graphs, group))
            finally:
                self.settings = old
        return out

    def shared_searches(self, budgets) -> list[list[int]]:
        """Budgets (ascending) grouped by the search that serves them, run to each group's last.

        Gradient descent and Langevin are deterministic given the seed, so a smaller budget's
        trajectory is a prefix of the largest one: one search serves every budget (the answer at
        budget k is the best, or last, iterate among its first k steps). An annealed ladder
        depends on its length, so budgets share a search only where their ladders are the same;
        restarts depend on the total budget, so each gets its own. Budget 0, the start, is the
        same in every search and joins the first group."""
        budgets = sorted({int(k) for k in budgets})
        if self.settings.routine in ("gd", "langevin"):
            return [budgets]
        if self.settings.routine == "annealed":
            levels = self.model.cfg.noise_levels or self.settings.levels
            key = lambda k: max(1, k // levels)  # noqa: E731 -- the steps per level of `search_trajectory`
        else:
            key = lambda k: k  # noqa: E731
        groups: dict[int, list[int]] = {}
        for k in budgets:
            groups.setdefault(key(k), []).append(k)
        out = list(groups.values())
        if len(out) > 1 and out[0] == [0]:
            out = [[0, *out[1]], *out[2:]]
        return out

    def _prefix_solve(self, graphs, budgets) -> dict[int, list]:
        out = {k: [None] * len(graphs) for k in budgets}
        for idx, batch, traj in self.batched_trajectories(graphs):
            for k in budgets:
                for i, p in zip(idx, decode(batch, self.kind, self.answer(traj, k))):
                    out[k][i] = p
        return out

    def batched_trajectories(self, graphs):
        """``(indices, batch, trajectory)`` per batch of graphs, in order of size (similar sizes
        share a batch); ``indices`` say where each graph of the batch sits in ``graphs``."""
        order = sorted(range(len(graphs)), key=lambda i: graphs[i].num_nodes)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield (idx, *self.trajectory([graphs[i] for i in idx]))

    def answer(self, traj: Trajectory, steps: int) -> torch.Tensor:
        """The candidate this solver answers with after the first ``steps`` steps of ``traj``: the
        lowest-energy iterate among them (``keep_best``) or the last."""
        prefix = Trajectory(traj.candidates[: steps + 1], traj.energies[: steps + 1], groups=traj.groups)
        return prefix.best() if self.settings.keep_best else prefix.final()

    def describe(self) -> dict:
        return {"run": self.name, **asdict(self.settings)}
