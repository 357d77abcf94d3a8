"""What every benchmark shares: the --time-limit deadline, progress lines on stderr, quantiles."""
from __future__ import annotations

import statistics
import sys
import time


class Deadline:
    """The --time-limit bound of the whole run."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def timeout(self, cap: float = 60.0) -> float:
        """A socket timeout that never runs far past the deadline (at least 1 s)."""
        return max(1.0, min(cap, self.left()))


def log(message: str) -> None:
    """A progress line on stderr (stdout's last line is the JSON result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
