"""Solution regions: parsing, stubbing, and the errors a malformed region must raise."""

import ast
import textwrap

import pytest

from tito import registry
from tito.course import Course
from tito.regions import (RegionError, parse_regions, replace_bodies, stub_source,
                          surviving_solutions)


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


TWO_MODULES = src('''
    import numpy as np


    class Add:
        @staticmethod
        def forward(ctx, a, b):
            """a + b."""
            # BEGIN SOLUTION
            out = np.add(a, b)
            return out
            # END SOLUTION

        @staticmethod
        def backward(ctx, grad):
            # BEGIN SOLUTION 05
            return grad, grad
            # END SOLUTION


    def relu(x):
        # BEGIN SOLUTION
        if x > 0:
            return x

        return 0
        # END SOLUTION
    ''')


def test_parse_finds_module_line_and_qualname():
    regions = parse_regions(TWO_MODULES, owner=1, path="ops.py")
    assert [(r.module, r.qualname, r.tagged) for r in regions] == [
        (1, "Add.forward", False), (5, "Add.backward", True), (1, "relu", False)]
    lines = TWO_MODULES.splitlines(keepends=True)
    assert lines[regions[0].begin - 1].strip() == "# BEGIN SOLUTION"
    assert lines[regions[0].end - 1].strip() == "# END SOLUTION"
    assert regions[0].indent == " " * 8 and regions[2].indent == " " * 4
    assert "".join(regions[1].body(lines)).strip() == "return grad, grad"


def test_stub_selected_modules_only_and_valid_python():
    out = stub_source(TWO_MODULES, {5}, owner=1, path="ops.py")
    ast.parse(out)
    assert "return grad, grad" not in out
    assert "out = np.add(a, b)" in out and "return 0" in out
    assert ('        raise NotImplementedError("Module 05 (autograd): implement Add.backward '
            '-- see modules/05_autograd/README.md")\n') in out
    # markers stay, so a learner sees where to write and tito can reset later
    assert out.count("# BEGIN SOLUTION") == 3 and out.count("# END SOLUTION") == 3


def test_stub_all_leaves_no_solution_and_keeps_docstring():
    out = stub_source(TWO_MODULES, None, owner=1)
    ast.parse(out)
    assert surviving_solutions(out, owner=1) == []
    assert '"""a + b."""' in out
    assert "Module 01 (tensor): implement relu" in out


def test_stubbing_is_idempotent():
    once = stub_source(TWO_MODULES, None, owner=1)
    assert stub_source(once, None, owner=1) == once


def test_stubbed_function_raises_not_implemented():
    namespace = {}
    exec(stub_source(TWO_MODULES, {1}, owner=1), namespace)
    with pytest.raises(NotImplementedError, match=r"Module 01 \(tensor\): implement relu"):
        namespace["relu"](3)
    assert namespace["Add"].backward(None, 2.0) == (2.0, 2.0)  # module 05 kept


def test_markers_inside_strings_are_not_regions():
    text = src('''
        DOC = """
        # BEGIN SOLUTION
        """


        def f():
            """Example:

            # BEGIN SOLUTION
            """
            return 1  # BEGIN SOLUTION is only a marker alone on its line
        ''')
    assert parse_regions(text, owner=1) == []


def test_region_may_be_a_generator_body_and_the_only_statement():
    text = src('''
        def gen(n):
            # BEGIN SOLUTION
            for i in range(n):
                yield i
            # END SOLUTION


        def only():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        ''')
    out = stub_source(text, None, owner=2)
    ast.parse(out)
    assert "yield" not in out and out.count("raise NotImplementedError") == 2


def test_nested_function_qualname():
    text = src('''
        class Outer:
            def method(self):
                def helper(x):
                    # BEGIN SOLUTION
                    return x
                    # END SOLUTION
                return helper
        ''')
    (r,) = parse_regions(text, owner=3)
    assert r.qualname == "Outer.method.helper"


def test_message_with_quotes_stays_valid_python():
    text = src('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        ''')
    out = stub_source(text, None, owner=1,
                      describe=lambda m: ('Module 01 ("quoted")', "it's\\here.md"))
    ast.parse(out)
    with pytest.raises(NotImplementedError, match="quoted"):
        exec(out + "\nf()\n", {})


def test_replace_bodies_round_trip():
    regions = parse_regions(TWO_MODULES, owner=1)
    out = replace_bodies(TWO_MODULES, regions, {1: ["            return -grad, grad\n"]})
    assert "return -grad, grad" in out and "return grad, grad" not in out
    assert replace_bodies(TWO_MODULES, regions, {}) == TWO_MODULES


@pytest.mark.parametrize("text, problem", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n"
     "    # END SOLUTION\n    # END SOLUTION\n", "cannot nest"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION five\n    return 1\n    # END SOLUTION\n",
     "unreadable module tag"),
    ("def f():\n    # BEGIN SOLUTION 77\n    return 1\n    # END SOLUTION\n",
     "not in the registry"),
    ("def f():\n    # BEGIN SOLUTION 05\n    return 1\n    # END SOLUTION 04\n", "closes a region"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n  # END SOLUTION\n", "indented differently"),
    ("def f():\n        # BEGIN SOLUTION\n    return 1\n        # END SOLUTION\n",
     "indented less"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "module level"),
    ("class A:\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", "class A"),
])
def test_malformed_regions_raise_with_line(text, problem):
    with pytest.raises(RegionError, match=problem) as info:
        parse_regions(text, owner=1, path="bad.py", known_modules=range(1, 21))
    assert info.value.path == "bad.py" and info.value.line >= 1
    assert str(info.value).startswith("bad.py:")


def test_untagged_region_in_unowned_file_is_an_error():
    text = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    with pytest.raises(RegionError, match="no module owns"):
        parse_regions(text, owner=None)
    assert parse_regions(text.replace("SOLUTION\n    return", "SOLUTION 03\n    return"),
                         owner=None)[0].module == 3


def test_toplevel_regions_allowed_outside_the_package():
    text = "# BEGIN SOLUTION\nx = 1\n# END SOLUTION\nprint(x)\n"
    out = stub_source(text, None, owner=4, require_function=False)
    assert 'raise NotImplementedError("Module 04 (losses): implement this part' in out


def test_every_region_of_the_reference_package_parses_and_stubs():
    """The real package's regions are well formed, and fully stubbed it still parses."""
    course = Course.current()
    seen = 0
    for rel in course.package_files():
        regions = course.regions(rel)  # raises RegionError on a malformed region
        for r in regions:
            assert r.qualname, f"{rel}:{r.begin}: region outside a function"
        if regions:
            ast.parse(course.render(rel, {m.number for m in registry.MODULES}).decode())
            seen += len(regions)
    assert seen > 0
