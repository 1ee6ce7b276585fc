"""The sequence tasks by name (code execution, Dijkstra trace).

A task is a frozen dataclass (its arguments are ``SeqTrainConfig.task_args``) exposing
``vocab_size``, ``pad``, ``train_items(num)``, ``eval_items(split, num)``, ``length(item)``,
``example(item, rng) -> SeqExample`` and ``evaluate(model, items, ...) -> dict``. Items are
whatever the task is about (programs, graphs); an example is the token view of one item.
"""

from __future__ import annotations

import dataclasses

from .code_execution import CodeExecutionTask
from .dijkstra_trace import DijkstraTraceTask

TASKS: dict[str, type] = {
    "code_execution": CodeExecutionTask,
    "dijkstra_trace": DijkstraTraceTask,
}


def task_class(name: str) -> type:
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    return TASKS[name]


def build_task(name: str, **args):
    """The task ``name`` with its arguments (unknown argument names are errors)."""
    cls = task_class(name)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(args) - fields)
    if unknown:
        raise TypeError(f"task {name!r} has no argument(s) {unknown}; arguments are {sorted(fields)}")
    return cls(**args)


__all__ = ["TASKS", "task_class", "build_task"]
