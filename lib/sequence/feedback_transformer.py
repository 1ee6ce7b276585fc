"""The Feedback Transformer (Fan et al. 2020, "Addressing Some Limitations of Transformers with
Feedback Memory", arXiv:2002.09402).

At step t the token embedding x_t^0 goes through L pre-norm layers. Layer l attends, with query
x_t^{l-1}, to the memory vectors of *past* steps only, [m_{t-tau}, ..., m_{t-1}] (the current step
does not attend to itself; it sees its own input through the residual stream), through its own
key/value projections of the memory (or one projection shared by all layers: ``share_kv``).
When the step is done its single memory vector is

    m_t = sum_{l=0..L} softmax(w)_l x_t^l,   w initialised to zeros (a uniform average),

so the lowest layer of step t+1 already sees the top layer of step t. Computation is
sequential in time: a Python loop over t, in training as in decoding.

Choices where the paper leaves room (facts from its released code where it has one):
* positions enter as learned relative-position keys, a score q . r_{offset} per layer shared by
  its heads; offsets beyond ``max_relative`` share the last key, so any length can be run;
* step 0 has no past; a learned initial memory vector (an always-visible slot, with its own
  position key) stands in for the zero memory the released code starts a stream with;
* keys/values of each memory vector are computed once, when it is formed, and written into a
  preallocated buffer (`_Write`); attention reads the buffer (`_Attend`) and, in backward, adds
  its key/value gradients into accumulators in place, so training memory grows as O(T), not
  O(T^2). Decoding uses the same buffers as a key/value cache and never recomputes the past.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .decoder_transformer import SequenceModel, check_attention_config, feed_forward


@dataclass
class FeedbackTransformerConfig:
    vocab_size: int = 32  # tokens in the task vocabulary (the trainer sets it from the task)
    d_model: int = 64  # width of embeddings, layer outputs and memory vectors
    heads: int = 4  # attention heads (must divide d_model)
    layers: int = 4  # layers per time step (untied)
    ffn_mult: int = 4  # feed-forward width as a multiple of d_model
    dropout: float = 0.0  # dropout on embeddings, attention weights, attention output and feed-forward
    share_kv: bool = False  # one key/value projection of the memory shared by all layers (paper option)
    max_relative: int = 64  # learned relative-position keys for offsets 1..max_relative (0: no positions)
    window: int | None = None  # attention span over past memories, in steps (None: all; the paper: 100)

    def __post_init__(self):
        check_attention_config(self)
        if self.max_relative < 0:
            raise ValueError(f"max_relative must be >= 0, got {self.max_relative}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    @property
    def kv_projections(self) -> int:
        return 1 if self.share_kv else self.layers


class _Memory:
    """Key/value buffers ``[B*H, capacity + 1, dh]`` of one memory projection and their gradient
    accumulators (training only). It holds no autograd tensors: the graph's nodes keep it alive
    until backward, and a reference back to the graph would be a cycle Python cannot free."""

    def __init__(self, rows: int, slots: int, head_dim: int, device, grad: bool):
        self.k, self.v = (torch.zeros(rows, slots, head_dim, device=device) for _ in range(2))
        self.gk, self.gv = (torch.zeros_like(self.k), torch.zeros_like(self.v)) if grad else (None, None)
        self.length = 0  # slots written


class _Write(torch.autograd.Function):
    """Write keys and values ``[B*H, dh]`` into a slot in place; return a scalar token that every
    later read takes as an input. Backward returns the slot's accumulated gradients: each read
    of this slot, at this or a later step, depends on this write through the memory, so all of
    them have run their backward (and added into the accumulators) before this one."""

    @staticmethod
    def forward(ctx, k, v, mem: _Memory, pos: int):
        mem.k[:, pos], mem.v[:, pos] = k, v
        ctx.mem, ctx.pos = mem, pos
        return k.new_zeros(())

    @staticmethod
    def backward(ctx, _):
        mem, pos = ctx.mem, ctx.pos
        return mem.gk[:, pos].clone(), mem.gv[:, pos].clone(), None, None


class _Attend(torch.autograd.Function):
    """softmax(q K^T * scale + bias) V over the written slots; backward adds dK and dV into the
    memory's accumulators in place, so no [B, H, S, dh] gradient is materialised per step."""

    @staticmethod
    def forward(ctx, q, bias, token, mem: _Memory, scale: float, dropout: float):
        S = mem.length
        p = torch.baddbmm(bias, q, mem.k[:, :S].transpose(1, 2), alpha=scale).softmax(-1)
        keep = (torch.rand_like(p) >= dropout).to(p.dtype) / (1 - dropout) if dropout > 0 else None
        pd = p if keep is None else p * keep
        ctx.save_for_backward(q, p, pd, keep if keep is not None else p.new_empty(0))
        ctx.mem, ctx.S, ctx.scale, ctx.dropout = mem, S, scale, dropout
        return pd @ mem.v[:, :S]

    @staticmethod
    def backward(ctx, dout):
        q, p, pd, keep = ctx.saved_tensors
        mem, S, scale = ctx.mem, ctx.S, ctx.scale
        K, V = mem.k[:, :S], mem.v[:, :S]
        mem.gv[:, :S] += pd.transpose(1, 2) * dout  # an outer product: a broadcast, twice as fast as bmm here
        dp = dout @ V.transpose(1, 2)
        if ctx.dropout > 0:
            dp = dp * keep
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))
        mem.gk[:, :S] += (ds.transpose(1, 2) * scale) * q  # (each entry one rounded product, as bmm's)
        return torch.bmm(ds, K) * scale, ds, torch.zeros_like(ctx.saved_tensors[0][0, 0, 0]), None, None, None


def _write(mem: _Memory, k: torch.Tensor, v: torch.Tensor, pos: int) -> torch.Tensor | None:
    """Write a slot; return the autograd token later reads must take (None without autograd)."""
    mem.length = pos + 1
    if mem.gk is not None and torch.is_grad_enabled() and (k.requires_grad or v.requires_grad):
        return _Write.apply(k, v, mem, pos)
    mem.k[:, pos], mem.v[:, pos] = k.detach(), v.detach()
    return None


def _attend(q, bias, mem: _Memory, token: torch.Tensor | None, scale: float, dropout: float) -> torch.Tensor:
    """``q [B*H, 1, dh]``, ``bias [B*H, 1, S]`` (added to the scaled scores) -> ``[B*H, 1, dh]``."""
    if token is not None and torch.is_grad_enabled():
        return _Attend.apply(q, bias, token, mem, scale, dropout)
    S = mem.length
    p = torch.baddbmm(bias, q, mem.k[:, :S].transpose(1, 2), alpha=scale).softmax(-1)
    return F.dropout(p, dropout, True) @ mem.v[:, :S] if dropout > 0 else p @ mem.v[:, :S]


class MemoryKV(nn.Module):
    """Keys and values of a memory vector: LayerNorm, then one linear map to both."""

    def __init__(self, cfg: FeedbackTransformerConfig):
        super().__init__()
        self.heads, self.head_dim = cfg.heads, cfg.head_dim
        self.norm = nn.LayerNorm(cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, 2 * cfg.d_model)

    def forward(self, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.proj(self.norm(m)).view(m.shape[0], 2, self.heads, self.head_dim).unbind(1)
        return k.reshape(-1, self.head_dim), v.reshape(-1, self.head_dim)  # [B*H, dh]


class FeedbackLayer(nn.Module):
    """One layer at one step: attend to the past memory, then feed-forward (pre-norm, residual)."""

    def __init__(self, cfg: FeedbackTransformerConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.query = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.ffn = feed_forward(d, cfg.ffn_mult, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)
        # row 0: the initial-memory slot; row k: offset k (offsets > max_relative use the last row)
        self.rel = nn.Parameter(0.02 * torch.randn(cfg.max_relative + 1, cfg.head_dim)) if cfg.max_relative else None

    def forward(self, x: torch.Tensor, mem: _Memory, token, rel_index: torch.Tensor, mask: torch.Tensor | None):
        """``x [B, d]`` attends to the ``mem.length`` visible memory slots (``mask``: which);
        ``token`` is the autograd token of the memory's latest write."""
        cfg = self.cfg
        B, H, dh = x.shape[0], cfg.heads, cfg.head_dim
        q = self.query(self.norm1(x)).view(B * H, 1, dh)
        scale = 1.0 / math.sqrt(dh)
        if self.rel is not None:  # q . r_offset, gathered per slot
            bias = (q @ self.rel.t())[..., rel_index] * scale
        else:
            bias = q.new_zeros(1, 1, mem.length)
        if mask is not None:
            bias = bias.masked_fill(~mask, float("-inf"))
        drop = cfg.dropout if self.training else 0.0
        z = _attend(q, bias, mem, token, scale, drop)
        x = x + self.drop(self.out(z.view(B, cfg.d_model)))
        return x + self.ffn(self.norm2(x))


class FeedbackTransformer(SequenceModel):
    """Embedding -> L layers per step over a shared feedback memory -> LayerNorm -> logits."""

    def __init__(self, cfg: FeedbackTransformerConfig):
        super().__init__(cfg)
        self.layers = nn.ModuleList(FeedbackLayer(cfg) for _ in range(cfg.layers))
        self.kv = nn.ModuleList(MemoryKV(cfg) for _ in range(cfg.kv_projections))
        self.memory_weights = nn.Parameter(torch.zeros(cfg.layers + 1))  # w: softmax(0) = uniform
        self.initial_memory = nn.Parameter(0.02 * torch.randn(cfg.d_model))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)
        self.drop = nn.Dropout(cfg.dropout)

    # -- the memory buffers --------------------------------------------------------------------
    def start(self, batch: int, capacity: int, device=None) -> dict:
        """Empty state for up to ``capacity`` steps; slot 0 holds the initial memory."""
        cfg = self.cfg
        device = device if device is not None else self.initial_memory.device
        grad = torch.is_grad_enabled()
        mems = [_Memory(batch * cfg.heads, capacity + 1, cfg.head_dim, device, grad) for _ in self.kv]
        state = {"t": 0, "capacity": capacity, "mems": mems, "tokens": [None] * len(mems),
                 "offsets": torch.arange(capacity, 0, -1, device=device)}
        self._write(state, self.initial_memory.expand(batch, cfg.d_model), 0)
        return state

    def _write(self, state: dict, memory: torch.Tensor, pos: int) -> None:
        for j, (kv, mem) in enumerate(zip(self.kv, state["mems"])):
            state["tokens"][j] = _write(mem, *kv(memory), pos)

    def _visible(self, state: dict):
        """Relative-position rows for slots 0..t (slot 0: the initial memory; slot p: offset t+1-p)
        and the window mask (None: all visible)."""
        t, cap, cfg = state["t"], state["capacity"], self.cfg
        offsets = state["offsets"][cap - t:]  # t, t-1, ..., 1
        zero = offsets.new_zeros(1)
        rel_index = torch.cat([zero, offsets.clamp(max=max(cfg.max_relative, 1))])
        mask = None
        if cfg.window is not None and t > cfg.window:
            mask = torch.cat([zero == 0, offsets <= cfg.window])
        return rel_index, mask

    def _advance(self, x: torch.Tensor, state: dict, write: bool = True) -> torch.Tensor:
        """Run one step from its embedding ``x [B, d]``; append its memory vector; return the top output."""
        t = state["t"]
        if t >= state["capacity"]:
            raise ValueError(f"state is full: it was started with capacity {state['capacity']} steps")
        rel_index, mask = self._visible(state)
        reps = [x]
        for l, layer in enumerate(self.layers):
            j = 0 if self.cfg.share_kv else l
            x = layer(x, state["mems"][j], state["tokens"][j], rel_index, mask)
            reps.append(x)
        if write:
            memory = torch.einsum("l,lbd->bd", self.memory_weights.softmax(0), torch.stack(reps))
            self._write(state, memory, t + 1)
        state["t"] = t + 1
        return x

    # -- the shared interface ------------------------------------------------------------------
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Causal logits ``[B, T, V]``, computed step by step."""
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be [B, T], got shape {tuple(tokens.shape)}")
        B, T = tokens.shape
        state = self.start(B, T, tokens.device)
        emb = self.drop(self.embed(tokens))
        outs = [self._advance(emb[:, t], state, write=t + 1 < T) for t in range(T)]
        return self.head(self.norm(torch.stack(outs, 1)))

    def step(self, token: torch.Tensor, state: dict):
        x = self._advance(self.drop(self.embed(token)), state)
        return self.head(self.norm(x)), state

    def memory_layer_weights(self) -> torch.Tensor:
        """softmax(w): how much the memory takes from the embedding (0) and each layer (1..L)."""
        return self.memory_weights.detach().softmax(0)

    def flops_per_sequence(self, length: int) -> float:
        """Analytic forward FLOPs (2 per multiply-add) for one sequence of ``length`` tokens.

        Per token and layer: 2·d·d (query) + 2·d·d (output) + 2·2·d·(f·d) (feed-forward)
        + 2·2·d·S (scores and weighted sum over the S visible slots: t+1, or window+1)
        + 2·d_h·(R+1)·H (relative-position scores); per token: P·2·d·2d for the keys/values of
        its memory vector (P = 1 projection if shared, else L), 2·(L+1)·d for the memory mix,
        and 2·d·V for the head. Norms, softmax and embeddings are left out.
        """
        cfg, T, d = self.cfg, length, self.cfg.d_model
        slots = sum(min(t, cfg.window or t) + 1 for t in range(T))
        per_layer = T * (4 * d * d + 4 * cfg.ffn_mult * d * d) + 4 * d * slots
        if cfg.max_relative:
            per_layer += T * 2 * d * (cfg.max_relative + 1)
        per_token = cfg.kv_projections * 4 * d * d + 2 * (cfg.layers + 1) * d + 2 * d * cfg.vocab_size
        return float(cfg.layers * per_layer + T * per_token)


__all__ = ["FeedbackTransformerConfig", "FeedbackTransformer"]
