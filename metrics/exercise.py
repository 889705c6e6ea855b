"""Tell a plank from a hinge: a static, roughly horizontal body versus standing cycles."""

from __future__ import annotations

import numpy as np

from metrics.angles import Angles
from metrics.report import Exercise
from metrics.track import PoseTrack

# A frame looks like a plank when the trunk is near horizontal and the hips are low.
PLANK_MIN_TRUNK_DEG = 60.0
PLANK_MAX_HIP_HEIGHT = 0.5  # hip height above the ankle, in leg lengths
# Share of the tracked frames that must look like a plank to call the clip a plank.
PLANK_MIN_SHARE = 0.35


def detect_exercise(angles: Angles, track: PoseTrack) -> tuple[Exercise, str]:
    """`("plank" | "hinge", reason)`, the reason in words a coach can check."""
    ok = np.isfinite(angles.trunk) & np.isfinite(angles.hip_height)
    if not ok.any():
        return "hinge", "no clear body line; assumed a hinge"
    lying = (np.abs(angles.trunk[ok]) >= PLANK_MIN_TRUNK_DEG) & (
        angles.hip_height[ok] <= PLANK_MAX_HIP_HEIGHT
    )
    share = float(lying.mean())
    if share >= PLANK_MIN_SHARE:
        return "plank", f"body horizontal with hips low for {share * 100:.0f}% of the clip"
    return "hinge", f"standing for most of the clip (horizontal only {share * 100:.0f}%)"
