"""The command line: ``python -m lib <command>``.

Commands print machine-readable JSON on stdout; errors go to stderr with a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys

from .graphs import GraphFormatError, read_jsonl
from .metrics import Prediction, evaluate_predictions
from .solvers import get_solver


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
                                 ("device", args.device)) if v is not None}
    solver = get_solver(args.solver, **options)
    result = evaluate_predictions(graphs, solver.solve(graphs))
    result = {"solver": args.solver, "data": str(args.data), **result,
              "file_pi_agreement": _file_pi_agreement(graphs)}
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="score a solver on an interchange (JSONL) file")
    ev.add_argument("--solver", required=True, help="'oracle', a heuristic, or a cached run name")
    ev.add_argument("--data", required=True, help="JSON Lines file of graphs (.jsonl or .jsonl.gz)")
    ev.add_argument("--iterations", type=int, default=None, help="test-time iterations (looped models)")
    ev.add_argument("--search-steps", type=int, default=None, help="search steps (energy models)")
    ev.add_argument("--device", default=None, help="'auto' (default), 'cpu' or 'cuda'")
    ev.set_defaults(func=cmd_evaluate)

    rp = sub.add_parser("report", help="run the notebooks through papermill")
    rp.add_argument("--profile", default="full", help="'full' (the committed report) or 'smoke' (tests)")
    rp.add_argument("--nb", action="append", default=None, help="notebook number or stem (repeatable)")
    rp.add_argument("--out", default=None, help="write executed copies here instead of in place")
    rp.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the project's)")
    rp.set_defaults(func=cmd_report)
    return parser


def cmd_report(args) -> None:
    from pathlib import Path

    from .report import KERNEL, run_report

    nbs = [k for arg in args.nb for k in arg.split(",") if k] if args.nb else None
    run_report(args.profile, nbs, Path(args.out) if args.out else None, args.kernel or KERNEL)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (GraphFormatError, FileNotFoundError, KeyError, ValueError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {msg}", file=sys.stderr)
        return 2
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0
