"""Shared setup for the framework-wide tests.

The suite runs with ``--import-mode=importlib`` (test files in different folders may share a
name), so pytest does not put this folder on ``sys.path``; helpers such as ``op_cases`` are
imported from here explicitly.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
