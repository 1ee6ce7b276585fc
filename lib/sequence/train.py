"""Training for the sequence models (Feedback Transformer, decoder Transformer) on the
sequence tasks (code execution, Dijkstra trace), mirroring `lib.models.train`: a frozen seeded config,
a progress-bar loop, and the run cache (kind ``"sequence"``) in front of it.

Data: the task's fixed training set comes from its own split seed; batches are drawn by the
training seed from length buckets (sequences of similar length, so the sequential Feedback
Transformer does not step through padding); Dijkstra graphs get fresh node ids each use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..determinism import set_seed, single_thread
from ..devices import resolve_device
from ..runs import Run, RunCache, RunConfig, evaluation_key
from ..training import LearningCurve, environment, train_cached, optimizer_step, set_learning_rate, training_bar, warmup_cosine
from .decoder_transformer import SequenceModel
from .examples import collate
from .models import SEQ_MODELS, build_sequence_model, sequence_model_config
from .tasks import build_task

#: The validation metric each task's learning curve tracks (teacher forced, cheap).
VAL_METRIC = {"code_execution": "print_accuracy", "dijkstra_trace": "trace_token_accuracy"}


@dataclass(frozen=True)
class SeqTrainConfig(RunConfig):
    KIND: ClassVar[str] = "sequence"  # run-cache kind: sequence models on sequence tasks

    model: str = "feedback_transformer"  # a key of SEQ_MODELS
    model_args: dict = field(default_factory=dict)  # overrides of that model's config (not vocab_size)
    task: str = "code_execution"  # a key of lib.sequence.tasks.TASKS
    task_args: dict = field(default_factory=dict)  # the task's arguments (sizes, bins, training-set size)
    seed: int = 0  # training seed: initialisation, batch order, node relabelling (data splits have their own)
    own_data: bool = False  # each seed draws its own training set (False: every seed shares the task's one)
    steps: int = 1000  # optimizer steps
    batch_size: int = 32  # sequences per step
    lr: float = 1e-3  # peak learning rate (AdamW, linear warm-up, cosine decay to 10%)
    weight_decay: float = 0.0  # AdamW weight decay
    grad_clip: float = 1.0  # gradient-norm clip
    bucket: int = 8  # batches per length bucket (1: no bucketing)
    eval_every: int = 250  # steps between validation points on the learning curve
    val_items: int = 64  # validation programs / graphs (split "val")
    label: str = ""  # human-readable name; not part of the cache key

    def __post_init__(self):
        task = build_task(self.task, **self.task_args)  # fails early on an unknown task or argument
        sequence_model_config(self.model, task.vocab_size, **self.model_args)
        for name in ("steps", "batch_size", "eval_every", "val_items", "bucket"):
            if getattr(self, name) < 1:
                raise ValueError(f"SeqTrainConfig.{name} must be >= 1, got {getattr(self, name)}")

    def build_task(self):
        return build_task(self.task, **self.task_args)

    def build_model(self) -> SequenceModel:
        return build_sequence_model(self.model, self.build_task().vocab_size, **self.model_args)


class SequenceRun(Run):
    """A finished (cached) sequence-model run."""

    CONFIG = SeqTrainConfig

    @property
    def task(self):
        return self.config.build_task()

    def model(self, device: str = "cpu") -> SequenceModel:
        model = self.config.build_model()
        model.load_state_dict(self.state_dict())
        return model.to(resolve_device(device)).eval()

    def evaluate(self, split: str, num: int, device: str = "auto", task_args: dict | None = None, **kw) -> dict:
        """Task metrics on ``num`` items of a named split, cached in the run's folder.

        ``task_args`` change the task the items come from (e.g. ``{"statements": 32}``: longer
        programs than in training, out of distribution); ``kw`` go to the task's ``evaluate``
        (e.g. ``generate=False``, ``iterations=`` for a universal decoder)."""
        task = build_task(self.config.task, **{**self.config.task_args, **(task_args or {})})

        def compute():
            dev = resolve_device(device)
            with single_thread():
                return task.evaluate(self.model(dev), task.eval_items(split, num), device=dev, **kw)

        key = evaluation_key(split=split, num=num, **({"task_args": task_args} if task_args else {}), **kw)
        return self.cached_evaluation(key, compute)

    def solver(self, device: str = "auto", **options):
        """This run as a `Solver` of graphs (Dijkstra-trace runs only)."""
        return SequenceSolver(self, device, **options)


class SequenceSolver:
    """A Dijkstra-trace run as a `Solver`: encode each graph, decode greedily, read off pi."""

    def __init__(self, run: SequenceRun, device: str = "auto", **options):
        if run.config.task != "dijkstra_trace":
            raise ValueError(f"run {run.name!r} was trained on {run.config.task!r}, not on graphs: "
                             "only dijkstra_trace runs can solve graphs")
        options = {k: v for k, v in options.items() if v is not None}
        accepted = {"iterations"} if run.config.model_args.get("universal") else set()
        unknown = sorted(set(options) - accepted)
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise ValueError(f"run {run.name!r} (model {run.config.model!r}) does not take {flags}")
        self.run, self.name, self.options = run, run.name, options
        self.device = resolve_device(device)
        self.model = run.model(self.device)

    def solve(self, graphs):
        with single_thread():
            return self.run.task.predictions(self.model, graphs, device=self.device, **self.options)


def load_sequence_run(path) -> SequenceRun:
    """Load a cached sequence run."""
    return SequenceRun.load(path)


def bucketed_batches(lengths: Sequence[int], batch_size: int, bucket: int, rng: np.random.Generator):
    """Endless batches of indices: shuffle, sort each run of ``bucket`` batches by length, cut
    into batches, shuffle the batches. Every item is used once per epoch."""
    n = len(lengths)
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) exceeds the training set ({n})")
    lengths = np.asarray(lengths)
    while True:
        perm = rng.permutation(n)
        batches = []
        for k in range(0, n - batch_size + 1, batch_size * bucket):
            chunk = perm[k:k + batch_size * bucket]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[j:j + batch_size] for j in range(0, len(chunk) - batch_size + 1, batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]


def sequence_loss(model: SequenceModel, inputs, targets, mask, **forward_kw) -> torch.Tensor:
    """Mean cross-entropy over the masked positions."""
    logits = model(inputs, **forward_kw)
    return F.cross_entropy(logits[mask], targets[mask])


def train_sequence(cfg: SeqTrainConfig, cache: RunCache | None = None, device: str = "auto",
                   progress: bool = True) -> SequenceRun:
    """Train ``cfg`` (or load it from the run cache) and return the `SequenceRun`."""
    return train_cached(cfg, cache, SequenceRun.load, _train, device, progress)


def _train(cfg: SeqTrainConfig, cache: RunCache, dev: torch.device, progress: bool) -> SequenceRun:
    set_seed(cfg.seed)
    task = cfg.build_task()
    model = cfg.build_model().to(dev)
    items = task.train_items(seed_offset=cfg.seed + 1 if cfg.own_data else 0)
    val = task.eval_items("val", cfg.val_items)
    rng = np.random.default_rng(cfg.seed)
    batches = bucketed_batches([task.length(i) for i in items], cfg.batch_size, cfg.bucket, rng)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    metric = VAL_METRIC[cfg.task]
    curve = LearningCurve(f"val_{metric}")
    t0 = time.perf_counter()
    bar = training_bar(cfg.steps, cfg.label or cfg.model, progress)
    for step in bar:
        model.train()
        x, y, m = collate([task.example(items[i], rng) for i in next(batches)], task.pad, dev)
        set_learning_rate(opt, warmup_cosine(step, cfg.steps, cfg.lr))
        curve.add_loss(optimizer_step(opt, sequence_loss(model, x, y, m), model.parameters(), cfg.grad_clip))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            model.eval()
            score = task.evaluate(model, val, device=dev, generate=False)[metric] if cfg.task == "dijkstra_trace" \
                else task.evaluate(model, val, device=dev)[metric]
            curve.log(step + 1, bar, **{f"val_{metric}": score})
    bar.close()
    seconds = time.perf_counter() - t0
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    metrics = {"curve": dict(curve), "train_seconds": seconds, "seconds_per_step": seconds / cfg.steps,
               "parameters": model.num_parameters(), f"final_val_{metric}": curve[f"val_{metric}"][-1],
               "device": str(dev), "environment": environment()}
    return SequenceRun.load(cache.commit(cfg, metrics, state))


__all__ = ["SeqTrainConfig", "SequenceRun", "SequenceSolver", "SEQ_MODELS", "build_sequence_model",
           "sequence_model_config", "train_sequence", "load_sequence_run", "bucketed_batches", "sequence_loss"]
