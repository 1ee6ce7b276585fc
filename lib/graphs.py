"""The `Graph` type and the JSON Lines interchange format.

One graph per line::

    {"num_nodes": n, "source": s, "edges": [[u, v, w], ...], "pi": [...]?, "name": "..."?}

Edges are directed; an undirected edge appears once in each direction. Extra keys are
ignored. Two normalisations are applied on load (and by `Graph.from_edges`):

* parallel edges ``u -> v`` keep the minimum weight;
* self-loops ``u -> u`` are dropped (they never lie on a shortest path).

Malformed input raises `GraphFormatError`, naming the line and the field. A file is
validated completely before anything is returned, so nothing is ever half-loaded.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

REQUIRED_KEYS = ("num_nodes", "source", "edges")


class GraphFormatError(ValueError):
    """A graph (or a line of an interchange file) is malformed."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None):
        self.detail, self.line, self.field = message, line, field
        where = []
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


@dataclass(eq=False)
class Graph:
    """A weighted directed graph with a source node, stored as sorted edge arrays.

    Use `Graph.from_edges` to build one from raw edges: it validates, drops self-loops,
    keeps the minimum weight of parallel edges and sorts edges by (receiver, sender).
    """

    num_nodes: int
    source: int
    senders: np.ndarray  # int64 [E], edge u -> v has sender u
    receivers: np.ndarray  # int64 [E], ... and receiver v
    weights: np.ndarray  # float64 [E], non-negative and finite
    pi: np.ndarray | None = None  # int64 [n], optional ground-truth predecessors
    name: str | None = None
    meta: dict = field(default_factory=dict)  # free-form (family, p, ...); not serialised

    @classmethod
    def from_edges(
        cls,
        num_nodes: int,
        source: int,
        edges: Iterable[Sequence[float]],
        pi: Sequence[int] | None = None,
        name: str | None = None,
        meta: dict | None = None,
    ) -> "Graph":
        """Validate raw ``[u, v, w]`` edges (e.g. parsed JSON) and build a `Graph`."""
        us, vs, ws = [], [], []
        for k, e in enumerate(edges):
            if not isinstance(e, (list, tuple)) or len(e) != 3:
                raise GraphFormatError(f"edge {k} must be [u, v, w], got {e!r}", field="edges")
            us.append(_check_int(e[0], f"edges[{k}][0]"))
            vs.append(_check_int(e[1], f"edges[{k}][1]"))
            w = e[2]
            if isinstance(w, bool) or not isinstance(w, (int, float, np.floating, np.integer)):
                raise GraphFormatError(f"weight must be a number, got {w!r}", field=f"edges[{k}][2]")
            ws.append(float(w))
        if pi is not None:
            if not isinstance(pi, (list, tuple, np.ndarray)):
                raise GraphFormatError("must be a list of node ids", field="pi")
            pi = [_check_int(x, f"pi[{i}]") for i, x in enumerate(pi)]
        return cls.from_arrays(num_nodes, source, us, vs, ws, pi, name, meta)

    @classmethod
    def from_arrays(
        cls,
        num_nodes: int,
        source: int,
        senders: Sequence[int] | np.ndarray,
        receivers: Sequence[int] | np.ndarray,
        weights: Sequence[float] | np.ndarray,
        pi: Sequence[int] | np.ndarray | None = None,
        name: str | None = None,
        meta: dict | None = None,
    ) -> "Graph":
        """Validate and normalise edge arrays (vectorised; used by the samplers).

        Drops self-loops, keeps the minimum weight of parallel edges and sorts the edges
        by (receiver, sender).
        """
        n = _check_int(num_nodes, "num_nodes")
        if n < 1:
            raise GraphFormatError(f"must be >= 1, got {n}", field="num_nodes")
        s = _check_int(source, "source")
        if not 0 <= s < n:
            raise GraphFormatError(f"source {s} is out of range for {n} nodes", field="source")
        u = np.asarray(senders, dtype=np.int64).reshape(-1)
        v = np.asarray(receivers, dtype=np.int64).reshape(-1)
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if not (u.size == v.size == w.size):
            raise GraphFormatError("senders, receivers and weights differ in length", field="edges")
        for arr, pos in ((u, 0), (v, 1)):
            bad = np.flatnonzero((arr < 0) | (arr >= n))
            if bad.size:
                k = int(bad[0])
                raise GraphFormatError(f"node id {arr[k]} is out of range for {n} nodes", field=f"edges[{k}][{pos}]")
        bad = np.flatnonzero(~np.isfinite(w))
        if bad.size:
            k = int(bad[0])
            raise GraphFormatError(f"weight must be finite, got {w[k]}", field=f"edges[{k}][2]")
        bad = np.flatnonzero(w < 0)
        if bad.size:
            k = int(bad[0])
            raise GraphFormatError(f"weight must be non-negative, got {w[k]}", field=f"edges[{k}][2]")
        keep = u != v  # self-loops never lie on a shortest path
        u, v, w = u[keep], v[keep], w[keep]
        order = np.lexsort((w, u, v))  # by receiver, then sender, then weight
        u, v, w = u[order], v[order], w[order]
        first = np.ones(u.size, dtype=bool)  # the first of each (v, u) run has the minimum weight
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w = u[first], v[first], w[first]
        pi_arr = None
        if pi is not None:
            pi_arr = np.asarray(pi, dtype=np.int64).reshape(-1)
            if pi_arr.size != n:
                raise GraphFormatError(f"must list {n} node ids, got {pi_arr.size}", field="pi")
            bad = np.flatnonzero((pi_arr < 0) | (pi_arr >= n))
            if bad.size:
                k = int(bad[0])
                raise GraphFormatError(f"node id {pi_arr[k]} is out of range for {n} nodes", field=f"pi[{k}]")
        return cls(n, s, u, v, w, pi_arr, name, dict(meta or {}))

    @property
    def num_edges(self) -> int:
        return int(self.senders.size)

    def edges(self) -> list[list]:
        """Edges as ``[u, v, w]`` lists (the interchange representation)."""
        return [[int(u), int(v), float(w)] for u, v, w in zip(self.senders, self.receivers, self.weights)]

    def with_pi(self, pi: np.ndarray) -> "Graph":
        """A copy carrying the given ground-truth predecessors."""
        return Graph(self.num_nodes, self.source, self.senders, self.receivers, self.weights,
                     np.asarray(pi, dtype=np.int64), self.name, dict(self.meta))

    def dense_weights(self, missing: float = np.inf) -> np.ndarray:
        """An ``[n, n]`` matrix W with ``W[u, v]`` the weight of edge u -> v, else `missing`."""
        W = np.full((self.num_nodes, self.num_nodes), missing, dtype=np.float64)
        W[self.senders, self.receivers] = self.weights
        return W

    def to_networkx(self):
        """A `networkx.DiGraph` with a ``weight`` attribute on each edge."""
        import networkx as nx

        G = nx.DiGraph()
        G.add_nodes_from(range(self.num_nodes))
        G.add_weighted_edges_from(zip(self.senders.tolist(), self.receivers.tolist(), self.weights.tolist()))
        return G

    def to_dict(self) -> dict:
        """The interchange-format record for this graph."""
        rec: dict = {"num_nodes": self.num_nodes, "source": self.source, "edges": self.edges()}
        if self.pi is not None:
            rec["pi"] = [int(x) for x in self.pi]
        if self.name is not None:
            rec["name"] = self.name
        return rec

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"Graph{label}(n={self.num_nodes}, edges={self.num_edges}, source={self.source})"


def _check_int(x, field_name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        if isinstance(x, float) and x.is_integer():
            return int(x)
        raise GraphFormatError(f"must be an integer, got {x!r}", field=field_name)
    return int(x)


def graph_from_dict(rec, line: int | None = None) -> Graph:
    """Build a `Graph` from one interchange record, with errors naming `line`."""
    if not isinstance(rec, dict):
        raise GraphFormatError(f"expected a JSON object, got {type(rec).__name__}", line=line)
    for key in REQUIRED_KEYS:
        if key not in rec:
            raise GraphFormatError("missing required key", line=line, field=key)
    if not isinstance(rec["edges"], list):
        raise GraphFormatError("must be a list of [u, v, w]", line=line, field="edges")
    name = rec.get("name")
    try:
        return Graph.from_edges(rec["num_nodes"], rec["source"], rec["edges"], rec.get("pi"),
                                None if name is None else str(name))
    except GraphFormatError as err:
        raise GraphFormatError(err.detail, line=line, field=err.field) from None


def _open_text(path: Path, mode: str):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_jsonl(path: str | os.PathLike) -> list[Graph]:
    """Read every graph of a JSON Lines file (``.gz`` is decompressed).

    Blank lines are skipped. Raises `GraphFormatError` naming the 1-based line number and
    the field at fault; no graph is returned unless the whole file is valid.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such graph file: {path}")
    graphs = []
    try:
        with _open_text(path, "r") as fh:
            for lineno, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as err:
                    raise GraphFormatError(f"invalid JSON ({err.msg} at column {err.colno})", line=lineno) from None
                graphs.append(graph_from_dict(rec, line=lineno))
    except (gzip.BadGzipFile, UnicodeDecodeError, EOFError) as err:
        raise GraphFormatError(f"{path} is not a readable {'gzip ' if path.suffix == '.gz' else ''}text file ({err})") from None
    return graphs


def write_jsonl(graphs: Iterable[Graph], path: str | os.PathLike) -> Path:
    """Write graphs to a JSON Lines file (gzipped when the name ends in ``.gz``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        with _open_text(Path(tmp), "w") as fh:
            for g in graphs:
                fh.write(json.dumps(g.to_dict()) + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
