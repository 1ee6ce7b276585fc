"""lib.progress: bars that report to $LAB_PROGRESS_FILE, the tail that prints them, and the
report runner streaming a running cell's progress to the terminal (issue 17)."""

import io
import json
import threading
import time

import pytest

import lib.progress as progress
from lib.progress import ProgressTail, emit, format_duration, format_event, progress_bar


def read_events(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def events_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_FILE_ENV, str(path))
    return path


def test_without_the_variable_it_is_a_plain_tqdm_bar_and_emit_is_a_no_op(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_FILE_ENV, raising=False)
    out = io.StringIO()
    bar = progress_bar(range(3), desc="plain", file=out, mininterval=0)
    assert list(bar) == [0, 1, 2]
    assert "plain" in out.getvalue()  # drawn as usual
    emit("nobody listens")
    assert list(tmp_path.iterdir()) == []


def test_bar_writes_start_throttled_updates_and_close(events_file, monkeypatch):
    monkeypatch.setattr(progress, "UPDATE_INTERVAL_S", 0.25)
    bar = progress_bar(range(20), desc="gnn_max", disable=False, leave=False, mininterval=0)
    for i in bar:
        time.sleep(0.025)
        bar.set_postfix(loss=f"{1 / (i + 1):.3f}")
    events = read_events(events_file)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "close" and kinds.count("close") == 1
    updates = [e for e in events if e["event"] == "update"]
    assert 1 <= len(updates) <= 4, kinds  # ~0.5 s of updates every step, at most one per 0.25 s
    assert set(events[0]) == {"event", "desc", "n", "total", "elapsed_s", "eta_s", "postfix", "unit", "pid"}
    assert events[0]["n"] == 0 and events[0]["total"] == 20 and events[0]["eta_s"] is None
    assert all(e["eta_s"] is not None and e["eta_s"] >= 0 for e in updates)
    assert all(0 < e["n"] < 20 and e["postfix"].startswith("loss=") for e in updates)
    assert events[-1]["n"] == 20 and events[-1]["postfix"] == "loss=0.050" and events[-1]["eta_s"] == 0
    assert {e["desc"] for e in events} == {"gnn_max"}


def test_a_burst_of_updates_is_written_when_the_interval_is_up(events_file, monkeypatch):
    """A sweep's workers often finish together: the last count must not wait for the next run."""
    monkeypatch.setattr(progress, "UPDATE_INTERVAL_S", 0.2)
    bar = progress_bar(total=6, initial=2, desc="sweep", unit="run", smoothing=0.0)
    for _ in range(3):
        bar.update(1)
    time.sleep(0.5)
    last = read_events(events_file)[-1]
    assert last["event"] == "update" and last["n"] == 5 and last["unit"] == "run"
    bar.close()
    assert [e["event"] for e in read_events(events_file)][-1] == "close"


def test_disable_true_is_silent_and_emit_writes_a_message(events_file):
    bar = progress_bar(range(3), desc="quiet", disable=True)
    assert list(bar) == [0, 1, 2]
    assert not events_file.exists()
    emit("training run 3/18: gnn_max seed 1")
    (event,) = read_events(events_file)
    assert event["event"] == "message" and event["message"] == "training run 3/18: gnn_max seed 1"


def test_with_the_variable_set_the_bar_draws_nothing(events_file, capsys):
    for _ in progress_bar(range(5), desc="hidden", mininterval=0):
        pass
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert [e["event"] for e in read_events(events_file)][0] == "start"


def test_format_event():
    assert format_duration(42) == "42s" and format_duration(72) == "1m12s" and format_duration(540) == "9m00s"
    assert format_duration(725) == "12m" and format_duration(3900) == "1h05m"
    line = format_event({"event": "update", "desc": "gnn_max", "n": 1200, "total": 3000, "elapsed_s": 50,
                         "eta_s": 72, "postfix": "loss=0.123, val_acc=0.912", "unit": "it"})
    assert line == "gnn_max: 1200/3000 steps, 40%, ETA 1m12s (loss=0.123, val_acc=0.912)"
    line = format_event({"event": "update", "desc": "baselines sweep", "n": 7, "total": 18, "elapsed_s": 300,
                         "eta_s": 550, "postfix": "", "unit": "run"})
    assert line == "baselines sweep: 7/18 runs, 39%, ETA 9m10s"
    assert format_event({"event": "close", "desc": "x", "n": 5, "total": 5, "elapsed_s": 3, "eta_s": 0,
                         "postfix": ""}) == "x: 5/5 steps, 100%, done in 3s"
    assert format_event({"event": "message", "message": "hello"}) == "hello"
    assert format_event({"event": "unheard-of"}) is None


def test_tail_prints_one_line_per_event_skips_malformed_and_handles_partial_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    out = io.StringIO()
    tail = ProgressTail(path, label="01_baselines", stream=out, poll_s=0.02).start()  # file not there yet
    time.sleep(0.1)
    start = {"event": "start", "desc": "gnn_max", "n": 0, "total": 10, "elapsed_s": 0, "eta_s": None,
             "postfix": "", "unit": "it", "pid": 1}
    update = {**start, "event": "update", "n": 4, "elapsed_s": 2.0, "eta_s": 3.0, "postfix": "loss=0.5"}
    with open(path, "ab") as f:
        f.write((json.dumps(start) + "\n").encode())
        f.write(b"{not json\n")
        f.write(b'["a list"]\n')
        f.write(b"\xff\xfe\n")
        line = (json.dumps(update) + "\n").encode()
        f.write(line[:15])  # a half-written line: nothing yet
        f.flush()
        time.sleep(0.2)
        assert out.getvalue() == "    [01_baselines] gnn_max: 0/10 steps, 0%\n"
        f.write(line[15:])
        f.write((json.dumps({"event": "message", "message": "training run 2/3", "pid": 1})).encode())  # no newline
    tail.stop()
    assert out.getvalue().splitlines() == [
        "    [01_baselines] gnn_max: 0/10 steps, 0%",
        "    [01_baselines] gnn_max: 4/10 steps, 40%, ETA 3s (loss=0.5)",
        "    [01_baselines] training run 2/3",
    ]
    assert tail.lines_printed == 3


class TimedStream(io.TextIOBase):
    """Records when each line was written."""

    def __init__(self):
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def write(self, s):
        with self._lock:
            self.lines += [(time.time(), line) for line in s.splitlines() if line.strip()]
        return len(s)


def test_runner_streams_progress_from_a_running_cell(tmp_path):
    """Issue 17's acceptance test: progress lines reach the runner's output while the cell runs,
    and the executed notebook holds no bars."""
    import nbformat

    from lib.notebook_runner import KERNEL, run_notebook

    cell_done = tmp_path / "cell_done.txt"
    params = nbformat.v4.new_code_cell('profile: str = "smoke"  # which sizes', metadata={"tags": ["parameters"]})
    loop = nbformat.v4.new_code_cell(
        "import time\n"
        "from lib.progress import emit, progress_bar\n"
        "emit('training run 1/1: tiny')\n"
        "bar = progress_bar(range(12), desc='tiny', leave=False, mininterval=0.1)\n"
        "for i in bar:\n"
        "    time.sleep(0.5)\n"
        "    bar.set_postfix(loss=f'{1 / (i + 1):.3f}')\n"
        f"open({str(cell_done)!r}, 'w').write(repr(time.time()))\n"
    )
    nb = nbformat.v4.new_notebook(cells=[params, loop])
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    path = tmp_path / "91_progress.ipynb"
    nbformat.write(nb, path)

    stream = TimedStream()
    executed, _ = run_notebook(path, "smoke", out_dir=tmp_path / "out", progress_stream=stream)

    cell_end = float(cell_done.read_text())
    lines = [(t, line) for t, line in stream.lines if line.startswith("    [91_progress] ")]
    texts = [line for _, line in lines]
    assert "    [91_progress] training run 1/1: tiny" in texts
    assert any("tiny: 0/12 steps" in line for line in texts)
    assert any("tiny: 12/12 steps, 100%, done in" in line for line in texts)
    during = [line for t, line in lines if t < cell_end - 1.0 and "ETA" in line]
    assert during, f"no progress line arrived while the cell ran: {stream.lines}"
    assert "loss=" in during[-1]
    # The notebook itself stays clean: no bars, no progress text in the loop cell's outputs.
    loop_outputs = json.loads(executed.read_text())["cells"][1]["outputs"]
    assert loop_outputs == [], loop_outputs
    events = read_events(tmp_path / "out" / "91_progress.progress.jsonl")
    assert events[0]["event"] == "message" and events[-1]["event"] == "close"
