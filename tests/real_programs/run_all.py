"""Run the real PyTorch programs in one process, with PyTorch or with tinytorch as ``torch``.

    python run_all.py torch|tinytorch [--seed-offset K] [name ...]

One process per framework (importing PyTorch costs seconds; the programs are short), each
program with ``runpy`` in a fresh temporary working directory, its stdout captured. The last
line printed is a JSON object: program -> {"ok", "final" (the program's own JSON line) or
"error" (the last lines of the traceback), "seconds"}. ``--seed-offset`` adds K to every
``torch.manual_seed`` call, to measure how far PyTorch's own final losses spread over seeds.
"""

import contextlib
import io
import json
import os
import runpy
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
WLM = HERE / "word_language_model"

_WLM_ARGS = ["--data", str(WLM / "data"), "--emsize", "32", "--nhid", "32", "--bptt", "20",
             "--batch_size", "10", "--log-interval", "50"]

# name -> (program file, its command-line arguments: the programs' own flags, smaller runs)
PROGRAMS = {
    "quickstart.py": ("quickstart.py", []),
    "autograd_tutorial.py": ("autograd_tutorial.py", []),
    "learning_with_examples.py": ("learning_with_examples.py", []),
    "regression.py": ("regression.py", []),
    "mnist_cnn.py": ("mnist_cnn.py", ["--epochs", "2", "--batch-size", "32",
                                      "--log-interval", "100"]),
    "vae.py": ("vae.py", ["--epochs", "3", "--log-interval", "100"]),
    "makemore_bigram.py": ("makemore_bigram.py", []),
    "makemore_mlp.py": ("makemore_mlp.py", []),
    "resnet_cifar.py": ("resnet_cifar.py", []),
    "word_language_model/main.py": ("word_language_model/main.py",
                                    _WLM_ARGS + ["--epochs", "2", "--dropout", "0.2"]),
    "word_language_model/main.py --model Transformer": (
        "word_language_model/main.py", _WLM_ARGS + ["--model", "Transformer", "--epochs", "1",
                                                    "--lr", "5"]),
}


def _run(name: str) -> dict:
    rel, args = PROGRAMS[name]
    path = HERE / rel
    start = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(HERE / "names.txt", tmp)
        old_cwd, old_path, old_argv = os.getcwd(), list(sys.path), sys.argv
        os.chdir(tmp)
        sys.path[:0] = [str(path.parent), str(HERE)]
        sys.argv = [str(path), *args]
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(str(path), run_name="__main__")
            last = out.getvalue().strip().splitlines()[-1]
            result = {"ok": True, "final": json.loads(last)}
        except BaseException as e:  # noqa: BLE001 -- SystemExit from argparse too
            tb = traceback.format_exception(type(e), e, e.__traceback__)
            result = {"ok": False, "error": "".join(tb[-6:])[-2500:]}
        finally:
            os.chdir(old_cwd)
            sys.path[:], sys.argv = old_path, old_argv
    result["seconds"] = round(time.process_time() - start, 2)
    return result


def main(argv):
    framework, rest = argv[0], argv[1:]
    offset = 0
    if rest[:1] == ["--seed-offset"]:
        offset, rest = int(rest[1]), rest[2:]
    if framework == "tinytorch":
        sys.path.insert(0, str(HERE.parent / "compat_programs"))
        import torch_as_tinytorch

        torch_as_tinytorch.install()
    import torch

    if offset:
        seed = torch.manual_seed
        torch.manual_seed = lambda s: seed(s + offset)
    results = {name: _run(name) for name in (rest or PROGRAMS)}
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
