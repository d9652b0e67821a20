"""``tinytorch.optim``: optimizers and learning-rate schedules, PyTorch's names. A face.

    opt = tt.optim.AdamW(model.parameters(), lr=3e-4)
    sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
"""

from tinytorch.core.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from tinytorch.core.optimizers_extra import Adadelta, Adagrad
from tinytorch.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
__all__ += ["Adagrad", "Adadelta"]
