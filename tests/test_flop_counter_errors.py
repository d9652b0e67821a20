"""FlopCounterMode refuses what it cannot use when it is built, saying what to pass instead."""

import pytest

from tinytorch.profiling import FlopCounterMode


def test_mods_that_are_not_modules_are_refused_at_construction():
    with pytest.raises(TypeError, match=r"mods must be nn.Module\(s\), got str"):
        FlopCounterMode(mods="model")


def test_custom_mapping_needs_function_classes_and_formulas():
    with pytest.raises(TypeError, match="custom_mapping maps an op's Function class"):
        FlopCounterMode(custom_mapping={"matmul": 1})
