"""Graded pytest runs without paying Python's start-up each time: a fork server.

A graded run (``tito/grading.py``) is a fresh ``python -m pytest`` process, so that the chosen
``tinytorch`` is the one imported. About a second of each run is start-up: the interpreter,
then importing pytest, NumPy and hypothesis. The mutation check runs a module's tests once per
planted bug (hundreds of runs), so that second is most of its time.

The fork server is a long-lived process that imports those libraries once -- and nothing of
``tinytorch`` -- then, for each run, ``os.fork()``s a child that becomes the process the
subprocess would have been: its own process group, the same environment (``grading_env``), the
same working directory, the ``sys.path`` that ``PYTHONPATH`` would have given it, output to a
file, and ``pytest.main`` with the same arguments (so ``tito.pytest_guard`` still checks that
the graded ``tinytorch`` is the one imported, and writes the same report). The child exits with
pytest's exit code. A run that outlives its timeout is killed with its whole process group.

Linux only (``fork`` after importing NumPy is not safe on macOS); elsewhere, and for every
learner-facing command, grading uses the plain subprocess.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

TITO_HOME = Path(__file__).resolve().parent.parent  # the folder that makes `tito` importable


def available() -> bool:
    """True where a fork server can be used (Linux, with ``os.fork`` and ``os.pidfd_open``).

    ``TITO_FORKSERVER=0`` turns it off: every run is a new interpreter, as before it existed.
    """
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and hasattr(os, "pidfd_open") and os.environ.get("TITO_FORKSERVER", "1") != "0")


class ForkServerError(RuntimeError):
    """The server process died or answered nonsense: no run result can be trusted."""


class ForkServer:
    """Client side: one server process; :meth:`run` is one graded pytest run (one at a time)."""

    def __init__(self):
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "TINYTORCH_EXPECT_ROOT",
                            "TITO_REPORT")}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(TITO_HOME)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return subprocess.Popen([sys.executable, "-m", "tito.forkserver"], env=env,
                                cwd=str(TITO_HOME), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)

    def run(self, args: list[str], env: dict[str, str], cwd: Path, output: Path,
            timeout: float | None = None) -> tuple[int, bool]:
        """Run ``pytest args`` as ``python -m pytest`` would in ``cwd`` with ``env``.

        Returns ``(returncode, timed_out)``; pytest's output goes to the file ``output``.
        """
        request = json.dumps({"args": list(args), "env": dict(env), "cwd": str(cwd),
                              "output": str(output), "timeout": timeout})
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            try:
                self._proc.stdin.write(request + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except (BrokenPipeError, OSError) as e:
                self._proc = None
                raise ForkServerError(f"the fork server stopped: {e}") from e
            if not line:
                code = self._proc.wait()
                self._proc = None
                raise ForkServerError(f"the fork server exited (code {code}) during a run")
        answer = json.loads(line)
        return int(answer["returncode"]), bool(answer["timed_out"])

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.stdin.close()  # end of requests: the server exits
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


_local = threading.local()
_all: list[ForkServer] = []


def shared() -> ForkServer:
    """This thread's fork server (started on first use, stopped when the process exits)."""
    server = getattr(_local, "server", None)
    if server is None:
        server = _local.server = ForkServer()
        _all.append(server)
    return server


@atexit.register
def _close_all() -> None:
    for server in _all:
        server.close()


# ------------------------------------------------------------------------------ server side

def _preimport() -> None:
    """What every graded run imports before its first test, minus ``tinytorch`` itself."""
    import importlib

    import pytest  # noqa: F401
    from _pytest.config import default_plugins

    for name in default_plugins:  # pytest imports its built-in plugins while configuring
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    # not hypothesis: it fixes its storage folder from the working directory when imported;
    # numpy.random is reseeded in each child, as a fresh import would seed it
    for name in ("numpy", "numpy.random", "pdb", "faulthandler", "tito.grading"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if "tinytorch" in sys.modules:  # a child must import the graded copy, never this one
        raise SystemExit("fork server: tinytorch was imported before forking")


def _child(request: dict, base_path: list[str], proto: list[int]) -> None:
    """Become the ``python -m pytest`` process of ``request``; never returns."""
    code = 70
    try:
        os.setpgid(0, 0)  # a timeout kills this run and anything it started, nothing else
        for fd in proto:
            os.close(fd)
        out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        env = request["env"]
        os.environ.clear()
        os.environ.update(env)
        cwd = request["cwd"]
        os.chdir(cwd)
        sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
        # what `python -m pytest` in cwd with this PYTHONPATH starts with
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [cwd, *extra, *base_path]
        sys.path_importer_cache.clear()
        import importlib

        importlib.invalidate_caches()
        if "numpy.random" in sys.modules:  # a fresh process seeds NumPy's global RNG anew
            sys.modules["numpy.random"].seed()
        import pytest

        code = int(pytest.main(request["args"]))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001  (report it as a crashed run, like a dying process)
        import traceback

        traceback.print_exc()
        code = 71
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, timeout: float | None) -> tuple[int, bool]:
    """Wait for the child ``pid``; kill its process group after ``timeout`` seconds."""
    import select

    timed_out = False
    if timeout is not None:
        fd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        if not ready:
            timed_out = True
            try:
                os.killpg(pid, 9)
            except ProcessLookupError:
                pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), timed_out


def serve() -> None:
    """Read one JSON request per line on stdin, answer one JSON line per run on stdout."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # anything printed by the server itself is not a protocol line
    os.close(null)
    # the interpreter's own entries: sys.path minus the script folder and PYTHONPATH's
    skip = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    base_path = [p for p in sys.path[1:] if os.path.abspath(p) not in skip]
    _preimport()
    # what is imported now lives as long as the server: the children's garbage collections
    # (pytest runs five at its end) need not walk it, nor copy its pages by touching them
    gc.freeze()
    proto = [proto_in.fileno(), proto_out.fileno()]
    for line in proto_in:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, base_path, proto)
        returncode, timed_out = _wait(pid, request.get("timeout"))
        proto_out.write(json.dumps({"returncode": returncode, "timed_out": timed_out}) + "\n")
        proto_out.flush()


if __name__ == "__main__":
    serve()
