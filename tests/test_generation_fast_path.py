"""The cached generation step runs plain Linear and LayerNorm layers on arrays
(tinytorch/generation/cached_forward.py): it must compute exactly what the modules compute,
and step aside whenever something must see the module call or the ops (hooks, a profiler,
anomaly detection, a layer of another type)."""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.generation import KVCache, forward_with_cache
from tinytorch.models import GPT


@pytest.fixture(scope="module")
def model():
    tt.manual_seed(3)
    m = GPT(29, 24, 2, 3, 32).eval()
    for p in m.parameters():
        if p.ndim == 2:
            tt.nn.init.normal_(p, 0.0, 0.3)
    return m


def _module_path(model, ids):
    """The cached forward written with module calls only (what the fast path replaces)."""
    from tinytorch.generation.cached_forward import cached_attention

    B, T = ids.shape
    cache = KVCache.for_model(model, B)
    with tt.no_grad():
        x = model.tok_emb(tt.tensor(ids)) + model.pos_emb(tt.tensor(np.arange(T)))
        for i, block in enumerate(model.blocks):
            a = block.attn
            C, H = x.shape[-1], a.n_heads
            qkv = a.qkv(block.ln1(x)).numpy().reshape(B, T, 3, H, C // H)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)
            keys, values = cache.update(i, k, v)
            y = cached_attention(q, keys, values).transpose(0, 2, 1, 3).reshape(B, T, C)
            x = x + a.proj(tt.tensor(np.ascontiguousarray(y)))
            x = x + block.mlp.proj(tt.nn.functional.gelu(block.mlp.fc(block.ln2(x)),
                                                        approximate=block.mlp.approximate))
        return model.lm_head(model.ln_f(x)).numpy()


def test_the_array_step_gives_the_modules_bits(model):
    ids = np.random.default_rng(0).integers(0, 29, (2, 6))
    got = forward_with_cache(model, tt.tensor(ids), KVCache.for_model(model, 2)).numpy()
    np.testing.assert_array_equal(got, _module_path(model, ids))  # the same NumPy calls
    # and the full (uncached) forward's logits, up to float32 summation order
    full = model(tt.tensor(ids)).numpy()
    np.testing.assert_allclose(got, full, rtol=1e-4, atol=1e-5)


def test_hooks_are_still_called_and_honoured(model):
    ids = tt.tensor(np.array([[1, 2, 3]]))
    calls = []
    h1 = model.blocks[0].attn.qkv.register_forward_hook(lambda m, i, o: calls.append("qkv"))
    h2 = model.blocks[1].ln2.register_forward_hook(lambda m, i, o: calls.append("ln2"))
    try:
        forward_with_cache(model, ids, KVCache.for_model(model, 1))
    finally:
        h1.remove()
        h2.remove()
    assert calls == ["qkv", "ln2"]
    # a pre-hook that changes the input changes the result, as a module call would
    plain = forward_with_cache(model, ids, KVCache.for_model(model, 1)).numpy()
    h = model.ln_f.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,))
    try:
        zeroed = forward_with_cache(model, ids, KVCache.for_model(model, 1)).numpy()
    finally:
        h.remove()
    assert not np.allclose(plain, zeroed)
    # all constant rows normalize to the bias (zeros), so every logit is 0
    np.testing.assert_allclose(zeroed, 0.0, atol=1e-6)


def test_a_profiler_sees_every_layer_op(model):
    ids = tt.tensor(np.array([[4, 5]]))
    with tt.profiler.profile() as prof:
        forward_with_cache(model, ids, KVCache.for_model(model, 1))
    counts = {e.key: e.count for e in prof.key_averages()}
    n_linear = 4 * len(model.blocks) + 1  # qkv, proj, fc, proj per block; the head
    assert counts.get("LayerNorm") == 2 * len(model.blocks) + 1
    assert counts.get("Linear") == n_linear
