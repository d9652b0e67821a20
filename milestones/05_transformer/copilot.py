"""Part (c) of milestone 05, "TinyCopilot": the language model writes the body of functions it
has never seen, and Python's own parser judges the result.

Headers come from the held-out files (never trained on): top-level ``def`` statements whose
signature fits on one line. The prompt is the file up to and including the header line; the
model sees only its last ``max_seq_len`` characters, about one line. A completion is cut where
a code editor would stop it: at the first non-blank line that is back at column 0 (the
function is over), or, if the budget of characters runs out first, before the last,
unfinished line. It *parses* when ``ast.parse(header + completion)`` succeeds and the body has
at least one statement.
"""

from __future__ import annotations

import ast

import numpy as np


def headers(texts: list[str], names: list[str], n: int = 10, max_len: int = 80) -> list[dict]:
    """``n`` function headers spread evenly over the held-out files, in a fixed order.

    Each is a dict: ``file``, ``line`` (1-based), ``header`` (the ``def`` line), ``prefix``
    (the file's text before the header line).
    """
    found = []
    for text, name in zip(texts, names):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue  # not Python: no headers from this file
        lines = text.splitlines(keepends=True)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.body:
                continue
            start, first_body = node.lineno - 1, node.body[0].lineno - 1
            if first_body != start + 1:  # a multi-line signature, or a one-line function
                continue
            header = lines[start].rstrip("\n")
            if len(header) > max_len or not header.rstrip().endswith(":"):
                continue
            found.append({"file": name, "line": start + 1, "header": header,
                          "prefix": "".join(lines[:start])})
    if len(found) <= n:
        return found
    pick = np.linspace(0, len(found) - 1, n).round().astype(int)
    return [found[i] for i in pick]


def cut(completion: str, budget_exhausted: bool = True) -> str:
    """The body a code editor would insert: lines up to the first non-blank line at column 0;
    without one (the character budget ran out mid-function) the last line is dropped as
    unfinished."""
    lines = completion.split("\n")
    for k, line in enumerate(lines):
        if line.strip() and not line[0].isspace():
            return "\n".join(lines[:k]).rstrip() + "\n"
    if budget_exhausted and len(lines) > 1:
        lines = lines[:-1]
    return "\n".join(lines).rstrip() + "\n"


def parses(header: str, body: str) -> bool:
    """True when ``header`` + ``body`` is a valid Python function with a non-empty body."""
    if not body.strip():
        return False
    try:
        tree = ast.parse(header + "\n" + body)
    except (SyntaxError, ValueError):
        return False
    return bool(tree.body) and isinstance(tree.body[0], (ast.FunctionDef,
                                                          ast.AsyncFunctionDef))


def complete(model, tokenizer, items: list[dict], max_new_tokens: int, temperature: float,
             top_k: int | None, generator) -> list[dict]:
    """Complete every header in one batch; returns the items with ``completion``, ``body`` and
    ``parses`` added.

    All prompts are cut to the same length (the model's context), so they batch without
    padding: the model never saw a padding token and would be confused by one.
    """
    import tinytorch as tt

    T = model.max_seq_len
    prompts = []
    for it in items:
        ids = tokenizer.encode(it["prefix"] + it["header"] + "\n")
        ids = ids[-T:]
        if len(ids) < T:  # a header at the very start of a file: repeat blank lines before it
            ids = tokenizer.encode("\n") * (T - len(ids)) + ids
        prompts.append(ids)
    out = model.generate(tt.tensor(np.array(prompts, dtype=np.int64)), max_new_tokens,
                         temperature=temperature, top_k=top_k, generator=generator)
    new = out.numpy()[:, T:]
    results = []
    for it, row in zip(items, new):
        completion = tokenizer.decode(row.tolist())
        body = cut(completion)
        results.append({**{k: v for k, v in it.items() if k != "prefix"},
                        "completion": completion, "body": body,
                        "parses": parses(it["header"], body)})
    return results


def write_report(results: list[dict], path) -> None:
    """The completions as a readable text file: header, what the model wrote, the verdict."""
    parts = []
    for k, r in enumerate(results, 1):
        verdict = "PARSES" if r["parses"] else "does not parse"
        parts.append(f"# --- {k}. {r['file']}:{r['line']} -- {verdict}\n"
                     f"{r['header']}\n{r['body']}"
                     f"# (raw completion, before the cut: {r['completion']!r})\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
