"""A tiny text progress bar (tqdm-like, no dependencies) for training loops and milestones.

    for x, y in progress(batches, desc="epoch 1"):
        ...

    with ProgressBar(total=len(batches), desc="train") as bar:
        for x, y in batches:
            loss = ...
            bar.update(1, loss=loss.item())

prints, on one line of stderr rewritten in place with ``\\r``::

    train  37/100 [#########                ]  37% 12.3it/s 00:03<00:05 loss=0.1234

The bar draws only when stderr is a terminal (so logs and CI output are not flooded with
carriage returns) unless ``force=True``; ``disable=True`` turns it off entirely. Redraws are
throttled to ``min_interval`` seconds, so even a loop of tiny steps spends almost no time
drawing. Infrastructure: given in the course, not a learner exercise.
"""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar", "progress", "format_time"]


def format_time(seconds: float) -> str:
    """``75.2`` -> ``"01:15"``; ``3725`` -> ``"1:02:05"``."""
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _format_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class ProgressBar:
    """A progress bar over ``total`` units of work (``None``: unknown length, no bar).

    Args:
        iterable: optional iterable to wrap (``for item in ProgressBar(items)``).
        total: number of units; taken from ``len(iterable)`` when possible.
        desc: a label shown first.
        file: where to write (default: ``sys.stderr`` at construction time).
        disable: never draw.
        force: draw even when ``file`` is not a terminal.
        width: characters of the bar itself.
        min_interval: seconds between redraws (the final state is always drawn).
        leave: keep the finished bar on screen (end with a newline) instead of erasing it.
        clock: function returning seconds (for tests); ``time.perf_counter`` by default.
    """

    def __init__(self, iterable=None, total: int | None = None, desc: str = "", file=None,
                 disable: bool = False, force: bool = False, width: int = 25,
                 min_interval: float = 0.1, leave: bool = True, clock=time.perf_counter):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total
        self.desc = desc
        self.file = sys.stderr if file is None else file
        isatty = getattr(self.file, "isatty", None)
        self.disable = disable or not (force or (callable(isatty) and isatty()))
        self.width = width
        self.min_interval = min_interval
        self.leave = leave
        self.clock = clock
        self.n = 0
        self.postfix: dict = {}
        self.start = clock()
        self._last_draw = None
        self._last_len = 0
        self.closed = False

    # ------------------------------------------------------------------ updating

    def update(self, n: int = 1, **postfix) -> None:
        """Mark ``n`` more units done, optionally with new postfix values (``loss=0.3``).

        Redraws at most every ``min_interval`` seconds, and always on reaching ``total``.
        """
        self.n += n
        self.postfix.update(postfix)
        self._maybe_draw()

    def set_postfix(self, refresh: bool = False, **values) -> None:
        """Show ``key=value`` pairs after the bar (e.g. the running loss)."""
        self.postfix.update(values)
        if refresh:
            self.refresh()
        else:
            self._maybe_draw()

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def _maybe_draw(self) -> None:
        if self.disable:
            return
        now = self.clock()
        if self._last_draw is None or now - self._last_draw >= self.min_interval \
                or (self.total is not None and self.n >= self.total):
            self._draw(now)

    def refresh(self) -> None:
        """Redraw now."""
        if not self.disable:
            self._draw(self.clock())

    # ------------------------------------------------------------------ drawing

    def format(self, now: float | None = None) -> str:
        """The line as it would be drawn now (without ``\\r``)."""
        now = self.clock() if now is None else now
        elapsed = max(now - self.start, 0.0)
        rate = self.n / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(round(frac * self.width))
            parts.append(f"{self.n}/{self.total}")
            parts.append("[" + "#" * filled + " " * (self.width - filled) + "]")
            parts.append(f"{frac * 100:3.0f}%")
        else:
            parts.append(f"{self.n}it")
        parts.append(f"{rate:.1f}it/s" if rate < 100 else f"{rate:.0f}it/s")
        timing = format_time(elapsed)
        if self.total and rate > 0 and self.n < self.total:
            timing += "<" + format_time((self.total - self.n) / rate)
        parts.append(timing)
        parts.extend(f"{k}={_format_value(v)}" for k, v in self.postfix.items())
        return " ".join(parts)

    def _draw(self, now: float) -> None:
        line = self.format(now)
        pad = " " * max(self._last_len - len(line), 0)  # erase what a longer line left behind
        self.file.write("\r" + line + pad)
        self.file.flush()
        self._last_len = len(line)
        self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line (or erase it when ``leave=False``)."""
        if self.closed:
            return
        self.closed = True
        if self.disable:
            return
        if self.leave:
            self._draw(self.clock())
            self.file.write("\n")
        else:
            self.file.write("\r" + " " * self._last_len + "\r")
        self.file.flush()

    # ------------------------------------------------------------------ protocols

    def __iter__(self):
        if self.iterable is None:
            raise TypeError("ProgressBar: nothing to iterate; pass an iterable or call update()")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(iterable, total: int | None = None, desc: str = "", **kwargs):
    """Wrap an iterable in a :class:`ProgressBar` (``for batch in progress(loader): ...``)."""
    return ProgressBar(iterable, total=total, desc=desc, **kwargs)
