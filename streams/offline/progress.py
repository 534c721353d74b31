"""A one-line progress bar on stderr for long offline runs (gogen printed one too; this one shows bytes).

It redraws at most a few times a second, so callers may report as often as they like, and it is drawn only
when asked to be (the CLI enables it for a terminal); it never prints row contents.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


class ProgressBar:
    """``label [=====     ]  45%  120.0 MB/266.7 MB  35.2 MB/s`` redrawn in place with ``\\r``."""

    def __init__(
        self, label: str, total: int, *, stream: TextIO | None = None, interval: float = 0.2
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.started = time.monotonic()
        self._drawn_at = float("-inf")  # the first report is always drawn
        self._done = 0

    def update(self, done: int) -> None:
        """Report ``done`` bytes; the line is redrawn only if enough time passed since the last redraw."""
        self._done = done
        now = time.monotonic()
        if now - self._drawn_at >= self.interval:
            self._drawn_at = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = min(self._done / self.total, 1.0)
        filled = round(fraction * WIDTH)
        elapsed = max(now - self.started, 1e-9)
        line = (
            f"\r{self.label} [{'=' * filled}{' ' * (WIDTH - filled)}] {fraction:4.0%}  "
            f"{_size(self._done)}/{_size(self.total)}  {_size(self._done / elapsed)}/s"
        )
        self.stream.write(line)
        self.stream.flush()

    def finish(self) -> None:
        """Draw the completed bar and end the line."""
        self._done = self.total
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


def wants_progress(disabled: bool, stream: TextIO | None = None) -> bool:
    """Show a bar unless disabled or stderr is not a terminal (logs and pipes stay clean)."""
    target = sys.stderr if stream is None else stream
    return not disabled and target.isatty()
