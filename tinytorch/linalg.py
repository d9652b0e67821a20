"""``tinytorch.linalg``: the part of ``torch.linalg`` that everyday code uses (a face).

Vector norms only; matrix decompositions (svd, eig, solve ...) are not part of tinytorch.
"""

from tinytorch.core.ops_reduce import vector_norm

__all__ = ["vector_norm"]
