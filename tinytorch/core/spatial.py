"""Module 09 -- spatial: the layers that see an image as an image, one file per job.

This file only re-exports; the code lives in

* ``core/windows.py``   -- sliding-window geometry shared by convolution and pooling;
* ``core/im2col.py``    -- im2col / col2im and the engine's memory layouts;
* ``core/conv.py``      -- convolution: the naive loops, the im2col engine, ``Conv2d``;
* ``core/pooling.py``   -- max, average and adaptive average pooling;
* ``core/padding.py``   -- ``F.pad`` (constant, reflect, replicate, circular);
* ``core/dropout2d.py`` -- channel dropout.

``from tinytorch.core.spatial import conv2d`` keeps working for code written against the
single file this used to be.
"""

from tinytorch.core.conv import Conv2d, conv2d, conv2d_naive
from tinytorch.core.dropout2d import Dropout2d, dropout2d
from tinytorch.core.im2col import (BATCH_LAST, BATCH_SECOND, col2im, conv_layout, im2col,
                                   to_layout)
from tinytorch.core.padding import pad
from tinytorch.core.pooling import (AdaptiveAvgPool2d, AvgPool2d, MaxPool2d,
                                    adaptive_avg_pool2d, avg_pool2d, max_pool2d,
                                    max_pool2d_naive)
from tinytorch.core.windows import conv_output_size

__all__ = [
    "conv2d", "conv2d_naive", "max_pool2d", "max_pool2d_naive", "avg_pool2d",
    "adaptive_avg_pool2d", "pad", "dropout2d", "im2col", "col2im", "to_layout",
    "conv_layout", "conv_output_size", "BATCH_SECOND", "BATCH_LAST",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout2d",
]
