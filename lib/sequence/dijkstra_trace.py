"""Dijkstra as a sequence task: read a graph as tokens, write the algorithm's trace.

    <bos> s  a b w  a b w  ...  <sep>  s s  v1 p1  v2 p2  ...  <eos>

* ``s`` is the source; each undirected edge {a, b} appears once as ``a b w`` (``a < b`` by
  token id, edges sorted), with ``w`` its weight quantised into ``bins`` equal bins of
  [0, ``max_weight``] (heavier edges fall in the last bin). A directed graph is symmetrised,
  keeping the lighter direction, in the encoding only;
* the trace (`lib.oracle.dijkstra_trace` of the *true* graph) lists the reachable nodes in pop
  order, each followed by its predecessor (the source by itself), then ``<eos>``.

Node ids are not node indices: every encoding relabels the n nodes with ids drawn without
replacement from ``0..id_vocab-1`` (a fresh draw per use in training), so a model trained at
n <= 16 has seen every id and can be run on graphs of up to ``id_vocab`` nodes.

Information loss. Quantisation hides weight differences within a bin, so a model that reads
the tokens perfectly can still not know which of two near-equal paths is shorter: the target
trace is that of the true weights, and `quantisation_ceiling` measures how often Dijkstra run
on the quantised weights picks a pointer that is wrong on the true graph. Decoding always
returns pointers for the *true* graph and they are scored by the tie-aware metrics of
`lib.metrics` against the true weights, so the quantisation never makes a wrong answer right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..graphs import Graph
from ..metrics import Prediction, evaluate_predictions
from ..oracle import dijkstra, dijkstra_trace
from ..samplers import SPLITS, sample_split
from .examples import SeqExample, teacher_forced_hits

PAD, BOS, SEP, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<sep>", "<eos>")

#: Seeds of the node relabelling used for evaluation, per data split (training draws from the training seed).
EVAL_RELABEL_SEED = 7_000


@dataclass(frozen=True)
class TraceCoding:
    """The token layout: special tokens, then weight bins, then node ids."""

    bins: int = 16  # weight bins (quantisation levels)
    id_vocab: int = 128  # node ids available: graphs of up to this many nodes can be encoded
    max_weight: float = 1.0  # upper end of the binned weight range (CLRS weights are <= ~1.0005)

    def __post_init__(self):
        if self.bins < 1 or self.id_vocab < 2 or not self.max_weight > 0:
            raise ValueError(f"need bins >= 1, id_vocab >= 2 and max_weight > 0; got {self}")

    @property
    def vocab_size(self) -> int:
        return len(SPECIALS) + self.bins + self.id_vocab

    def weight_token(self, w: np.ndarray) -> np.ndarray:
        b = np.clip(np.floor(np.asarray(w) / self.max_weight * self.bins), 0, self.bins - 1).astype(np.int64)
        return len(SPECIALS) + b

    def quantise(self, w: np.ndarray) -> np.ndarray:
        """The bin centre each weight is read as."""
        return (self.weight_token(w) - len(SPECIALS) + 0.5) * self.max_weight / self.bins

    def node_token(self, ids: np.ndarray) -> np.ndarray:
        return len(SPECIALS) + self.bins + np.asarray(ids, dtype=np.int64)

    def node_id(self, token: int) -> int | None:
        """The node id a token stands for, or None when it is not a node token."""
        k = int(token) - len(SPECIALS) - self.bins
        return k if 0 <= k < self.id_vocab else None

    def relabel(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Random distinct ids for nodes 0..n-1."""
        if n > self.id_vocab:
            raise ValueError(f"a graph of {n} nodes needs more than the {self.id_vocab} node ids of this coding")
        return rng.choice(self.id_vocab, n, replace=False).astype(np.int64)


@dataclass
class TraceExample:
    """One encoded graph: the full token sequence and where the answer starts."""

    tokens: np.ndarray  # int64 [L]: prompt (up to and including <sep>), trace, <eos>
    loss_mask: np.ndarray  # bool [L]: true on the trace tokens and <eos> (what the model must write)
    node_ids: np.ndarray  # int64 [n]: the id each node was given
    prompt_length: int  # tokens up to and including <sep>

    def seq_example(self) -> SeqExample:
        """Next-token view: read tokens[:-1], predict tokens[1:] where the loss mask is set."""
        return SeqExample(self.tokens[:-1], self.tokens[1:], self.loss_mask[1:])


def _undirected_edges(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unordered pair once (a < b by node index), with the lighter direction's weight."""
    a = np.minimum(graph.senders, graph.receivers)
    b = np.maximum(graph.senders, graph.receivers)
    order = np.lexsort((graph.weights, b, a))
    a, b, w = a[order], b[order], graph.weights[order]
    first = np.ones(a.size, dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], w[first]


def encode(graph: Graph, rng: np.random.Generator, coding: TraceCoding = TraceCoding(),
           node_ids: np.ndarray | None = None) -> TraceExample:
    """Tokens of a graph and its true trace, with node ids drawn from ``rng`` (or given)."""
    ids = coding.relabel(graph.num_nodes, rng) if node_ids is None else np.asarray(node_ids, dtype=np.int64)
    if ids.shape != (graph.num_nodes,) or len(set(ids.tolist())) != graph.num_nodes or \
            ids.min(initial=0) < 0 or ids.max(initial=0) >= coding.id_vocab:
        raise ValueError(f"node_ids must be {graph.num_nodes} distinct ids in 0..{coding.id_vocab - 1}")
    a, b, w = _undirected_edges(graph)
    ta, tb = coding.node_token(ids[a]), coding.node_token(ids[b])
    lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
    order = np.lexsort((hi, lo))
    edges = np.stack([lo[order], hi[order], coding.weight_token(w)[order]], 1).reshape(-1)
    prompt = np.concatenate([[BOS, coding.node_token(ids[graph.source])], edges, [SEP]])
    trace = np.array([[v, p] for v, p in dijkstra_trace(graph)], dtype=np.int64).reshape(-1)
    answer = np.concatenate([coding.node_token(ids[trace]), [EOS]])
    tokens = np.concatenate([prompt, answer]).astype(np.int64)
    mask = np.arange(len(tokens)) >= len(prompt)
    return TraceExample(tokens, mask, ids, len(prompt))


def decode(generated: Sequence[int], graph: Graph, node_ids: np.ndarray,
           coding: TraceCoding = TraceCoding()) -> np.ndarray:
    """Predicted ``pi`` from the tokens written after ``<sep>`` (read up to ``<eos>``).

    Pairs ``v p`` set ``pi[v] = p`` (the first pair naming v wins). Nodes never named, pairs
    with a token that is not a node of this graph, and a dangling last token are ignored, so
    those nodes keep the fallback: themselves (the CLRS convention for unreachable nodes).
    The source always points to itself.
    """
    index = {int(i): v for v, i in enumerate(np.asarray(node_ids).tolist())}
    pi = np.arange(graph.num_nodes, dtype=np.int64)
    seen = set()
    toks = [int(t) for t in generated]
    if EOS in toks:
        toks = toks[:toks.index(EOS)]
    for k in range(0, len(toks) - 1, 2):
        v, p = coding.node_id(toks[k]), coding.node_id(toks[k + 1])
        v, p = index.get(v), index.get(p)
        if v is None or p is None or v in seen:
            continue
        seen.add(v)
        pi[v] = p
    pi[graph.source] = graph.source
    return pi


def true_answer(graph: Graph, node_ids: np.ndarray, coding: TraceCoding = TraceCoding()) -> list[int]:
    """The answer tokens (trace and <eos>) a perfect model writes."""
    ex = encode(graph, np.random.default_rng(0), coding, node_ids)
    return ex.tokens[ex.prompt_length:].tolist()


def quantisation_ceiling(graphs: Sequence[Graph], coding: TraceCoding = TraceCoding()) -> dict:
    """Metrics of exact Dijkstra run on the *quantised* weights, scored on the true graphs:
    what reading weights only through their bins costs an otherwise perfect solver."""
    preds = []
    for g in graphs:
        q = Graph(g.num_nodes, g.source, g.senders, g.receivers, coding.quantise(g.weights))
        preds.append(Prediction(dijkstra(q)[1]))
    return evaluate_predictions(graphs, preds)


@dataclass(frozen=True)
class DijkstraTraceTask:
    """Task arguments (``SeqTrainConfig.task_args``) and the task's data and metrics."""

    bins: int = 16  # weight bins (16: Dijkstra on binned weights keeps ~98% pointer accuracy at n = 16)
    id_vocab: int = 128  # node-id vocabulary (largest graph that can be encoded)
    train_split: str = "train"  # named graph split for training (lib.samplers.SPLITS)
    train_graphs: int = 1000  # size of the fixed training set (CLRS: 1000)
    val_split: str = "val"  # the split the trainer's "val" (learning-curve) graphs come from

    def __post_init__(self):
        if self.train_graphs < 1:
            raise ValueError(f"train_graphs must be >= 1, got {self.train_graphs}")
        for split in (self.train_split, self.val_split):
            if split not in SPLITS:
                raise KeyError(f"unknown split {split!r}; choose from {sorted(SPLITS)}")
            if max(SPLITS[split].sizes) > self.id_vocab:
                raise ValueError(f"split {split!r} has graphs of up to {max(SPLITS[split].sizes)} nodes, more than "
                                 f"the {self.id_vocab} node ids (id_vocab)")
        self.coding  # validates bins and id_vocab

    @property
    def coding(self) -> TraceCoding:
        return TraceCoding(self.bins, self.id_vocab)

    @property
    def vocab_size(self) -> int:
        return self.coding.vocab_size

    pad = PAD

    def train_items(self, num: int | None = None, seed_offset: int = 0) -> list[Graph]:
        return sample_split(self.train_split, num or self.train_graphs, seed_offset=seed_offset)

    def eval_items(self, split: str, num: int) -> list[Graph]:
        return sample_split(self.val_split if split == "val" else split, num)

    def length(self, graph: Graph) -> int:
        return 4 + 3 * len(_undirected_edges(graph)[0]) + 2 * len(dijkstra_trace(graph))

    def example(self, graph: Graph, rng: np.random.Generator) -> SeqExample:
        return encode(graph, rng, self.coding).seq_example()

    def encode_eval(self, graphs: Sequence[Graph], seed: int = EVAL_RELABEL_SEED) -> list[TraceExample]:
        """Encodings with fixed node ids (graph i's ids depend only on ``seed`` and i)."""
        streams = np.random.SeedSequence(seed).spawn(len(graphs))
        return [encode(g, np.random.default_rng(s), self.coding) for g, s in zip(graphs, streams)]

    @torch.no_grad()
    def generate(self, model, graphs: Sequence[Graph], device=None, batch_size: int = 32,
                 encoded: Sequence[TraceExample] | None = None, **gen_kw) -> list[list[int]]:
        """Greedy answers (tokens after <sep>) per graph; prompts batched by length."""
        encoded = encoded or self.encode_eval(graphs)
        order = sorted(range(len(graphs)), key=lambda i: encoded[i].prompt_length)
        answers: list[list[int] | None] = [None] * len(graphs)
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            lengths = [encoded[i].prompt_length for i in idx]
            prompt = torch.full((len(idx), max(lengths)), PAD, dtype=torch.long, device=device)
            for r, i in enumerate(idx):
                prompt[r, :lengths[r]] = torch.as_tensor(encoded[i].tokens[:lengths[r]])
            steps = 2 * max(graphs[i].num_nodes for i in idx) + 1
            out = model.generate(prompt, steps, prompt_lengths=lengths, stop_token=EOS, **gen_kw).cpu()
            for r, i in enumerate(idx):
                answers[i] = out[r, lengths[r]:lengths[r] + steps].tolist()
        return answers  # type: ignore[return-value]

    def predictions(self, model, graphs: Sequence[Graph], device=None, batch_size: int = 32, **gen_kw):
        """`Prediction` (decoded pi) per graph."""
        encoded = self.encode_eval(graphs)
        answers = self.generate(model, graphs, device, batch_size, encoded, **gen_kw)
        return [Prediction(decode(a, g, e.node_ids, self.coding)) for a, g, e in zip(answers, graphs, encoded)]

    @torch.no_grad()
    def evaluate(self, model, graphs: Sequence[Graph], device=None, batch_size: int = 32,
                 generate: bool = True, **forward_kw) -> dict:
        """Trace token accuracy under teacher forcing, and (``generate``) generated-trace exact
        match plus the tie-aware pointer metrics of the decoded pointers."""
        encoded = self.encode_eval(graphs)
        fwd = (lambda x: model(x, **forward_kw)) if forward_kw else model
        hits = teacher_forced_hits(fwd, [e.seq_example() for e in encoded], PAD, device, batch_size)
        cat = lambda parts: float(np.concatenate(parts).mean()) if sum(map(len, parts)) else float("nan")  # noqa: E731
        out = {"trace_token_accuracy": cat(hits),
               "trace_node_accuracy": cat([h[0:-1:2] for h in hits]),  # which node is popped next
               "trace_predecessor_accuracy": cat([h[1:-1:2] for h in hits]),  # its predecessor, given the node
               "trace_teacher_forced_exact": float(np.mean([h.all() for h in hits])),
               "num_graphs": len(graphs), "mean_num_nodes": float(np.mean([g.num_nodes for g in graphs]))}
        if generate:
            answers = self.generate(model, graphs, device, batch_size, encoded, **forward_kw)
            exact = [a[:len(e.tokens) - e.prompt_length] == e.tokens[e.prompt_length:].tolist()
                     for a, e in zip(answers, encoded)]
            preds = [Prediction(decode(a, g, e.node_ids, self.coding)) for a, g, e in zip(answers, graphs, encoded)]
            m = evaluate_predictions(graphs, preds)
            out.update({"trace_exact": float(np.mean(exact)), "pointer_accuracy": m["pointer_accuracy"],
                        "exact_match": m["exact_match"]})
        return out


__all__ = ["DijkstraTraceTask", "TraceCoding", "TraceExample", "encode", "decode", "true_answer",
           "quantisation_ceiling", "PAD", "BOS", "SEP", "EOS"]
