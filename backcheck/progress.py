"""Progress of a long analysis, as the CLI bar and the app show it: the stage and an
estimate of the time left.

`analyze_video` reports `(fraction, stage)`; `ProgressClock` turns that into a line such
as "Finding the lifter (4.0 s) · about 12 s left". The estimate is the fraction still to
do at the pace of the last few seconds, so it follows a stage that runs slower or faster
than its share of the bar says; it is only given once enough is done for it to mean
something, so a coach never sees a wild first guess.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# No estimate before this share of the work and this much time have passed.
MIN_FRACTION = 0.05
MIN_ELAPSED_S = 1.0
# The pace is measured over about this many recent seconds.
PACE_WINDOW_S = 5.0


def format_time_left(seconds: float) -> str:
    """``"about 12 s left"``, ``"about 3 min left"``; rounded as a person would say it."""
    if seconds < 1.5:
        return "almost done"
    if seconds < 60:
        step = 1 if seconds < 10 else 5
        return f"about {max(step, round(seconds / step) * step)} s left"
    minutes = seconds / 60.0
    if minutes < 10:
        return f"about {minutes:.0f} min left" if minutes >= 1.5 else "about 1 min left"
    return f"about {round(minutes / 5) * 5:.0f} min left"


@dataclass
class ProgressClock:
    """Times one run: `line(fraction, stage)` is the stage with the time left after it."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)
    _seen: deque[tuple[float, float]] = field(default_factory=deque)

    def time_left_s(self, fraction: float) -> float | None:
        """Seconds left at the recent pace; None until that means much."""
        now = self.clock()
        if self.started < 0:
            self.started = now
        if fraction >= 1.0:
            return 0.0
        seen = self._seen
        seen.append((now, fraction))
        while len(seen) > 2 and now - seen[1][0] >= PACE_WINDOW_S:
            seen.popleft()
        if fraction < MIN_FRACTION or now - self.started < MIN_ELAPSED_S:
            return None
        t0, f0 = seen[0]
        if now - t0 < MIN_ELAPSED_S or fraction <= f0:  # too little recent news: whole run
            t0, f0 = self.started, 0.0
        pace = (fraction - f0) / (now - t0)
        return (1.0 - fraction) / pace if pace > 0 else None

    def line(self, fraction: float, stage: str) -> str:
        """``"Finding the lifter (4.0 s) · about 12 s left"`` (the stage alone at first)."""
        fraction = min(max(fraction, 0.0), 1.0)
        text = stage[:1].upper() + stage[1:]
        left = self.time_left_s(fraction)
        if left is None or fraction >= 1.0:
            return text
        return f"{text} · {format_time_left(left)}"
