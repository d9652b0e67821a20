"""The catalogue of differentiable ops checked by the parity and gradcheck tests.

Each case names an op, the shapes of its inputs, how to make valid inputs (``positive`` for
log/sqrt/pow bases) and the same computation written twice: once for tinytorch (``tt``) and
once for PyTorch (``torch``). ``test_parity_torch.py`` runs both in float32 and compares values
and gradients; ``test_gradcheck.py`` runs the tinytorch side in float64 against finite
differences. One list, two oracles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Case:
    name: str
    shapes: tuple
    tt: Callable
    torch: Callable
    positive: tuple = ()  # indices of inputs that must be > 0
    grad: tuple | None = None  # indices of inputs that require grad (default: all float inputs)
    extra: dict = field(default_factory=dict)

    def inputs(self, dtype=np.float32, seed=None):
        """Deterministic inputs: the seed comes from the case name, never global state."""
        rng = np.random.default_rng(seed if seed is not None else sum(map(ord, self.name)))
        xs = []
        for i, s in enumerate(self.shapes):
            x = rng.standard_normal(s)
            if i in self.positive:
                x = np.abs(x) + 0.5
            xs.append(x.astype(dtype))
        return xs

    def grad_indices(self):
        return tuple(range(len(self.shapes))) if self.grad is None else self.grad

    def __str__(self):
        return self.name


def _flash():
    from tinytorch.core.flash_attention import FlashAttentionFn

    return FlashAttentionFn


def _F():
    import tinytorch.nn.functional as F

    return F


def _TF():
    import torch.nn.functional as TF

    return TF


def _tt():
    import tinytorch as tt

    return tt


def _torch():
    import torch

    return torch


IDX_REPEAT = np.array([0, 2, 2, 1, 0])
BOOL_MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
CLASS_T = np.array([1, 0, 3, 3, 2])
CLASS_T_IGN = np.array([1, -100, 3, 3, -100])
W4 = np.array([0.5, 2.0, 1.0, 1.5])  # class weights for C = 4
SEG_T = np.array([[[0, 2], [1, 1], [2, 0]], [[1, 0], [0, 2], [2, 2]]])  # (2, 3, 2) for (2, 3, 3, 2)


def _causal(L, S):
    return np.tril(np.ones((L, S), dtype=bool))


CASES = [
    # ------------------------------------------------------------ arithmetic with broadcasting
    Case("add", ((3, 4), (3, 4)), lambda a, b: a + b, lambda a, b: a + b),
    Case("add_bcast_row", ((3, 4), (4,)), lambda a, b: a + b, lambda a, b: a + b),
    Case("add_bcast_both", ((2, 1, 4), (3, 1)), lambda a, b: a + b, lambda a, b: a + b),
    Case("add_scalar_tensor", ((3, 4), ()), lambda a, b: a + b, lambda a, b: a + b),
    Case("sub_bcast", ((3, 1), (1, 4)), lambda a, b: a - b, lambda a, b: a - b),
    Case("mul_bcast", ((2, 3, 4), (3, 1)), lambda a, b: a * b, lambda a, b: a * b),
    Case("div_bcast", ((3, 4), (4,)), lambda a, b: a / b, lambda a, b: a / b, positive=(1,)),
    Case("radd", ((3,),), lambda a: 2.5 + a, lambda a: 2.5 + a),
    Case("rsub", ((3,),), lambda a: 1 - a, lambda a: 1 - a),
    Case("rmul", ((3,),), lambda a: 2 * a, lambda a: 2 * a),
    Case("rdiv", ((3, 2),), lambda a: 1 / a, lambda a: 1 / a, positive=(0,)),
    Case("pow_scalar", ((3, 4),), lambda a: a ** 2, lambda a: a ** 2),
    Case("pow_frac", ((3, 4),), lambda a: a ** 1.5, lambda a: a ** 1.5, positive=(0,)),
    Case("rpow", ((3, 4),), lambda a: 2.0 ** a, lambda a: 2.0 ** a),
    Case("pow_tensor", ((3, 4), (3, 4)), lambda a, b: a ** b, lambda a, b: a ** b, positive=(0,)),
    Case("neg", ((3, 4),), lambda a: -a, lambda a: -a),
    Case("same_tensor_twice", ((3, 4),), lambda a: a * a + a, lambda a: a * a + a),
    Case("diamond", ((4,),), lambda a: (a.exp() * a.tanh()).sum() * a, lambda a: (a.exp() * a.tanh()).sum() * a),
    # ------------------------------------------------------------ matmul
    Case("matmul_2d", ((3, 4), (4, 5)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_batched", ((2, 3, 4), (2, 4, 5)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_bcast_batch", ((2, 1, 3, 4), (5, 4, 2)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_3d_2d", ((2, 3, 4), (4, 5)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_vec_mat", ((4,), (4, 5)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_mat_vec", ((3, 4), (4,)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_vec_vec", ((4,), (4,)), lambda a, b: a @ b, lambda a, b: a @ b),
    Case("matmul_vec_batched", ((4,), (2, 4, 3)), lambda a, b: a @ b, lambda a, b: a @ b),
    # ------------------------------------------------------------ elementwise math
    Case("exp", ((3, 4),), lambda a: a.exp(), lambda a: a.exp()),
    Case("log", ((3, 4),), lambda a: a.log(), lambda a: a.log(), positive=(0,)),
    Case("sqrt", ((3, 4),), lambda a: a.sqrt(), lambda a: a.sqrt(), positive=(0,)),
    Case("abs", ((3, 4),), lambda a: a.abs(), lambda a: a.abs()),
    Case("clip", ((3, 4),), lambda a: a.clip(-0.5, 0.5), lambda a: a.clip(-0.5, 0.5)),
    Case("clip_min_only", ((3, 4),), lambda a: a.clip(min=0.1), lambda a: a.clip(min=0.1)),
    Case("maximum", ((3, 4), (4,)), lambda a, b: a.maximum(b), lambda a, b: a.maximum(b)),
    Case("minimum", ((3, 4), (3, 4)), lambda a, b: a.minimum(b), lambda a, b: a.minimum(b)),
    Case("tanh", ((3, 4),), lambda a: a.tanh(), lambda a: a.tanh()),
    Case("sigmoid", ((3, 4),), lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    Case("relu", ((3, 4),), lambda a: a.relu(), lambda a: a.relu()),
    Case("leaky_relu", ((3, 4),), lambda a: _F().leaky_relu(a, 0.1), lambda a: _TF().leaky_relu(a, 0.1)),
    Case("gelu", ((3, 4),), lambda a: _F().gelu(a), lambda a: _TF().gelu(a)),
    Case("gelu_tanh", ((3, 4),), lambda a: _F().gelu(a, approximate="tanh"),
         lambda a: _TF().gelu(a, approximate="tanh")),
    Case("silu", ((3, 4),), lambda a: _F().silu(a), lambda a: _TF().silu(a)),
    Case("softmax_last", ((3, 5),), lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    Case("softmax_dim0", ((3, 5),), lambda a: a.softmax(0), lambda a: a.softmax(0)),
    Case("softmax_3d_mid", ((2, 3, 4),), lambda a: _F().softmax(a, dim=1), lambda a: _TF().softmax(a, dim=1)),
    Case("log_softmax_last", ((3, 5),), lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1)),
    Case("log_softmax_dim0", ((3, 5),), lambda a: _F().log_softmax(a, dim=0), lambda a: _TF().log_softmax(a, dim=0)),
    # ------------------------------------------------------------ reductions
    Case("sum_all", ((3, 4),), lambda a: a.sum(), lambda a: a.sum()),
    Case("sum_dim", ((3, 4),), lambda a: a.sum(dim=1), lambda a: a.sum(dim=1)),
    Case("sum_keepdim", ((2, 3, 4),), lambda a: a.sum(dim=1, keepdim=True), lambda a: a.sum(dim=1, keepdim=True)),
    Case("sum_tuple", ((2, 3, 4),), lambda a: a.sum(dim=(0, 2)), lambda a: a.sum(dim=(0, 2))),
    Case("sum_neg_dim", ((2, 3, 4),), lambda a: a.sum(dim=-1), lambda a: a.sum(dim=-1)),
    Case("mean_all", ((3, 4),), lambda a: a.mean(), lambda a: a.mean()),
    Case("mean_dim", ((2, 3, 4),), lambda a: a.mean(dim=-2), lambda a: a.mean(dim=-2)),
    Case("mean_keepdim_tuple", ((2, 3, 4),), lambda a: a.mean(dim=(1, 2), keepdim=True),
         lambda a: a.mean(dim=(1, 2), keepdim=True)),
    Case("var_all", ((3, 4),), lambda a: a.var(), lambda a: a.var()),
    Case("var_dim_biased", ((3, 4),), lambda a: a.var(dim=1, unbiased=False),
         lambda a: a.var(dim=1, unbiased=False)),
    Case("var_keepdim", ((2, 3, 4),), lambda a: a.var(dim=-1, keepdim=True), lambda a: a.var(dim=-1, keepdim=True)),
    Case("std_dim", ((3, 4),), lambda a: a.std(dim=0), lambda a: a.std(dim=0)),
    Case("max_all", ((3, 4),), lambda a: a.max(), lambda a: a.max()),
    Case("max_dim", ((3, 4),), lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values),
    Case("max_dim_keepdim", ((2, 3, 4),), lambda a: a.max(dim=0, keepdim=True)[0],
         lambda a: a.max(dim=0, keepdim=True)[0]),
    Case("min_all", ((3, 4),), lambda a: a.min(), lambda a: a.min()),
    Case("min_dim", ((3, 4),), lambda a: a.min(dim=0).values, lambda a: a.min(dim=0).values),
    # ------------------------------------------------------------ shape ops
    Case("reshape", ((3, 4),), lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6)),
    Case("reshape_infer", ((2, 3, 4),), lambda a: a.reshape(-1, 4), lambda a: a.reshape(-1, 4)),
    Case("view", ((3, 4),), lambda a: a.view(4, 3), lambda a: a.view(4, 3)),
    Case("flatten", ((2, 3, 4),), lambda a: a.flatten(), lambda a: a.flatten()),
    Case("flatten_start", ((2, 3, 4),), lambda a: a.flatten(1), lambda a: a.flatten(1)),
    Case("transpose", ((2, 3, 4),), lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2)),
    Case("permute", ((2, 3, 4),), lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1)),
    Case("T", ((3, 4),), lambda a: a.T, lambda a: a.T),
    Case("unsqueeze", ((3, 4),), lambda a: a.unsqueeze(1), lambda a: a.unsqueeze(1)),
    Case("unsqueeze_neg", ((3, 4),), lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1)),
    Case("squeeze", ((3, 1, 4),), lambda a: a.squeeze(), lambda a: a.squeeze()),
    Case("squeeze_dim", ((3, 1, 4),), lambda a: a.squeeze(1), lambda a: a.squeeze(1)),
    Case("expand", ((3, 1),), lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4)),
    Case("expand_keep", ((1, 4),), lambda a: a.expand(3, -1), lambda a: a.expand(3, -1)),
    # ------------------------------------------------------------ indexing
    Case("index_int", ((3, 4),), lambda a: a[1], lambda a: a[1]),
    Case("index_slice", ((5, 4),), lambda a: a[1:4, ::2], lambda a: a[1:4, ::2]),
    Case("index_neg", ((5, 4),), lambda a: a[-2:, -1], lambda a: a[-2:, -1]),
    Case("index_array_repeat", ((3, 4),), lambda a: a[IDX_REPEAT % 3], lambda a: a[_torch().tensor(IDX_REPEAT % 3)]),
    Case("index_pairs", ((3, 4),), lambda a: a[np.array([0, 2, 2]), np.array([1, 3, 3])],
         lambda a: a[_torch().tensor([0, 2, 2]), _torch().tensor([1, 3, 3])]),
    Case("index_bool_mask", ((3, 4),), lambda a: a[BOOL_MASK], lambda a: a[_torch().tensor(BOOL_MASK)]),
    Case("index_none_ellipsis", ((2, 3, 4),), lambda a: a[..., None, 1], lambda a: a[..., None, 1]),
    Case("index_tensor", ((3, 4),), lambda a: a[_tt().tensor([2, 0])], lambda a: a[_torch().tensor([2, 0])]),
    Case("split", ((6, 4),), lambda a: a.split(4)[1] * 2 + a.split(4)[0][:2], lambda a: a.split(4)[1] * 2 + a.split(4)[0][:2]),
    # ------------------------------------------------------------ joining and selecting
    Case("cat_dim0", ((2, 3), (4, 3)), lambda a, b: _tt().cat([a, b]), lambda a, b: _torch().cat([a, b])),
    Case("cat_dim1", ((2, 3), (2, 1), (2, 2)), lambda a, b, c: _tt().cat([a, b, c], dim=1),
         lambda a, b, c: _torch().cat([a, b, c], dim=1)),
    Case("stack", ((2, 3), (2, 3)), lambda a, b: _tt().stack([a, b], dim=1), lambda a, b: _torch().stack([a, b], dim=1)),
    Case("stack_neg", ((2, 3), (2, 3)), lambda a, b: _tt().stack([a, b], dim=-1), lambda a, b: _torch().stack([a, b], dim=-1)),
    Case("where", ((3, 4), (3, 4)), lambda a, b: _tt().where(a > 0, a, b), lambda a, b: _torch().where(a > 0, a, b)),
    Case("where_bcast", ((3, 4), (4,)), lambda a, b: _tt().where(a > b, a * 2, b),
         lambda a, b: _torch().where(a > b, a * 2, b)),
    Case("where_scalar", ((3, 4),), lambda a: _tt().where(a > 0, a, 0.0), lambda a: _torch().where(a > 0, a, 0.0)),
    # ------------------------------------------------------------ losses
    Case("cross_entropy", ((5, 4),), lambda a: _F().cross_entropy(a, CLASS_T),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T))),
    Case("cross_entropy_sum", ((5, 4),), lambda a: _F().cross_entropy(a, CLASS_T, reduction="sum"),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T), reduction="sum")),
    Case("cross_entropy_none", ((5, 4),), lambda a: _F().cross_entropy(a, CLASS_T, reduction="none"),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T), reduction="none")),
    Case("cross_entropy_ignore", ((5, 4),), lambda a: _F().cross_entropy(a, CLASS_T_IGN),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T_IGN))),
    Case("cross_entropy_smooth", ((5, 4),), lambda a: _F().cross_entropy(a, CLASS_T_IGN, label_smoothing=0.2),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T_IGN), label_smoothing=0.2)),
    Case("cross_entropy_weight", ((5, 4), (4,)), lambda a, w: _F().cross_entropy(a, CLASS_T, weight=w.detach()),
         lambda a, w: _TF().cross_entropy(a, _torch().tensor(CLASS_T), weight=w.detach()), positive=(1,), grad=(0,)),
    Case("cross_entropy_spatial", ((2, 3, 3, 2),), lambda a: _F().cross_entropy(a, SEG_T),
         lambda a: _TF().cross_entropy(a, _torch().tensor(SEG_T))),
    Case("cross_entropy_probs", ((5, 4), (5, 4)), lambda a, p: _F().cross_entropy(a, p.detach().softmax(-1)),
         lambda a, p: _TF().cross_entropy(a, p.detach().softmax(-1)), grad=(0,)),
    Case("mse_loss", ((3, 4), (3, 4)), lambda a, b: _F().mse_loss(a, b), lambda a, b: _TF().mse_loss(a, b)),
    Case("mse_loss_sum", ((3, 4), (3, 4)), lambda a, b: _F().mse_loss(a, b, reduction="sum"),
         lambda a, b: _TF().mse_loss(a, b, reduction="sum")),
    # ------------------------------------------------------------ attention
    Case("sdpa", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v)),
    Case("sdpa_causal", ((2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, is_causal=True),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v, is_causal=True)),
    Case("sdpa_causal_rect", ((1, 4, 4), (1, 6, 4), (1, 6, 2)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, is_causal=True),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v, is_causal=True)),
    Case("sdpa_bool_mask", ((2, 5, 4), (2, 5, 4), (2, 5, 3)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, attn_mask=_causal(5, 5)[::-1].copy() | np.eye(5, dtype=bool)),
         lambda q, k, v: _TF().scaled_dot_product_attention(
             q, k, v, attn_mask=_torch().tensor(_causal(5, 5)[::-1].copy() | np.eye(5, dtype=bool)))),
    Case("sdpa_float_mask", ((2, 4, 3), (2, 5, 3), (2, 5, 3), (4, 5)),
         lambda q, k, v, m: _F().scaled_dot_product_attention(q, k, v, attn_mask=m),
         lambda q, k, v, m: _TF().scaled_dot_product_attention(q, k, v, attn_mask=m)),
    Case("sdpa_bcast_batch", ((2, 3, 4, 4), (1, 3, 4, 4), (1, 3, 4, 4)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, scale=0.3),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v, scale=0.3)),
    Case("sdpa_self", ((2, 5, 4),), lambda x: _F().scaled_dot_product_attention(x, x, x, is_causal=True),
         lambda x: _TF().scaled_dot_product_attention(x, x, x, is_causal=True)),
    Case("sdpa_gqa", ((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 3)),
         lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, enable_gqa=True),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v, enable_gqa=True)),
    Case("sdpa_tiled_causal", ((1, 2, 7, 3), (1, 2, 5, 3), (1, 2, 5, 2)),  # tiles 2x3: odd edges
         lambda q, k, v: _flash().apply(q, k, v, None, 0.4, True, block_q=2, block_k=3),
         lambda q, k, v: _TF().scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.4)),
    Case("sdpa_tiled_float_mask", ((2, 6, 3), (2, 5, 3), (2, 5, 3), (6, 5)),
         lambda q, k, v, m: _flash().apply(q, k, v, m, 0.5, False, block_q=4, block_k=2),
         lambda q, k, v, m: _TF().scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.5)),
    # ------------------------------------------------------------ variants added by the core review
    Case("clip_tensor_bounds", ((3, 4), (3, 4), (4,)), lambda a, lo, hi: a.clip(lo, hi),
         lambda a, lo, hi: a.clamp(lo, hi)),
    Case("clip_tensor_min", ((3, 4), (4,)), lambda a, lo: a.clip(lo), lambda a, lo: a.clamp(min=lo)),
    Case("pow_tensor_bcast", ((3, 4), (4,)), lambda a, b: a ** b, lambda a, b: a ** b, positive=(0,)),
    Case("matmul_self_T", ((3, 4),), lambda a: a @ a.T, lambda a: a @ a.T),
    Case("matmul_self_mT_batched", ((2, 3, 4),), lambda a: a @ a.mT, lambda a: a @ a.mT),
    Case("maximum_0d", ((3, 4), ()), lambda a, b: a.maximum(b), lambda a, b: a.maximum(b)),
    Case("where_same_tensor", ((3, 4),), lambda a: _tt().where(a > 0, a, a * a),
         lambda a: _torch().where(a > 0, a, a * a)),
    Case("double_cast", ((3, 4),), lambda a: a.double() * 2, lambda a: a.double() * 2),
    Case("clone", ((3, 4),), lambda a: a.clone() * a, lambda a: a.clone() * a),
    Case("std_all", ((3, 4),), lambda a: a.std(), lambda a: a.std()),
    Case("std_keepdim_biased", ((3, 4),), lambda a: a.std(dim=1, keepdim=True, correction=0),
         lambda a: a.std(dim=1, keepdim=True, correction=0)),
    Case("var_tuple_biased", ((2, 3, 4),), lambda a: a.var(dim=(0, 2), correction=0),
         lambda a: a.var(dim=(0, 2), correction=0)),
    Case("mean_neg_tuple", ((2, 3, 4),), lambda a: a.mean(dim=(-1, 0)), lambda a: a.mean(dim=(-1, 0))),
    Case("max_neg_dim", ((2, 3, 4),), lambda a: a.max(dim=-1).values, lambda a: a.max(dim=-1).values),
    Case("min_dim_keepdim", ((3, 4),), lambda a: a.min(dim=1, keepdim=True).values,
         lambda a: a.min(dim=1, keepdim=True).values),
    Case("sum_0d_dim", ((),), lambda a: a.sum(0) * 3, lambda a: a.sum(0) * 3),
    Case("max_0d_dim", ((),), lambda a: a.max(-1, keepdim=True).values * a,
         lambda a: a.max(-1, keepdim=True).values * a),
    Case("mT", ((2, 3, 4),), lambda a: a.mT, lambda a: a.mT),
    Case("flatten_mid", ((2, 3, 4, 2),), lambda a: a.flatten(1, 2), lambda a: a.flatten(1, 2)),
    Case("squeeze_tuple", ((1, 3, 1, 2),), lambda a: a.squeeze((0, 2)), lambda a: a.squeeze((0, 2))),
    Case("chunk", ((3, 4),), lambda a: a.chunk(2, dim=1)[1], lambda a: a.chunk(2, dim=1)[1]),
    Case("split_sizes", ((3, 4),), lambda a: a.split([1, 3], dim=1)[1], lambda a: a.split([1, 3], dim=1)[1]),
    Case("index_list", ((3, 4),), lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]]),
    Case("index_adv_separated", ((2, 3, 4),), lambda a: a[[0, 1], :, [2, 3]], lambda a: a[[0, 1], :, [2, 3]]),
    Case("index_empty_list", ((3, 4),), lambda a: a[[]], lambda a: a[[]]),
    Case("cat_neg_dim", ((2, 3), (2, 2)), lambda a, b: _tt().cat([a, b], dim=-1),
         lambda a, b: _torch().cat([a, b], dim=-1)),
    Case("softmax_dim_neg2", ((2, 3, 4),), lambda a: a.softmax(-2), lambda a: a.softmax(-2)),
    Case("log_softmax_3d_mid", ((2, 3, 4),), lambda a: _F().log_softmax(a, dim=1),
         lambda a: _TF().log_softmax(a, dim=1)),
    Case("cross_entropy_1d", ((4,),), lambda a: _F().cross_entropy(a, np.array(2)),
         lambda a: _TF().cross_entropy(a, _torch().tensor(2))),
    Case("cross_entropy_weight_smooth_ignore", ((5, 4),),
         lambda a: _F().cross_entropy(a, CLASS_T_IGN, weight=W4, label_smoothing=0.1),
         lambda a: _TF().cross_entropy(a, _torch().tensor(CLASS_T_IGN), weight=_torch().tensor(W4, dtype=a.dtype),
                                       label_smoothing=0.1)),
    Case("cross_entropy_soft_target_grad", ((5, 4), (5, 4)),
         lambda a, p: _F().cross_entropy(a, p.softmax(-1), label_smoothing=0.2),
         lambda a, p: _TF().cross_entropy(a, p.softmax(-1), label_smoothing=0.2)),
    Case("nll_loss_ignore_weight", ((5, 4),), lambda a: _F().nll_loss(a, CLASS_T_IGN, weight=W4),
         lambda a: _TF().nll_loss(a, _torch().tensor(CLASS_T_IGN), weight=_torch().tensor(W4, dtype=a.dtype))),
    Case("l1_loss", ((3, 4), (3, 4)), lambda a, b: _F().l1_loss(a, b), lambda a, b: _TF().l1_loss(a, b)),
    Case("bce", ((3, 4), (3, 4)), lambda a, b: _F().binary_cross_entropy(a.sigmoid(), b.sigmoid()),
         lambda a, b: _TF().binary_cross_entropy(a.sigmoid(), b.sigmoid())),
    Case("bce_with_logits_pos_weight", ((3, 4), (3, 4)),
         lambda a, b: _F().binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=W4),
         lambda a, b: _TF().binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=_torch().tensor(W4, dtype=a.dtype))),
]


def _unit(a):
    """Squash into (-0.9, 0.9): the domain of asin, acos, atanh, erfinv."""
    return a.tanh() * 0.9


# ------------------------------------------------------------ elementwise math (issue 9)
_ELEMENTWISE = [  # name, f(a), positive input?
    ("sin", lambda m, a: m.sin(a), False), ("cos", lambda m, a: a.cos(), False),
    ("tan", lambda m, a: m.tan(a * 0.5), False), ("asin", lambda m, a: _unit(a).asin(), False),
    ("acos", lambda m, a: m.acos(_unit(a)), False), ("atan", lambda m, a: a.atan(), False),
    ("sinh", lambda m, a: a.sinh(), False), ("cosh", lambda m, a: m.cosh(a), False),
    ("asinh", lambda m, a: a.asinh(), False), ("acosh", lambda m, a: (a + 1).acosh(), True),
    ("atanh", lambda m, a: _unit(a).atanh(), False), ("erf", lambda m, a: m.erf(a * 2), False),
    ("erfc", lambda m, a: (a * 2).erfc(), False), ("erfinv", lambda m, a: _unit(a).erfinv(), False),
    ("exp2", lambda m, a: m.exp2(a), False), ("expm1", lambda m, a: a.expm1(), False),
    ("log2", lambda m, a: a.log2(), True), ("log10", lambda m, a: m.log10(a), True),
    ("log1p", lambda m, a: a.log1p(), True), ("rsqrt", lambda m, a: a.rsqrt(), True),
    ("reciprocal", lambda m, a: m.reciprocal(a), True), ("square", lambda m, a: a.square(), False),
    ("sign", lambda m, a: a.sign() * a, False), ("floor", lambda m, a: m.floor(a * 3) + a, False),
    ("ceil", lambda m, a: (a * 3).ceil() * a, False), ("trunc", lambda m, a: m.trunc(a * 3) * a, False),
    ("round", lambda m, a: (a * 3).round() * a, False),
    ("round_decimals", lambda m, a: m.round(a, decimals=1) + a, False),
    ("frac", lambda m, a: (a * 3).frac(), False),
    ("nan_to_num", lambda m, a: m.nan_to_num(a.log(), nan=0.5, neginf=-3.0), False),
    ("remainder_scalar", lambda m, a: a % 0.7, False),
    ("fmod_scalar", lambda m, a: m.fmod(a, 0.7), False),
    ("div_trunc", lambda m, a: a.div(0.3, rounding_mode="trunc") + a, False),
    ("div_floor", lambda m, a: m.div(a, 0.3, rounding_mode="floor") * a, False),
    ("lerp_scalar", lambda m, a: m.lerp(a, a * a, 0.3), False),
]
CASES += [Case(f"ew_{n}", ((3, 4),), (lambda f: lambda a: f(_tt(), a))(f),
               (lambda f: lambda a: f(_torch(), a))(f), positive=(0,) if pos else ())
          for n, f, pos in _ELEMENTWISE]
CASES += [
    Case("atan2", ((3, 4), (4,)), lambda a, b: _tt().atan2(a, b), lambda a, b: _torch().atan2(a, b)),
    Case("remainder_tensor", ((3, 4), (3, 4)), lambda a, b: a % b, lambda a, b: a % b),
    Case("fmod_tensor", ((3, 4), (4,)), lambda a, b: a.fmod(b), lambda a, b: a.fmod(b)),
    Case("logaddexp", ((3, 4), (3, 4)), lambda a, b: _tt().logaddexp(a * 10, b), lambda a, b: _torch().logaddexp(a * 10, b)),
    Case("logaddexp2", ((3, 4), (4,)), lambda a, b: a.logaddexp2(b), lambda a, b: a.logaddexp2(b)),
    Case("hypot", ((3, 4), (3, 4)), lambda a, b: _tt().hypot(a, b), lambda a, b: _torch().hypot(a, b)),
    Case("lerp_tensor_weight", ((3, 4), (3, 4), (4,)), lambda a, b, w: _tt().lerp(a, b, w),
         lambda a, b, w: _torch().lerp(a, b, w)),
    # torch has no derivative for floor_divide (backward raises); ours is div(rounding_mode="floor")'s
    Case("floor_divide", ((3, 4),), lambda a: (a // 0.3) * a, lambda a: a.div(0.3, rounding_mode="floor") * a),
    Case("div_alpha_add_sub", ((3, 4), (4,)), lambda a, b: a.add(b, alpha=2).sub(b, alpha=0.5),
         lambda a, b: a.add(b, alpha=2).sub(b, alpha=0.5)),
]

# ------------------------------------------------------------ normalization (module 13)
CASES += [
    Case("layer_norm", ((2, 3, 5), (5,), (5,)), lambda x, w, b: _F().layer_norm(x, (5,), w, b),
         lambda x, w, b: _TF().layer_norm(x, (5,), w, b)),
    Case("layer_norm_2d_shape", ((2, 3, 4), (3, 4), (3, 4)),
         lambda x, w, b: _F().layer_norm(x * 3 + 1, (3, 4), w, b, eps=1e-3),
         lambda x, w, b: _TF().layer_norm(x * 3 + 1, (3, 4), w, b, eps=1e-3)),
    Case("layer_norm_no_affine", ((4, 6),), lambda x: _F().layer_norm(x, 6),
         lambda x: _TF().layer_norm(x, (6,))),
    Case("rms_norm", ((2, 3, 5), (5,)), lambda x, w: _F().rms_norm(x, (5,), w),
         lambda x, w: _TF().rms_norm(x, (5,), w)),
    Case("rms_norm_2d_shape_eps", ((2, 3, 4), (3, 4)), lambda x, w: _F().rms_norm(x, (3, 4), w, eps=0.1),
         lambda x, w: _TF().rms_norm(x, (3, 4), w, eps=0.1)),
    Case("rms_norm_no_affine", ((4, 6),), lambda x: _F().rms_norm(x, [6]), lambda x: _TF().rms_norm(x, [6])),
]

# ------------------------------------------------------------ reductions and scans (issue 9)
ZMASK = np.array([[1.0, 1, 1, 1], [1, 0, 1, 1], [0, 1, 0, 1]], dtype=np.float32)  # rows with 0, 1 and 2 zeros
CASES += [
    Case("prod_all", ((2, 3),), lambda a: a.prod(), lambda a: a.prod()),
    Case("prod_dim", ((3, 4),), lambda a: _tt().prod(a, 1), lambda a: _torch().prod(a, 1)),
    Case("prod_keepdim_neg", ((2, 3, 4),), lambda a: a.prod(dim=-2, keepdim=True),
         lambda a: a.prod(dim=-2, keepdim=True)),
    Case("prod_with_zeros", ((3, 4),), lambda a: (a * ZMASK).prod(dim=1),
         lambda a: (a * _torch().tensor(ZMASK, dtype=a.dtype)).prod(dim=1)),
    Case("prod_all_one_zero", ((2, 2),), lambda a: (a * ZMASK[1:3, 1:3]).prod(),
         lambda a: (a * _torch().tensor(ZMASK[1:3, 1:3], dtype=a.dtype)).prod()),
    Case("logsumexp", ((3, 5),), lambda a: _tt().logsumexp(a * 30, dim=1),
         lambda a: _torch().logsumexp(a * 30, dim=1)),
    Case("logsumexp_tuple_keepdim", ((2, 3, 4),), lambda a: a.logsumexp((0, 2), keepdim=True),
         lambda a: a.logsumexp((0, 2), keepdim=True)),
    Case("cumsum", ((3, 4),), lambda a: a.cumsum(1), lambda a: a.cumsum(1)),
    Case("cumsum_dim0_3d", ((3, 2, 2),), lambda a: _tt().cumsum(a, dim=0), lambda a: _torch().cumsum(a, dim=0)),
    Case("cumprod", ((3, 4),), lambda a: a.cumprod(-1), lambda a: a.cumprod(-1)),
    Case("cumprod_with_zeros", ((3, 4),), lambda a: (a * ZMASK).cumprod(1),
         lambda a: (a * _torch().tensor(ZMASK, dtype=a.dtype)).cumprod(1)),
    Case("cumprod_zeros_dim0", ((4, 3),), lambda a: (a * ZMASK.T).cumprod(0),
         lambda a: (a * _torch().tensor(ZMASK.T, dtype=a.dtype)).cumprod(0)),
    Case("amax", ((3, 4),), lambda a: a.amax(), lambda a: a.amax()),
    Case("amax_tuple_keepdim", ((2, 3, 4),), lambda a: _tt().amax(a, (0, 2), keepdim=True),
         lambda a: _torch().amax(a, (0, 2), keepdim=True)),
    Case("amin_dim", ((3, 4),), lambda a: a.amin(dim=-1), lambda a: a.amin(dim=-1)),
    Case("amax_ties", ((2, 3),), lambda a: _tt().cat([a, a * 1], 1).amax(1) * 1,
         lambda a: _torch().cat([a, a * 1], 1).amax(1) * 1),
    Case("median_all", ((3, 5),), lambda a: a.median(), lambda a: a.median()),
    Case("median_dim_even", ((3, 4),), lambda a: a.median(dim=1).values, lambda a: a.median(dim=1).values),
    Case("median_keepdim", ((4, 3),), lambda a: _tt().median(a, 0, keepdim=True)[0],
         lambda a: _torch().median(a, 0, keepdim=True)[0]),
    Case("norm_fro", ((3, 4),), lambda a: a.norm(), lambda a: a.norm()),
    Case("norm_p1_dim", ((3, 4),), lambda a: _tt().norm(a, p=1, dim=1), lambda a: _torch().norm(a, p=1, dim=1)),
    Case("vector_norm_p3", ((3, 4),), lambda a: _tt().linalg.vector_norm(a, 3, dim=0),
         lambda a: _torch().linalg.vector_norm(a, 3, dim=0)),
    Case("vector_norm_inf_keepdim", ((3, 4),), lambda a: _tt().linalg.vector_norm(a, float("inf"), dim=-1, keepdim=True),
         lambda a: _torch().linalg.vector_norm(a, float("inf"), dim=-1, keepdim=True)),
    Case("norm_zero_row", ((3, 4),), lambda a: (a * ZMASK[[0, 0, 0]] * np.array([[1.0], [0], [1]], dtype=np.float32)).norm(dim=1),
         lambda a: (a * _torch().tensor(np.array([[1.0], [0], [1]], dtype=np.float32), dtype=a.dtype)).norm(dim=1)),
    Case("sum_dtype", ((3, 4),), lambda a: a.sum(dim=0, dtype=_tt().float64), lambda a: a.sum(dim=0, dtype=_torch().float64)),
    Case("mean_dtype", ((3, 4),), lambda a: _tt().mean(a, 1, dtype=_tt().float64),
         lambda a: _torch().mean(a, 1, dtype=_torch().float64)),
]

# ------------------------------------------------------------ shape ops (issue 9)
GATHER_IDX = np.array([[0, 2, 2], [1, 0, 3], [3, 3, 0]])  # repeats: gradients must add
SCATTER_IDX = np.array([[0, 2], [1, 0], [3, 1]])  # no repeats within a row (torch: undefined)
SORT_IDX = np.array([2, 0, 2, 1])
REPEATS = np.array([2, 0, 1])


def _i(x):
    return _torch().tensor(x)


CASES += [
    Case("repeat", ((2, 3),), lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3)),
    Case("tile", ((2, 3),), lambda a: _tt().tile(a, (2,)), lambda a: _torch().tile(a, (2,))),
    Case("repeat_interleave", ((3, 2),), lambda a: a.repeat_interleave(2, dim=0),
         lambda a: a.repeat_interleave(2, dim=0)),
    Case("repeat_interleave_counts", ((3, 2),), lambda a: _tt().repeat_interleave(a, _tt().tensor(REPEATS), dim=0),
         lambda a: _torch().repeat_interleave(a, _i(REPEATS), dim=0)),
    Case("repeat_interleave_flat", ((2, 2),), lambda a: a.repeat_interleave(3), lambda a: a.repeat_interleave(3)),
    Case("flip", ((2, 3, 4),), lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2))),
    Case("fliplr_flipud", ((3, 4),), lambda a: _tt().fliplr(a) * _tt().flipud(a), lambda a: _torch().fliplr(a) * _torch().flipud(a)),
    Case("roll", ((3, 4),), lambda a: a.roll(1, 1), lambda a: a.roll(1, 1)),
    Case("roll_flat", ((3, 4),), lambda a: _tt().roll(a, -5), lambda a: _torch().roll(a, -5)),
    Case("roll_multi", ((3, 4),), lambda a: a.roll((1, -2), (0, 1)), lambda a: a.roll((1, -2), (0, 1))),
    Case("rot90", ((3, 4),), lambda a: _tt().rot90(a, 1, (0, 1)), lambda a: _torch().rot90(a, 1, (0, 1))),
    Case("tril", ((2, 3, 4),), lambda a: a.tril(), lambda a: a.tril()),
    Case("triu_diag", ((4, 3),), lambda a: _tt().triu(a, diagonal=1), lambda a: _torch().triu(a, diagonal=1)),
    Case("tril_neg", ((4, 4),), lambda a: a.tril(-1), lambda a: a.tril(-1)),
    Case("diagonal", ((3, 4),), lambda a: a.diagonal(), lambda a: a.diagonal()),
    Case("diagonal_offset_dims", ((2, 3, 4),), lambda a: a.diagonal(1, 0, 2), lambda a: a.diagonal(1, 0, 2)),
    Case("diagonal_neg_offset", ((4, 3),), lambda a: _tt().diagonal(a, -1), lambda a: _torch().diagonal(a, -1)),
    Case("diag_1d", ((3,),), lambda a: _tt().diag(a, 1), lambda a: _torch().diag(a, 1)),
    Case("diag_2d", ((3, 4),), lambda a: a.diag(-1), lambda a: a.diag(-1)),
    Case("diag_embed", ((2, 3),), lambda a: _tt().diag_embed(a), lambda a: _torch().diag_embed(a)),
    Case("diag_embed_dims", ((2, 3),), lambda a: _tt().diag_embed(a, 1, 0, 2), lambda a: _torch().diag_embed(a, 1, 0, 2)),
    Case("trace", ((3, 3),), lambda a: _tt().trace(a), lambda a: _torch().trace(a)),
    Case("unflatten", ((2, 12),), lambda a: a.unflatten(1, (3, -1)), lambda a: a.unflatten(1, (3, -1))),
    Case("movedim", ((2, 3, 4),), lambda a: a.movedim(0, -1), lambda a: a.movedim(0, -1)),
    Case("movedim_multi", ((2, 3, 4, 5),), lambda a: _tt().movedim(a, (0, 3), (2, 0)), lambda a: _torch().movedim(a, (0, 3), (2, 0))),
    Case("swapaxes", ((2, 3, 4),), lambda a: a.swapaxes(0, 2), lambda a: a.swapaxes(0, 2)),
    Case("t", ((3, 4),), lambda a: a.t(), lambda a: a.t()),
    Case("meshgrid_ij", ((3,), (4,)), lambda a, b: _tt().meshgrid(a, b, indexing="ij")[0] * _tt().meshgrid(a, b, indexing="ij")[1],
         lambda a, b: _torch().meshgrid(a, b, indexing="ij")[0] * _torch().meshgrid(a, b, indexing="ij")[1]),
    Case("meshgrid_xy", ((3,), (4,)), lambda a, b: _tt().meshgrid(a, b, indexing="xy")[0] + 2 * _tt().meshgrid(a, b, indexing="xy")[1],
         lambda a, b: _torch().meshgrid(a, b, indexing="xy")[0] + 2 * _torch().meshgrid(a, b, indexing="xy")[1]),
    Case("broadcast_to", ((3, 1),), lambda a: _tt().broadcast_to(a, (2, 3, 4)), lambda a: _torch().broadcast_to(a, (2, 3, 4))),
    Case("expand_as", ((3, 1), (2, 3, 4)), lambda a, b: a.expand_as(b) * b, lambda a, b: a.expand_as(b) * b),
    Case("hstack", ((2, 3), (2, 1)), lambda a, b: _tt().hstack([a, b]), lambda a, b: _torch().hstack([a, b])),
    Case("vstack_1d", ((3,), (3,)), lambda a, b: _tt().vstack([a, b]), lambda a, b: _torch().vstack([a, b])),
    Case("dstack", ((2, 3), (2, 3)), lambda a, b: _tt().dstack([a, b]), lambda a, b: _torch().dstack([a, b])),
    Case("column_stack", ((3,), (3, 2)), lambda a, b: _tt().column_stack([a, b]), lambda a, b: _torch().column_stack([a, b])),
    Case("narrow", ((4, 5),), lambda a: a.narrow(1, -3, 2), lambda a: a.narrow(1, -3, 2)),
    Case("unbind", ((3, 4),), lambda a: a.unbind(1)[2] * a.unbind(1)[0], lambda a: a.unbind(1)[2] * a.unbind(1)[0]),
    Case("select", ((2, 3, 4),), lambda a: a.select(1, -1), lambda a: a.select(1, -1)),
    Case("tensor_split", ((7, 2),), lambda a: _tt().tensor_split(a, 3)[0].sum() + _tt().tensor_split(a, 3)[2].sum(),
         lambda a: _torch().tensor_split(a, 3)[0].sum() + _torch().tensor_split(a, 3)[2].sum()),
    Case("diff", ((3, 5),), lambda a: _tt().diff(a, n=2), lambda a: _torch().diff(a, n=2)),
    # ------------------------------------------------------------ index ops (issue 9)
    Case("gather", ((3, 4),), lambda a: a.gather(1, _tt().tensor(GATHER_IDX)), lambda a: a.gather(1, _i(GATHER_IDX))),
    Case("gather_dim0_smaller", ((4, 5),), lambda a: _tt().gather(a, 0, _tt().tensor(GATHER_IDX)),
         lambda a: _torch().gather(a, 0, _i(GATHER_IDX))),
    Case("scatter", ((4, 3), (3, 2)), lambda a, s: a.scatter(0, _tt().tensor(SCATTER_IDX), s),
         lambda a, s: a.scatter(0, _i(SCATTER_IDX), s)),
    Case("scatter_value", ((4, 3),), lambda a: a.scatter(0, _tt().tensor(SCATTER_IDX), 2.5),
         lambda a: a.scatter(0, _i(SCATTER_IDX), 2.5)),
    Case("scatter_add", ((4, 3), (3, 2)), lambda a, s: _tt().scatter_add(a, 0, _tt().tensor(GATHER_IDX[:, :2]), s),
         lambda a, s: _torch().scatter_add(a, 0, _i(GATHER_IDX[:, :2]), s)),
    Case("index_select", ((4, 3),), lambda a: a.index_select(0, _tt().tensor([3, 0, 3])),
         lambda a: a.index_select(0, _i([3, 0, 3]))),
    Case("index_select_dim1", ((2, 3, 4),), lambda a: _tt().index_select(a, 1, _tt().tensor([2, 2])),
         lambda a: _torch().index_select(a, 1, _i([2, 2]))),
    Case("masked_fill", ((3, 4),), lambda a: a.masked_fill(_tt().tensor(BOOL_MASK), -1.5),
         lambda a: a.masked_fill(_i(BOOL_MASK), -1.5)),
    Case("masked_fill_bcast_inf", ((2, 3, 4),), lambda a: a.masked_fill(_tt().tensor(BOOL_MASK[0]), float("-inf")).softmax(-1),
         lambda a: a.masked_fill(_i(BOOL_MASK[0]), float("-inf")).softmax(-1)),
    Case("masked_select", ((3, 4),), lambda a: a.masked_select(_tt().tensor(BOOL_MASK)), lambda a: a.masked_select(_i(BOOL_MASK))),
    Case("masked_select_bcast", ((3, 1),), lambda a: _tt().masked_select(a, _tt().tensor(BOOL_MASK)),
         lambda a: _torch().masked_select(a, _i(BOOL_MASK))),
    Case("take_along_dim", ((3, 4),), lambda a: _tt().take_along_dim(a, _tt().tensor(GATHER_IDX), 1),
         lambda a: _torch().take_along_dim(a, _i(GATHER_IDX), 1)),
    Case("take_along_dim_bcast", ((3, 4),), lambda a: a.take_along_dim(_tt().tensor(SORT_IDX[None, :3]), 1),
         lambda a: a.take_along_dim(_i(SORT_IDX[None, :3]), 1)),
    Case("take_along_dim_flat", ((3, 4),), lambda a: _tt().take_along_dim(a, _tt().tensor(GATHER_IDX)),
         lambda a: _torch().take_along_dim(a, _i(GATHER_IDX))),
    Case("take", ((3, 4),), lambda a: a.take(_tt().tensor([[0, 11], [5, 5]])), lambda a: a.take(_i([[0, 11], [5, 5]]))),
    Case("where_nonzero_index", ((3, 4),), lambda a: a[_tt().where(_tt().tensor(BOOL_MASK))],
         lambda a: a[_torch().where(_i(BOOL_MASK))]),
    Case("sort", ((3, 5),), lambda a: a.sort(1).values, lambda a: a.sort(1).values),
    Case("sort_desc_dim0", ((4, 3),), lambda a: _tt().sort(a, 0, descending=True)[0],
         lambda a: _torch().sort(a, 0, descending=True)[0]),
    Case("topk", ((3, 5),), lambda a: a.topk(2).values, lambda a: a.topk(2).values),
    Case("topk_smallest_dim0", ((5, 3),), lambda a: _tt().topk(a, 3, dim=0, largest=False)[0],
         lambda a: _torch().topk(a, 3, dim=0, largest=False)[0]),
    Case("kthvalue", ((3, 5),), lambda a: a.kthvalue(2, 1).values, lambda a: a.kthvalue(2, 1).values),
    Case("kthvalue_keepdim", ((3, 5),), lambda a: _tt().kthvalue(a, 3, 0, keepdim=True)[0],
         lambda a: _torch().kthvalue(a, 3, 0, keepdim=True)[0]),
    # ------------------------------------------------------------ products (issue 9)
    Case("einsum_matmul", ((3, 4), (4, 5)), lambda a, b: _tt().einsum("ij,jk->ik", a, b),
         lambda a, b: _torch().einsum("ij,jk->ik", a, b)),
    Case("einsum_batched_implicit", ((2, 3, 4), (2, 4, 5)), lambda a, b: _tt().einsum("bij,bjk", a, b),
         lambda a, b: _torch().einsum("bij,bjk", a, b)),
    Case("einsum_trace", ((4, 4),), lambda a: _tt().einsum("ii->", a), lambda a: _torch().einsum("ii->", a)),
    Case("einsum_diag", ((4, 4),), lambda a: _tt().einsum("ii->i", a), lambda a: _torch().einsum("ii->i", a)),
    Case("einsum_sum_lonely", ((3, 4),), lambda a: _tt().einsum("ij->i", a), lambda a: _torch().einsum("ij->i", a)),
    Case("einsum_outer_3", ((3,), (4,), (2,)), lambda a, b, c: _tt().einsum("i,j,k->kij", a, b, c),
         lambda a, b, c: _torch().einsum("i,j,k->kij", a, b, c)),
    Case("einsum_ellipsis", ((2, 3, 4), (4, 5)), lambda a, b: _tt().einsum("...ij,jk->...ik", a, b),
         lambda a, b: _torch().einsum("...ij,jk->...ik", a, b)),
    Case("einsum_ellipsis_bcast", ((2, 1, 3, 4), (5, 4, 3)), lambda a, b: _tt().einsum("...ij,...ji->...", a, b),
         lambda a, b: _torch().einsum("...ij,...ji->...", a, b)),
    Case("einsum_attention", ((2, 3, 5, 4), (2, 3, 6, 4)), lambda q, k: _tt().einsum("bhqd,bhkd->bhqk", q, k),
         lambda q, k: _torch().einsum("bhqd,bhkd->bhqk", q, k)),
    Case("einsum_repeat_mixed", ((3, 3, 2), (2,)), lambda a, b: _tt().einsum("iij,j->i", a, b),
         lambda a, b: _torch().einsum("iij,j->i", a, b)),
    Case("einsum_list_operands", ((3, 4), (3, 4)), lambda a, b: _tt().einsum("ij,ij->", [a, b]),
         lambda a, b: _torch().einsum("ij,ij->", [a, b])),
    Case("einsum_same_operand_twice", ((3, 4),), lambda a: _tt().einsum("ij,kj->ik", a, a),
         lambda a: _torch().einsum("ij,kj->ik", a, a)),
    Case("mm", ((3, 4), (4, 2)), lambda a, b: _tt().mm(a, b), lambda a, b: _torch().mm(a, b)),
    Case("bmm", ((2, 3, 4), (2, 4, 2)), lambda a, b: a.bmm(b), lambda a, b: a.bmm(b)),
    Case("mv", ((3, 4), (4,)), lambda a, b: a.mv(b), lambda a, b: a.mv(b)),
    Case("dot", ((4,), (4,)), lambda a, b: _tt().dot(a, b), lambda a, b: _torch().dot(a, b)),
    Case("outer", ((3,), (4,)), lambda a, b: a.outer(b), lambda a, b: a.outer(b)),
    Case("inner", ((2, 4), (3, 4)), lambda a, b: _tt().inner(a, b), lambda a, b: _torch().inner(a, b)),
    Case("addmm", ((4,), (3, 2), (2, 4)), lambda c, a, b: _tt().addmm(c, a, b, beta=0.5, alpha=2),
         lambda c, a, b: _torch().addmm(c, a, b, beta=0.5, alpha=2)),
    Case("baddbmm", ((2, 3, 4), (2, 3, 2), (2, 2, 4)), lambda c, a, b: c.baddbmm(a, b, alpha=0.5),
         lambda c, a, b: c.baddbmm(a, b, alpha=0.5)),
    Case("tensordot", ((2, 3, 4), (4, 3, 5)), lambda a, b: _tt().tensordot(a, b, ([1, 2], [1, 0])),
         lambda a, b: _torch().tensordot(a, b, ([1, 2], [1, 0]))),
    # ------------------------------------------------------------ torch.* spellings (issue 9)
    Case("torch_add_alpha", ((3, 4), (4,)), lambda a, b: _tt().add(a, b, alpha=-2), lambda a, b: _torch().add(a, b, alpha=-2)),
    Case("torch_sub_mul_pow_neg", ((3, 4), (3, 4)),
         lambda a, b: _tt().neg(_tt().pow(_tt().mul(_tt().sub(a, b, alpha=0.5), b), 2)),
         lambda a, b: _torch().neg(_torch().pow(_torch().mul(_torch().sub(a, b, alpha=0.5), b), 2))),
    Case("torch_pow_scalar_base", ((3,),), lambda a: _tt().pow(2.0, a), lambda a: _torch().pow(2.0, a)),
]

from op_cases_nn import nn_cases  # noqa: E402 (nn-level ops of issue 9, own file)

CASES += nn_cases(Case)

# ------------------------------------------------------------ more composed ops (issue 9)
NAN_AT = np.array([[0.0, np.nan, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [np.nan, 0.0, 0.0, np.nan]], dtype=np.float32)
CASES += [
    Case("deg2rad_rad2deg", ((3, 4),), lambda a: _tt().deg2rad(a) + a.rad2deg(), lambda a: _torch().deg2rad(a) + a.rad2deg()),
    Case("logit", ((3, 4),), lambda a: a.sigmoid().logit(), lambda a: a.sigmoid().logit()),
    Case("logit_eps", ((3, 4),), lambda a: _tt().logit(a.sigmoid(), eps=0.3), lambda a: _torch().logit(a.sigmoid(), eps=0.3)),
    Case("xlogy", ((3, 4), (3, 4)), lambda a, b: _tt().xlogy(a.relu(), b), lambda a, b: _torch().xlogy(a.relu(), b), positive=(1,)),
    Case("sinc", ((3, 4),), lambda a: a.sinc(), lambda a: a.sinc()),
    Case("float_power", ((3, 4),), lambda a: a.float_power(2), lambda a: a.float_power(2)),
    Case("addcmul", ((3, 4), (3, 4), (4,)), lambda a, b, c: _tt().addcmul(a, b, c, value=0.5),
         lambda a, b, c: _torch().addcmul(a, b, c, value=0.5)),
    Case("addcdiv", ((3, 4), (3, 4), (4,)), lambda a, b, c: a.addcdiv(b, c, value=-2),
         lambda a, b, c: a.addcdiv(b, c, value=-2), positive=(2,)),
    Case("nansum", ((3, 4),), lambda a: (a + _tt().tensor(NAN_AT)).nansum(1), lambda a: (a + _i(NAN_AT)).nansum(1)),
    Case("nanmean", ((3, 4),), lambda a: _tt().nanmean(a + _tt().tensor(NAN_AT), 0),
         lambda a: _torch().nanmean(a + _i(NAN_AT), 0)),
    Case("var_mean", ((3, 4),), lambda a: _tt().var_mean(a, 1)[0] * _tt().var_mean(a, 1)[1],
         lambda a: _torch().var_mean(a, 1)[0] * _torch().var_mean(a, 1)[1]),
    Case("std_mean_all", ((3, 4),), lambda a: _tt().std_mean(a)[0] + _tt().std_mean(a)[1],
         lambda a: _torch().std_mean(a)[0] + _torch().std_mean(a)[1]),
    Case("logcumsumexp", ((3, 5),), lambda a: a.logcumsumexp(1), lambda a: a.logcumsumexp(1)),
    Case("logcumsumexp_large", ((4, 3),), lambda a: _tt().logcumsumexp(a * 200, 0), lambda a: _torch().logcumsumexp(a * 200, 0)),
    Case("cummax", ((3, 5),), lambda a: a.cummax(1).values, lambda a: a.cummax(1).values),
    Case("cummin_dim0", ((4, 3),), lambda a: _tt().cummin(a, 0)[0], lambda a: _torch().cummin(a, 0)[0]),
    Case("cross", ((4, 3), (4, 3)), lambda a, b: _tt().cross(a, b, dim=1), lambda a, b: _torch().cross(a, b, dim=1)),
    Case("cdist", ((2, 3, 4), (2, 5, 4)), lambda a, b: _tt().cdist(a, b), lambda a, b: _torch().cdist(a, b)),
    Case("cdist_p1", ((3, 4), (2, 4)), lambda a, b: _tt().cdist(a, b, p=1), lambda a, b: _torch().cdist(a, b, p=1)),
    Case("cartesian_prod", ((2,), (3,)), lambda a, b: _tt().cartesian_prod(a, b), lambda a, b: _torch().cartesian_prod(a, b)),
    Case("block_diag", ((2, 2), (1, 3), (2,)), lambda a, b, c: _tt().block_diag(a, b, c),
         lambda a, b, c: _torch().block_diag(a, b, c)),
]

CASE_IDS = [c.name for c in CASES]
