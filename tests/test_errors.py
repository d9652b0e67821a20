"""Each error a learner will meet names the operation, the shapes, and what to do instead."""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F


def test_matmul_inner_dimension_mismatch():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply \(3, 4\) by \(5, 2\): inner dimensions 4 and 5 differ"):
        tt.randn(3, 4) @ tt.randn(5, 2)


def test_matmul_batch_mismatch_and_scalars():
    with pytest.raises(ValueError, match=r"matmul: .*batch dimensions \(2,\) and \(3,\)"):
        tt.randn(2, 3, 4) @ tt.randn(3, 4, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        tt.tensor(2.0) @ tt.randn(3)


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: cannot broadcast shapes \(3, 4\) and \(5,\)"):
        tt.randn(3, 4) + tt.randn(5)
    with pytest.raises(ValueError, match=r"mul: cannot broadcast shapes \(2, 3\) and \(3, 2\)"):
        tt.randn(2, 3) * tt.randn(3, 2)


def test_reshape_mismatch():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(3, 4\) \(12 elements\) into \(5, 2\) \(10 elements\)"):
        tt.randn(3, 4).reshape(5, 2)


def test_cat_and_stack_mismatch():
    with pytest.raises(ValueError, match=r"cat: .*except in dimension 0: got \(2, 3\) and \(2, 4\)"):
        tt.cat([tt.randn(2, 3), tt.randn(2, 4)])
    with pytest.raises(ValueError, match=r"stack: all tensors must have the same shape: got \(2, 3\) and \(2, 4\)"):
        tt.stack([tt.randn(2, 3), tt.randn(2, 4)])
    with pytest.raises(ValueError, match="non-empty"):
        tt.cat([])


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="sum: dim 2 is out of range for a tensor with 2 dimension"):
        tt.randn(3, 4).sum(dim=2)
    with pytest.raises(IndexError, match="softmax: dim"):
        tt.randn(3, 4).softmax(dim=5)


def test_permute_and_expand_errors():
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0\) are not a permutation"):
        tt.randn(3, 4).permute(0, 0)
    with pytest.raises(ValueError, match="expand: cannot expand shape"):
        tt.randn(3, 2).expand(3, 4)


def test_unsupported_dtypes_say_what_to_do():
    with pytest.raises(TypeError, match="Convert strings to token ids"):
        tt.tensor(["a", "b"])
    with pytest.raises(TypeError, match="complex"):
        tt.tensor(np.array([1 + 2j]))
    with pytest.raises(ValueError, match="rectangular"):
        tt.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match=r"mean: needs a floating point tensor.*\.float\(\)"):
        tt.tensor([1, 2, 3]).mean()


def test_item_and_bool_of_many_elements():
    with pytest.raises(ValueError, match=r"item: only one-element tensors.*\(2,\)"):
        tt.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tt.tensor([1.0, 2.0]))


def test_index_out_of_range_names_shape():
    with pytest.raises(IndexError, match=r"tensor of shape \(3, 4\)"):
        tt.randn(3, 4)[5]


def test_setitem_on_a_tensor_requiring_grad():
    x = tt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 1.0
    with tt.no_grad():
        x[0] = 1.0
    assert x.numpy()[0] == 1.0


def test_loss_shape_and_target_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(4, 10\) .*target of shape \(4,\), got \(4, 1\)"):
        F.cross_entropy(tt.randn(4, 10), tt.tensor([[1], [2], [3], [4]]))
    with pytest.raises(IndexError, match="target 12 is out of range for 10 classes"):
        F.cross_entropy(tt.randn(2, 10), tt.tensor([1, 12]))
    with pytest.raises(TypeError, match="integer class ids"):
        F.cross_entropy(tt.randn(2, 10), tt.tensor([True, False]))
    with pytest.warns(UserWarning, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(tt.randn(4, 1), tt.randn(4))


def test_attention_shape_errors():
    q = tt.randn(2, 5, 8)
    with pytest.raises(ValueError, match="share the last .* 8 vs 4"):
        F.scaled_dot_product_attention(q, tt.randn(2, 5, 4), tt.randn(2, 5, 4))
    with pytest.raises(ValueError, match="same sequence length: 5 vs 6"):
        F.scaled_dot_product_attention(q, tt.randn(2, 5, 8), tt.randn(2, 6, 8))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tt.ones(3, 3).bool())


def test_stable_functions_on_extreme_inputs_never_nan():
    x = tt.tensor([[1e4, -1e4, 3.0], [-1e4, -1e4, -1e4], [88.8, 89.0, 1e30]])
    for y in (x.softmax(-1), x.log_softmax(-1), x.sigmoid(), F.gelu(x), F.silu(x), x.tanh(),
              F.cross_entropy(x, tt.tensor([0, 1, 2])),
              F.binary_cross_entropy_with_logits(x, tt.ones(3, 3))):
        assert not np.isnan(y.numpy()).any()
    mask = tt.zeros(3, 3).bool()  # every key masked: rows of zeros, not NaN
    out = F.scaled_dot_product_attention(tt.randn(3, 4), tt.randn(3, 4), tt.randn(3, 4), attn_mask=mask)
    assert not np.isnan(out.numpy()).any()
