"""tito: the TinyTorch course command-line tool (workspaces, module tests, milestones, benchmarks)."""
