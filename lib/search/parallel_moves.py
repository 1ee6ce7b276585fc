"""Discrete local search that runs until the verifier is satisfied: every node, in parallel and
batched over graphs, takes the move that most lowers its own verifier term, until no node can lower
its term (a fixed point) or a per-graph cap of rounds is reached.

A candidate is a distance per node. A node's moves are its *parent choices*: take an in-neighbour u
as its predecessor, so that y_v = y_u + w_uv, or take itself: y_v = 0 at the source, y_v = inf
("unreachable") elsewhere. This move set is
hand-written, and it is named in every route label ("parent moves"). The answer's pointers are read
out by the same rule: each node's best option under the verifier at the final candidate. With the
exact checker as verifier, from the "far" start, this is Jacobi Bellman-Ford, which reaches the truth
in (hop depth) rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..batching import GraphBatch, segment_argmax, segment_max

#: Starting candidates: "far" puts every node but the source at inf, Bellman-Ford's "not reached
#: yet"; "random" draws y ~ U(0, 1) per node; a generator's output is passed in as a tensor.
STARTS = ("far", "random")


@dataclass(frozen=True)
class Margins:
    """How much lower a verifier term must be to count as lower: in the read-out, an option must beat
    the node's current value (then the node itself) by the *tie* margin; a node moves only when its
    best option beats its current term by the *move* margin. Each margin is an absolute part plus
    ``relative`` times the term it is compared with (the node's best option; its current term)."""

    tie: float = 1e-6
    move: float = 1e-5
    relative: float = 0.0

    def widen(self, absolute: float, term: torch.Tensor):
        """``absolute`` plus ``relative`` times ``|term|`` (an infinite or NaN term adds nothing)."""
        return absolute + self.relative * term.abs().nan_to_num(posinf=0.0) if self.relative else absolute


#: Absolute margins, with which the report's verifiers were trained (their mined search states and
#: validation): a path shorter by less than 1e-5 in term units is not taken, so the search cannot
#: resolve near-tied paths, even under the exact checker (whose term is the absolute residual).
COARSE = Margins()
#: Margins at float32 noise: one part in 10^5 of the term compared, plus 1e-9.
#: The default of every search since notebook 05 resolved near-tied paths on n = 1600 graphs.
FINE = Margins(tie=1e-9, move=1e-9, relative=1e-5)
MARGINS = {"coarse": COARSE, "fine": FINE}


@dataclass
class MoveSearch:
    """The result of `parallel_descent` on one batch."""

    y: torch.Tensor  # [N] final candidate distances
    parent: torch.Tensor  # [N] global id of each node's read-out predecessor (itself for roots)
    rounds: torch.Tensor  # [B] rounds in which some node of the graph moved
    settled: torch.Tensor  # [B] bool: reached a fixed point before its cap
    energies: list[torch.Tensor] = field(default_factory=list)  # [B] energy after each round (index 0: start)
    states: list[torch.Tensor] = field(default_factory=list)  # [N] candidate after each round, if recorded
    parents: list[torch.Tensor] = field(default_factory=list)  # [N] read-out at each state (index 0: start), if recorded


def start_candidate(batch: GraphBatch, how: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """A starting candidate by name (see `STARTS`)."""
    if how == "far":
        return torch.where(batch.is_source > 0, 0.0, float("inf")).to(batch.is_source.dtype)
    if how == "random":
        return torch.rand(batch.num_nodes, generator=generator).to(batch.device)
    raise ValueError(f"unknown search start {how!r}; choose from {STARTS} or pass a candidate tensor")


def option_values(batch: GraphBatch, y: torch.Tensor) -> torch.Tensor:
    """[C] the value each option gives its node: y_u + w_uv for parent u; for the node itself, 0 at
    the source and inf (unreachable) elsewhere."""
    own = torch.where(batch.is_source > 0, 0.0, float("inf")).to(y.dtype)
    return torch.where(batch.cand_is_self > 0, own[batch.cand_dst], y[batch.cand_src] + batch.cand_weight)


class RowCache:
    """The ``rows`` of `Verifier.option_terms` for a search, one per call site: keeps each network's
    last input and output and reruns it only on the rows whose input bits changed (between rounds,
    only the nodes near a move). The output is bit-identical to a full run: the rerun rows go in a
    layout that ends with the full input's last ``BLOCK`` rows and has as many rows modulo ``BLOCK``,
    so the elementwise kernels' scalar tails fall on the same entries, and matrix products see
    at least ``BLOCK`` rows (BLAS rounds differently only for 1 to 3). A returned output stays
    valid until the next call with the same name. That layout was verified bit for bit on
    AVX-512 CPU kernels, on one thread (as the report's searches run: `single_thread`), only
    (`tests/test_parallel_moves.py`); on any other device or CPU the cache runs the whole network
    every time."""

    BLOCK = 32  # a multiple of the widest vector step in floats (AVX-512: 2 x 16)
    VERIFIED = "AVX512"  # the CPU capability on which partial reruns were checked to be exact

    def __init__(self, memo: dict | None = None):
        self.seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        # results a verifier may share between the caches of one search, keyed by the candidate
        # they were computed at (`MinPlusVerifier.best_offers`: one aggregation serves both calls)
        self.memo = {} if memo is None else memo

    def __call__(self, name: str, net, x: torch.Tensor) -> torch.Tensor:
        old = self.seen.get(name)
        n, block = len(x), self.BLOCK
        if not _exact_layout(x) or old is None or old[0].shape != x.shape or n <= 4 * block:
            out = net(x)
        else:
            out = old[1]
            changed = (_bits(x) != _bits(old[0])).view(torch.uint8).amax(1) > 0  # faster than any(1)
            if bool(changed.any()):
                rows = changed[:n - block].nonzero().squeeze(1)
                if len(rows) > n // 2:
                    out = net(x)
                else:
                    pad = rows.new_full(((n - len(rows) - block) % block,), n - block)
                    fresh = net(x[torch.cat([rows, pad, torch.arange(n - block, n, device=x.device)])])
                    out[rows] = fresh[:len(rows)]
                    out[n - block:] = fresh[-block:]
        self.seen[name] = (x, out)
        return out


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[x.element_size()])


def _exact_layout(x: torch.Tensor) -> bool:
    """Whether a partial rerun in `RowCache`'s layout is bit-identical to a full run on ``x``'s device."""
    return x.device.type == "cpu" and torch.backends.cpu.get_cpu_capability() == RowCache.VERIFIED


def refresh_rows(out: torch.Tensor, changed: torch.Tensor, compute) -> torch.Tensor:
    """``out`` [n] with the rows where ``changed`` [n] holds recomputed by ``compute(rows)`` (an index
    tensor; all of them, ``arange(n)``, computes ``out`` afresh). Bit-identical to the fresh result when
    every other row of ``out`` is still current: the rows go in `RowCache`'s layout (as many rows modulo
    ``BLOCK`` as ``out``, ending with its last ``BLOCK`` rows), so every elementwise kernel and matrix
    product treats each row as in a full run. Off the verified CPU, or when most rows changed, it
    recomputes all."""
    n, block = len(out), RowCache.BLOCK
    everything = torch.arange(n, device=out.device)
    if not _exact_layout(out) or n <= 4 * block:
        return compute(everything)
    if not bool(changed.any()):
        return out
    rows = changed[:n - block].nonzero().squeeze(1)
    if len(rows) > n // 2:
        return compute(everything)
    pad = rows.new_full(((n - len(rows) - block) % block,), n - block)
    fresh = compute(torch.cat([rows, pad, everything[n - block:]]))
    out = out.clone()
    out[rows] = fresh[:len(rows)]
    out[n - block:] = fresh[-block:]
    return out


def _affected(batch: GraphBatch, move: torch.Tensor) -> torch.Tensor:
    """[N] bool: the nodes that moved and their out-neighbours, the only nodes whose terms (own value,
    in-neighbours' values) or options (in-neighbours' values) a round of moves can change."""
    hit = move.clone()
    hit[batch.receivers[move[batch.senders]]] = True
    return hit


def best_options(verifier, batch: GraphBatch, y: torch.Tensor, rows: RowCache | None = None,
                 margins: Margins = FINE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each node's best option under the verifier: (option index [N], its value [N], its term [N])."""
    values = option_values(batch, y)
    return _choose(batch, y, values, verifier.option_terms(batch, y, batch.cand_dst, values, rows), margins)


def _choose(batch: GraphBatch, y: torch.Tensor, values: torch.Tensor, terms: torch.Tensor, margins: Margins):
    """`best_options` from the options' values and terms at ``y``."""
    # on a tie, keep the value the node already has; among those, prefer the node itself
    # (an unreached node's parents offer inf too, yet its pointer is itself)
    tie = margins.tie
    if margins.relative:  # relative to the node's best option
        tie = margins.widen(tie, -segment_max(-terms, batch.cand_dst, batch.num_nodes)[batch.cand_dst])
    penalty = tie * (values != y[batch.cand_dst]).float() + 0.5 * tie * (1 - batch.cand_is_self)
    best = segment_argmax(-(terms + penalty), batch.cand_dst, batch.num_nodes)
    return best, values[best], terms[best]


class _Terms:
    """The verifier's terms at the search's current candidate: every node's own, and every option's.
    After a round, only the rows of the nodes that moved and of their out-neighbours are recomputed
    (`refresh_rows`), in each network only the rows whose input changed (`RowCache`)."""

    def __init__(self, verifier, batch: GraphBatch, y: torch.Tensor):
        self.verifier, self.batch = verifier, batch
        memo: dict = {}  # shared: the terms at a candidate and its options' scores reuse one aggregation
        self.option_rows, self.node_rows = RowCache(memo), RowCache(memo)
        self.y, self.values = y, option_values(batch, y)
        self.nodes = self._node_terms(torch.arange(batch.num_nodes, device=y.device))
        self.options = self._option_terms(torch.arange(len(batch.cand_dst), device=y.device))

    def _node_terms(self, rows: torch.Tensor) -> torch.Tensor:
        return self.verifier.option_terms(self.batch, self.y, rows, self.y[rows], self.node_rows)

    def _option_terms(self, rows: torch.Tensor) -> torch.Tensor:
        return self.verifier.option_terms(self.batch, self.y, self.batch.cand_dst[rows], self.values[rows],
                                          self.option_rows)

    def update(self, y: torch.Tensor, move: torch.Tensor) -> None:
        """Move to ``y``, which differs from the current candidate where ``move`` [N] holds."""
        self.y, self.values, hit = y, option_values(self.batch, y), _affected(self.batch, move)
        self.nodes = refresh_rows(self.nodes, hit, self._node_terms)
        self.options = refresh_rows(self.options, hit[self.batch.cand_dst], self._option_terms)

    def best(self, margins: Margins):
        return _choose(self.batch, self.y, self.values, self.options, margins)


@torch.no_grad()
def parallel_descent(verifier, batch: GraphBatch, y0: torch.Tensor, cap: torch.Tensor | int | None = None,
                     margins: Margins = FINE, record: bool = False) -> MoveSearch:
    """Parallel best moves from ``y0`` until a fixed point or ``cap`` rounds per graph.

    ``cap`` defaults to each graph's node count, the budget Bellman-Ford needs, so the budget grows
    with the instance. A node moves when its best option lowers its term by more than the move
    margin of ``margins``. With ``record``, ``states`` and ``parents`` hold the candidate and the
    read-out after every round (what the search returns when capped there)."""
    if cap is None:
        cap = batch.sizes.clone()
    cap = torch.as_tensor(cap, device=batch.device).expand(batch.num_graphs)
    y = y0.clone()
    rounds = torch.zeros(batch.num_graphs, dtype=torch.long, device=batch.device)
    active = cap > 0
    settled = torch.zeros_like(active)
    terms = _Terms(verifier, batch, y)  # each node's term now (the energies sum them per graph), and its options'
    energies = [_per_graph(batch, terms.nodes)]
    states, parents = ([y.clone()] if record else []), []
    while True:
        best, value, term = terms.best(margins)
        if record:
            parents.append(batch.chosen_pointers(best))
        if not bool(active.any()):
            break
        current = terms.nodes
        move = (term < current - margins.widen(margins.move, current)) & active[batch.node_graph]
        moved = torch.zeros(batch.num_graphs, dtype=torch.long, device=y.device).index_add(
            0, batch.node_graph, move.long()) > 0
        settled |= active & ~moved
        if not bool(moved.any()):
            break
        y = torch.where(move, value, y)
        rounds += moved.long()
        active &= moved & (rounds < cap)
        terms.update(y, move)
        energies.append(_per_graph(batch, terms.nodes))
        if record:
            states.append(y.clone())
    return MoveSearch(y, batch.chosen_pointers(best), rounds, settled, energies, states, parents)


def _per_graph(batch: GraphBatch, terms: torch.Tensor) -> torch.Tensor:
    return torch.zeros(batch.num_graphs, dtype=terms.dtype, device=terms.device).index_add(0, batch.node_graph, terms)


__all__ = ["COARSE", "FINE", "MARGINS", "STARTS", "Margins", "MoveSearch", "RowCache", "best_options", "option_values", "parallel_descent", "start_candidate"]
