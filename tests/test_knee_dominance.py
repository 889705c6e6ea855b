"""The knee-dominance share: read over the rep's bottom, not one frame of it."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.angles import Angles
from metrics.hinge import DEFAULT_PARAMS, _knee_dominance
from metrics.reps import RepSegment

FPS = 15.0


def _rep(trunk_bottom: float, hip_bottom: float, glitch: tuple[float, float] | None = None):
    """Standing, down over 10 frames, 8 frames held at the bottom, up over 10, standing.
    `glitch` (trunk, hip) replaces one bottom frame: the deepest hip bend of the rep."""
    up = np.zeros(4)
    trunk = np.concatenate(
        [up, np.linspace(0, trunk_bottom, 10), np.full(8, trunk_bottom),
         np.linspace(trunk_bottom, 0, 10), up]
    )  # fmt: skip
    hip = np.concatenate(
        [up + 180, np.linspace(180, hip_bottom, 10), np.full(8, hip_bottom),
         np.linspace(hip_bottom, 180, 10), up + 180]
    )  # fmt: skip
    if glitch is not None:
        trunk[17], hip[17] = glitch
    n = len(trunk)
    t = np.arange(n) / FPS
    nan = np.full(n, np.nan)
    angles = Angles(t, trunk, hip, nan, nan, nan, nan, nan, "left", "left")
    seg = RepSegment(1, 3, 21, 33, t[3], t[21], t[33], from_top=True)
    zone = np.zeros(n, bool)
    zone[14:22] = True
    return angles, seg, zone


def test_the_share_is_the_thighs_part_of_the_bend_at_the_bottom() -> None:
    # hip flexion 180 - 80 = 100 deg, trunk 60 of it: the thighs make 40%
    angles, seg, zone = _rep(60.0, 80.0)
    m = _knee_dominance(seg, angles, zone, DEFAULT_PARAMS)
    assert m is not None
    assert m.value == pytest.approx(40.0, abs=1e-6)


def test_one_garbled_frame_at_the_deepest_bend_does_not_decide_it() -> None:
    """yfgd_good_02 at 480 px: the deepest frame read the trunk low against the hip (a
    71% thigh share, a false squat); the bottom's other frames read the hinge. Here the
    deepest frame reads 68% (hip 72, trunk 35) among frames that read 40%."""
    angles, seg, zone = _rep(60.0, 80.0, glitch=(35.0, 72.0))
    m = _knee_dominance(seg, angles, zone, DEFAULT_PARAMS)
    assert m is not None
    assert m.peak_i == 17  # still read at the rep's deepest bend...
    assert m.value == pytest.approx(40.0, abs=1e-6)  # ...but not from that frame alone
    # a real squat, whose whole bottom is thigh-led, still reads as one
    angles, seg, zone = _rep(30.0, 80.0, glitch=(28.0, 78.0))
    m = _knee_dominance(seg, angles, zone, DEFAULT_PARAMS)
    assert m is not None and m.value == pytest.approx(70.0, abs=1.5)
