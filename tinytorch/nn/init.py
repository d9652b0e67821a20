"""``tinytorch.nn.init``: weight initialisation under PyTorch's names. A face: re-exports only."""

from tinytorch.core.init import (_calculate_fan_in_and_fan_out, calculate_gain, constant_,
                                 kaiming_normal_, kaiming_uniform_, normal_, ones_, uniform_,
                                 xavier_normal_, xavier_uniform_, zeros_)
from tinytorch.core.init_extra import eye_, orthogonal_, trunc_normal_

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "_calculate_fan_in_and_fan_out"]
__all__ += ["trunc_normal_", "orthogonal_", "eye_"]
