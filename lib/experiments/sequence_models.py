"""Notebook 02, sequence half: the Feedback Transformer against a standard decoder Transformer.

Two tasks, the same two models (same width; 4 feedback layers against 8 standard layers, as in
the paper): the paper's code-execution task at reduced scale (a sanity check of the
reproduction), and Dijkstra written as a trace (notebook 07, `lib.experiments.trace_study.PROFILES`: trained
at n <= 6, tested at n = 6, 8, 12 and 16), where ``trace_long_models`` also train for longer.
Every run goes through the run cache; tables report the mean over seeds ± its 95% t interval (the
trace's exact match: pooled over seeds, with its 95% Wilson interval).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..devices import resolve_device
from ..findings import findings_row, pct_wilson
from ..metrics import Prediction, evaluate_predictions
from ..runs import RunCache
from ..samplers import SPLITS, sample_split
from ..sequence.dijkstra_trace import TraceCoding, quantisation_ceiling
from ..sequence.examples import collate
from ..sequence.train import SeqTrainConfig, SequenceRun
from ..statistics import mean_ci
from ..sweep import evaluate_many, run_sweep

MODELS = ("feedback_transformer", "decoder_transformer")


@dataclass(frozen=True)
class SequenceConfig:
    seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per model and task
    d_model: int = 64  # width of both models
    heads: int = 4  # attention heads of both models
    ffn_mult: int = 2  # feed-forward width multiple of both models
    feedback_layers: int = 4  # Feedback Transformer depth (the paper: 4)
    transformer_layers: int = 8  # decoder Transformer depth (the paper: 8)
    window: int | None = None  # attention span of both models (None: whole past; the paper: 100 tokens)
    batch_size: int = 32  # sequences per optimizer step
    lr: float = 2e-3  # peak learning rate
    # -- code execution ----------------------------------------------------------------------
    variables: int = 1  # program variables (the paper: 3 or 5; shrunk until the Transformer learns)
    statements: int = 6  # statements per training program (the paper: 100)
    max_value: int = 5  # values lie in 1..max_value (the paper: 10; shrunk: at 10, 800 steps leave the Transformer < 95%)
    train_programs: int = 50000  # training programs, each seed its own draw
    code_steps: int = 800  # optimizer steps per code-execution run
    code_long_steps: int | None = None  # also train every Transformer arm (plain, regularized) this many steps
    code_short_transformers: bool = True  # train the Transformer arms at code_steps (False: only the longer ones)
    code_batch_size: int = 128  # programs per step
    code_lr: float = 3e-3  # peak learning rate on code execution
    test_programs: int = 1000  # held-out programs per length (split "test")
    ood_statements: tuple[int, ...] = (12, 24)  # longer test programs: out of distribution
    regularizers: tuple[tuple[str, float], ...] = (("dropout", 0.1),)  # Transformer arms; best chosen on validation
    # -- Dijkstra trace ----------------------------------------------------------------------
    bins: int = 16  # weight quantisation bins
    id_vocab: int = 16  # node ids: graphs of up to this many nodes can be written
    trace_train_split: str = "trace_train"  # training graphs: n in {4..8} (at CLRS's n <= 16 neither model learned)
    trace_val_split: str = "trace_val"  # learning-curve graphs, n = 8
    train_graphs: int = 20000  # training graphs, each seed its own draw
    trace_steps: int = 4000  # optimizer steps per trace run (300 left both models at the no-answer floor)
    trace_long_steps: int | None = 16000  # steps of the longer-trained trace arms (None: no such arm)
    # The models also trained trace_long_steps. Left out of the printed config, whose committed copy in
    # notebook 09 predates it; notebook 07 prints its arms.
    trace_long_models: tuple[str, ...] = field(default=("decoder_transformer",), repr=False)
    trace_splits: tuple[str, ...] = ("trace_test_8", "trace_test_12", "trace_test_16")  # the first in distribution
    eval_graphs: int = 256  # graphs per evaluation split
    tasks: tuple[str, ...] = ("code", "trace")  # the tasks trained: notebook 02 runs "code", notebook 07 "trace"
    # -- cost -----------------------------------------------------------------------------------
    cost_items: int = 16  # programs / graphs per wall-time measurement
    workers: int | None = None  # training processes (None: one per core); results do not depend on it
    device: str = "auto"  # "auto", "cpu" or "cuda"

    def _model_args(self, model: str) -> dict:
        layers = self.feedback_layers if model == "feedback_transformer" else self.transformer_layers
        args = {"d_model": self.d_model, "heads": self.heads, "ffn_mult": self.ffn_mult, "layers": layers}
        return args if self.window is None else {**args, "window": self.window}

    def code_configs(self) -> list[SeqTrainConfig]:
        """Both models, then the Transformer with each regularizer, every seed on its own programs;
        with ``code_long_steps``, every Transformer arm also trained that long (label suffix ", N steps")."""
        if self.code_long_steps is not None and self.code_long_steps <= self.code_steps:
            raise ValueError(f"code_long_steps ({self.code_long_steps}) must exceed code_steps ({self.code_steps}), "
                             "or be None for no longer-trained arms")
        if not self.code_short_transformers and self.code_long_steps is None:
            raise ValueError("code_short_transformers=False leaves no Transformer arm: set code_long_steps")
        task_args = {"variables": self.variables, "statements": self.statements, "train_programs": self.train_programs,
                     "max_value": self.max_value}
        transformers = [("decoder_transformer", self._model_args("decoder_transformer"), {}, "decoder_transformer")]
        for name, value in self.regularizers:
            if name not in ("dropout", "weight_decay"):
                raise ValueError(f"unknown regularizer {name!r}; choose 'dropout' or 'weight_decay'")
            args = self._model_args("decoder_transformer")
            transformers.append(("decoder_transformer", {**args, "dropout": value} if name == "dropout" else args,
                                 {} if name == "dropout" else {"weight_decay": value},
                                 f"decoder_transformer + {name} {value:g}"))
        arms = [("feedback_transformer", self._model_args("feedback_transformer"), {}, "feedback_transformer",
                 self.code_steps)]
        arms += [(*t, self.code_steps) for t in transformers] if self.code_short_transformers else []
        if self.code_long_steps is not None:
            arms += [(m, args, extra, f"{name}, {self.code_long_steps} steps", self.code_long_steps)
                     for m, args, extra, name in transformers]
        return [SeqTrainConfig(model=m, model_args=args, task="code_execution", task_args=task_args, seed=s,
                               own_data=True, steps=steps, batch_size=self.code_batch_size, lr=self.code_lr,
                               eval_every=max(1, steps // 8), val_items=256, label=f"code-{name}", **extra)
                for m, args, extra, name, steps in arms for s in self.seeds]

    def trace_configs(self) -> list[SeqTrainConfig]:
        task_args = {"bins": self.bins, "id_vocab": self.id_vocab, "train_split": self.trace_train_split,
                     "val_split": self.trace_val_split, "train_graphs": self.train_graphs}
        if self.trace_long_steps is not None and self.trace_long_steps <= self.trace_steps:
            raise ValueError(f"trace_long_steps ({self.trace_long_steps}) must exceed trace_steps ({self.trace_steps}), "
                             "or be None for no longer-trained arm")
        unknown = sorted(set(self.trace_long_models) - set(MODELS))
        if unknown:
            raise ValueError(f"unknown model(s) {unknown} in trace_long_models; choose from {list(MODELS)}")
        arms = [(m, self.trace_steps, f"trace-{m}") for m in MODELS]
        if self.trace_long_steps is not None:
            arms += [(m, self.trace_long_steps, f"trace-long-{self.trace_long_steps} steps")
                     for m in MODELS if m in self.trace_long_models]
        return [SeqTrainConfig(model=m, model_args=self._model_args(m), task="dijkstra_trace", task_args=task_args,
                               seed=s, own_data=True, steps=steps, batch_size=self.batch_size, lr=self.lr,
                               eval_every=max(1, steps // 8), val_items=128, label=name)
                for m, steps, name in arms for s in self.seeds]


PROFILES = {
    "full": SequenceConfig(),
    "long": SequenceConfig(regularizers=(("dropout", 0.1), ("dropout", 0.3), ("weight_decay", 0.1))),
    "smoke": SequenceConfig(seeds=(0,), d_model=16, heads=2, batch_size=8, statements=4, train_programs=32,
                            code_steps=3, code_batch_size=8, test_programs=8, ood_statements=(8,), train_graphs=16,
                            trace_steps=3, trace_long_steps=6, trace_splits=("trace_test_8", "trace_test_12"), eval_graphs=2, cost_items=2, workers=1),
}


def label(run: SequenceRun) -> str:
    """"Feedback Transformer (4 layers)" / "Transformer (8 layers)", as in the paper's table, with
    any regularizer ("Transformer (8 layers) + dropout 0.1") and, for an arm whose config label
    ends in " steps", its step count ("Transformer (8 layers), 16000 steps")."""
    cfg = run.config
    name = "Feedback Transformer" if cfg.model == "feedback_transformer" else "Transformer"
    regularizers = ([f"dropout {cfg.model_args['dropout']:g}"] if cfg.model_args.get("dropout") else []) + (
        [f"weight decay {cfg.weight_decay:g}"] if cfg.weight_decay else [])
    steps = [f"{cfg.steps} steps"] if cfg.label.endswith(" steps") else []  # an arm trained for longer
    return ", ".join([" + ".join([f"{name} ({cfg.model_args.get('layers')} layers)", *regularizers]), *steps])


def training_configs(cfg: "SequenceConfig") -> list:
    """Every run this notebook trains under ``cfg`` (for the report runner's plan)."""
    unknown = sorted(set(cfg.tasks) - {"code", "trace"})
    if unknown:
        raise ValueError(f"unknown sequence task(s) {unknown}; choose from 'code', 'trace'")
    return (cfg.code_configs() if "code" in cfg.tasks else []) + (cfg.trace_configs() if "trace" in cfg.tasks else [])


def train_all(configs: list[SeqTrainConfig], workers: int | None = None, device: str = "auto",
              cache: RunCache | None = None) -> list[SequenceRun]:
    """Train (or load) every config through the shared sweep runner, the slowest first (by steps times
    the measured cost of a step: the sequential Feedback Transformer about 2.5 times a Transformer's,
    dropout about 1.3 times). Each run trains on one torch thread with its own seeds, so results are
    the same for any ``workers`` and any order."""
    return run_sweep(configs, workers=workers, cache=cache, device=device, desc="sequence models",
                     first=lambda c: c.steps * (2.5 if c.model == "feedback_transformer"
                                                else 1.3 if c.model_args.get("dropout") else 1.0))


def train_code_execution(cfg: SequenceConfig) -> list[SequenceRun]:
    """Every code-execution arm × seeds. Each run carries this config's label (not part of the cache
    key, but `label` names a longer-trained arm by it)."""
    return _restamped(cfg.code_configs(), train_all(cfg.code_configs(), cfg.workers, cfg.device))


def train_trace(cfg: SequenceConfig) -> list[SequenceRun]:
    """Every trace arm × seeds on the Dijkstra trace. Each run carries this config's label (not part
    of the cache key, but `label` names the longer-trained arm by it)."""
    configs = cfg.trace_configs()
    return _restamped(configs, train_all(configs, cfg.workers, cfg.device))


def _restamped(configs: list[SeqTrainConfig], runs: list[SequenceRun]) -> list[SequenceRun]:
    for c, run in zip(configs, runs):
        run.config = run.config.replace(label=c.label)
    return runs


def _mean_ci(series: pd.Series, scale: float = 100.0) -> str:
    mean, half = mean_ci(series)
    return f"{scale * mean:.1f} ± {scale * half:.1f}"


# -- Dijkstra trace ------------------------------------------------------------------------------
def trace_results(runs: list[SequenceRun], cfg: SequenceConfig) -> pd.DataFrame:
    """Long table: one row per (model, seed, split) with trace and pointer metrics."""
    cells = [(run, split) for run in runs for split in cfg.trace_splits]
    metrics = evaluate_many([(run, (split, cfg.eval_graphs), {"device": cfg.device}) for run, split in cells],
                            cfg.workers, "Dijkstra trace: test graphs")
    return pd.DataFrame([{"model": label(run), "seed": run.config.seed, "split": split, "n": SPLITS[split].sizes[0],
                          **{k: m[k] for k in ("trace_token_accuracy", "trace_node_accuracy",
                                               "trace_predecessor_accuracy", "trace_exact", "pointer_accuracy",
                                               "exact_match")}} for (run, split), m in zip(cells, metrics)])


def trace_table(results: pd.DataFrame, metric: str = "pointer_accuracy", cfg: SequenceConfig | None = None
                ) -> pd.DataFrame:
    """``mean ± its 95% t half-width`` (%) over seeds, model × split; exact match, with ``cfg``, pooled over
    seeds with its 95% Wilson interval ``mean [low, high]``. With ``cfg`` and a pointer metric, two
    reference rows: exact Dijkstra on the binned weights (what the quantisation alone costs, a
    ceiling) and "no answer" (every node points to itself, what a decoder that writes nothing
    useful scores: unreachable nodes are right by convention, a floor)."""
    pooled = cfg is not None and metric == "exact_match"
    cell = (lambda rates: pct_wilson(rates, [cfg.eval_graphs] * len(rates))) if pooled else _mean_ci
    table = results.groupby(["model", "split"], sort=False)[metric].apply(cell).unstack("split")
    splits = list(dict.fromkeys(results.split))
    table = table[splits]
    if cfg is not None and metric in ("pointer_accuracy", "exact_match"):
        floor, ceiling = zip(*(trace_bounds(s, cfg, metric) for s in splits))
        table.loc[f"Dijkstra on {cfg.bins}-bin weights (ceiling)"] = [f"{100 * v:.1f}" for v in ceiling]
        table.loc["no answer: every node points to itself (floor)"] = [f"{100 * v:.1f}" for v in floor]
    graphs = f", {cfg.eval_graphs} graphs" if cfg is not None else ""
    table.columns = [f"{s} (n = {SPLITS[s].sizes[0]}{graphs})" for s in splits]
    return table


def trace_bounds(split: str, cfg: SequenceConfig, metric: str = "pointer_accuracy") -> tuple[float, float]:
    """(floor, ceiling) of ``metric`` on a split's evaluation graphs: no answer (every node points to
    itself), and exact Dijkstra on the binned weights."""
    graphs = _graphs(split, cfg.eval_graphs)
    floor = evaluate_predictions(graphs, [Prediction(np.arange(g.num_nodes)) for g in graphs])[metric]
    return floor, quantisation_ceiling(graphs, TraceCoding(cfg.bins, cfg.id_vocab))[metric]


def _graphs(split: str, num: int):
    return sample_split(split, num)


# -- cost ----------------------------------------------------------------------------------------
def _seconds(fn, repeats: int = 2) -> float:
    fn()  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.no_grad()
def cost_table(code_runs: list[SequenceRun], trace_runs: list[SequenceRun], cfg: SequenceConfig) -> pd.DataFrame:
    """Per model and task: parameters, training seconds per step, analytic FLOPs per sequence
    (``model.flops_per_sequence``, at the mean length of the evaluation sequences) and measured
    wall time per program (teacher-forced) or per graph (greedy generation), one torch thread,
    batches of ``cost_items``. Timings depend on the machine; FLOPs do not."""
    dev = resolve_device(cfg.device)
    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for runs, kind in ((code_runs, "code"), (trace_runs, "trace")):
            for run in {label(r): r for r in runs}.values():  # one seed per model
                model, task = run.model(dev), run.task
                base = {"task": "code execution" if kind == "code" else "Dijkstra trace", "model": label(run),
                        "parameters": run.metrics["parameters"],
                        "train seconds / step": round(np.mean([r.metrics["seconds_per_step"] for r in runs
                                                               if label(r) == label(run)]), 3)}
                if kind == "code":
                    programs = task.eval_items("test", cfg.cost_items)
                    x, _, _ = collate([task.example(p) for p in programs], task.pad, dev)
                    secs = _seconds(lambda: model(x)) / len(programs)
                    length = float(np.mean([task.length(p) for p in programs]))
                    rows.append({**base, "n": None, "mean tokens": round(length, 1),
                                 "GFLOPs / sequence": model.flops_per_sequence(round(length)) / 1e9,
                                 "ms / item": 1e3 * secs})
                    continue
                for split in cfg.trace_splits:
                    graphs = _graphs(split, cfg.cost_items)
                    secs = _seconds(lambda: task.predictions(model, graphs, device=dev, batch_size=len(graphs)),
                                    repeats=1) / len(graphs)
                    length = float(np.mean([task.length(g) for g in graphs]))
                    rows.append({**base, "n": SPLITS[split].sizes[0], "mean tokens": round(length, 1),
                                 "GFLOPs / sequence": model.flops_per_sequence(round(length)) / 1e9,
                                 "ms / item": 1e3 * secs})
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def learning_curves(runs: list[SequenceRun]) -> pd.DataFrame:
    """Long table of each run's learning curve in the columns `plots.plot_training_curves` reads:
    model, seed, step, loss (training) and acc (the task's validation metric, named in val_metric)."""
    rows = []
    for run in runs:
        curve = run.metrics["curve"]
        val_key = next(k for k in curve if k.startswith("val_"))
        for i, step in enumerate(curve["step"]):
            rows.append({"model": label(run), "seed": run.config.seed, "task": run.config.task, "step": step,
                         "loss": curve["train_loss"][i], "val_metric": val_key[4:], "acc": curve[val_key][i]})
    return pd.DataFrame(rows)


def memory_layer_weights(runs: list[SequenceRun]) -> pd.DataFrame:
    """softmax(w) of each trained Feedback Transformer: what its memory is made of (with an arm column
    when the runs hold more than one Feedback Transformer arm)."""
    rows = []
    feedback = [run for run in runs if run.config.model == "feedback_transformer"]
    arms = len({label(run) for run in feedback}) > 1
    for run in feedback:
        w = run.model("cpu").memory_layer_weights().tolist()
        rows.append({"task": run.config.task, **({"arm": label(run)} if arms else {}), "seed": run.config.seed,
                     **{("embedding" if i == 0 else f"layer {i}"): v for i, v in enumerate(w)}})
    return pd.DataFrame(rows)


__all__ = ["SequenceConfig", "PROFILES", "train_all", "train_code_execution", "train_trace", "trace_results", "trace_table", "trace_bounds", "cost_table", "learning_curves",
           "memory_layer_weights", "label"]


def findings_rows(results: pd.DataFrame, runs: list[SequenceRun]) -> list[dict]:
    """README rows: each sequence model on the Dijkstra trace (pointer accuracy by n)."""
    rows = []
    for model, d in results.groupby("model", sort=False):
        rs = [r for r in runs if label(r) == model]
        route = "imitation + test-time compute (feedback memory)" if "Feedback" in model else "imitation"
        by_split = d.assign(split=d.n.map({16: "test_16", 64: "test_64"}))  # the columns of the same n
        trained = sorted({n for r in rs for n in SPLITS[r.config.task_args.get("train_split", "train")].sizes})
        rows.append(findings_row(f"{model}, Dijkstra as a trace (trained at n ≤ {trained[-1]}; n = 16 is OOD)", route,
                                 by_split, "sequential decoding", rs, seeds=d.seed.nunique()))
    return rows
