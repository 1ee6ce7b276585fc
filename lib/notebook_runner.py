"""The papermill batch runner behind ``make report`` and the smoke runs of ``make test``.

Each notebook has exactly one cell tagged ``parameters`` holding annotated literals with a
``# help`` comment. The runner passes the profile's name (``profile``) and any extra
parameters given; an unknown name is an error here, not papermill's warning. The sizes a
profile runs live in one place: the ``PROFILES`` of the notebook's experiment modules
(`lib.experiments.notebooks`).

The full profile rewrites the committed notebooks in place, but only after a successful
run: the notebook executes into ``build/report/`` first, so a failed or interrupted run
leaves the committed report untouched.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .experiments.notebooks import check_profile, in_report
from .findings import PROFILE_ENV, update_readme
from .paths import NOTEBOOKS, ROOT
from .progress import PROGRESS_FILE_ENV, ProgressTail
from .report_plan import cache_state, compare_with_recorded, plan, print_plan, record_timing, update_readme_timing
from .runs import RunCache, atomic_write_json

KERNEL = "dijkstra-lab"
#: A cell running longer than this is stopped as hung (the longest, 03's sweep, takes ~20 min).
CELL_TIMEOUT_S = 3600


class NotebookFailed(RuntimeError):
    """A notebook raised during its papermill run."""


@dataclass
class Parameter:
    """One papermill parameter, as declared in a notebook's parameters cell."""

    name: str
    type_hint: str
    default: object
    help: str


def notebook_paths() -> list[Path]:
    """All report notebooks, in order (their names start with a two-digit number)."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def find_notebook(key: str) -> Path:
    """A notebook by number prefix (``"00"``) or stem (``"00_the_task"``)."""
    matches = [p for p in notebook_paths() if p.stem == key or p.stem.split("_", 1)[0] == key]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in notebook_paths())
        raise KeyError(f"no single notebook matches {key!r}; notebooks are: {names}")
    return matches[0]


def parameters_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]


def parse_parameters(source: str) -> dict[str, Parameter]:
    """Parse a parameters cell: ``name: type = literal  # help`` lines, nothing else."""
    tree = ast.parse(source)
    lines = source.splitlines()
    params = {}
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None):
            raise ValueError(f"parameters cell line {node.lineno}: expected `name: type = literal  # help`")
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            raise ValueError(f"parameters cell line {node.lineno}: {node.target.id} must be a literal") from None
        line = lines[node.lineno - 1]
        help_text = line.split("#", 1)[1].strip() if "#" in line else ""
        params[node.target.id] = Parameter(node.target.id, ast.unparse(node.annotation), value, help_text)
    return params


def notebook_parameters(path: Path) -> dict[str, Parameter]:
    """The parameters a notebook declares; errors if it has no or several parameters cells."""
    nb = json.loads(Path(path).read_text())
    cells = parameters_cells(nb)
    if len(cells) != 1:
        raise ValueError(f"{Path(path).name}: has {len(cells)} cells tagged 'parameters', want exactly 1")
    return parse_parameters("".join(cells[0]["source"]))


def profile_parameters(profile: str, stem: str) -> dict:
    """What ``profile`` passes to notebook ``stem``: its name (the notebook looks up the sizes)."""
    check_profile(profile)
    return {"profile": profile}


def check_parameters(path: Path, params: dict) -> None:
    """Raise if ``params`` names something the notebook does not declare, or mistypes it."""
    declared = notebook_parameters(path)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ValueError(f"{path.name}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}")
    for name, value in params.items():
        default = declared[name].default
        if default is not None and value is not None and type(value) is not type(default) and not (
            isinstance(default, float) and isinstance(value, int)
        ):
            raise ValueError(f"{path.name}: parameter {name!r} should be {declared[name].type_hint}, got {value!r}")


def slowest_cells(path: Path, top: int = 5) -> list[dict]:
    """The ``top`` slowest code cells of an executed (not yet stripped) notebook: index, seconds
    (papermill's per-cell duration) and the cell's first line, slowest first."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    rows = []
    for i, cell in enumerate(cells):  # numbered as in the committed notebook, without papermill's injected cell
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell["cell_type"] == "code" and seconds is not None:
            lines = [line for line in "".join(cell["source"]).splitlines() if not line.startswith("# NBVAL")]
            rows.append({"cell": i, "seconds": round(float(seconds), 1), "code": (lines or [""])[0][:80]})
    return sorted(rows, key=lambda r: -r["seconds"])[:top]


def strip_volatile(path: Path, drop_injected: bool = False) -> None:
    """Drop papermill/execution timestamps and paths; keep outputs, counts and tags. With
    ``drop_injected``, also drop papermill's ``injected-parameters`` cell, so that in the
    committed report the ``parameters`` cell is what a reader edits and what runs."""
    nb = json.loads(path.read_text())
    if drop_injected:
        nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    pm = nb.get("metadata", {}).get("papermill")
    if pm is not None:
        nb["metadata"]["papermill"] = {"parameters": pm.get("parameters", {})}
    for cell in nb["cells"]:
        md = cell.get("metadata", {})
        md.pop("papermill", None)
        md.pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def _environment(**overrides: str):
    old = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_notebook(path: Path, profile: str, out_dir: Path | None = None, kernel: str = KERNEL,
                 progress: bool = True, progress_stream=None) -> tuple[Path, float]:
    """Execute one notebook with a profile; returns (output path, wall seconds).

    With ``out_dir=None`` the notebook is replaced in place after a successful run. With an
    ``out_dir`` the executed copy goes there, and figures and runs go to scratch folders
    inside it, so the committed report is never touched.

    The kernel gets ``$LAB_PROGRESS_FILE`` (a fresh ``<stem>.progress.jsonl`` in the scratch
    folder), so `lib.progress` bars inside it draw nothing into the notebook and report there
    instead; with ``progress`` (the default) a `lib.progress.ProgressTail` prints those events
    to ``progress_stream`` (default stderr) while the cell runs, beside papermill's cell bar.
    """
    import papermill as pm


    params = profile_parameters(profile, path.stem)
    check_parameters(path, params)
    scratch = _scratch(out_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    executed = scratch / path.name
    events = _fresh_progress_file(scratch, path.stem)
    env = {"PYTHONHASHSEED": "0", PROGRESS_FILE_ENV: str(events), PROFILE_ENV: profile}
    if out_dir is not None:
        env.update(LAB_FIGURES_DIR=str(scratch / "figures"), LAB_RUNS_DIR=str(scratch / "runs"),
                   LAB_RESULTS_DIR=str(scratch / "results"))
    t0 = time.perf_counter()
    tail = ProgressTail(events, label=path.stem, stream=progress_stream).start() if progress else None
    with _environment(**env):
        try:
            pm.execute_notebook(str(path), str(executed), parameters=params, kernel_name=kernel,
                                cwd=str(NOTEBOOKS), execution_timeout=CELL_TIMEOUT_S,
                                progress_bar={"desc": path.stem} if progress else False)
        except TimeoutError as err:  # nbclient's CellTimeoutError
            raise NotebookFailed(f"{path.name}: a cell ran longer than {CELL_TIMEOUT_S} s and was stopped ({err}); "
                                 f"the partial copy is {executed}"
                                 + ("" if out_dir is not None else f"; {path.name} was left untouched")) from None
        except pm.PapermillExecutionError as err:
            raise NotebookFailed(f"{path.name} failed in cell {err.exec_count} ({err.ename}: {err.evalue}); "
                                 f"the executed copy with the traceback is {executed}"
                                 + ("" if out_dir is not None else f"; {path.name} was left untouched")) from None
        finally:
            if tail is not None:
                tail.stop()
    wall = time.perf_counter() - t0
    atomic_write_json(scratch / f"{path.stem}.cells.json", slowest_cells(executed))
    strip_volatile(executed, drop_injected=out_dir is None)
    if out_dir is None:
        shutil.copyfile(executed, path)
        return path, wall
    return executed, wall


def _scratch(out_dir: Path | None) -> Path:
    """Where a run writes its executed copy, progress events and cell times."""
    return (Path(out_dir) if out_dir is not None else ROOT / "build" / "report").resolve()


def _cells_file(stem: str, out_dir: Path | None) -> Path:
    return _scratch(out_dir) / f"{stem}.cells.json"


def _fresh_progress_file(scratch: Path, stem: str) -> Path:
    """An empty events file for one notebook's `lib.progress` bars."""
    events = scratch / f"{stem}.progress.jsonl"
    events.write_bytes(b"")
    return events


def run_report(profile: str = "full", notebooks: list[str] | None = None, out_dir: Path | None = None,
               kernel: str = KERNEL, dry_run: bool = False, record: bool = False) -> list[tuple[str, float]]:
    """Print the plan, then run notebooks in order, printing each one's wall time (and, for the
    full report, the recorded cold time beside it). Stops at the first failure. ``dry_run``
    prints only the plan; ``record`` writes the times to ``results/report_timing.json``."""
    if notebooks:
        paths = [find_notebook(k) for k in notebooks]
    else:
        paths = [p for p in notebook_paths() if in_report(p.stem, profile)]
        skipped = [p.stem for p in notebook_paths() if not in_report(p.stem, profile)]
        if skipped:
            print(f"not in the {profile} report (PROFILE=long or NB= runs them): {', '.join(skipped)}",
                  file=sys.stderr)
    for p in paths:  # validate every parameter set before spending time on any run
        check_parameters(p, profile_parameters(profile, p.stem))
    cache = RunCache(Path(out_dir) / "runs") if out_dir is not None else RunCache()
    rows = plan([p.stem for p in paths], profile, cache)
    print_plan(rows, profile, cache)
    if dry_run:
        return []
    state = cache_state(rows)
    times = []
    for i, p in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {p.stem} (profile {profile})", file=sys.stderr, flush=True)
        _, wall = run_notebook(p, profile, out_dir, kernel)
        times.append((p.stem, wall))
        cells = json.loads(_cells_file(p.stem, out_dir).read_text())
        print(f"[{i}/{len(paths)}] {p.stem}: {wall:.1f} s; slowest cells: "
              + ", ".join(f"#{c['cell']} {c['seconds']:.0f} s ({c['code']})" for c in cells[:3]),
              file=sys.stderr, flush=True)
        if record and profile == "full" and state != "partly cached":  # one at a time: a stopped report
            record_timing([(p.stem, wall)], state, cells={p.stem: cells})   # keeps what it measured
    if out_dir is None:
        if update_readme():
            print("README.md: findings table regenerated from results/", file=sys.stderr)
        if update_readme_timing():
            print("README.md: timing table regenerated from results/report_timing.json", file=sys.stderr)
    total = sum(w for _, w in times)
    print("wall time per notebook: " + ", ".join(f"{n} {w:.1f} s" for n, w in times) + f"; total {total:.1f} s",
          file=sys.stderr)
    if profile == "full":
        compare_with_recorded(times)
        if record:
            print(f"wall times recorded in results/report_timing.json ({state} run cache)"
                  if state != "partly cached" else
                  "wall times not recorded: the run cache was partly filled, which measures neither a cold "
                  "nor a cached report", file=sys.stderr)
    return times
