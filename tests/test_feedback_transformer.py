"""The two sequence models: causality, incremental decoding, the feedback memory's gradients."""

import math

import pytest
import torch
import torch.nn.functional as F

from lib.sequence.decoder_transformer import DecoderTransformer, DecoderTransformerConfig
from lib.sequence.feedback_transformer import FeedbackTransformer, FeedbackTransformerConfig

V = 13


pytestmark = pytest.mark.usefixtures("one_thread")


def _ft(**kw) -> FeedbackTransformer:
    torch.manual_seed(0)
    args = dict(vocab_size=V, d_model=16, heads=2, layers=2, ffn_mult=2, max_relative=5)
    return FeedbackTransformer(FeedbackTransformerConfig(**{**args, **kw})).eval()


def _dt(**kw) -> DecoderTransformer:
    torch.manual_seed(0)
    args = dict(vocab_size=V, d_model=16, heads=2, layers=3, ffn_mult=2)
    return DecoderTransformer(DecoderTransformerConfig(**{**args, **kw})).eval()


MODELS = {
    "feedback": _ft, "feedback_shared_kv": lambda: _ft(share_kv=True), "feedback_window": lambda: _ft(window=3),
    "decoder": _dt, "decoder_window": lambda: _dt(window=4), "universal": lambda: _dt(universal=True),
}


def _tokens(B=3, T=12, seed=1):
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_causal(name):
    model = MODELS[name]()
    x = _tokens()
    base = model(x)
    assert base.shape == (3, 12, V)
    for cut in (0, 5, 11):
        y = x.clone()
        y[:, cut:] = (y[:, cut:] + 1 + torch.arange(12 - cut)) % V  # change every token from `cut` on
        out = model(y)
        torch.testing.assert_close(out[:, :cut], base[:, :cut], rtol=0, atol=1e-5)
        assert not torch.allclose(out[:, cut:], base[:, cut:], atol=1e-4)  # ...and later outputs do change


@pytest.mark.parametrize("name", sorted(MODELS))
def test_incremental_decoding_equals_full_recomputation(name):
    model = MODELS[name]()
    prompt = _tokens(T=5)
    steps = 7
    fast = model.generate(prompt, steps)
    naive = prompt.clone()
    with torch.no_grad():
        for _ in range(steps):
            nxt = model(naive)[:, -1].argmax(-1, keepdim=True)  # recompute the whole prefix each time
            naive = torch.cat([naive, nxt], 1)
    assert torch.equal(fast, naive)
    # the step API's logits equal the full forward's, position by position
    with torch.no_grad():
        full = model(fast)
        state = model.start(3, fast.shape[1])
        for t in range(fast.shape[1]):
            logits, state = model.step(fast[:, t], state)
            torch.testing.assert_close(logits, full[:, t], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["feedback", "decoder"])
def test_ragged_prompts_decode_like_separate_calls(name):
    model = MODELS[name]()
    prompt = _tokens(T=8)
    lengths = [8, 3, 5]
    together = model.generate(prompt, 4, prompt_lengths=lengths)
    for b, n in enumerate(lengths):
        alone = model.generate(prompt[b:b + 1, :n], 4)
        assert torch.equal(together[b, :n + 4], alone[0])


def test_ft_never_recomputes_the_past():
    """Each decoding step computes keys/values once per projection: the projections are called
    exactly T + 1 times (the initial memory included), not O(T^2)."""
    model = _ft()
    calls = []
    for kv in model.kv:
        kv.proj.register_forward_hook(lambda *a: calls.append(1))
    model.generate(_tokens(T=4), 6)
    assert len(calls) == model.cfg.kv_projections * (4 + 6 - 1 + 1)


def _reference_ft(model: FeedbackTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """The paper's equations written plainly: concatenated memories, recomputed keys each step."""
    cfg = model.cfg
    B, T = tokens.shape
    H, dh = cfg.heads, cfg.head_dim
    memories = [model.initial_memory.expand(B, cfg.d_model)]
    logits = []
    for t in range(T):
        x = model.embed(tokens[:, t])
        reps = [x]
        mem = torch.stack(memories, 1)  # [B, t+1, d]
        for l, layer in enumerate(model.layers):
            kv = model.kv[0 if cfg.share_kv else l]
            k, v = kv.proj(kv.norm(mem)).view(B, t + 1, 2, H, dh).permute(2, 0, 3, 1, 4)
            q = layer.query(layer.norm1(x)).view(B, H, 1, dh)
            offsets = [0] + [min(t + 1 - p, cfg.max_relative) for p in range(1, t + 1)]
            s = q @ k.transpose(-1, -2) + (q @ layer.rel.t())[..., offsets]
            if cfg.window is not None:  # slot p >= 1 holds step p - 1; the initial slot is always visible
                hidden = torch.tensor([p > 0 and t + 1 - p > cfg.window for p in range(t + 1)])
                s = s.masked_fill(hidden, float("-inf"))
            att = (s / math.sqrt(dh)).softmax(-1)
            x = x + layer.out((att @ v).reshape(B, -1))
            x = x + layer.ffn(layer.norm2(x))
            reps.append(x)
        w = F.softmax(model.memory_weights, 0)
        memories.append(sum(w[i] * r for i, r in enumerate(reps)))
        logits.append(model.head(model.norm(x)))
    return torch.stack(logits, 1)


@pytest.mark.parametrize("share_kv,window", [(False, None), (True, None), (False, 3)])
def test_ft_matches_the_equations_and_their_gradients(share_kv, window):
    model = _ft(share_kv=share_kv, window=window).train()
    x = _tokens(T=9)
    target = _tokens(T=9, seed=2)
    fast = model(x)
    ref = _reference_ft(model, x)
    torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-5)
    g_fast = torch.autograd.grad(F.cross_entropy(fast.transpose(1, 2), target), list(model.parameters()))
    g_ref = torch.autograd.grad(F.cross_entropy(ref.transpose(1, 2), target), list(model.parameters()))
    for (name, _), a, b in zip(model.named_parameters(), g_fast, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-6, msg=lambda m: f"{name}: {m}")


def test_ft_training_frees_its_memory_buffers():
    """No reference cycle through the autograd graph: after backward the key/value buffers of
    every step are freed by reference counting alone (a cycle leaked ~GBs per few hundred steps)."""
    import weakref

    model = _ft().train()
    refs, start = [], model.start

    def spy(*args, **kw):
        state = start(*args, **kw)
        refs.extend(weakref.ref(m) for m in state["mems"])
        return state

    model.start = spy
    for _ in range(2):
        loss = F.cross_entropy(model(_tokens()).transpose(1, 2), _tokens(seed=3))
        loss.backward()
    del loss
    assert len(refs) == 4 and all(r() is None for r in refs)


def test_ft_trains_with_dropout():
    model = _ft(dropout=0.3).train()
    out = model(_tokens())
    loss = F.cross_entropy(out.transpose(1, 2), _tokens(seed=3))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert not torch.equal(out, model(_tokens()))  # dropout is on in training
    model.eval()
    torch.testing.assert_close(model(_tokens()), model(_tokens()))


def test_memory_weights_start_uniform_and_learn():
    model = _ft(layers=3).train()
    torch.testing.assert_close(model.memory_layer_weights(), torch.full((4,), 0.25))
    loss = F.cross_entropy(model(_tokens()).transpose(1, 2), _tokens(seed=3))
    loss.backward()
    g = model.memory_weights.grad
    assert g is not None and g.abs().sum() > 0
    assert model.initial_memory.grad.abs().sum() > 0
    assert model.kv[0].proj.weight.grad.abs().sum() > 0


def test_shared_kv_has_one_projection_and_fewer_parameters():
    assert len(_ft(share_kv=True).kv) == 1 and len(_ft().kv) == 2
    assert _ft(share_kv=True).num_parameters() < _ft().num_parameters()


def test_universal_iterations_at_test_time():
    model = _dt(universal=True)
    x = _tokens()
    assert len(model.blocks) == 1
    assert not torch.allclose(model(x, iterations=1), model(x, iterations=6))
    torch.testing.assert_close(model(x), model(x, iterations=3))
    with pytest.raises(ValueError, match="universal"):
        _dt()(x, iterations=2)
    out = model.generate(x[:, :4], 3, iterations=5)
    assert out.shape == (3, 7)


@pytest.mark.parametrize("cls,cfg", [(FeedbackTransformerConfig, {"d_model": 10, "heads": 4}),
                                     (DecoderTransformerConfig, {"d_model": 10, "heads": 4}),
                                     (FeedbackTransformerConfig, {"window": 0}),
                                     (DecoderTransformerConfig, {"layers": 0})])
def test_bad_configs_fail_clearly(cls, cfg):
    with pytest.raises(ValueError):
        cls(**cfg)


def test_analytic_flops_match_torch_counter():
    from torch.utils.flop_counter import FlopCounterMode

    for model in (_dt(), _dt(window=4)):
        x = _tokens(B=1, T=20)
        with FlopCounterMode(display=False) as counter:
            model(x)
        assert model.flops_per_sequence(20) == pytest.approx(counter.get_total_flops(), rel=0.25)
    ft = _ft()
    with FlopCounterMode(display=False) as counter:
        ft(_tokens(B=1, T=20))
    # the counter sees the matrix products; the step-T memory write is skipped in forward
    assert ft.flops_per_sequence(20) == pytest.approx(counter.get_total_flops(), rel=0.25)
