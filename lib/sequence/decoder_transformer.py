"""A standard causal decoder-only Transformer over token sequences, optionally weight-tied
(a Universal Transformer: one block applied ``iterations`` times, settable at test time).

Also home of `SequenceModel`, the interface both sequence models share:

* ``forward(tokens [B, T]) -> logits [B, T, V]``: teacher forcing, causal (position t sees
  tokens 0..t only), so right-padding never changes the logits of real positions;
* ``generate(prompt [B, T0], steps) -> tokens``: greedy decoding through an incremental
  ``prefill``/``step`` API that caches the past; prompts of different lengths decode in
  lockstep (``prompt_lengths``), each sequence switching from its prompt to its own
  predictions at its own length.

Positions are sinusoidal, not learned: the Dijkstra-trace task is evaluated on graphs whose
token sequences are several times longer than any training sequence, and a learned absolute
embedding would be untrained (random) there, while a sinusoid is defined at every position.
The Universal Transformer has no per-iteration timestep embedding, so running the tied block
more times at test time is the same map applied again (no unseen timestep signal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class DecoderTransformerConfig:
    vocab_size: int = 32  # tokens in the task vocabulary (the trainer sets it from the task)
    d_model: int = 64  # width of embeddings and residual stream
    heads: int = 4  # attention heads (must divide d_model)
    layers: int = 8  # untied blocks, or (universal) block applications at training time
    ffn_mult: int = 4  # feed-forward width as a multiple of d_model
    dropout: float = 0.0  # dropout on attention weights, attention output and feed-forward
    universal: bool = False  # one weight-tied block applied `layers` times (Universal Transformer)
    window: int | None = None  # attention span in tokens, self included (None: the whole past)

    def __post_init__(self):
        check_attention_config(self)

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads


def check_attention_config(cfg) -> None:
    """The checks both sequence models' configs share (sizes, heads, window, dropout)."""
    if cfg.d_model % cfg.heads:
        raise ValueError(f"d_model ({cfg.d_model}) must be divisible by heads ({cfg.heads})")
    for name in ("vocab_size", "d_model", "heads", "layers", "ffn_mult"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{type(cfg).__name__}.{name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.window is not None and cfg.window < 1:
        raise ValueError(f"window must be >= 1 or None, got {cfg.window}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {cfg.dropout}")


class SequenceModel(nn.Module):
    """Shared interface: causal ``forward`` and greedy ``generate`` over ``start/prefill/step``.

    Subclasses implement ``start(batch, capacity, **kw) -> state``, ``step(token [B], state) ->
    (logits [B, V], state)`` and may override ``prefill`` (default: ``step`` in a loop).
    The token embedding is created first, so both models initialise in the same order.
    """

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def prefill(self, tokens: torch.Tensor, state):
        """Feed ``tokens [B, m]`` (m >= 1); return the logits after the last one and the state."""
        logits = None
        for t in range(tokens.shape[1]):
            logits, state = self.step(tokens[:, t], state)
        return logits, state

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, steps: int, prompt_lengths=None, stop_token: int | None = None,
                 **kw) -> torch.Tensor:
        """Greedy continuation: ``[B, L + steps]`` tokens with L = max prompt length.

        ``prompt_lengths[b]`` (default: all T0) marks where sequence b's own predictions start;
        later prompt columns of shorter prompts are ignored. With ``stop_token``, decoding ends
        once every sequence has emitted it after its prompt (the rest is filled with it).
        """
        if prompt.dim() != 2 or prompt.shape[1] < 1:
            raise ValueError(f"prompt must be [B, T0] with T0 >= 1, got shape {tuple(prompt.shape)}")
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        B, T0 = prompt.shape
        dev = prompt.device
        lengths = torch.full((B,), T0, dtype=torch.long, device=dev) if prompt_lengths is None else \
            torch.as_tensor(prompt_lengths, dtype=torch.long, device=dev)
        if lengths.shape != (B,) or int(lengths.min()) < 1 or int(lengths.max()) > T0:
            raise ValueError(f"prompt_lengths must be {B} values in [1, {T0}]")
        was_training = self.training
        self.eval()
        total = int(lengths.max()) + steps
        out = torch.zeros(B, total, dtype=torch.long, device=dev)
        keep = min(T0, total)
        out[:, :keep] = prompt[:, :keep]
        m = int(lengths.min())
        state = self.start(B, total, device=dev, **kw)
        logits, state = self.prefill(out[:, :m], state)
        done = torch.zeros(B, dtype=torch.bool, device=dev)
        for t in range(m, total):
            tok = torch.where(t < lengths, out[:, t], logits.argmax(-1))
            out[:, t] = tok
            if stop_token is not None:
                done |= (t >= lengths) & (tok == stop_token)
                if bool(done.all()):
                    out[:, t + 1:] = stop_token
                    break
            if t + 1 < total:
                logits, state = self.step(tok, state)
        self.train(was_training)
        return out


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal position signal [len(positions), dim] (Vaswani et al. 2017)."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device) / max(1, half))
    angles = positions.float().unsqueeze(1) * freq.unsqueeze(0)
    out = torch.zeros(len(positions), dim, device=positions.device)
    out[:, 0:2 * half:2], out[:, 1:2 * half:2] = torch.sin(angles), torch.cos(angles)
    return out


def feed_forward(d: int, mult: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, mult * d), nn.GELU(), nn.Linear(mult * d, d), nn.Dropout(dropout))


class CausalBlock(nn.Module):
    """Pre-norm causal self-attention + feed-forward; writes its keys/values into a cache."""

    def __init__(self, cfg: DecoderTransformerConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ffn = feed_forward(d, cfg.ffn_mult, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None = None,
                start: int = 0) -> torch.Tensor:
        """``x [B, S, d]`` at positions start..start+S-1; with ``cache`` (K, V buffers
        [B, H, capacity, dh]) the new keys/values are written in and the past read back."""
        cfg = self.cfg
        B, S, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, S, 3, cfg.heads, cfg.head_dim).permute(2, 0, 3, 1, 4)
        if cache is not None:
            cache[0][:, :, start:start + S] = k
            cache[1][:, :, start:start + S] = v
            k, v = cache[0][:, :, :start + S], cache[1][:, :, :start + S]
        mask = None
        if cfg.window is not None or start > 0:
            qpos = torch.arange(start, start + S, device=x.device).unsqueeze(1)
            kpos = torch.arange(start + S, device=x.device).unsqueeze(0)
            mask = kpos <= qpos
            if cfg.window is not None:
                mask &= kpos > qpos - cfg.window
        p = cfg.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p,
                                             is_causal=mask is None and S > 1)
        x = x + self.drop(self.out(att.transpose(1, 2).reshape(B, S, d)))
        return x + self.ffn(self.norm2(x))


class DecoderTransformer(SequenceModel):
    """Token + sinusoidal position embeddings -> causal blocks -> LayerNorm -> vocabulary logits."""

    def __init__(self, cfg: DecoderTransformerConfig):
        super().__init__(cfg)
        self.blocks = nn.ModuleList(CausalBlock(cfg) for _ in range(1 if cfg.universal else cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)
        self.drop = nn.Dropout(cfg.dropout)

    def _depth(self, iterations: int | None) -> int:
        if iterations is None:
            return self.cfg.layers
        if not self.cfg.universal:
            raise ValueError("iterations can only be set on a universal (weight-tied) DecoderTransformer")
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        return iterations

    def _block(self, i: int) -> CausalBlock:
        return self.blocks[0] if self.cfg.universal else self.blocks[i]

    def _embed(self, tokens: torch.Tensor, start: int) -> torch.Tensor:
        pos = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        return self.drop(self.embed(tokens) + sinusoid(pos, self.cfg.d_model))

    def _run(self, tokens: torch.Tensor, caches=None, start: int = 0, iterations: int | None = None):
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be [B, T], got shape {tuple(tokens.shape)}")
        x = self._embed(tokens, start)
        for i in range(self._depth(iterations)):
            x = self._block(i)(x, None if caches is None else caches[i], start)
        return self.head(self.norm(x))

    def forward(self, tokens: torch.Tensor, iterations: int | None = None) -> torch.Tensor:
        """Causal logits ``[B, T, V]`` (``iterations``: block applications, universal only)."""
        return self._run(tokens, iterations=iterations)

    # -- incremental decoding: a key/value cache per block application ------------------------
    def start(self, batch: int, capacity: int, device=None, iterations: int | None = None) -> dict:
        depth = self._depth(iterations)
        shape = (batch, self.cfg.heads, capacity, self.cfg.head_dim)
        caches = [(torch.zeros(shape, device=device), torch.zeros(shape, device=device)) for _ in range(depth)]
        return {"caches": caches, "t": 0, "iterations": iterations}

    def prefill(self, tokens: torch.Tensor, state: dict):
        logits = self._run(tokens, state["caches"], state["t"], state["iterations"])
        state["t"] += tokens.shape[1]
        return logits[:, -1], state

    def step(self, token: torch.Tensor, state: dict):
        return self.prefill(token.view(-1, 1), state)

    def flops_per_sequence(self, length: int, iterations: int | None = None) -> float:
        """Analytic forward FLOPs (2 per multiply-add) for one sequence of ``length`` tokens.

        Per token and block: 2·d·3d (q, k, v) + 2·d·d (output) + 2·2·d·(f·d) (feed-forward)
        + 2·2·d·S (scores and weighted sum over the S keys it sees: t+1, or the window);
        plus 2·d·V for the output head. Norms, softmax and embeddings are left out.
        """
        cfg, T = self.cfg, length
        keys = sum(min(t + 1, cfg.window or t + 1) for t in range(T))
        per_block = T * (8 * cfg.d_model ** 2 + 4 * cfg.ffn_mult * cfg.d_model ** 2) + 4 * cfg.d_model * keys
        return float(self._depth(iterations) * per_block + T * 2 * cfg.d_model * cfg.vocab_size)


__all__ = ["DecoderTransformerConfig", "DecoderTransformer", "SequenceModel", "sinusoid"]
