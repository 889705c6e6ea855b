"""Ration live cues: one at a time, on screen long enough to read, never flickering.

The live rules raise flag codes frame by frame, either as one-frame *events* ("rep 3
rounded at the bottom") or as *states* that hold while a fault lasts ("hips sagging").
Shown raw, that would blink a new text every few frames. `CueRationer` turns them into at
most one cue on screen:

- a state must last `min_active_s` before it counts (a one-frame glitch is never shown);
- a cue, once shown, stays for at least `min_show_s`, whatever else happens;
- it stays on while its fault keeps being raised, and goes `linger_s` after the last time;
- a different fault raised meanwhile waits (the most important one waiting wins) and is
  shown when the current cue's time is up; a waiting fault not raised again within
  `linger_s` is dropped, so the screen never shows a stale cue.

Cue text and rank are data, shared with uploads (metrics.cues): the `cue` line of
metrics/cues.toml for the flag code (or its `intolerant` variant for a client who does not
tolerate that direction), in the positive, physical register of
../shared/docs/coaching.md, and the fault's `priority` there.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from metrics.cues import cue_line, fault_priority
from metrics.profile import ClientProfile


@dataclass(frozen=True)
class LiveCue:
    """The cue on screen: its flag code, its text, and since when it has been shown (s)."""

    code: str
    text: str
    since_s: float


# The live path's name for the one cue wording (metrics.cues).
live_cue_text = cue_line


class CueRationer:
    """Turns the flag codes raised frame by frame into at most one steady cue.

    Parameters
    ----------
    min_show_s : float
        A cue stays on screen at least this long once shown.
    linger_s : float
        A cue goes this long after its fault was last raised (and a waiting fault not
        raised again within this time is dropped).
    min_active_s : float
        A state (see `update`) must be raised continuously this long before it counts.
    profile : ClientProfile, optional
        Picks the stricter cue wording for a direction the client does not tolerate.
    """

    def __init__(
        self,
        *,
        min_show_s: float = 3.0,
        linger_s: float = 3.0,
        min_active_s: float = 0.5,
        profile: ClientProfile | None = None,
        table: dict[str, Any] | None = None,
    ) -> None:
        self.min_show_s = min_show_s
        self.linger_s = linger_s
        self.min_active_s = min_active_s
        self._profile = profile
        self._table = table
        self._current: LiveCue | None = None
        self._last_raised: dict[str, float] = {}  # code → last time it counted
        self._active_since: dict[str, float] = {}  # state code → start of its current run
        self._waiting: dict[str, float] = {}  # code → last time raised while waiting

    @property
    def current(self) -> LiveCue | None:
        return self._current

    def reset(self) -> None:
        """Clear the screen and forget every fault (a new set)."""
        self._current = None
        self._last_raised.clear()
        self._active_since.clear()
        self._waiting.clear()

    def update(
        self, t: float, events: Collection[str] = (), active: Collection[str] = ()
    ) -> LiveCue | None:
        """Feed the codes raised at time `t`; return the cue to show (None: no cue).

        `events` count at once (a rep just judged); `active` are states that count after
        being raised for `min_active_s` without a break.
        """
        raised = set(events)
        for code in list(self._active_since):
            if code not in active:
                del self._active_since[code]
        for code in active:
            start = self._active_since.setdefault(code, t)
            if t - start >= self.min_active_s:
                raised.add(code)
        for code in raised:
            self._last_raised[code] = t

        cur = self._current
        for code in raised:
            if cur is None or code != cur.code:
                self._waiting[code] = t
        for code, seen in list(self._waiting.items()):
            if t - seen >= self.linger_s:
                del self._waiting[code]

        if cur is not None:
            shown_for = t - cur.since_s
            quiet_for = t - self._last_raised.get(cur.code, cur.since_s)
            if shown_for < self.min_show_s:
                return cur
            nxt = self._next_waiting()
            if nxt is not None and self._rank(nxt) <= self._rank(cur.code):
                return self._show(nxt, t)
            if quiet_for < self.linger_s:
                return cur
            if nxt is not None:
                return self._show(nxt, t)
            self._current = None
            return None
        nxt = self._next_waiting()
        return self._show(nxt, t) if nxt is not None else None

    def _next_waiting(self) -> str | None:
        if not self._waiting:
            return None
        return min(self._waiting, key=lambda c: (self._rank(c), -self._waiting[c]))

    def _rank(self, code: str) -> int:
        """Which fault to show first when several wait: cues.toml's `priority`."""
        return fault_priority(code, self._table)

    def _show(self, code: str, t: float) -> LiveCue:
        self._waiting.pop(code, None)
        self._last_raised[code] = max(self._last_raised.get(code, t), t)
        cue = LiveCue(code, live_cue_text(code, self._profile, self._table), t)
        self._current = cue
        return cue
