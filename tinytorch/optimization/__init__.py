"""Coming with its module (see tito/registry.py)."""


def __getattr__(name):
    # tt.optimization.acceleration (and every other submodule) without an explicit import;
    # imported on first use, so `import tinytorch` stays light
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
