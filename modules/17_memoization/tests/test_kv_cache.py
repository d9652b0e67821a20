"""Module 17 graded tests: the KV cache and generation with it.

The oracles: plain NumPy (where each key must sit in the cache, the causal mask of new
queries over cached keys, attention written out in float64), and the model's own uncached
forward from module 13 (a cached step must give the logits the full forward gives at the
same positions). Nothing is timed: the work saved is asserted by counting attention scores
(``capture_attention`` from module 12 sees every attention call, cached or not).
"""

import math

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.core.attention import capture_attention
from tinytorch.generation import (KVCache, cached_attention, cached_causal_mask,
                                  forward_with_cache)
from tinytorch.models import GPT

V, D, LAYERS, HEADS, CTX = 23, 16, 2, 2, 40


@pytest.fixture(scope="module")
def model():
    tt.manual_seed(17)
    m = GPT(V, D, LAYERS, HEADS, CTX)
    # larger weights than GPT-2's init: logits far apart, so greedy picks are never near-ties
    for p in m.parameters():
        if p.ndim == 2:
            tt.nn.init.normal_(p, 0.0, 0.3)
    return m.eval()


def _ids(B, T, seed):
    return np.random.default_rng(seed).integers(0, V, (B, T)).astype(np.int64)


def _kv(B, H, T, hd, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, H, T, hd)).astype(np.float32),
            rng.standard_normal((B, H, T, hd)).astype(np.float32))


# --------------------------------------------------------------------------- the cache


def test_cache_is_preallocated_and_counts_its_bytes():
    c = KVCache(n_layers=3, batch_size=2, n_heads=4, max_seq_len=10, head_dim=5)
    assert len(c.keys) == len(c.values) == 3
    for a in c.keys + c.values:
        assert a.shape == (2, 4, 10, 5) and a.dtype == np.float32
    assert c.nbytes == 2 * 3 * 2 * 4 * 10 * 5 * 4
    assert c.nbytes == sum(a.nbytes for a in c.keys + c.values)
    assert c.get_seq_length() == 0 and c.nbytes_used == 0
    c64 = KVCache(1, 1, 2, 8, 3, dtype=np.float64)
    assert c64.nbytes == 2 * 1 * 1 * 2 * 8 * 3 * 8


def test_update_writes_each_position_once_in_order():
    c = KVCache(2, 2, 3, 12, 4)
    chunks = [_kv(2, 3, T, 4, seed) for seed, T in enumerate((5, 1, 1, 3))]
    for i, (k, v) in enumerate(chunks):
        keys, values = c.update(0, k, v)
        n = sum(ch[0].shape[2] for ch in chunks[:i + 1])
        assert c.get_seq_length(0) == n
        assert keys.shape == values.shape == (2, 3, n, 4)
    all_k = np.concatenate([k for k, _ in chunks], axis=2)
    all_v = np.concatenate([v for _, v in chunks], axis=2)
    np.testing.assert_array_equal(c.keys[0][:, :, :10], all_k)
    np.testing.assert_array_equal(c.values[0][:, :, :10], all_v)
    assert not c.keys[0][:, :, 10:].any(), "positions past the filled ones stay untouched"
    assert c.get_seq_length(1) == 0 and not c.keys[1].any(), "each layer has its own counter"
    assert c.nbytes_used == 2 * 2 * 3 * 4 * 4 * 10


def test_get_returns_the_filled_prefix_as_views():
    c = KVCache(1, 1, 2, 9, 3)
    k, v = _kv(1, 2, 4, 3, 1)
    c.update(0, k, v)
    keys, values = c.get(0)
    np.testing.assert_array_equal(keys, k)
    np.testing.assert_array_equal(values, v)
    assert np.shares_memory(keys, c.keys[0]) and np.shares_memory(values, c.values[0])
    k2, v2 = _kv(1, 2, 1, 3, 2)
    keys, values = c.update(0, k2, v2)
    np.testing.assert_array_equal(keys, np.concatenate([k, k2], axis=2))
    np.testing.assert_array_equal(values, np.concatenate([v, v2], axis=2))


def test_past_max_seq_len_is_a_clear_error_and_reset_starts_over():
    c = KVCache(1, 1, 1, 6, 2)
    c.update(0, *_kv(1, 1, 4, 2, 0))
    with pytest.raises(ValueError, match=r"4 positions.*3 more.*7.*max_seq_len=6"):
        c.update(0, *_kv(1, 1, 3, 2, 1))
    assert c.get_seq_length(0) == 4, "a refused write changes nothing"
    c.reset()
    assert c.get_seq_length(0) == 0
    k, v = _kv(1, 1, 6, 2, 2)
    keys, _ = c.update(0, k, v)
    np.testing.assert_array_equal(keys, k)


def test_shapes_that_do_not_fit_are_refused():
    c = KVCache(2, 2, 3, 8, 4)
    with pytest.raises(ValueError, match="does not fit"):
        c.update(0, *_kv(2, 4, 1, 4, 0))  # 4 heads, cache has 3
    with pytest.raises(IndexError):
        c.update(2, *_kv(2, 3, 1, 4, 0))
    with pytest.raises(ValueError):
        KVCache(2, 0, 3, 8, 4)


# --------------------------------------------------------------------------- attention over the cache


@pytest.mark.parametrize("past,new", [(0, 1), (0, 5), (3, 1), (4, 3), (7, 2)])
def test_causal_mask_for_new_queries_over_cached_keys(past, new):
    want = np.array([[j <= past + i for j in range(past + new)] for i in range(new)])
    got = cached_causal_mask(past, new)
    if got is None:  # allowed only where every key is visible
        assert want.all()
    else:
        np.testing.assert_array_equal(np.broadcast_to(got, want.shape), want)


def ref_attention(q, k, v):
    """float64 causal attention of every position over every earlier one: (B, H, S, hd)."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    S = q.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    s = np.where(np.tril(np.ones((S, S), bool)), s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("past,new", [(0, 6), (5, 1), (3, 4)])
def test_cached_attention_equals_the_last_rows_of_full_causal_attention(past, new):
    rng = np.random.default_rng(past * 10 + new)
    S = past + new
    q, k, v = (rng.standard_normal((2, 3, S, 4)).astype(np.float32) for _ in range(3))
    got = cached_attention(q[:, :, past:], k, v)
    np.testing.assert_allclose(got, ref_attention(q, k, v)[:, :, past:], rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- a GPT with the cache


def test_prefill_gives_the_full_forward_logits(model):
    ids = _ids(2, 7, 1)
    cache = KVCache.for_model(model, 2)
    got = forward_with_cache(model, ids, cache).numpy()
    with tt.no_grad():
        want = model(tt.tensor(ids)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert cache.get_seq_length(0) == cache.get_seq_length(LAYERS - 1) == 7


def test_one_token_at_a_time_gives_the_full_forward_logits(model):
    ids = _ids(1, 9, 2)
    cache = KVCache.for_model(model, 1, 9)
    steps = [forward_with_cache(model, ids[:, t:t + 1], cache).numpy()[:, 0] for t in range(9)]
    with tt.no_grad():
        want = model(tt.tensor(ids)).numpy()
    np.testing.assert_allclose(np.stack(steps, axis=1), want, rtol=1e-4, atol=1e-4)


def test_a_prompt_fed_in_chunks_sees_exactly_its_past(model):
    """Chunks of several tokens after a filled cache: the mask is aligned bottom-right."""
    ids = _ids(2, 10, 3)
    cache = KVCache.for_model(model, 2)
    parts = [forward_with_cache(model, ids[:, a:b], cache).numpy() for a, b in
             ((0, 4), (4, 7), (7, 8), (8, 10))]
    with tt.no_grad():
        want = model(tt.tensor(ids)).numpy()
    np.testing.assert_allclose(np.concatenate(parts, axis=1), want, rtol=1e-4, atol=1e-4)


def test_each_sequence_of_a_batch_is_its_own(model):
    ids = _ids(3, 6, 4)
    cache = KVCache.for_model(model, 3)
    batched = forward_with_cache(model, ids, cache).numpy()
    nxt = batched[:, -1].argmax(-1)[:, None]
    batched_next = forward_with_cache(model, nxt, cache).numpy()
    for b in range(3):
        single = KVCache.for_model(model, 1)
        alone = forward_with_cache(model, ids[b:b + 1], single).numpy()
        np.testing.assert_allclose(batched[b:b + 1], alone, rtol=1e-4, atol=1e-4)
        alone_next = forward_with_cache(model, nxt[b:b + 1], single).numpy()
        np.testing.assert_allclose(batched_next[b:b + 1], alone_next, rtol=1e-4, atol=1e-4)


def test_cached_forward_builds_no_graph(model):
    assert all(p.requires_grad for p in model.parameters())
    cache = KVCache.for_model(model, 1)
    out = forward_with_cache(model, _ids(1, 3, 5), cache)
    assert out.grad_fn is None and not out.requires_grad
    assert isinstance(cache.keys[0], np.ndarray)


# --------------------------------------------------------------------------- generate


@pytest.mark.parametrize("B,T", [(1, 1), (1, 6), (3, 4)])
def test_greedy_generation_gives_the_same_tokens_with_and_without_the_cache(model, B, T):
    ids = tt.tensor(_ids(B, T, 6 + T))
    plain = model.generate(ids, 20, temperature=0).numpy()
    cached = model.generate(ids, 20, temperature=0, use_cache=True).numpy()
    assert plain.shape == (B, T + 20)
    np.testing.assert_array_equal(cached, plain)


def test_top_k_sampling_with_a_seed_gives_the_same_tokens(model):
    ids = tt.tensor(_ids(2, 3, 7))
    plain = model.generate(ids, 15, temperature=0.9, top_k=5,
                           generator=tt.Generator().manual_seed(3)).numpy()
    cached = model.generate(ids, 15, temperature=0.9, top_k=5, use_cache=True,
                            generator=tt.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(cached, plain)


def test_generate_with_cache_refuses_more_than_max_seq_len(model):
    ids = tt.tensor(_ids(1, 10, 8))
    with pytest.raises(ValueError, match=rf"10 tokens.*max_new_tokens=35.*44.*max_seq_len={CTX}"):
        model.generate(ids, 35, temperature=0, use_cache=True)
    out = model.generate(ids, 31, temperature=0, use_cache=True)  # 10 + 31 - 1 = 40 fits
    assert out.shape == (1, 41)


def test_the_cache_computes_a_row_of_scores_per_token_not_a_triangle(model):
    """The work saved, counted: attention scores over the layers, batch and heads."""
    B, T, N = 2, 5, 12
    ids = tt.tensor(_ids(B, T, 9))
    with capture_attention() as plain:
        model.generate(ids, N, temperature=0)
    with capture_attention() as cached:
        model.generate(ids, N, temperature=0, use_cache=True)
    per = B * HEADS * LAYERS
    # without: the full (n x n) score matrix of the context n = T .. T + N - 1, every step
    assert sum(w.size for w in plain) == per * sum(n * n for n in range(T, T + N))
    # with: the prompt's T x T once, then one row of n + 1 scores per new token
    assert sum(w.size for w in cached) == per * (T * T + sum(n + 1 for n in range(T, T + N - 1)))


def test_cache_for_a_model_holds_every_layer_head_and_position(model):
    cache = KVCache.for_model(model, 3)
    assert cache.nbytes == 2 * LAYERS * 3 * CTX * D * 4  # keys and values, float32
    with pytest.raises(ValueError):
        KVCache.for_model(model, 1, CTX + 1)
