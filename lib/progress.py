"""Progress bars for long loops (training steps, sweeps), visible outside the notebook kernel.

`progress_bar` is a tqdm bar. When ``$LAB_PROGRESS_FILE`` names a file (the report runner,
`lib.notebook_runner.run_notebook`, sets it for the kernel it starts), every bar also appends
JSON Lines events to that file, and `ProgressTail` (run by the runner) follows the file and
prints one line per event to the terminal. So ``make report`` shows which run is training,
its step and ETA, while the cell is still running. Each event is one whole line written
with one ``write`` to a file opened for appending, so a sweep's worker processes (which
inherit the variable) can report into the same file.

While the variable is set the bar draws nothing in the kernel: the executed notebook is
the committed report and must not fill with bars. A reader running the notebook in
JupyterLab (variable unset) gets ordinary tqdm bars. ``disable=True`` (e.g. a trainer's
``progress=False``) silences a bar in both places.

Events: ``{"event": "start" | "update" | "close", "desc", "n", "total", "elapsed_s",
"eta_s", "postfix", "unit", "pid"}``; updates at most one per `UPDATE_INTERVAL_S` per bar
(the latest state is still written, at most that late); and ``{"event": "message",
"message", "pid"}`` from `emit`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm
from tqdm.std import tqdm as std_tqdm

#: The environment variable naming the events file.
PROGRESS_FILE_ENV = "LAB_PROGRESS_FILE"
#: At most one ``update`` event per bar this often (seconds); start and close always go out.
UPDATE_INTERVAL_S = 2.0


def progress_file() -> str | None:
    """The events file named by ``$LAB_PROGRESS_FILE``, or None."""
    return os.environ.get(PROGRESS_FILE_ENV) or None


def _append(path: str, event: dict) -> None:
    """Append ``event`` as one JSON line in a single ``write``; never raises (progress must not
    break a training run)."""
    try:
        data = (json.dumps(event, default=str) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - a full disk or a vanished folder only loses progress lines
        pass


def emit(message: str) -> None:
    """A free-form one-line event (e.g. ``"training run 3/18: gnn_max seed 1"``) for the runner's
    terminal; does nothing when ``$LAB_PROGRESS_FILE`` is unset."""
    path = progress_file()
    if path:
        _append(path, {"event": "message", "message": str(message), "pid": os.getpid()})


class _NullStream:
    """Where a reporting bar draws: nowhere."""

    encoding = "utf-8"

    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _ReportingBar(std_tqdm):
    """A tqdm bar that draws nothing and appends its state to the events file instead."""

    def __init__(self, *args, events_path: str, **kwargs):
        self._events_path = events_path
        self._events_lock = threading.Lock()
        self._last_emit = 0.0
        self._timer: threading.Timer | None = None
        self._reported_close = True  # nothing to report should tqdm's __init__ fail
        kwargs.update(file=_NullStream(), disable=False)
        super().__init__(*args, **kwargs)
        self._reported_close = False
        self._write("start")

    def _event(self, kind: str) -> dict:
        fd = self.format_dict
        n, total, elapsed = fd["n"], fd["total"], float(fd["elapsed"] or 0.0)
        rate = fd.get("rate")
        done = n - (fd.get("initial") or 0)
        if not rate and elapsed > 0 and done > 0:
            rate = done / elapsed
        eta = None
        if kind == "close" and total is not None and n >= total:
            eta = 0.0
        elif total is not None and rate:
            eta = max(0.0, (total - n) / rate)
        return {"event": kind, "desc": fd.get("prefix") or "", "n": n, "total": total,
                "elapsed_s": round(elapsed, 3), "eta_s": None if eta is None else round(eta, 3),
                "postfix": fd.get("postfix") or "", "unit": fd.get("unit") or "it", "pid": os.getpid()}

    def _write(self, kind: str) -> None:
        with self._events_lock:
            if self._reported_close:
                return
            if kind == "close":
                self._reported_close = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._last_emit = time.monotonic()
            event = self._event(kind)
        _append(self._events_path, event)

    def _flush_pending(self) -> None:
        with self._events_lock:
            self._timer = None
        self._write("update")

    def update(self, n=1):
        out = super().update(n)
        wait = self._last_emit + UPDATE_INTERVAL_S - time.monotonic()
        if wait <= 0:
            self._write("update")
        else:
            # Too soon: write the latest state when the interval is up (unless a later update
            # or the close does it first), so a burst of updates is never lost until the next one.
            with self._events_lock:
                if self._timer is None and not self._reported_close:
                    self._timer = threading.Timer(wait, self._flush_pending)
                    self._timer.daemon = True
                    self._timer.start()
        return out

    def close(self):
        if not getattr(self, "_reported_close", True):
            self._write("close")
        super().close()


def progress_bar(iterable=None, desc: str = "", total: int | None = None, **tqdm_kw):
    """A tqdm bar over ``iterable`` (all tqdm keywords apply).

    With ``$LAB_PROGRESS_FILE`` set it draws nothing and reports to that file instead (see the
    module docstring); ``disable=True`` silences it either way."""
    path = progress_file()
    if path is None or tqdm_kw.get("disable") is True:
        return tqdm(iterable, desc=desc, total=total, **tqdm_kw)
    return _ReportingBar(iterable, desc=desc, total=total, events_path=path, **tqdm_kw)


# -- the runner's side: follow an events file, print one line per event -----------------------

def format_duration(seconds: float) -> str:
    """``42s``, ``1m12s``, ``12m``, ``1h05m``."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 3600:
        return f"{round(s / 60)}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _units(unit: str) -> str:
    return "steps" if unit in ("", "it") else unit if unit.endswith("s") else unit + "s"


def format_event(event: dict) -> str | None:
    """One terminal line for an event (without the runner's prefix); None for an unknown event."""
    kind = event.get("event")
    if kind == "message":
        return str(event["message"])
    if kind not in ("start", "update", "close"):
        return None
    desc = event.get("desc") or "progress"
    n, total = event["n"], event.get("total")
    units = _units(str(event.get("unit") or "it"))
    text = f"{desc}: {n}/{total} {units}" if total else f"{desc}: {n} {units}"
    if total:
        text += f", {100 * n / total:.0f}%"
    elapsed = event.get("elapsed_s")
    if kind == "close":
        if elapsed is not None:
            text += f", done in {format_duration(float(elapsed))}"
    elif event.get("eta_s") is not None:
        text += f", ETA {format_duration(float(event['eta_s']))}"
    elif elapsed is not None and kind == "update":
        text += f", {format_duration(float(elapsed))} so far"
    if event.get("postfix"):
        text += f" ({event['postfix']})"
    return text


class ProgressTail:
    """Follow a `progress_bar` events file from its start in a background thread and print one
    line per event to ``stream`` (default: ``sys.stderr`` at the time of printing).

    ``with ProgressTail(path, label="01_baselines"):`` or ``start()`` / ``stop()``; `stop` prints
    whatever is still unread. A malformed line is skipped. Lines go through ``tqdm.write``, so
    a tqdm bar on the same terminal (papermill's cell bar) is redrawn below them, not garbled.
    """

    def __init__(self, path: str | os.PathLike, label: str = "", stream: TextIO | None = None,
                 poll_s: float = 0.2, indent: str = "    "):
        self.path = Path(path)
        self.prefix = f"{indent}[{label}] " if label else indent
        self.stream = stream
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file = None
        self._partial = b""
        self.lines_printed = 0

    def start(self) -> "ProgressTail":
        self._thread = threading.Thread(target=self._run, name=f"ProgressTail({self.path.name})", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following; print the events still unread (a complete last line without its
        newline too)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self._read()
            if self._partial:
                line, self._partial = self._partial, b""
                self._handle(line)
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> "ProgressTail":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
            except Exception:  # noqa: BLE001 - the tail must never take the run down
                pass
            self._stop.wait(self.poll_s)

    def _read(self) -> None:
        if self._file is None:
            try:
                self._file = open(self.path, "rb")
            except FileNotFoundError:
                return
        chunk = self._file.read()
        if not chunk:
            return
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            self._handle(line)

    def _handle(self, raw: bytes) -> None:
        try:
            event = json.loads(raw.decode("utf-8"))
            text = format_event(event) if isinstance(event, dict) else None
        except Exception:  # noqa: BLE001 - a malformed or torn line is skipped
            return
        if text is None:
            return
        stream = self.stream if self.stream is not None else sys.stderr
        try:
            std_tqdm.write(self.prefix + text, file=stream)
            stream.flush()
        except Exception:  # noqa: BLE001
            return
        self.lines_printed += 1


__all__ = ["PROGRESS_FILE_ENV", "UPDATE_INTERVAL_S", "progress_bar", "emit", "progress_file", "ProgressTail",
           "format_event", "format_duration"]
