"""The algorithmic code-execution task of the Feedback Transformer paper, at reduced scale.

A program is a list of statements over a few variables (``x y z``, or ``x y z p r``):

    x = 4 ;   y = 7 ;   x ++ ;   if x < y : y -- ;   print y ;   if z > 3 : x = 2 ;   ...   END

The model reads the program token by token and, at the ``;`` closing each ``print``, must
output the printed value; no other position is scored. This follows the format of the
paper's released generator (facts, not code): operations ``=``, ``++``, ``--``, ``if`` and
``print`` drawn with equal weight; values stay in 1..10 (an ``++`` at 10 or ``--`` at 1 is
redrawn); ``=`` introduces a variable not yet assigned, so each variable is assigned once at
top level; ``if v < c`` / ``if v > c`` compares with another variable or a constant 1..10 and
guards one ``=``, ``++`` or ``--``; ``print`` and ``if`` are never nested; an ``END`` token
closes the program.

Deviations from the paper, all for a 2-core CPU budget:
* programs are short (``statements``, default 24, against the paper's 100) and the model sees a
  whole program at once, not a stream cut into blocks with a 100-token attention window; the
  models' ``window`` option restores a bounded span when wanted;
* the training set is a fixed number of programs (``train_programs``) rather than 10,000;
* ``max_value`` can shrink the value range 1..10 (the vocabulary keeps every number);
* a program is an independent sequence (no carrying of memory across programs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from .examples import SeqExample, teacher_forced_hits

VARIABLES = ("x", "y", "z", "p", "r")
MIN_VALUE, MAX_VALUE = 1, 10
OPERATIONS = ("=", "++", "--", "if", "print")
SPECIALS = ("<pad>", "END", ";", ":", "=", "++", "--", "if", "print", "<", ">")
VOCAB: tuple[str, ...] = SPECIALS + VARIABLES + tuple(str(v) for v in range(MIN_VALUE, MAX_VALUE + 1))
TOKEN_ID: dict[str, int] = {tok: i for i, tok in enumerate(VOCAB)}
PAD = TOKEN_ID["<pad>"]

#: Each split of programs has its own seed, independent of any training seed.
SPLIT_SEEDS = {"train": 11, "val": 12, "test": 13}

Statement = tuple[str, ...]  # the tokens of one statement, ending in ";"


class _Redraw(Exception):
    """The drawn statement is impossible in this state; draw another."""


def _simple(state: dict, op: str, variables: Sequence[str], rng: np.random.Generator, top: int) -> Statement:
    """An ``=``, ``++`` or ``--`` statement, applied to ``state`` (values stay in 1..``top``)."""
    if op == "=":
        free = [v for v in variables if v not in state]
        if not free:
            raise _Redraw
        var = free[int(rng.integers(len(free)))]
        state[var] = int(rng.integers(MIN_VALUE, top + 1))
        return (var, "=", str(state[var]), ";")
    if not state:
        raise _Redraw
    var = sorted(state)[int(rng.integers(len(state)))]
    if (op == "++" and state[var] == top) or (op == "--" and state[var] == MIN_VALUE):
        raise _Redraw
    state[var] += 1 if op == "++" else -1
    return (var, op, ";")


def _statement(state: dict, variables: Sequence[str], rng: np.random.Generator, top: int) -> Statement:
    while True:
        op = OPERATIONS[int(rng.integers(len(OPERATIONS)))]
        try:
            if op in ("=", "++", "--"):
                trial = dict(state)
                stmt = _simple(trial, op, variables, rng, top)
                state.update(trial)
                return stmt
            if not state:
                raise _Redraw
            names = sorted(state)
            if op == "print":
                return ("print", names[int(rng.integers(len(names)))], ";")
            if rng.random() < 0.5:  # if: compare with another variable ...
                if len(names) < 2:
                    raise _Redraw
                i, j = rng.choice(len(names), 2, replace=False)
                var, operand, value = names[i], names[j], state[names[j]]
            else:  # ... or with a constant
                var = names[int(rng.integers(len(names)))]
                value = int(rng.integers(MIN_VALUE, top + 1))
                operand = str(value)
            cmp = "<" if rng.random() < 0.5 else ">"
            holds = state[var] < value if cmp == "<" else state[var] > value
            trial = dict(state)
            sub = _simple(trial, ("=", "++", "--")[int(rng.integers(3))], variables, rng, top)
            if holds:
                state.update(trial)
            return ("if", var, cmp, operand, ":") + sub
        except _Redraw:
            continue


def generate_program(rng: np.random.Generator, statements: int = 24, variables: int = 3,
                     max_value: int = MAX_VALUE) -> list[Statement]:
    """A random program of ``statements`` statements over the first ``variables`` names, its
    values (assigned, compared, reached by ``++``) in 1..``max_value``."""
    if not 1 <= variables <= len(VARIABLES):
        raise ValueError(f"variables must be in 1..{len(VARIABLES)}, got {variables}")
    if statements < 1:
        raise ValueError(f"statements must be >= 1, got {statements}")
    if not MIN_VALUE < max_value <= MAX_VALUE:
        raise ValueError(f"max_value must be in {MIN_VALUE + 1}..{MAX_VALUE} (the vocabulary's numbers), got {max_value}")
    names = VARIABLES[:variables]
    state: dict[str, int] = {}
    return [_statement(state, names, rng, max_value) for _ in range(statements)]


def _operand(tok: str, state: dict) -> int:
    if tok in state:
        return state[tok]
    if tok.lstrip("-").isdigit():
        return int(tok)
    raise ValueError(f"{tok!r} is neither an assigned variable nor a number")


def _execute(stmt: Sequence[str], state: dict) -> int | None:
    """Run one statement (tokens without the final ';'); return the printed value, if any."""
    if len(stmt) == 3 and stmt[1] == "=" and stmt[0] in VARIABLES:
        state[stmt[0]] = _operand(stmt[2], {})
    elif len(stmt) == 2 and stmt[1] in ("++", "--"):
        if stmt[0] not in state:
            raise ValueError(f"variable {stmt[0]!r} used before assignment")
        state[stmt[0]] += 1 if stmt[1] == "++" else -1
    elif len(stmt) == 2 and stmt[0] == "print":
        if stmt[1] not in state:
            raise ValueError(f"variable {stmt[1]!r} printed before assignment")
        return state[stmt[1]]
    elif len(stmt) >= 5 and stmt[0] == "if" and stmt[2] in ("<", ">") and stmt[4] == ":":
        left, right = _operand(stmt[1], state), _operand(stmt[3], state)
        if (left < right) if stmt[2] == "<" else (left > right):
            if stmt[5:6] in (("if",), ("print",)):
                raise ValueError("if and print cannot be nested in an if")
            _execute(stmt[5:], state)
    else:
        raise ValueError(f"cannot parse statement {' '.join(stmt)!r}")
    return None


def run(tokens: Sequence[str]) -> tuple[list[int], list[dict]]:
    """Run a program given as tokens (``;``-terminated statements, optional final ``END``):
    the printed values in order, and the variables' values after every statement.
    Raises ValueError on malformed programs."""
    toks = list(tokens)
    if toks and toks[-1] == "END":
        toks = toks[:-1]
    if toks and toks[-1] != ";":
        raise ValueError("program must end with ';' (before END)")
    state: dict[str, int] = {}
    printed, states, stmt = [], [], []
    for tok in toks:
        if tok == ";":
            value = _execute(tuple(stmt), state)
            if value is not None:
                printed.append(value)
            states.append(dict(state))
            stmt = []
        else:
            stmt.append(tok)
    return printed, states


def interpret(tokens: Sequence[str]) -> list[int]:
    """The values a program (as tokens) prints, in order."""
    return run(tokens)[0]


def program_tokens(program: Sequence[Statement]) -> list[str]:
    return [tok for stmt in program for tok in stmt] + ["END"]


def encode(tokens: Sequence[str]) -> np.ndarray:
    unknown = sorted({t for t in tokens if t not in TOKEN_ID})
    if unknown:
        raise ValueError(f"tokens not in the code-execution vocabulary: {unknown}")
    return np.array([TOKEN_ID[t] for t in tokens], dtype=np.int64)


def decode(ids) -> list[str]:
    return [VOCAB[int(i)] for i in ids]


def make_example(program: Sequence[Statement]) -> SeqExample:
    """Inputs: the program's tokens. Target at each ``print``'s ``;``: the printed value (mask
    true); everywhere else nothing is scored (``<pad>`` target, mask false)."""
    toks = program_tokens(program)
    values = iter(interpret(toks))
    inputs = encode(toks)
    targets = np.full(len(toks), PAD, dtype=np.int64)
    mask = np.zeros(len(toks), dtype=bool)
    pos = 0
    for stmt in program:
        pos += len(stmt)
        if stmt[0] == "print":
            targets[pos - 1], mask[pos - 1] = TOKEN_ID[str(next(values))], True
    return SeqExample(inputs, targets, mask)


def _shortcut_prints(program: Sequence[Statement], rule: str, max_value: int = MAX_VALUE) -> list[int]:
    """What a print shortcut answers at each ``print`` of ``program``: ``"last_assignment"``
    (the printed variable's last ``v = c`` in the text, guarded or not, blind to ``++`` and
    ``--``) or ``"conditions_hold"`` (an interpreter that runs every guarded statement as if its
    condition held)."""
    state: dict[str, int] = {}
    out = []
    for stmt in program:
        body = stmt[:-1]
        if body[0] == "if":
            body = body[5:]
        if body[0] == "print":
            out.append(state[body[1]])
        elif body[1] == "=":
            state[body[0]] = int(body[2])
        elif rule == "conditions_hold":
            state[body[0]] = min(max_value, max(MIN_VALUE, state[body[0]] + (1 if body[1] == "++" else -1)))
    return out


def trivial_baselines(programs: Sequence[Sequence[Statement]], train: Sequence[Sequence[Statement]],
                      max_value: int = MAX_VALUE) -> dict:
    """Print accuracy of three no-learning answers on ``programs``: the most frequent printed value
    of the ``train`` programs, the printed variable's last assignment, and an interpreter that
    takes every ``if`` as true (what it gets wrong is the share of prints a false ``if`` changes)."""
    truth = [interpret(program_tokens(p)) for p in programs]
    counts = np.bincount([v for p in train for v in interpret(program_tokens(p))], minlength=MAX_VALUE + 1)
    mode = int(counts.argmax())
    total = sum(len(t) for t in truth)
    if not total:
        raise ValueError("these programs print nothing: no baseline to score")

    def score(answers) -> float:
        return sum(int(a == b) for t, ans in zip(truth, answers) for a, b in zip(t, ans)) / total

    return {"most frequent value": score([[mode] * len(t) for t in truth]),
            "last assignment": score([_shortcut_prints(p, "last_assignment") for p in programs]),
            "every if taken": score([_shortcut_prints(p, "conditions_hold", max_value) for p in programs])}


@lru_cache(maxsize=8)
def _draw(entropy: tuple, num: int, statements: int, variables: int, max_value: int) -> tuple:
    """``num`` programs from one seed sequence, kept per process (a training draw is drawn once
    for training, the unseen-program test and the baselines)."""
    streams = np.random.SeedSequence(list(entropy)).spawn(num)
    return tuple(tuple(generate_program(np.random.default_rng(s), statements, variables, max_value))
                 for s in streams)


@dataclass(frozen=True)
class CodeExecutionTask:
    """Task arguments (``SeqTrainConfig.task_args``) and the task's data and metrics."""

    variables: int = 3  # number of variables (the paper: 3 or 5)
    statements: int = 24  # statements per program (the paper: 100)
    train_programs: int = 2000  # size of the fixed training set
    max_value: int = MAX_VALUE  # values lie in 1..max_value (the paper: 10)

    def __post_init__(self):
        generate_program(np.random.default_rng(0), self.statements, self.variables, self.max_value)  # validates
        if self.train_programs < 1:
            raise ValueError(f"train_programs must be >= 1, got {self.train_programs}")

    vocab_size = len(VOCAB)
    pad = PAD

    def programs(self, split: str, num: int, seed_offset: int = 0) -> list[list[Statement]]:
        """``num`` programs of a named split; program i depends only on the split seed, the
        ``seed_offset`` (0: the split's shared draw; k > 0: an independent draw k) and i."""
        if split not in SPLIT_SEEDS:
            raise KeyError(f"unknown code-execution split {split!r}; choose from {sorted(SPLIT_SEEDS)}")
        entropy = (SPLIT_SEEDS[split], self.variables, self.statements) + ((seed_offset,) if seed_offset else ())
        return [list(p) for p in _draw(entropy, num, self.statements, self.variables, self.max_value)]

    def train_items(self, num: int | None = None, seed_offset: int = 0):
        return self.programs("train", num or self.train_programs, seed_offset)

    def eval_items(self, split: str, num: int):
        """``num`` programs of ``split``; ``"unseen:k"`` keeps those of the first ``num`` test
        programs that are absent from training draw k (`train_items`, ``seed_offset=k``)."""
        if split.startswith("unseen:"):
            seen = {tuple(p) for p in self.train_items(seed_offset=int(split.split(":", 1)[1]))}
            return [p for p in self.programs("test", num) if tuple(p) not in seen]
        return self.programs(split, num)

    def length(self, program) -> int:
        return sum(len(s) for s in program) + 1

    def example(self, program, rng: np.random.Generator | None = None) -> SeqExample:
        return make_example(program)

    @torch.no_grad()
    def evaluate(self, model, programs, device=None, batch_size: int = 64, **forward_kw) -> dict:
        """Accuracy on printed values (pooled) and on whole programs (every print right; programs
        that print nothing are left out)."""
        fwd = (lambda x: model(x, **forward_kw)) if forward_kw else model
        hits = teacher_forced_hits(fwd, [make_example(p) for p in programs], PAD, device, batch_size)
        correct, total = sum(int(h.sum()) for h in hits), sum(len(h) for h in hits)
        per_program = [bool(h.all()) for h in hits if len(h)]  # programs that print something
        return {"print_accuracy": correct / total if total else float("nan"), "prints": total,
                "program_accuracy": float(np.mean(per_program)) if per_program else float("nan"),
                "scored_programs": len(per_program), "num_programs": len(programs)}


__all__ = ["CodeExecutionTask", "generate_program", "trivial_baselines", "interpret", "run", "make_example", "program_tokens", "encode",
           "decode", "VOCAB", "TOKEN_ID", "PAD"]
