"""``tinytorch.nn.functional``: the stateless ops, PyTorch's names. A face: re-exports only."""

from tinytorch.core.activations import (gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax,
                                        tanh)
from tinytorch.core.activations_extra import (celu, elu, glu, hardshrink, hardsigmoid, hardswish,
                                              hardtanh, logsigmoid, mish, prelu, relu6, selu,
                                              softmin, softplus, softshrink, softsign, tanhshrink,
                                              threshold)
from tinytorch.core.losses_extra import (cosine_embedding_loss, cosine_similarity, huber_loss,
                                         kl_div, margin_ranking_loss, normalize,
                                         pairwise_distance, smooth_l1_loss)
from tinytorch.core.losses_more import (gaussian_nll_loss, hinge_embedding_loss,
                                        multilabel_soft_margin_loss, poisson_nll_loss,
                                        soft_margin_loss, triplet_margin_loss)
from tinytorch.core.attention import scaled_dot_product_attention
from tinytorch.core.layernorm import layer_norm, rms_norm
from tinytorch.core.layers import dropout, linear
from tinytorch.core.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                   cross_entropy, l1_loss, mse_loss, nll_loss)
from tinytorch.core.normalization import batch_norm
from tinytorch.text.embeddings import embedding
from tinytorch.core.conv import conv2d
from tinytorch.core.dropout2d import dropout2d
from tinytorch.core.conv1d import conv1d
from tinytorch.core.patches import fold, pixel_shuffle, pixel_unshuffle, unfold
from tinytorch.core.group_norm import group_norm, instance_norm
from tinytorch.core.layers_extra import bilinear
from tinytorch.core.conv_transpose import conv_transpose1d, conv_transpose2d
from tinytorch.core.pooling_extra import (adaptive_avg_pool1d, adaptive_max_pool1d,
                                          adaptive_max_pool2d, avg_pool1d, max_pool1d,
                                          max_unpool2d)
from tinytorch.core.resample import interpolate, upsample
from tinytorch.core.padding import pad
from tinytorch.core.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from tinytorch.core.ops_random import one_hot

__all__ = [
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "silu", "softmax", "log_softmax",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "scaled_dot_product_attention",
    "linear", "dropout",
    "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pad", "dropout2d",
    "batch_norm",
]
__all__ += ["embedding"]
__all__ += ["layer_norm", "rms_norm"]
__all__ += ["one_hot"]
__all__ += ["elu", "selu", "celu", "softplus", "softsign", "hardtanh", "relu6", "hardsigmoid",
            "hardswish", "logsigmoid", "mish", "tanhshrink", "softshrink", "hardshrink", "prelu",
            "glu", "softmin"]
__all__ += ["smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
            "cosine_embedding_loss", "normalize", "cosine_similarity", "pairwise_distance"]
__all__ += ["conv1d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "avg_pool1d",
            "adaptive_max_pool2d", "adaptive_max_pool1d", "adaptive_avg_pool1d", "max_unpool2d",
            "interpolate", "upsample"]
__all__ += ["bilinear"]
__all__ += ["group_norm", "instance_norm"]
__all__ += ["soft_margin_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss",
            "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"]
__all__ += ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle"]
__all__ += ["threshold"]
