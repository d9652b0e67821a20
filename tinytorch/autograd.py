"""``tinytorch.autograd``: Function, grad mode and gradcheck. A face: re-exports only."""

from tinytorch.core.autograd import (Function, GradcheckError, Node, backward, enable_grad,
                                     gradcheck, is_grad_enabled, no_grad, set_grad_enabled,
                                     unbroadcast)
from tinytorch.core.autograd_grad import grad

__all__ = ["Function", "Node", "backward", "gradcheck", "GradcheckError", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "unbroadcast"]
__all__ += ["grad"]
