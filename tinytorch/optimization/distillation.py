"""Module 16 -- knowledge distillation (Hinton, Vinyals and Dean, 2015).

A big trained *teacher* knows more than its argmax: the probabilities it gives to the wrong
classes (a 7 that looks a bit like a 1) are "dark knowledge". A small *student* learns from
them by matching the teacher's softened distribution:

    p_T = softmax(teacher / T)          q_T = softmax(student / T)
    soft = KL(p_T || q_T) * T^2         the teacher's distribution is the target
    loss = alpha * soft + (1 - alpha) * cross_entropy(student, labels)

The direction matters: ``KL(p || q) = sum p (log p - log q)`` weighs the error by the
teacher's probabilities, so the student is pushed to cover everything the teacher believes
(PyTorch spells it ``F.kl_div(log q, p, reduction="batchmean")``: the *input* is the
student's log-probabilities, the *target* the teacher's). A temperature ``T > 1`` flattens
both distributions so the small probabilities carry gradient; the soft gradient scales as
``1 / T^2``, hence the ``T^2`` that keeps the two terms balanced when T changes.
"""

from __future__ import annotations

from tinytorch.core.activations import log_softmax
from tinytorch.core.losses import cross_entropy
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["soft_target_loss", "distillation_loss", "DistillationLoss"]


def soft_target_loss(student_logits: Tensor, teacher_logits: Tensor,
                     temperature: float = 4.0) -> Tensor:
    """``KL(softmax(teacher/T) || softmax(student/T)) * T^2``, averaged over the batch.

    Shapes: logits (N, C). The teacher is a fixed target: no gradient flows into it.
    """
    if tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ValueError(f"student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape (N, C)")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    t = float(temperature)
    teacher_logits = teacher_logits.detach()
    n = student_logits.shape[0] if student_logits.ndim > 1 else 1
    # BEGIN SOLUTION
    log_p = log_softmax(teacher_logits / t, dim=-1)  # the teacher's (target) log-probabilities
    log_q = log_softmax(student_logits / t, dim=-1)
    kl = (log_p.exp() * (log_p - log_q)).sum() / n  # KL(p || q), summed over classes, per sample
    return kl * (t * t)
    # END SOLUTION


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, target=None,
                      temperature: float = 4.0, alpha: float = 0.9) -> Tensor:
    """``alpha * soft_target_loss + (1 - alpha) * cross_entropy(student, target)``.

    ``target``: class ids (N,); without it (or with ``alpha=1``) only the soft term.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    soft = soft_target_loss(student_logits, teacher_logits, temperature)
    if target is None or alpha == 1:
        return soft
    return alpha * soft + (1 - alpha) * cross_entropy(student_logits, target)


class DistillationLoss(Module):
    """Module form: ``DistillationLoss(temperature=4, alpha=0.9)(student, teacher, target)``."""

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9):
        super().__init__()
        self.temperature, self.alpha = temperature, alpha

    def forward(self, student_logits, teacher_logits, target=None):
        return distillation_loss(student_logits, teacher_logits, target, self.temperature,
                                 self.alpha)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, alpha={self.alpha}"
