"""The live readout, gated (metrics/live_gate.py): injected flips on a synthetic set.

The upload path drops landmarks no body could have put there before measuring
(metrics.plausibility); the live path now does the same a frame at a time, and never
shows an angle outside what a body can do.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.landmarks import SIDE_PARTS
from metrics.live import FrameAngles, LiveAnalyzer, LiveState, PoseSample
from metrics.live_gate import LiveGate, readout_in_range
from metrics.track import PoseTrack
from tests.stickfigure import make_track

FPS = 30.0
POSE = (40.0, 120.0, 160.0, 175.0)  # trunk, hip, knee, neck


def _still(n: int = 60) -> PoseTrack:
    """A still hinge position, side-on but turned 30° so left and right are apart."""
    return make_track(
        [POSE] * n,
        facing="left",
        yaw_deg=30.0,
        fps=FPS,
        size=(1920, 1080),
        hip_px=(900.0, 600.0),
        scale_px_per_m=400.0,
    )


def _run(track: PoseTrack) -> list[LiveState]:
    analyzer = LiveAnalyzer("hinge")
    out = []
    for i in range(len(track)):
        sample = PoseSample(
            float(track.t[i]),
            track.image[i],
            track.world[i],
            track.visibility[i],
            None,
            0,
            (track.width, track.height),
        )
        out.append(analyzer.update(sample))
    return out


def _turn_shoulders(track: PoseTrack, frames: slice, deg: float) -> None:
    """Turn both shoulders (and the head with them) about the hips by `deg` on `frames`."""
    a = math.radians(deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    for k in (0, 1):
        hip = track.image[frames, SIDE_PARTS["hip"][k], :2].copy()
        for part in ("shoulder", "ear"):
            lm = SIDE_PARTS[part][k]
            rel = track.image[frames, lm, :2] - hip
            track.image[frames, lm, :2] = hip + rel @ rot.T


def _clean() -> FrameAngles:
    """What the readout shows for the still pose (turned 30°, so not exactly `POSE`)."""
    return _run(_still())[-1].angles


def test_a_clean_set_reads_its_angles_and_nothing_is_gated() -> None:
    states = _run(_still())
    assert all(s.gate == "" for s in states)
    assert states[-1].angles.knee == pytest.approx(POSE[2], abs=3.0)
    assert states[-1].angles.trunk == pytest.approx(POSE[0], abs=10.0)


def test_a_left_right_swap_is_not_shown() -> None:
    track = _still()
    swapped = slice(30, 33)  # three frames, 0.1 s
    for part in ("hip", "knee", "ankle"):
        left, right = SIDE_PARTS[part]
        track.image[swapped, [left, right]] = track.image[swapped, [right, left]]
    states = _run(track)
    for i in range(30, 33):
        assert "swap" in states[i].gate
        assert math.isnan(states[i].angles.knee) and math.isnan(states[i].angles.hip)
    assert all(s.gate == "" for s in states[34:])
    assert states[34].angles.knee == pytest.approx(_clean().knee, abs=0.5)


def test_a_trunk_that_jumps_out_and_back_is_not_shown() -> None:
    track = _still()
    _turn_shoulders(track, slice(30, 32), 35.0)  # 35° in a thirtieth of a second
    states = _run(track)
    for i in (30, 31):
        assert "burst" in states[i].gate
        assert math.isnan(states[i].angles.trunk)
    # The smoother never took the flip in: the frame after reads the true trunk.
    assert states[32].gate == ""
    assert states[32].angles.trunk == pytest.approx(_clean().trunk, abs=0.5)


def test_without_the_gate_the_flip_would_have_shown() -> None:
    """The same flip through the smoother alone reads a trunk far off the true one."""
    from metrics.clean import OneEuroFilter
    from metrics.live import frame_angles

    track = _still()
    _turn_shoulders(track, slice(30, 32), 35.0)
    smooth = OneEuroFilter(min_cutoff=1.0, beta=0.01)
    trunks = []
    for i in range(len(track)):
        img = smooth.update(float(track.t[i]), track.image[i].astype(np.float64))
        trunks.append(frame_angles(img, track.visibility[i], side="left", facing="left").trunk)
    assert abs(trunks[31] - _clean().trunk) > 10.0


def test_a_change_that_stays_is_taken_as_real_after_half_a_second() -> None:
    track = _still(90)
    _turn_shoulders(track, slice(30, 90), 35.0)  # the trunk really moved, and stays
    states = _run(track)
    assert "burst" in states[30].gate
    settled = [i for i in range(30, 90) if states[i].gate == ""]
    assert settled and track.t[settled[0]] - track.t[30] == pytest.approx(0.5, abs=0.07)
    assert abs(states[-1].angles.trunk - _clean().trunk) == pytest.approx(35.0, abs=3.0)


def test_a_bone_that_grows_is_dropped() -> None:
    gate = LiveGate()
    track = _still()
    for i in range(20):
        bad, code = gate.check(float(track.t[i]), track.image[i], side_view=True, facing="left")
        assert code == "" and not bad.any()
    image = track.image[20].copy()
    knee, ankle = SIDE_PARTS["knee"][0], SIDE_PARTS["ankle"][0]
    image[ankle, :2] = image[knee, :2] + 2.0 * (image[ankle, :2] - image[knee, :2])
    bad, code = gate.check(float(track.t[20]), image, side_view=True, facing="left")
    assert "length" in code and bad[ankle] and not bad[knee]


def test_the_readout_never_shows_what_a_body_cannot_do() -> None:
    ok = FrameAngles(trunk=40.0, hip=120.0, knee=160.0, neck=175.0, plank_line=5.0)
    assert readout_in_range(ok) == ok
    back = readout_in_range(replace_trunk(ok, -121.0))  # the lean-back of 121°
    assert math.isnan(back.trunk) and back.hip == 120.0
    assert readout_in_range(replace_trunk(ok, -30.0)).trunk == -30.0  # a real lean-back
    assert math.isnan(readout_in_range(FrameAngles(knee=250.0)).knee)
    assert math.isnan(readout_in_range(FrameAngles(plank_line=75.0)).plank_line)
    assert math.isnan(readout_in_range(FrameAngles(neck=60.0)).neck)  # 120° of head drop


def replace_trunk(a: FrameAngles, trunk: float) -> FrameAngles:
    from dataclasses import replace

    return replace(a, trunk=trunk)


def test_two_torsos_pointing_apart_are_not_shown() -> None:
    """Live too: one torso turned 50° from the other (a fit gone wrong; a body's two
    torsos are parallel) drops both torsos on those frames, so the trunk, hip and knee
    read unknown rather than a number, and come back after."""
    track = _still()
    k = SIDE_PARTS["shoulder"][0]
    hip = track.image[20:26, SIDE_PARTS["hip"][0], :2].copy()
    a = math.radians(50.0)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    track.image[20:26, k, :2] = hip + (track.image[20:26, k, :2] - hip) @ rot.T
    states = _run(track)
    assert all("sides" in s.gate for s in states[20:26])
    assert all(math.isnan(s.angles.trunk) for s in states[20:26])
    assert not any("sides" in s.gate for s in states[:20] + states[26:])
    assert states[-1].angles.trunk == pytest.approx(_clean().trunk, abs=1.0)


def test_the_readout_never_shows_a_joint_folded_shut() -> None:
    """A hip or knee under 20° would put the body inside itself: blanked."""
    assert math.isnan(readout_in_range(FrameAngles(hip=12.0)).hip)
    assert math.isnan(readout_in_range(FrameAngles(knee=8.0)).knee)
    assert readout_in_range(FrameAngles(hip=35.0, knee=40.0)) == FrameAngles(hip=35.0, knee=40.0)
