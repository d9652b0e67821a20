"""Module 12 -- attention heatmaps: one PNG per head, from the weights of any model.

Get the weights from ``nn.MultiheadAttention(..., need_weights=True,
average_attn_weights=False)`` or, for any model at all, by recording every attention call::

    from tinytorch.core.attention import capture_attention
    with capture_attention() as maps:
        model(tokens)
    plot_attention(maps[0][0], "runs/attn/layer0", tokens=["the", "cat", "sat"])

matplotlib is imported inside the function, so the framework keeps NumPy as its only
dependency; without matplotlib the call says how to install it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_attention"]


def plot_attention(weights, path, tokens=None, key_tokens=None, title: str | None = None,
                   batch_index: int = 0, dpi: int = 120) -> list[Path]:
    """Write one heatmap PNG per attention head; returns the paths written.

    Args:
        weights: (L, S), (H, L, S) or (B, H, L, S) -- array or Tensor; rows are queries,
            columns keys. With a batch dim, ``batch_index`` picks the item.
        path: file prefix: ``runs/attn/layer0`` writes ``layer0_head0.png``, ... (folders are
            created).
        tokens: labels of the query positions (and of the keys, unless ``key_tokens``).
        title: put above each plot (the head number is added).
    """
    try:
        # a bare Figure (no pyplot): draws to a file, needs no display and leaves the user's
        # pyplot backend and open figures alone
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_attention needs matplotlib: pip install matplotlib") from None
    w = weights._data if hasattr(weights, "_data") else np.asarray(weights)
    if w.ndim == 4:
        w = w[batch_index]
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3:
        raise ValueError(f"plot_attention: weights must be (L, S), (H, L, S) or (B, H, L, S), "
                         f"got shape {w.shape}")
    key_tokens = tokens if key_tokens is None else key_tokens
    prefix = Path(path)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for h, wh in enumerate(w):
        L, S = wh.shape
        size = max(3.0, min(12.0, 0.35 * max(L, S) + 1.5))
        fig = Figure(figsize=(size, size))
        ax = fig.subplots()
        im = ax.imshow(wh, cmap="viridis", vmin=0.0, vmax=max(float(np.nanmax(wh)), 1e-12),
                       interpolation="nearest")
        ax.set_xlabel("key position")
        ax.set_ylabel("query position")
        if tokens is not None:
            ax.set_yticks(range(L), [str(t) for t in tokens][:L], fontsize=7)
        if key_tokens is not None:
            ax.set_xticks(range(S), [str(t) for t in key_tokens][:S], fontsize=7, rotation=90)
        ax.set_title(f"{title + ' -- ' if title else ''}head {h}", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
        fig.tight_layout()
        out = prefix.parent / f"{prefix.name}_head{h}.png"
        fig.savefig(out, dpi=dpi)
        written.append(out)
    return written
