"""nn-level ops of issue 9 for the op catalogue (``op_cases.CASES`` appends these).

Activations, extra losses and distances, conv1d / conv_transpose2d, interpolation and 1-D /
adaptive-max pooling: each written once for tinytorch and once for PyTorch, checked by both
oracles (``test_parity_torch.py`` in float32, ``test_gradcheck.py`` in float64).
"""

from __future__ import annotations

import numpy as np


def _F():
    import tinytorch.nn.functional as F

    return F


def _TF():
    import torch.nn.functional as TF

    return TF


def _torch():
    import torch

    return torch


def _tt():
    import tinytorch as tt

    return tt


LAB = np.array([1.0, -1.0, -1.0, 1.0], dtype=np.float32)  # pair labels for the ranking losses
MULTI = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=np.float32)  # multi-label
COUNTS = np.array([[0, 1, 3], [2, 0, 5], [1, 1, 0], [4, 2, 1]], dtype=np.float32)  # Poisson counts


def nn_cases(Case):
    """The cases, built with the catalogue's ``Case`` class (passed in: no import cycle)."""
    F, TF = _F, _TF
    acts = [  # name, kwargs; inputs scaled by 4 so every branch (|x| > 3, x < -1 ...) is hit
        ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 1.5}),
        ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}), ("softsign", {}),
        ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}),
        ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}), ("mish", {}),
        ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.5}),
        ("hardshrink", {}), ("hardshrink", {"lambd": 1.0}),
        ("threshold", {"threshold": 0.5, "value": -2.0}),
    ]
    cases = []
    for name, kw in acts:
        label = name + "".join(f"_{k}{v}" for k, v in kw.items())
        cases.append(Case(label, ((3, 5),),
                          lambda a, n=name, k=kw: getattr(F(), n)(a * 4, **k),
                          lambda a, n=name, k=kw: getattr(TF(), n)(a * 4, **k)))
    cases += [
        Case("logsigmoid_extreme", ((4,),), lambda a: F().logsigmoid(a * 1e4),
             lambda a: TF().logsigmoid(a * 1e4)),
        Case("softplus_large", ((4,),), lambda a: F().softplus(a * 50),
             lambda a: TF().softplus(a * 50)),
        Case("prelu_single", ((2, 3, 4), (1,)), lambda x, w: F().prelu(x, w),
             lambda x, w: TF().prelu(x, w)),
        Case("prelu_channels", ((2, 3, 2, 2), (3,)), lambda x, w: F().prelu(x, w),
             lambda x, w: TF().prelu(x, w)),
        Case("prelu_1d", ((4,), (1,)), lambda x, w: F().prelu(x, w), lambda x, w: TF().prelu(x, w)),
        Case("glu", ((3, 4),), lambda a: F().glu(a), lambda a: TF().glu(a)),
        Case("glu_dim0", ((4, 3),), lambda a: F().glu(a, 0), lambda a: TF().glu(a, 0)),
        Case("softmin", ((3, 4),), lambda a: F().softmin(a, 1), lambda a: TF().softmin(a, 1)),
        Case("softmin_dim0", ((3, 4),), lambda a: F().softmin(a, dim=0),
             lambda a: TF().softmin(a, dim=0)),
        # ---------------------------------------------------------------- losses
        Case("smooth_l1_loss", ((3, 4), (3, 4)), lambda a, b: F().smooth_l1_loss(a * 2, b),
             lambda a, b: TF().smooth_l1_loss(a * 2, b)),
        Case("smooth_l1_loss_beta_none", ((3, 4), (3, 4)),
             lambda a, b: F().smooth_l1_loss(a * 2, b, reduction="none", beta=0.5),
             lambda a, b: TF().smooth_l1_loss(a * 2, b, reduction="none", beta=0.5)),
        Case("smooth_l1_loss_beta0_sum", ((3, 4), (3, 4)),
             lambda a, b: F().smooth_l1_loss(a, b, reduction="sum", beta=0.0),
             lambda a, b: TF().smooth_l1_loss(a, b, reduction="sum", beta=0.0)),
        Case("huber_loss", ((3, 4), (3, 4)), lambda a, b: F().huber_loss(a * 2, b),
             lambda a, b: TF().huber_loss(a * 2, b)),
        Case("huber_loss_delta_sum", ((3, 4), (3, 4)),
             lambda a, b: F().huber_loss(a * 2, b, reduction="sum", delta=0.7),
             lambda a, b: TF().huber_loss(a * 2, b, reduction="sum", delta=0.7)),
        Case("kl_div_batchmean", ((4, 5), (4, 5)),
             lambda a, b: F().kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"),
             lambda a, b: TF().kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean")),
        Case("kl_div_sum", ((4, 5), (4, 5)),
             lambda a, b: F().kl_div(a.log_softmax(1), b.softmax(1), reduction="sum"),
             lambda a, b: TF().kl_div(a.log_softmax(1), b.softmax(1), reduction="sum")),
        Case("kl_div_none_log_target", ((4, 5), (4, 5)),
             lambda a, b: F().kl_div(a.log_softmax(1), b.log_softmax(1), reduction="none",
                                     log_target=True),
             lambda a, b: TF().kl_div(a.log_softmax(1), b.log_softmax(1), reduction="none",
                                      log_target=True)),
        Case("kl_div_zero_target", ((2, 4),),
             lambda a: F().kl_div(a.log_softmax(1), _tt().tensor(
                 np.array([[0.5, 0, 0.5, 0], [0, 1, 0, 0]], dtype=a.numpy().dtype)),
                 reduction="batchmean"),
             lambda a: TF().kl_div(a.log_softmax(1), _torch().tensor(
                 [[0.5, 0, 0.5, 0], [0, 1, 0, 0]], dtype=a.dtype), reduction="batchmean")),
        Case("margin_ranking_loss", ((4,), (4,)),
             lambda a, b: F().margin_ranking_loss(a, b, _tt().tensor(LAB), margin=0.2),
             lambda a, b: TF().margin_ranking_loss(a, b, _torch().tensor(LAB), margin=0.2)),
        Case("cosine_embedding_loss", ((4, 5), (4, 5)),
             lambda a, b: F().cosine_embedding_loss(a, b, _tt().tensor(LAB), margin=-0.1),
             lambda a, b: TF().cosine_embedding_loss(a, b, _torch().tensor(LAB), margin=-0.1)),
        Case("soft_margin_loss", ((4, 3),),
             lambda a: F().soft_margin_loss(a * 2, _tt().tensor(np.sign(MULTI - 0.5))),
             lambda a: TF().soft_margin_loss(a * 2, _torch().tensor(np.sign(MULTI - 0.5)))),
        Case("hinge_embedding_loss", ((4, 3),),
             lambda a: F().hinge_embedding_loss(a, _tt().tensor(np.sign(MULTI - 0.5)), 0.5),
             lambda a: TF().hinge_embedding_loss(a, _torch().tensor(np.sign(MULTI - 0.5)), 0.5)),
        Case("multilabel_soft_margin_loss", ((4, 3), (3,)),
             lambda a, w: F().multilabel_soft_margin_loss(a * 2, _tt().tensor(MULTI), w.detach()),
             lambda a, w: TF().multilabel_soft_margin_loss(a * 2, _torch().tensor(MULTI),
                                                           w.detach()), grad=(0,)),
        Case("triplet_margin_loss", ((4, 5), (4, 5), (4, 5)),
             lambda a, p, n: F().triplet_margin_loss(a, p, n, margin=2.0),
             lambda a, p, n: TF().triplet_margin_loss(a, p, n, margin=2.0)),
        Case("triplet_margin_loss_swap_p1", ((4, 5), (4, 5), (4, 5)),
             lambda a, p, n: F().triplet_margin_loss(a, p, n, p=1, swap=True, margin=3.0,
                                                     reduction="none"),
             lambda a, p, n: TF().triplet_margin_loss(a, p, n, p=1, swap=True, margin=3.0,
                                                      reduction="none")),
        Case("poisson_nll_loss", ((4, 3),),
             lambda a: F().poisson_nll_loss(a, _tt().tensor(COUNTS)),
             lambda a: TF().poisson_nll_loss(a, _torch().tensor(COUNTS))),
        Case("poisson_nll_loss_rate_full", ((4, 3),),
             lambda a: F().poisson_nll_loss(a.exp(), _tt().tensor(COUNTS), log_input=False,
                                            full=True, reduction="sum"),
             lambda a: TF().poisson_nll_loss(a.exp(), _torch().tensor(COUNTS), log_input=False,
                                             full=True, reduction="sum")),
        Case("gaussian_nll_loss", ((4, 3), (4, 3), (4, 3)),
             lambda x, y, v: F().gaussian_nll_loss(x, y, v, full=True),
             lambda x, y, v: TF().gaussian_nll_loss(x, y, v, full=True), positive=(2,)),
        Case("gaussian_nll_loss_per_sample_var", ((4, 3), (4, 3), (4,)),
             lambda x, y, v: F().gaussian_nll_loss(x, y, v, reduction="none"),
             lambda x, y, v: TF().gaussian_nll_loss(x, y, v, reduction="none"), positive=(2,)),
        # ---------------------------------------------------------------- distances
        Case("normalize", ((3, 4),), lambda a: F().normalize(a), lambda a: TF().normalize(a)),
        Case("normalize_p1_dim0", ((3, 4),), lambda a: F().normalize(a, p=1, dim=0),
             lambda a: TF().normalize(a, p=1, dim=0)),
        Case("normalize_3d_last", ((2, 3, 4),), lambda a: F().normalize(a, dim=-1),
             lambda a: TF().normalize(a, dim=-1)),
        Case("cosine_similarity", ((3, 4), (3, 4)), lambda a, b: F().cosine_similarity(a, b),
             lambda a, b: TF().cosine_similarity(a, b)),
        Case("cosine_similarity_bcast", ((3, 4), (1, 4)),
             lambda a, b: F().cosine_similarity(a, b, dim=-1),
             lambda a, b: TF().cosine_similarity(a, b, dim=-1)),
        Case("pairwise_distance", ((3, 4), (3, 4)), lambda a, b: F().pairwise_distance(a, b),
             lambda a, b: TF().pairwise_distance(a, b)),
        Case("pairwise_distance_p1_keepdim", ((3, 4), (3, 4)),
             lambda a, b: F().pairwise_distance(a, b, p=1.0, keepdim=True),
             lambda a, b: TF().pairwise_distance(a, b, p=1.0, keepdim=True)),
        # ---------------------------------------------------------------- convolutions
        Case("conv1d", ((2, 3, 9), (4, 3, 3), (4,)), lambda x, w, b: F().conv1d(x, w, b),
             lambda x, w, b: TF().conv1d(x, w, b)),
        Case("conv1d_stride_pad_groups", ((2, 4, 9), (6, 2, 3)),
             lambda x, w: F().conv1d(x, w, stride=2, padding=1, groups=2),
             lambda x, w: TF().conv1d(x, w, stride=2, padding=1, groups=2)),
        Case("conv1d_same_dilated", ((2, 3, 8), (2, 3, 4)),
             lambda x, w: F().conv1d(x, w, padding="same", dilation=2),
             lambda x, w: TF().conv1d(x, w, padding="same", dilation=2)),
        Case("conv1d_valid_unbatched", ((3, 7), (2, 3, 2)),
             lambda x, w: F().conv1d(x, w, padding="valid"),
             lambda x, w: TF().conv1d(x, w, padding="valid")),
        Case("conv_transpose2d", ((2, 3, 4, 5), (3, 2, 3, 3), (2,)),
             lambda x, w, b: F().conv_transpose2d(x, w, b),
             lambda x, w, b: TF().conv_transpose2d(x, w, b)),
        Case("conv_transpose2d_stride_pad_outpad", ((2, 3, 4, 3), (3, 2, 3, 2)),
             lambda x, w: F().conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
             lambda x, w: TF().conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)),
        Case("conv_transpose2d_groups_dilation", ((1, 4, 3, 3), (4, 3, 2, 3), (6,)),
             lambda x, w, b: F().conv_transpose2d(x, w, b, stride=(1, 2), padding=(0, 1),
                                                  output_padding=(0, 1), groups=2,
                                                  dilation=(2, 1)),
             lambda x, w, b: TF().conv_transpose2d(x, w, b, stride=(1, 2), padding=(0, 1),
                                                   output_padding=(0, 1), groups=2,
                                                   dilation=(2, 1))),
        Case("conv_transpose2d_unbatched", ((2, 3, 3), (2, 1, 2, 2)),
             lambda x, w: F().conv_transpose2d(x, w, stride=2),
             lambda x, w: TF().conv_transpose2d(x, w, stride=2)),
        Case("conv_transpose1d", ((2, 3, 5), (3, 4, 3), (4,)),
             lambda x, w, b: F().conv_transpose1d(x, w, b, stride=2, output_padding=1),
             lambda x, w, b: TF().conv_transpose1d(x, w, b, stride=2, output_padding=1)),
        # ---------------------------------------------------------------- resampling
        Case("interpolate_nearest_x2", ((2, 3, 3, 4),),
             lambda a: F().interpolate(a, scale_factor=2),
             lambda a: TF().interpolate(a, scale_factor=2)),
        Case("interpolate_nearest_size", ((1, 2, 5, 7),),
             lambda a: F().interpolate(a, size=(3, 10)),
             lambda a: TF().interpolate(a, size=(3, 10))),
        Case("interpolate_nearest_1d", ((2, 3, 5),), lambda a: F().interpolate(a, size=8),
             lambda a: TF().interpolate(a, size=8)),
        Case("interpolate_bilinear", ((2, 2, 3, 4),),
             lambda a: F().interpolate(a, scale_factor=2, mode="bilinear"),
             lambda a: TF().interpolate(a, scale_factor=2, mode="bilinear")),
        Case("interpolate_bilinear_align_size", ((1, 2, 4, 5),),
             lambda a: F().interpolate(a, size=(7, 3), mode="bilinear", align_corners=True),
             lambda a: TF().interpolate(a, size=(7, 3), mode="bilinear", align_corners=True)),
        Case("interpolate_bilinear_fractional", ((1, 2, 5, 6),),
             lambda a: F().interpolate(a, scale_factor=1.5, mode="bilinear"),
             lambda a: TF().interpolate(a, scale_factor=1.5, mode="bilinear")),
        Case("interpolate_linear_1d", ((2, 2, 6),),
             lambda a: F().interpolate(a, size=4, mode="linear"),
             lambda a: TF().interpolate(a, size=4, mode="linear")),
        # ---------------------------------------------------------------- pooling
        Case("max_pool2d_indices_values", ((2, 2, 5, 6),),
             lambda a: F().max_pool2d(a, 3, 2, 1, return_indices=True)[0],
             lambda a: TF().max_pool2d(a, 3, 2, 1, return_indices=True)[0]),
        Case("max_unpool2d", ((2, 2, 4, 6),),
             lambda a: F().max_unpool2d(*F().max_pool2d(a, 2, return_indices=True), 2),
             lambda a: TF().max_unpool2d(*TF().max_pool2d(a, 2, return_indices=True), 2)),
        Case("max_pool1d", ((2, 3, 9),), lambda a: F().max_pool1d(a, 3, 2, 1),
             lambda a: TF().max_pool1d(a, 3, 2, 1)),
        Case("avg_pool1d", ((2, 3, 9),), lambda a: F().avg_pool1d(a, 3, 2, 1),
             lambda a: TF().avg_pool1d(a, 3, 2, 1)),
        Case("adaptive_max_pool2d", ((2, 2, 7, 5),), lambda a: F().adaptive_max_pool2d(a, (3, 2)),
             lambda a: TF().adaptive_max_pool2d(a, (3, 2))),
        Case("adaptive_max_pool1d", ((2, 2, 7),), lambda a: F().adaptive_max_pool1d(a, 3),
             lambda a: TF().adaptive_max_pool1d(a, 3)),
        Case("adaptive_avg_pool1d", ((2, 2, 7),), lambda a: F().adaptive_avg_pool1d(a, 3),
             lambda a: TF().adaptive_avg_pool1d(a, 3)),
        # ---------------------------------------------------------------- patches
        Case("unfold", ((2, 3, 5, 4),), lambda a: F().unfold(a, 2, padding=1, stride=(1, 2)),
             lambda a: TF().unfold(a, 2, padding=1, stride=(1, 2))),
        Case("unfold_dilated_unbatched", ((2, 6, 5),), lambda a: F().unfold(a, (2, 2), dilation=2),
             lambda a: TF().unfold(a, (2, 2), dilation=2)),
        Case("fold", ((2, 12, 12),), lambda a: F().fold(a, (4, 5), 2, stride=1),
             lambda a: TF().fold(a, (4, 5), 2, stride=1)),
        Case("fold_strided_padded", ((1, 8, 9),), lambda a: F().fold(a, (5, 5), 2, padding=1,
                                                                     stride=2),
             lambda a: TF().fold(a, (5, 5), 2, padding=1, stride=2)),
        Case("pixel_shuffle", ((2, 8, 2, 3),), lambda a: F().pixel_shuffle(a, 2),
             lambda a: TF().pixel_shuffle(a, 2)),
        Case("pixel_unshuffle", ((2, 2, 4, 6),), lambda a: F().pixel_unshuffle(a, 2),
             lambda a: TF().pixel_unshuffle(a, 2)),
        # ---------------------------------------------------------------- normalization
        Case("group_norm", ((2, 4, 3, 2), (4,), (4,)),
             lambda x, w, b: F().group_norm(x * 3 + 1, 2, w, b),
             lambda x, w, b: TF().group_norm(x * 3 + 1, 2, w, b)),
        Case("group_norm_1d_no_affine", ((3, 6, 5),), lambda x: F().group_norm(x, 3),
             lambda x: TF().group_norm(x, 3)),
        Case("instance_norm", ((2, 3, 4, 3), (3,), (3,)),
             lambda x, w, b: F().instance_norm(x, weight=w, bias=b),
             lambda x, w, b: TF().instance_norm(x, weight=w, bias=b)),
    ]
    return cases
