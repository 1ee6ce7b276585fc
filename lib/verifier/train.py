"""Training a verifier from correct / wrong labels, through the run cache.

Each step takes a batch of training graphs with their correct outputs and scores:
* the true distances (label: right);
* corruptions of them (`lib.verifier.candidates.corrupt`);
* the matched generator's own outputs on those graphs, computed once before training;
* the states where the parallel local search stops under the current verifier, from the "far" and
  the random start, mined again at every step.
With ``label_warmup`` > 0 the first steps train on `local_choice_loss` alone (no candidates): the
label loss's gradient on wrong candidates (``1 / E`` as E falls to 0) otherwise dominates the clipped
step early on, and some seeds then never learn the local ranking (notebook 05, training robustness).
Every candidate is labelled by comparing it with the correct output (`is_right`). Two losses:
* `local_choice_loss`, a pseudo-likelihood of the correct output: each node's true value against its
  other parent choices, the rest of the graph held at the truth;
* `label_loss` on whole candidates. It reads
exp(-E) as the probability that a candidate is right (a noisy-OR over per-node terms): ``E`` for
right candidates, ``-log(1 - exp(-E))`` for wrong ones; and it ranks each wrong candidate at least a
margin above the truth of the same graph, which localises the signal to the nodes where they differ. The training targets hold no
per-node residual, no violation count and no oracle score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..batching import collate, segment_log_softmax
from ..determinism import set_seed
from ..devices import resolve_device
from ..runs import Run, RunCache, RunConfig, evaluation_key
from ..samplers import sample_split
from ..search.parallel_moves import MARGINS, option_values, parallel_descent, start_candidate
from ..training import (
    LearningCurve,
    environment,
    optimizer_step,
    set_learning_rate,
    train_cached,
    training_bar,
    warmup_cosine,
)
from .candidates import corrupt, is_right, same_value, truth
from .registry import VERIFIERS, build_verifier
from .solver import VerifierSolver, generator_distances


@dataclass(frozen=True)
class VerifierTrainConfig(RunConfig):
    KIND: ClassVar[str] = "verifier"  # run-cache kind

    model: str = "min_plus_verifier"  # a key of lib.verifier.registry.VERIFIERS
    model_args: dict = field(default_factory=dict)  # fields of that model's config
    generator: str = ""  # preset of the matched generator whose outputs are negatives ("" for none)
    seed: int = 0  # training seed; with own_data, also which training graphs
    train_split: str = "train_short_paths"  # named split the training graphs come from
    train_graphs: int = 1000  # size of the fixed training set
    own_data: bool = True  # each seed draws its own training graphs (the generator's, for the same seed)
    steps: int = 2000  # optimizer steps
    batch_size: int = 32  # graphs per step
    corruptions: int = 2  # corrupted copies of the truth per graph and step
    mine_cap: int = 0  # rounds of the mining search per start (0: each graph's node count)
    label_warmup: float = 0.0  # fraction of the steps on `local_choice_loss` alone, before the label loss joins
    search_margins: str = "coarse"  # margins of the mining search and of validation (`parallel_moves.MARGINS`)
    lr: float = 1e-3  # AdamW learning rate (cosine decay to 10%)
    weight_decay: float = 0.0  # AdamW weight decay
    grad_clip: float = 1.0  # gradient-norm clip
    val_split: str = "val_short_paths"  # validation split: exact match of the search from the far start
    val_graphs: int = 64  # validation graphs
    eval_every: int = 250  # steps between validation points
    label: str = ""  # human-readable name; not part of the cache key

    def __post_init__(self):
        if self.model not in VERIFIERS:
            raise ValueError(f"unknown verifier {self.model!r}; choose from {sorted(VERIFIERS)}")
        build_verifier(self.model, **self.model_args)
        for name in ("steps", "batch_size", "train_graphs", "eval_every", "val_graphs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size > self.train_graphs or self.corruptions < 0 or self.mine_cap < 0:
            raise ValueError("need batch_size <= train_graphs, corruptions >= 0 and mine_cap >= 0")
        if self.search_margins not in MARGINS:
            raise ValueError(f"unknown search_margins {self.search_margins!r}; choose from {sorted(MARGINS)}")
        if not 0.0 <= self.label_warmup < 1.0:
            raise ValueError(f"label_warmup is a fraction of the steps in [0, 1), got {self.label_warmup}")


class VerifierRun(Run):
    """A finished verifier run: the model, and the search under it as a `Solver`."""

    CONFIG = VerifierTrainConfig

    def model(self, device: str = "cpu"):
        model = build_verifier(self.config.model, **self.config.model_args)
        model.load_state_dict(self.state_dict())
        return model.to(resolve_device(device)).eval()

    def solver(self, device: str = "auto", start: str = "far", **options) -> VerifierSolver:
        """The search under this verifier from ``start``: "far", "random", or a generator run (by name
        through `lib.solvers.get_solver`)."""
        unknown = sorted(k for k, v in options.items() if v is not None and k not in ("batch_size", "seed", "cap"))
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise ValueError(f"run {self.name!r} is a verifier: it searches until a fixed point (cap: n rounds) and "
                             f"does not take {flags}; choose where it starts with --start")
        return VerifierSolver(self.model(device), start=start, device=device, name=self.name, **options)

    def evaluate(self, split: str, num_graphs: int, device: str = "auto", start: str = "far") -> dict:
        """Metrics of the search from ``start`` on a named split, cached in the run folder."""
        key = evaluation_key(split=split, num_graphs=num_graphs, start=start, search="parallel_moves", margins="fine")
        return self.cached_evaluation(key, lambda: self.solver(device, start).evaluate(sample_split(split, num_graphs)))


def train_verifier(cfg: VerifierTrainConfig, cache: RunCache | None = None, device: str = "auto",
                   progress: bool = True, generator=None) -> VerifierRun:
    """Train (or load from the run cache) a verifier. ``generator`` is the trained run of
    ``cfg.generator`` (`lib.run_kinds.train_any` resolves it from the preset name)."""
    if cfg.generator and generator is None:
        raise ValueError(f"verifier config names generator {cfg.generator!r}: pass its trained run "
                         "(lib.run_kinds.train_any does)")
    if generator is not None:
        g = generator.config
        if (g.train_split, g.train_graphs, g.own_data, g.seed) != (cfg.train_split, cfg.train_graphs, cfg.own_data,
                                                                  cfg.seed):
            raise ValueError(f"generator {generator.name!r} trains on other graphs than this verifier")
    return train_cached(cfg, cache, VerifierRun.load,
                        lambda c, ca, dev, prog: _train_verifier(c, ca, dev, prog, generator), device, progress)


def _train_verifier(cfg: VerifierTrainConfig, cache: RunCache, dev: torch.device, progress: bool,
                    generator=None) -> VerifierRun:
    gen = set_seed(cfg.seed)
    model = build_verifier(cfg.model, **cfg.model_args).to(dev)
    data = sample_split(cfg.train_split, cfg.train_graphs, seed_offset=cfg.seed + 1 if cfg.own_data else 0)
    val = sample_split(cfg.val_split, cfg.val_graphs)
    proposals = generator_distances(generator, data) if generator is not None else None
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    curve = LearningCurve("val_exact_match", "val_settled", "train_wrong_fraction")
    wrong_seen: list[float] = []
    t0 = time.perf_counter()
    bar = training_bar(cfg.steps, cfg.label or cfg.model, progress)
    for step in bar:
        idx = rng.choice(len(data), cfg.batch_size, replace=False)
        graphs = [data[i] for i in idx]
        batch = collate(graphs).to(dev)
        set_learning_rate(opt, warmup_cosine(step, cfg.steps, cfg.lr))
        if step >= cfg.label_warmup * cfg.steps:
            loss, wrong = label_loss(model, batch, _candidates(model, batch, graphs, cfg, idx, proposals, rng, gen))
            loss = loss + local_choice_loss(model, batch)
            wrong_seen.append(wrong)
        else:  # the warm-up: the local ranking of the correct output alone, no candidates mined
            loss = local_choice_loss(model, batch)
        curve.add_loss(optimizer_step(opt, loss, model.parameters(), cfg.grad_clip))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            m = VerifierSolver(model.eval(), start="far", device=dev, margins=MARGINS[cfg.search_margins]).evaluate(val)
            curve.log(step + 1, bar, val_exact_match=m["exact_match"], val_settled=m["settled_fraction"],
                      train_wrong_fraction=float(np.mean(wrong_seen)) if wrong_seen else None)
            wrong_seen.clear()
    bar.close()
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    metrics = {"curve": dict(curve), "train_seconds": time.perf_counter() - t0,
               "parameters": sum(p.numel() for p in model.parameters()),
               "examples_seen": cfg.steps * cfg.batch_size, "device": str(dev), "environment": environment()}
    return VerifierRun.load(cache.commit(cfg, metrics, state))


def _candidates(model, batch, graphs, cfg: VerifierTrainConfig, idx, proposals, rng, gen) -> list[torch.Tensor]:
    """The labelled candidates of one step: the truth first, its corruptions, the generator's outputs,
    and the states where the search under the current verifier stops from the far and a random start.
    Both searches run as one, on the batch's ``graphs`` twice (each graph keeps its own rounds and
    cap): one round of Python per round of the slower start, not one per round of each."""
    cands = [truth(batch)] + [corrupt(batch, truth(batch), rng) for _ in range(cfg.corruptions)]
    dev = batch.weights.device
    if proposals is not None:
        cands.append(torch.cat([proposals[i] for i in idx]).to(dev))
    model.eval()
    y0 = torch.cat([start_candidate(batch, how, gen).to(dev) for how in ("far", "random")])
    y = parallel_descent(model, collate(graphs * 2).to(dev), y0, cfg.mine_cap or None, MARGINS[cfg.search_margins]).y
    cands += list(y.split(batch.num_nodes))
    model.train()
    return cands


def label_loss(model, batch, candidates: list[torch.Tensor], margin: float = 1.0) -> tuple[torch.Tensor, float]:
    """The graph-level label loss over candidates (the first is the truth), each labelled right / wrong
    against the correct output: the noisy-OR likelihood (``E`` for right, ``-log(1 - exp(-E))`` for
    wrong) plus a ranking term, softplus(margin - (E_wrong - E_truth)), for each wrong candidate of the
    same graph. Returns the loss and the fraction of wrong candidates."""
    energies = [model(batch, y) for y in candidates]
    likelihood, ranking, wrong = [], [], []
    for y, e in zip(candidates, energies):
        right = is_right(batch, y)
        likelihood.append(torch.where(right, e, -torch.log(-torch.expm1(-e.clamp(min=1e-6)))))
        ranking.append(torch.where(right, torch.zeros_like(e), F.softplus(margin - (e - energies[0]))))
        wrong.append((~right).float())
    loss = torch.cat(likelihood).mean()
    if len(candidates) > 1:
        loss = loss + torch.cat(ranking[1:]).mean()
    return loss, float(torch.cat(wrong).mean())


def local_choice_loss(model, batch) -> torch.Tensor:
    """Pseudo-likelihood of the correct output: at every node, with every other node at its true value,
    the options that give the node its true value against its other options (its parent choices and
    "unreached"; softmax over -term).
    This ranks the correct output above outputs that differ from it at one node; it is what makes a
    node's own term lowest at the right move, which the parallel search relies on."""
    y = truth(batch)
    nodes = torch.arange(batch.num_nodes, device=y.device)
    owner = torch.cat([batch.cand_dst, nodes])  # the parent choices, plus "unreached" for every node
    values = torch.cat([option_values(batch, y), torch.full_like(y, float("inf"))])
    terms = model.option_terms(batch, y, owner, values)
    logp = segment_log_softmax(-terms, owner, batch.num_nodes)
    right = same_value(values, y[owner])
    best = torch.full((batch.num_nodes,), float("-inf"), device=y.device).scatter_reduce(
        0, owner, torch.where(right, logp, torch.full_like(logp, float("-inf"))), "amax")
    mass = torch.zeros(batch.num_nodes, device=y.device).index_add(
        0, owner, torch.where(right, (logp - best[owner]).exp(), torch.zeros_like(logp)))
    return -(best + mass.log()).mean()


__all__ = ["VerifierRun", "VerifierTrainConfig", "label_loss", "local_choice_loss", "train_verifier"]
