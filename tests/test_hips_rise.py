"""The hips-rise measure's reference point: where the rise from the bottom begins.

Synthetic angle series at 15 fps (the rate uploads are analysed at), one rep from
standing: a descent, then either the hips leading (knees straighten while the trunk tips
further forward and the hip angle still closes slowly: 0016h_1 rep 9) or the trunk still
reaching down with the knees bent (0016r_1 rep 1, the first pick-up), then standing up.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from metrics.angles import Angles
from metrics.hinge import DEFAULT_PARAMS, _hips_rise
from metrics.reps import RepSegment
from metrics.spine import running_median

FPS = 15.0


def _ramp(a: float, b: float, n: int) -> np.ndarray:
    return np.linspace(a, b, n + 1)[1:]


def _rep(bottom: dict[str, tuple[float, float]]) -> tuple[Angles, np.ndarray, RepSegment]:
    """Standing 5 frames, 10 frames down, 6 frames of `bottom` (each series from → to)
    held 3 frames, 10 frames up, 5 standing; hip_y is the hips' image height (grows
    downward)."""
    series = {
        "trunk": [np.zeros(5), _ramp(0, 45, 10)],
        "hip": [np.full(5, 180.0), _ramp(180, 75, 10)],
        "knee": [np.full(5, 178.0), _ramp(178, 90, 10)],
        "hip_y": [np.full(5, 500.0), _ramp(500, 700, 10)],
    }
    for name, (a, b) in bottom.items():
        series[name] += [_ramp(a, b, 6), np.full(3, float(b))]
    ends = {"trunk": 0.0, "hip": 180.0, "knee": 178.0, "hip_y": 500.0}
    for name, parts in series.items():
        parts.append(_ramp(parts[-1][-1], ends[name], 10))
        parts.append(np.full(5, ends[name]))
    arrays = {k: np.concatenate(v) for k, v in series.items()}
    n = len(arrays["trunk"])
    t = np.arange(n) / FPS
    nan = np.full(n, np.nan)
    angles = Angles(
        t=t,
        trunk=arrays["trunk"],
        hip=arrays["hip"],
        knee=arrays["knee"],
        neck=nan,
        plank_line=nan,
        hip_height=nan,
        shoulder_height=nan,
        side="left",
        facing="left",
    )
    bottom_i, end_i = 23, 33
    seg = RepSegment(1, 4, bottom_i, end_i, t[4], t[bottom_i], t[end_i], from_top=True)
    return angles, arrays["hip_y"], seg


def _measure(angles: Angles, hip_y: np.ndarray, seg: RepSegment) -> float:
    p = DEFAULT_PARAMS
    trunk = running_median(angles.trunk, angles.t, p.trunk_smooth_s, min_samples=5)
    knee = running_median(angles.knee, angles.t, p.trunk_smooth_s, min_samples=5)
    m = _hips_rise(seg, angles, hip_y, trunk, p, knee=knee)
    assert m is not None
    return m.value


def test_hips_leading_while_the_hip_angle_still_closes_is_read_in_full() -> None:
    # knees 90 -> 160, hips up 40 px, trunk 45 -> 67, hip angle still closing 2 deg a
    # frame (30 deg/s, past the 5 deg/s that counts as still descending)
    angles, hip_y, seg = _rep(
        {"trunk": (45, 67), "hip": (75, 63), "knee": (90, 160), "hip_y": (700, 660)}
    )
    assert _measure(angles, hip_y, seg) == pytest.approx(20.0, abs=4.0)


def test_reaching_down_with_bent_knees_is_still_the_descent() -> None:
    # the trunk tips 10 deg further and the hip closes as much, the knees stay bent and
    # the hips barely move: the end of the descent, not a rise
    angles, hip_y, seg = _rep(
        {"trunk": (45, 55), "hip": (75, 65), "knee": (90, 93), "hip_y": (700, 698)}
    )
    assert _measure(angles, hip_y, seg) < 4.0


def test_chest_and_hips_rising_together_reads_nothing() -> None:
    angles, hip_y, seg = _rep(
        {"trunk": (45, 38), "hip": (75, 95), "knee": (90, 120), "hip_y": (700, 660)}
    )
    assert _measure(angles, hip_y, seg) == pytest.approx(0.0, abs=1.0)


def test_hips_rising_with_little_knee_opening_is_read_from_the_rise() -> None:
    # the knees open only 8 deg (under the 10 that counts) but the hips rise 80 of their
    # 200 px way to lockout while the trunk tips: the rise began when they left the
    # bottom (a tenth of their travel), not where the hip angle stopped closing
    angles, hip_y, seg = _rep(
        {"trunk": (45, 67), "hip": (75, 63), "knee": (90, 98), "hip_y": (700, 620)}
    )
    value = _measure(angles, hip_y, seg)
    assert value >= 12.0  # flagged
    assert value == pytest.approx(18.0, abs=4.0)


def test_a_hip_placed_where_the_knee_was_not_seen_is_not_the_bottom() -> None:
    # chest and hips rise together (reads ~0), but early in the descent two frames have
    # no knee and a hip guessed far below its true place (the first frames of a
    # compressed copy): they are not the hips' lowest point, or the whole descent's
    # trunk change would read as a tip
    angles, hip_y, seg = _rep(
        {"trunk": (45, 38), "hip": (75, 95), "knee": (90, 120), "hip_y": (700, 660)}
    )
    hip_y = hip_y.copy()
    knee = angles.knee.copy()
    hip_y[[6, 7]] = 800.0
    knee[[6, 7]] = np.nan
    angles = replace(angles, knee=knee)
    assert _measure(angles, hip_y, seg) == pytest.approx(0.0, abs=1.0)
