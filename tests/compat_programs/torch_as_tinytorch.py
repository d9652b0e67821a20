"""Run a PyTorch program with tinytorch imported under the name ``torch``.

    python torch_as_tinytorch.py program.py [args...]

Every ``import torch`` / ``import torch.X`` / ``from torch.X import Y`` of the program gets
``tinytorch`` / ``tinytorch.X``: a meta-path finder maps the names, nothing in the program
changes. This is how the compatibility programs check "swap the import".
"""

import importlib
import importlib.abc
import importlib.util
import runpy
import sys


class _TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch`` and ``torch.*`` and loads them as the matching ``tinytorch`` module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            real = "tinytorch" + fullname[len("torch"):]
            if importlib.util.find_spec(real) is None:
                return None  # `import torch.cuda.amp`: ModuleNotFoundError naming torch.*
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("tinytorch" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass  # already executed as tinytorch.*


def install() -> None:
    sys.meta_path.insert(0, _TorchAlias())


if __name__ == "__main__":
    install()
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(program, run_name="__main__")
