"""The Graph type and the JSON Lines interchange format, including every malformed case."""

import gzip
import json

import numpy as np
import pytest

from lib.graphs import Graph, GraphFormatError, read_jsonl, write_jsonl

GOOD = {"num_nodes": 3, "source": 0, "edges": [[0, 1, 1.0], [1, 0, 1.0], [1, 2, 0.5], [2, 1, 0.5]]}


def write_lines(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_parallel_edges_keep_minimum_and_self_loops_are_dropped():
    g = Graph.from_edges(3, 0, [[0, 1, 2.0], [0, 1, 0.5], [0, 1, 1.0], [1, 1, 0.1], [2, 0, 3.0]])
    assert g.num_edges == 2
    assert g.dense_weights()[0, 1] == 0.5
    assert np.isinf(g.dense_weights()[1, 1])


def test_edges_sorted_by_receiver_then_sender():
    g = Graph.from_edges(4, 0, [[3, 0, 1.0], [1, 2, 1.0], [0, 2, 1.0], [2, 1, 1.0]])
    keys = list(zip(g.receivers.tolist(), g.senders.tolist()))
    assert keys == sorted(keys)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_roundtrip(tmp_path, suffix):
    graphs = [Graph.from_edges(**{k: GOOD[k] for k in ("num_nodes", "source", "edges")}, pi=[0, 0, 1], name="a"),
              Graph.from_edges(1, 0, [])]
    path = write_jsonl(graphs, tmp_path / f"g{suffix}")
    back = read_jsonl(path)
    assert [g.to_dict() for g in back] == [g.to_dict() for g in graphs]
    if suffix.endswith(".gz"):
        with gzip.open(path, "rt") as fh:
            assert json.loads(fh.readline())["name"] == "a"


def test_extra_keys_ignored_and_blank_lines_skipped(tmp_path):
    path = write_lines(tmp_path / "g.jsonl", [{**GOOD, "whatever": [1, 2]}, "", GOOD])
    assert len(read_jsonl(path)) == 2


def test_reads_clrs_reference_files(reference_files):
    g16 = read_jsonl(reference_files[16])
    g32 = read_jsonl(reference_files[32])
    assert len(g16) == 128 and len(g32) == 32
    assert {g.num_nodes for g in g16} == {16} and {g.num_nodes for g in g32} == {32}
    assert all(g.pi is not None and g.pi[g.source] == g.source for g in g16 + g32)


BAD_CASES = [
    # (record, expected substrings: line 2 always, plus the field and the problem)
    ({**GOOD, "edges": [[0, 5, 1.0]]}, ["edges[0][1]", "out of range"]),
    ({**GOOD, "edges": [[-1, 1, 1.0]]}, ["edges[0][0]", "out of range"]),
    ({**GOOD, "edges": [[0, 1, -0.5]]}, ["edges[0][2]", "non-negative"]),
    ('{"num_nodes": 3, "source": 0, "edges": [[0, 1, NaN]]}', ["edges[0][2]", "finite"]),
    ('{"num_nodes": 3, "source": 0, "edges": [[0, 1, Infinity]]}', ["edges[0][2]", "finite"]),
    ({**GOOD, "edges": [[0, 1, "1.0"]]}, ["edges[0][2]", "number"]),
    ({**GOOD, "edges": [[0, 1]]}, ["edges", "[u, v, w]"]),
    ({**GOOD, "edges": "nope"}, ["edges"]),
    ({"num_nodes": 3, "edges": []}, ["source", "missing"]),
    ({"source": 0, "edges": []}, ["num_nodes", "missing"]),
    ({"num_nodes": 3, "source": 0}, ["edges", "missing"]),
    ({**GOOD, "source": 3}, ["source", "out of range"]),
    ({**GOOD, "source": 1.5}, ["source", "integer"]),
    ({**GOOD, "num_nodes": 0}, ["num_nodes"]),
    ({**GOOD, "pi": [0, 1]}, ["pi", "3"]),
    ({**GOOD, "pi": [0, 1, 9]}, ["pi[2]", "out of range"]),
    ('{"num_nodes": 3, "source": 0, "edges": [', ["invalid JSON"]),
    ("[1, 2, 3]", ["JSON object"]),
]


@pytest.mark.parametrize("record,expected", BAD_CASES, ids=[str(i) for i in range(len(BAD_CASES))])
def test_malformed_line_names_line_and_field(tmp_path, record, expected):
    path = write_lines(tmp_path / "bad.jsonl", [GOOD, record, GOOD])
    with pytest.raises(GraphFormatError) as err:
        read_jsonl(path)
    msg = str(err.value)
    assert err.value.line == 2 and msg.startswith("line 2")
    for part in expected:
        assert part in msg, msg


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(GraphFormatError, match="gzip"):
        read_jsonl(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such graph file"):
        read_jsonl(tmp_path / "absent.jsonl")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    write_jsonl([Graph.from_edges(2, 0, [[0, 1, 1.0]])], tmp_path / "a.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]
