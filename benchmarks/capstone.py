"""The capstone from the command line: ``tito benchmark capstone | verify | board``.

A thin entry point (tito runs scripts by path, with the chosen tinytorch on the path); the
work is in ``tinytorch/capstone/cli.py``:

    python benchmarks/capstone.py capstone --out runs/capstone [--arch cnn] [--quick]
                                           [--submit DIR --variant int8_static --name Ada]
    python benchmarks/capstone.py verify DIR          # re-evaluate and re-time a submission
    python benchmarks/capstone.py board DIR           # DIR/index.html, a static leaderboard
"""

import sys

from tinytorch.capstone.cli import main

if __name__ == "__main__":
    sys.exit(main())
