"""The command line: ``python -m lib <command>``.

Commands print machine-readable JSON on stdout; errors go to stderr with a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys

from pathlib import Path

from .bench import bench_headline, bench_search, run_bench
from .edge_weights import WEIGHT_RANGE, outside_weight_range, to_training_scale
from .graphs import GraphFormatError, read_jsonl
from .metrics import Prediction, evaluate_predictions
from .notebook_runner import KERNEL, run_report
from .presets import preset
from .run_kinds import list_runs, train_any
from .solvers import get_solver
from .sweep import run_sweep


def _file_pi_agreement(graphs) -> float | None:
    """Tie-aware accuracy of the ``pi`` the file carries (a sanity check of the file)."""
    with_pi = [g for g in graphs if g.pi is not None]
    if not with_pi:
        return None
    return evaluate_predictions(with_pi, [Prediction(g.pi) for g in with_pi])["pointer_accuracy"]


def cmd_evaluate(args) -> dict:
    graphs = read_jsonl(args.data)
    if not graphs:
        raise ValueError(f"{args.data} holds no graphs")
    options = {k: v for k, v in (("iterations", args.iterations), ("search_steps", args.search_steps),
                                 ("device", args.device), ("halt", getattr(args, "halt", False) or None),
                                 ("start", getattr(args, "start", None))) if v is not None}
    solver = get_solver(args.solver, **options)
    rescale = getattr(args, "rescale", False)
    if rescale:  # a hand-written input rule: the tree does not change under it
        graphs = [to_training_scale(g) for g in graphs]
    outside = outside_weight_range(graphs)
    if outside:
        print(f"warning: {100 * outside:.1f}% of the edge weights in {args.data} lie outside the training range "
              f"[{WEIGHT_RANGE[0]:.4f}, {WEIGHT_RANGE[1]:.4f}]{' after --rescale' if rescale else ''}, "
              "where no learned solver was trained; dividing every weight of a graph by the same positive number "
              "leaves its shortest-path tree unchanged (--rescale does that per graph)", file=sys.stderr)
    result = evaluate_predictions(graphs, solver.solve(graphs))
    result = {"solver": args.solver, "data": str(args.data), "rescaled": bool(rescale), **result,
              "file_pi_agreement": _file_pi_agreement(graphs), "weights_outside_training_range": outside}
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="score a solver on an interchange (JSONL) file")
    ev.add_argument("--solver", required=True, help="'oracle', a heuristic, or a cached run name")
    ev.add_argument("--data", required=True, help="JSON Lines file of graphs (.jsonl or .jsonl.gz)")
    ev.add_argument("--iterations", type=int, default=None, help="test-time iterations (looped models)")
    ev.add_argument("--halt", action="store_true",
                    help="stop each graph once its predicted pointers stop changing (--iterations is the cap)")
    ev.add_argument("--search-steps", type=int, default=None, help="search steps (energy models)")
    ev.add_argument("--start", default=None,
                    help="verifier runs: where the search starts: 'far' (default), 'random', or a generator run name")
    ev.add_argument("--device", default=None, help="'auto' (default), 'cpu' or 'cuda'")
    ev.add_argument("--rescale", action="store_true",
                    help="multiply each graph's weights by one factor so that its largest weight is the training "
                         "range's largest (a hand-written rule; the shortest-path tree does not change)")
    ev.set_defaults(func=cmd_evaluate)

    rn = sub.add_parser("runs", help="list the cached training runs")
    rn.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    rn.set_defaults(func=cmd_runs)

    tr = sub.add_parser("train", help="train a named preset (or load it from the run cache)")
    tr.add_argument("--config", required=True, help="preset name (see lib/presets.py)")
    tr.add_argument("--seed", type=int, default=None, help="override the preset's seed")
    tr.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    tr.set_defaults(func=cmd_train)

    sw = sub.add_parser("sweep", help="train presets over seeds through the sweep runner (resumable)")
    sw.add_argument("--config", required=True, help="preset names, comma-separated (see lib/presets.py)")
    sw.add_argument("--seeds", default="0", help="comma-separated training seeds (default %(default)s)")
    sw.add_argument("--backend", default=None, choices=("local", "ray"),
                    help="'local' process pool (default) or 'ray' (default when $RAY_ADDRESS is set)")
    sw.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    sw.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    sw.set_defaults(func=cmd_sweep)

    bn = sub.add_parser("bench", help="print speed and memory figures for each baseline model, the search's cost "
                                      "per round, and the cached headline's solve time beside Dijkstra")
    bn.add_argument("--steps", type=int, default=20, help="training steps to time per model")
    bn.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    bn.set_defaults(func=cmd_bench)

    rp = sub.add_parser("report", help="run the notebooks through papermill")
    rp.add_argument("--profile", default="full", help="'full' (the committed report), 'long' (full plus the sweeps kept out of it for time) "
                    "or 'smoke' (tests)")
    rp.add_argument("--nb", action="append", default=None, help="notebook number or stem (repeatable)")
    rp.add_argument("--out", default=None, help="write executed copies here instead of in place")
    rp.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the project's)")
    rp.add_argument("--dry-run", action="store_true", help="print the plan (runs needed, cached, estimate) only")
    rp.add_argument("--record-timing", action="store_true",
                    help="write the notebooks' wall times to results/report_timing.json (run from an empty cache)")
    rp.set_defaults(func=cmd_report)
    return parser


def _run_summary(run) -> dict:
    m = run.metrics
    return {"name": run.name, "kind": getattr(run.config, "KIND", "graph"), "label": run.config.label,
            "model": run.config.model, "seed": run.config.seed, "steps": getattr(run.config, "steps", None),
            "parameters": m.get("parameters"),
            "train_seconds": round(m.get("train_seconds", float("nan")), 1),
            "final_val_pointer_accuracy": m.get("final_val_pointer_accuracy")}  # None for composite runs


def cmd_runs(args):
    rows = [_run_summary(r) for r in list_runs()]
    if args.json:
        return rows
    if not rows:
        print("no cached runs (train one with `python -m lib train --config NAME`)")
        return None
    cols = list(rows[0])
    print("  ".join(cols))
    for r in rows:
        print("  ".join(str(r[c]) for c in cols))
    return None


def cmd_train(args) -> dict:
    changes = {} if args.seed is None else {"seed": args.seed}
    run = train_any(preset(args.config, **changes), device=args.device)
    return _run_summary(run)


def _int_list(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None


def cmd_sweep(args) -> list[dict]:
    seeds = _int_list(args.seeds, "--seeds")
    configs = [preset(name.strip(), seed=s) for name in args.config.split(",") if name.strip() for s in seeds]
    if not configs:
        raise ValueError("--config names no preset")
    runs = run_sweep(configs, workers=args.workers, device=args.device, backend=args.backend)
    return [_run_summary(r) for r in runs]


def cmd_bench(args) -> None:
    run_bench(steps=args.steps, device=args.device)
    print()
    bench_search()
    print()
    bench_headline()


def cmd_report(args) -> None:
    nbs = [k for arg in args.nb for k in arg.split(",") if k] if args.nb else None
    run_report(args.profile, nbs, Path(args.out) if args.out else None, args.kernel or KERNEL,
               dry_run=args.dry_run, record=args.record_timing)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (GraphFormatError, FileNotFoundError, KeyError, ValueError, TypeError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # e.g. a notebook that failed in `report`
        print(f"error: {err}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0
