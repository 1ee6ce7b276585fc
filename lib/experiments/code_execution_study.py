"""Notebook 02, sequence half: the Feedback Transformer against a decoder Transformer, and the
Transformer with its best regularizer (chosen on validation), on the paper's code-execution task
shrunk until the Transformer learns it in distribution (the rules of evidence), then tested on
longer programs, out of distribution, beside three no-learning answers on the same programs.

Each seed draws its own training programs (the same draw for every model of that seed), so the
models are paired by seed. Print accuracy is the mean over seeds with its 95% t interval;
whole-program accuracy is pooled over seeds with its Wilson interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..published import FEEDBACK_CODE_EXECUTION
from ..sequence.code_execution import CodeExecutionTask, trivial_baselines
from ..sequence.train import SequenceRun
from ..statistics import mean_ci, paired, verdict, wilson
from ..sweep import evaluate_many
from .sequence_models import SequenceConfig, label

FEEDBACK, TRANSFORMER = "Feedback Transformer (4 layers)", "Transformer (8 layers)"
#: The in-distribution print accuracy a model must reach to count as having learned the task.
LEARNED = 0.95


def tests(cfg: SequenceConfig) -> list[tuple[str, int, bool]]:
    """The test sets as (column, statements, out of distribution): the training length, its
    programs that the run's own training draw does not contain, then the longer programs."""
    n = cfg.statements
    return [(f"{n} statements (training length)", n, False), (f"{n} statements, unseen in training", n, False),
            *((f"{m} statements (OOD)", m, True) for m in cfg.ood_statements)]


def _split(column: str, seed: int) -> str:
    """The task split behind a test column for a run of ``seed`` (own data: draw ``seed + 1``)."""
    return f"unseen:{seed + 1}" if "unseen" in column else "test"


def _task(cfg: SequenceConfig, statements: int) -> CodeExecutionTask:
    return CodeExecutionTask(variables=cfg.variables, statements=statements, train_programs=cfg.train_programs,
                             max_value=cfg.max_value)


def results(runs: list[SequenceRun], cfg: SequenceConfig) -> pd.DataFrame:
    """One row per (model, seed, test set): print and whole-program accuracy on the first
    ``cfg.test_programs`` held-out programs (those unseen in training, for that column), and
    the run's final validation print accuracy."""
    if any(not run.config.own_data for run in runs):
        raise ValueError("the unseen-program test needs runs that draw their own training programs (own_data)")
    rows, requests = [], []
    for run in runs:
        for column, n, ood in tests(cfg):
            extra = {} if n == cfg.statements else {"task_args": {"statements": n}}
            requests.append((run, (_split(column, run.config.seed), cfg.test_programs), {"device": cfg.device, **extra}))
            rows.append({"model": label(run), "seed": run.config.seed, "test": column, "statements": n, "ood": ood,
                         "parameters": run.metrics["parameters"],
                         "val_print_accuracy": run.metrics["final_val_print_accuracy"]})
    for row, m in zip(rows, evaluate_many(requests, cfg.workers, "code execution: held-out programs")):
        row.update(print_accuracy=m["print_accuracy"], prints=m["prints"], program_accuracy=m["program_accuracy"],
                   programs=m["scored_programs"])
    return pd.DataFrame(rows)


def _first_seed_programs(cfg: SequenceConfig) -> list:
    """The first seed's own training programs (drawn once per process: `CodeExecutionTask`)."""
    return _task(cfg, cfg.statements).train_items(seed_offset=cfg.seeds[0] + 1)


def baselines(cfg: SequenceConfig) -> pd.DataFrame:
    """The no-learning answers' print accuracy on the same test programs, per test set (the first
    seed's, for the unseen programs; the most frequent value is read off its training programs)."""
    train, rows = _first_seed_programs(cfg), []
    for column, n, _ in tests(cfg):
        programs = _task(cfg, n).eval_items(_split(column, cfg.seeds[0]), cfg.test_programs)
        rows += [{"model": f"no learning: {name}", "test": column, "print_accuracy": acc}
                 for name, acc in trivial_baselines(programs, train, cfg.max_value).items()]
    return pd.DataFrame(rows)


def steps_of(model: str) -> int | None:
    """The step count in a longer-trained arm's label ("..., 3200 steps"), else None."""
    tail = model.rsplit(", ", 1)[-1]
    return int(tail.split()[0]) if model.endswith(" steps") and ", " in model else None


def _transformer_arms(results: pd.DataFrame, regularized: bool) -> list[str]:
    """The plain (or regularized) Transformer arms, the shortest-trained first."""
    arms = [m for m in dict.fromkeys(results.model) if m != FEEDBACK and (" + " in m) == regularized]
    return sorted(arms, key=lambda m: steps_of(m) or 0)


def best_regularized(results: pd.DataFrame, steps: int | None = None) -> str | None:
    """The regularized Transformer (trained ``steps`` long: None for the notebook's base step count)
    with the best mean validation print accuracy at the training length, or None when none was trained."""
    arms = [m for m in _transformer_arms(results, True) if steps_of(m) == steps]
    if not arms:
        return None
    return str(results[results.model.isin(arms)].groupby("model", sort=False).val_print_accuracy.mean().idxmax())


def table(results: pd.DataFrame, baseline: pd.DataFrame, cfg: SequenceConfig, metric: str = "print_accuracy"
          ) -> pd.DataFrame:
    """Model × program length, in %: print accuracy as mean ± 95% CI over seeds, or whole-program
    accuracy pooled over seeds with its Wilson interval; the no-learning rows under them."""
    columns = [column for column, _, _ in tests(cfg)]

    def cell(d: pd.DataFrame) -> str:
        if metric == "print_accuracy":
            mean, half = mean_ci(d.print_accuracy)
            return f"{100 * mean:.1f} ± {100 * half:.1f}"
        k, n = round((d.program_accuracy * d.programs).sum()), int(d.programs.sum())
        low, high = wilson(k, n)
        return f"{100 * k / n:.1f} [{100 * low:.1f}, {100 * high:.1f}]"

    out = results.groupby(["model", "test"], sort=False).apply(cell, include_groups=False).unstack()
    out.insert(0, "seeds", results.groupby("model", sort=False).seed.nunique())
    if metric == "print_accuracy":
        base = baseline.pivot(index="model", columns="test", values="print_accuracy")
        base = base.reindex(list(dict.fromkeys(baseline.model)))
        out = pd.concat([out, (100 * base).round(1).astype(str).assign(seeds="—")])
    out = out[["seeds", *columns]]
    out.columns.name = None
    paper = FEEDBACK_CODE_EXECUTION[3]
    long = ""  # where the Transformer arms train longer (notebook 09)
    if cfg.code_long_steps:
        long = f" ({'arms marked so' if cfg.code_short_transformers else 'Transformer arms'}: {cfg.code_long_steps} steps)"
    out.attrs["setting"] = (f"ours: {cfg.variables} variable(s), values 1..{cfg.max_value}, {cfg.statements} statements in training, width "
                            f"{cfg.d_model}, {cfg.code_steps} steps x {cfg.code_batch_size} programs{long}, each seed its "
                            f"own {cfg.train_programs} programs, {cfg.test_programs} test programs per length; paper: "
                            f"3 variables, values 1..10, 100 statements, width 256, 50k steps x 512 (Feedback Transformer "
                            f"{paper[FEEDBACK]}%, Transformer {paper[TRANSFORMER]}%)")
    return out


def _ood(results: pd.DataFrame, model: str, cfg: SequenceConfig) -> pd.Series:
    """Per seed: the mean print accuracy over the OOD lengths."""
    d = results[(results.model == model) & results.ood]
    return d.groupby("seed").print_accuracy.mean()


def conclusion(results: pd.DataFrame, cfg: SequenceConfig) -> str:
    """Did both models learn in distribution (on the test programs their training draw lacks), and
    does the Feedback Transformer's OOD advantage (mean print accuracy over the longer programs,
    paired by seed) survive the Transformer's best regularizer? The Transformer compared is the
    shortest-trained plain arm that learned (else the shortest), and its regularized arms trained as
    long. Supported, refuted or inconclusive, with the numbers that decide it; the paired differences
    are printed even when a model has not learned, as indicative only."""
    lines = []
    for which in ("training length", "unseen"):
        ind = results[results.test.str.contains(which)].groupby("model", sort=False).print_accuracy
        lines.append(f"In distribution, {'all test programs' if which == 'training length' else 'programs unseen in training'}"
                     f" ({cfg.statements} statements): " + "; ".join(
                         f"{m} {100 * mean_ci(v)[0]:.1f} ± {100 * mean_ci(v)[1]:.1f}%" for m, v in ind))
    plain_arms = _transformer_arms(results, False)
    missing = [m for m, trained in ((FEEDBACK, FEEDBACK in ind.groups), (TRANSFORMER, bool(plain_arms))) if not trained]
    if missing:
        return "\n".join([*lines, f"Inconclusive: {', '.join(missing)} not trained."])
    learned = {m: ind.get_group(m).mean() >= LEARNED for m in ind.groups}
    reference = next((m for m in plain_arms if learned[m]), plain_arms[0])
    ft = _ood(results, FEEDBACK, cfg)
    if len(ft) < 2:
        return "\n".join([*lines, "Inconclusive: one seed, no paired test."])
    plain = paired(ft, _ood(results, reference, cfg))
    name = "Transformer" + (f" ({steps_of(reference)} steps)" if steps_of(reference) else "")
    lines.append(verdict(plain, f"Feedback Transformer - {name}, mean OOD print accuracy", test="paired"))
    best = best_regularized(results, steps_of(reference))
    reg = paired(ft, _ood(results, best, cfg)) if best else None
    if reg:
        lines.append(verdict(reg, f"Feedback Transformer - {best} (best on validation)", test="paired"))
    power = "" if len(ft) >= 5 else f" ({len(ft)} seeds: the rules ask 5 for a claim about a difference.)"
    unlearned = [m for m in (FEEDBACK, reference) if not learned[m]]
    if unlearned:
        both = len(unlearned) > 1
        verdict_line = (f"Inconclusive: {' and '.join(unlearned)} {'stay' if both else 'stays'} below "
                        f"{100 * LEARNED:.0f}% on programs unseen in training, so {'neither has' if both else 'it has not'}"
                        " learned the task (rules of evidence); the differences above are indicative only.")
    elif plain["p"] >= 0.05 or plain["diff"] <= 0:
        verdict_line = ("Inconclusive for the regularizer reading: feedback memory gives no significant OOD "
                        f"advantage over the plain Transformer ({100 * plain['diff']:+.1f} points) to explain.")
    elif reg is None:
        verdict_line = "Inconclusive: no regularized Transformer was trained."
    elif not learned[best]:
        verdict_line = (f"Inconclusive: {best} stays below {100 * LEARNED:.0f}% on programs unseen in training, "
                        "so the regularized arm has not learned the task (rules of evidence).")
    elif reg["p"] < 0.05 and reg["diff"] > 0:
        verdict_line = (f"Refuted here: the Feedback Transformer's OOD advantage survives the Transformer's best "
                        f"regularizer ({100 * reg['diff']:+.1f} points).")
    else:
        verdict_line = (f"Supported: the Feedback Transformer's OOD advantage ({100 * plain['diff']:+.1f} points) "
                        f"is not significant against the regularized Transformer ({100 * reg['diff']:+.1f}).")
    return "\n".join([*lines, verdict_line + power])


def shared_programs(cfg: SequenceConfig) -> float:
    """Share of the test programs (training length) that also occur among the first seed's
    training programs: how much of "held out" could be memorised."""
    seen = {tuple(map(tuple, p)) for p in _first_seed_programs(cfg)}
    test = _task(cfg, cfg.statements).programs("test", cfg.test_programs)
    return float(np.mean([tuple(map(tuple, p)) in seen for p in test]))


__all__ = ["tests", "results", "baselines", "best_regularized", "steps_of", "table", "conclusion",
           "shared_programs", "FEEDBACK", "TRANSFORMER", "LEARNED"]
