"""Tell a plank from a hinge: a static, roughly horizontal body versus standing cycles.

A clip is a plank when the plank rules' own hold timer (metrics.plank) finds the plank
position held for a good part of it: straight legs, the shoulder–ankle line near
horizontal with the hips close to it, the shoulders held up on the arms, for at least
`enter_s` without a break. A hinge never shows that: its bottom position has the hips far
above the shoulder–ankle line (or bent knees) and it does not stay there. Everything else
is a hinge (the only other exercise backcheck knows).
"""

from __future__ import annotations

import numpy as np

from metrics.angles import Angles
from metrics.plank import PlankSettings, run_timer
from metrics.plank_posture import PlankInputs
from metrics.report import Exercise
from metrics.thresholds import thresholds_for
from metrics.track import PoseTrack

# The longest hold must cover this share of the time the person was tracked...
PLANK_MIN_SHARE = 0.3
# ...or last this long, to call the clip a plank (a long hold in a long clip still counts).
PLANK_MIN_HOLD_S = 10.0


def detect_exercise(angles: Angles, track: PoseTrack) -> tuple[Exercise, str]:
    """`("plank" | "hinge", reason)` for a cleaned track, the reason in words a coach can
    check."""
    found = np.asarray(track.found, bool)
    if not found.any() or len(angles) < 2:
        return "hinge", "no clear body position; assumed a hinge"
    t = angles.t[found]
    tracked_s = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    settings = PlankSettings.from_thresholds(thresholds_for(), judge_line=False)
    main = run_timer(PlankInputs.from_track(track, angles), settings).main
    if main is not None:
        held = main.hold.duration_s
        share = held / tracked_s if tracked_s > 0 else 0.0
        if share >= PLANK_MIN_SHARE or held >= PLANK_MIN_HOLD_S:
            return "plank", (
                f"plank position (straight legs, body near horizontal) held "
                f"{held:.1f} s of {tracked_s:.1f} s, from {main.hold.start_s:.1f} s"
            )
        return "hinge", (
            f"a plank position was held only {held:.1f} s of {tracked_s:.1f} s; judged as a hinge"
        )
    return "hinge", "no plank position held for a second or more; judged as a hinge"
