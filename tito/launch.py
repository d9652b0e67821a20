"""Run a script on a chosen tinytorch: ``python tito/launch.py PKG_DIR SCRIPT [ARGS...]``.

Used for milestones and benchmarks. The caller puts the folder holding ``PKG_DIR`` first on
``PYTHONPATH``; this launcher then behaves like ``python SCRIPT ARGS`` (the script's folder
first on ``sys.path``, ``__name__ == "__main__"``) after checking that ``import tinytorch``
really finds ``PKG_DIR``. It imports nothing from tito, so it runs from a bare file path.
"""

import os
import runpy
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    expected, script, args = os.path.realpath(argv[0]), os.path.realpath(argv[1]), argv[2:]
    sys.path[0] = os.path.dirname(script)  # as `python SCRIPT` would have it, not tito/
    import tinytorch

    got = os.path.dirname(os.path.realpath(tinytorch.__file__))
    if got != expected:
        print(f"ISOLATION FAILURE: tinytorch was imported from {got}, expected {expected}. "
              "Nothing was run.", file=sys.stderr)
        return 13
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
