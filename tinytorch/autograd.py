"""``tinytorch.autograd``: Function, grad mode and gradcheck. A face: re-exports only."""

from tinytorch.core.autograd import (Function, GradcheckError, Node, backward, enable_grad,
                                     gradcheck, is_grad_enabled, no_grad, set_grad_enabled,
                                     unbroadcast)
from tinytorch.core.autograd_grad import grad
from tinytorch.core.anomaly import (detect_anomaly, is_anomaly_check_nan_enabled,
                                    is_anomaly_enabled, set_detect_anomaly)

__all__ = ["Function", "Node", "backward", "gradcheck", "GradcheckError", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "unbroadcast"]
__all__ += ["grad"]
__all__ += ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
            "is_anomaly_check_nan_enabled"]
