"""A small synthetic course for tito's own tests.

The real modules are being written while tito is; tito's tests must not wait for them. This
builds, in a temporary folder, a course with the same layout and the real registry's module
numbers and file names, but a few-line ``tinytorch`` written on plain Python lists:

* module 01 (``core/tensor.py``): ``add`` and ``mul``, plus ``add_backward`` tagged ``05``;
* module 02 (``core/activations.py``): ``relu``;
* module 04 (``core/losses.py``): ``mse``;
* module 05 (``core/autograd.py``): ``grad_of_square``;
* graded tests for modules 01, 02, 04 and 05 (01 and 02 print input, expected and got);
* milestone ``01_perceptron`` and ``benchmarks/run.py`` that report which tinytorch they ran;
* a hostile ``conftest.py`` and ``pyproject.toml`` at the root that would put the reference
  first on ``sys.path`` if a graded run ever loaded them.

Point tito at it with ``TITO_REPO_ROOT=<root>`` (subprocess) or ``Course(<root>)``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

TITO_HOME = Path(__file__).resolve().parent.parent  # the checkout holding the real tito

FILES = {
    "tinytorch/__init__.py": '''
        """The fixture's tinytorch: a stand-in with the real package's layout."""
        from tinytorch.core.activations import relu
        from tinytorch.core.autograd import grad_of_square
        from tinytorch.core.losses import mse
        from tinytorch.core.tensor import Tensor, add, add_backward, mul
        ''',
    "tinytorch/core/__init__.py": "",
    "tinytorch/core/tensor.py": '''
        """Module 01: a list-backed tensor."""


        class Tensor:
            def __init__(self, data):
                self.data = [float(v) for v in data]

            def numpy(self):
                return self.data

            def __repr__(self):
                return f"Tensor({self.data})"


        def add(a, b):
            """Elementwise a + b."""
            # BEGIN SOLUTION
            return Tensor([x + y for x, y in zip(a.numpy(), b.numpy())])
            # END SOLUTION


        def mul(a, b):
            """Elementwise a * b."""
            # BEGIN SOLUTION
            return Tensor([x * y for x, y in zip(a.numpy(), b.numpy())])
            # END SOLUTION


        def add_backward(grad):
            """Gradient of a + b: the upstream gradient, to both inputs."""
            # BEGIN SOLUTION 05
            return grad, grad
            # END SOLUTION
        ''',
    "tinytorch/core/activations.py": '''
        """Module 02: activations."""

        from tinytorch.core.tensor import Tensor


        def relu(x):
            """max(x, 0), elementwise."""
            # BEGIN SOLUTION
            return Tensor([v if v > 0 else 0.0 for v in x.numpy()])
            # END SOLUTION
        ''',
    "tinytorch/core/losses.py": '''
        """Module 04: losses."""


        def mse(pred, target):
            """Mean of squared differences."""
            # BEGIN SOLUTION
            return sum((p - t) ** 2 for p, t in zip(pred.numpy(), target.numpy())) / len(pred.numpy())
            # END SOLUTION
        ''',
    "tinytorch/core/autograd.py": '''
        """Module 05: gradients."""


        def grad_of_square(x):
            """d(x**2)/dx."""
            # BEGIN SOLUTION
            return 2 * x
            # END SOLUTION
        ''',
    "tinytorch/testing.py": '''
        """Assertions that print input, expected and got."""


        def assert_close(got, expected, what, inputs):
            got = list(getattr(got, "data", got))
            expected = list(getattr(expected, "data", expected))
            if len(got) != len(expected) or any(abs(g - e) > 1e-9 for g, e in zip(got, expected)):
                shown = ", ".join(f"{k}={getattr(v, 'data', v)}" for k, v in inputs.items())
                raise AssertionError(f"{what}: input {shown}, expected {expected}, got {got}")
        ''',
    "modules/01_tensor/README.md": "# Module 01: Tensor\n",
    "modules/01_tensor/lab.py": "# %%\nimport tinytorch\nprint('lab imported', tinytorch.__file__)\n"
                                "print(tinytorch.add)\n",
    "modules/01_tensor/tests/test_tensor.py": '''
        import tinytorch as tt
        from tinytorch.testing import assert_close


        def test_add():
            a, b = tt.Tensor([1, 2, 3]), tt.Tensor([10, 20, 30])
            assert_close(tt.add(a, b), [11, 22, 33], "add(a, b)", {"a": a, "b": b})


        def test_mul():
            a, b = tt.Tensor([1, 2, 3]), tt.Tensor([2, 2, -1])
            assert_close(tt.mul(a, b), [2, 4, -3], "mul(a, b)", {"a": a, "b": b})


        def test_tensor_keeps_data():
            assert tt.Tensor([1, 2]).numpy() == [1.0, 2.0]
        ''',
    "modules/02_activations/README.md": "# Module 02: Activations\n",
    "modules/02_activations/tests/test_activations.py": '''
        import tinytorch as tt
        from tinytorch.testing import assert_close


        def test_relu():
            x = tt.Tensor([-2, -0.5, 0, 1.5])
            assert_close(tt.relu(x), [0, 0, 0, 1.5], "relu(x)", {"x": x})


        def test_relu_after_add():
            x = tt.add(tt.Tensor([-1, 1]), tt.Tensor([0.5, 0.5]))
            assert_close(tt.relu(x), [0, 1.5], "relu(x)", {"x": x})
        ''',
    "modules/03_layers/README.md": "# Module 03: Layers (a guide, no tests yet)\n",
    "modules/04_losses/tests/test_losses.py": '''
        import tinytorch as tt


        def test_mse():
            assert tt.mse(tt.Tensor([1, 2]), tt.Tensor([1, 4])) == 2.0
        ''',
    "modules/05_autograd/README.md": "# Module 05: Autograd\n",
    "modules/05_autograd/tests/test_autograd.py": '''
        import tinytorch as tt


        def test_grad_of_square():
            assert tt.grad_of_square(3.0) == 6.0


        def test_add_backward():
            assert tt.add_backward(1.5) == (1.5, 1.5)
        ''',
    "milestones/01_perceptron/run.py": '''
        """Fixture milestone: writes which tinytorch it ran into metrics.json."""
        import argparse
        import json
        import pathlib

        import tinytorch as tt

        p = argparse.ArgumentParser()
        p.add_argument("--out", required=True)
        p.add_argument("--epochs", type=int, default=1)
        args = p.parse_args()
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        y = tt.relu(tt.add(tt.Tensor([1, -3]), tt.Tensor([1, 1])))
        (out / "metrics.json").write_text(json.dumps(
            {"tinytorch": tt.__file__, "y": y.numpy(), "epochs": args.epochs}))
        print("milestone done", y.numpy())
        ''',
    "benchmarks/run.py": '''
        import sys

        import tinytorch

        print("bench args", sys.argv[1:])
        print("bench tinytorch", tinytorch.__file__)
        ''',
    # hostile: if a graded run loaded these, the reference would shadow the workspace
    "conftest.py": '''
        import os
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        for name in [n for n in sys.modules if n == "tinytorch" or n.startswith("tinytorch.")]:
            del sys.modules[name]
        ''',
    "pyproject.toml": '''
        [tool.pytest.ini_options]
        pythonpath = ["."]
        addopts = "--import-mode=prepend"
        ''',
}

# the reference bodies, as a learner would type them into the workspace
SOLUTIONS = {
    "add": "return Tensor([x + y for x, y in zip(a.numpy(), b.numpy())])",
    "mul": "return Tensor([x * y for x, y in zip(a.numpy(), b.numpy())])",
    "relu": "return Tensor([v if v > 0 else 0.0 for v in x.numpy()])",
}


def make_course(root: Path) -> Path:
    """Write the fixture course under ``root`` and return ``root``.

    ``modules/conftest.py`` is the real one (a plain ``pytest modules/...`` must grade the
    workspace it is meant to), and ``.gitignore`` the real course's (workspaces, runs).
    """
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    for rel in ("modules/conftest.py", ".gitignore"):
        if (TITO_HOME / rel).is_file():
            (root / rel).write_text((TITO_HOME / rel).read_text())
    return root


def fill_stub(path: Path, qualname: str, body: str) -> None:
    """Replace the stub of ``qualname`` in a workspace file by ``body``, as a learner would."""
    text = path.read_text()
    marker = f'implement {qualname} -- '
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "raise NotImplementedError(" in line and marker in line:
            indent = line[:len(line) - len(line.lstrip())]
            lines[i] = indent + body + "\n"
            path.write_text("".join(lines))
            return
    raise AssertionError(f"no stub for {qualname} in {path}")


def paste_reference(workspace: Path, course_root: Path, module: int) -> int:
    """Type the reference solution of every region of ``module`` into the workspace.

    What a learner who got everything right would have written; returns the regions filled.
    """
    from tito.course import Course
    from tito.regions import parse_regions, replace_bodies

    course = Course(course_root)
    filled = 0
    for rel in course.files_of(module):
        ref_lines = course.read(rel).splitlines(keepends=True)
        ref = course.regions(rel)
        path = workspace / rel
        text = path.read_text()
        mine = parse_regions(text, course.owner(rel), rel)
        bodies = {i: ref[i].body(ref_lines) for i, r in enumerate(mine) if r.module == module}
        path.write_text(replace_bodies(text, mine, bodies))
        filled += len(bodies)
    return filled


def tito(*args: str, course: Path | None, cwd: Path, env: dict | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m tito.main ARGS`` as a learner would, on the fixture course if given."""
    e = dict(os.environ)
    e.pop("TITO_WORKSPACE", None)
    if course is not None:
        e["TITO_REPO_ROOT"] = str(course)
    else:
        e.pop("TITO_REPO_ROOT", None)
    e["PYTHONPATH"] = os.pathsep.join([str(TITO_HOME), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e["COLUMNS"] = "200"  # rich wraps at 80 columns when not on a terminal
    e["NO_COLOR"] = "1"
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "tito.main", *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=timeout)
