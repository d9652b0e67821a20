"""Coming with its module (see tito/registry.py)."""
