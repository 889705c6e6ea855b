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

Cue text is data: the `cue` line of metrics/cues.toml for the flag code (or its
`intolerant` variant for a client who does not tolerate that direction), in the positive,
physical register of ../shared/docs/coaching.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from metrics.cues import cue_table
from metrics.profile import ClientProfile

# Which fault to show first when several wait: the back first, then the pattern.
PRIORITY: tuple[str, ...] = (
    "spine_flexion",
    "hip_sag",
    "spine_extension",
    "hips_rise_early",
    "knee_dominant",
    "hip_pike",
    "head_drop",
)

_DIRECTION = {"spine_flexion": "flexion", "spine_extension": "extension", "hip_sag": "extension"}


@dataclass(frozen=True)
class LiveCue:
    """The cue on screen: its flag code, its text, and since when it has been shown (s)."""

    code: str
    text: str
    since_s: float


def live_cue_text(
    code: str, profile: ClientProfile | None = None, table: dict[str, Any] | None = None
) -> str:
    """The short cue for a flag code from cues.toml, made stricter for an intolerance."""
    table = table if table is not None else cue_table()
    spec = table.get(code)
    if not isinstance(spec, dict) or "cue" not in spec:
        return code.replace("_", " ").capitalize()
    profile = profile or ClientProfile()
    direction = _DIRECTION.get(code)
    intolerant = (direction == "flexion" and profile.flexion_intolerant) or (
        direction == "extension" and profile.extension_intolerant
    )
    return str(spec.get("intolerant", spec["cue"]) if intolerant else spec["cue"])


def _rank(code: str) -> int:
    return PRIORITY.index(code) if code in PRIORITY else len(PRIORITY)


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
            if nxt is not None and _rank(nxt) <= _rank(cur.code):
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
        return min(self._waiting, key=lambda c: (_rank(c), -self._waiting[c]))

    def _show(self, code: str, t: float) -> LiveCue:
        self._waiting.pop(code, None)
        self._last_raised[code] = max(self._last_raised.get(code, t), t)
        cue = LiveCue(code, live_cue_text(code, self._profile, self._table), t)
        self._current = cue
        return cue
