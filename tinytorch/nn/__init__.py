"""``tinytorch.nn``: layers and modules under PyTorch's names. A face: re-exports only."""

from tinytorch.core.activations import (GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                                        Tanh)
from tinytorch.core.activations_extra import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid,
                                              Hardswish, Hardtanh, LogSigmoid, Mish, PReLU,
                                              ReLU6, Softmax2d, Softmin, Softplus, Softshrink,
                                              Softsign, Tanhshrink, Threshold)
from tinytorch.core.losses_extra import (CosineEmbeddingLoss, CosineSimilarity, HuberLoss,
                                         KLDivLoss, MarginRankingLoss, PairwiseDistance,
                                         SmoothL1Loss)
from tinytorch.core.losses_more import (GaussianNLLLoss, HingeEmbeddingLoss,
                                        MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss,
                                        TripletMarginLoss)
from tinytorch.core.layernorm import LayerNorm, RMSNorm
from tinytorch.core.layers import (Dropout, Flatten, Identity, Linear, ModuleDict, ModuleList,
                                   Sequential)
from tinytorch.core.losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,
                                   NLLLoss)
from tinytorch.core.module import Module, Parameter
from tinytorch.core.multihead_attention import MultiheadAttention
from tinytorch.core.normalization import BatchNorm1d, BatchNorm2d
from tinytorch.core.conv import Conv2d
from tinytorch.core.dropout2d import Dropout2d
from tinytorch.core.conv1d import Conv1d
from tinytorch.core.patches import Fold, PixelShuffle, PixelUnshuffle, Unfold
from tinytorch.core.group_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d
from tinytorch.core.padding_layers import (CircularPad1d, CircularPad2d, ConstantPad1d,
                                           ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                                           ReplicationPad1d, ReplicationPad2d, ZeroPad1d,
                                           ZeroPad2d)
from tinytorch.core.layers_extra import Bilinear, DataParallel, Unflatten
from tinytorch.core.conv_transpose import ConvTranspose1d, ConvTranspose2d
from tinytorch.core.pooling_extra import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                                          AvgPool1d, MaxPool1d, MaxUnpool2d)
from tinytorch.core.resample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from tinytorch.core.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from tinytorch.core.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from tinytorch.core.param_containers import ParameterDict, ParameterList
from tinytorch.models.transformer import TransformerEncoder, TransformerEncoderLayer
from tinytorch.models.transformer_full import (Transformer, TransformerDecoder,
                                               TransformerDecoderLayer)
from tinytorch.nn import functional, init, utils
from tinytorch.text.embeddings import Embedding

__all__ = ["Module", "Parameter", "functional", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh",
           "SiLU", "Softmax", "LogSoftmax",
           "init", "Linear", "Sequential", "ModuleList", "ModuleDict", "Dropout", "Identity",
           "Flatten", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "utils",
           "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout2d",
           "BatchNorm1d", "BatchNorm2d", "MultiheadAttention"]
__all__ += ["Embedding"]
__all__ += ["LayerNorm", "RMSNorm"]
__all__ += ["TransformerEncoderLayer", "TransformerEncoder"]
__all__ += ["ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid",
            "Hardswish", "LogSigmoid", "Mish", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU",
            "GLU", "Softmin", "Softmax2d"]
__all__ += ["SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss",
            "CosineSimilarity", "PairwiseDistance"]
__all__ += ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
__all__ += ["Conv1d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "AvgPool1d",
            "AdaptiveMaxPool2d", "AdaptiveMaxPool1d", "AdaptiveAvgPool1d", "MaxUnpool2d",
            "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
__all__ += ["Unflatten", "Bilinear"]
__all__ += ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "ConstantPad1d", "ConstantPad2d",
            "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
            "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]
__all__ += ["SoftMarginLoss", "HingeEmbeddingLoss", "MultiLabelSoftMarginLoss", "TripletMarginLoss",
            "PoissonNLLLoss", "GaussianNLLLoss"]
__all__ += ["Unfold", "Fold", "PixelShuffle", "PixelUnshuffle"]
__all__ += ["Threshold"]
__all__ += ["ParameterList", "ParameterDict"]
__all__ += ["TransformerDecoderLayer", "TransformerDecoder", "Transformer"]
__all__ += ["DataParallel"]
