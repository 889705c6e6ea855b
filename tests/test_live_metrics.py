"""The live numbers path on synthetic stick figures with known angles."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from metrics.analysis import analyze_track
from metrics.angles import compute_angles
from metrics.clean import clean_track
from metrics.hinge import rep_params_for
from metrics.live import (
    FrameAngles,
    LiveAnalyzer,
    LiveExercise,
    LiveFrame,
    MonitorUpdate,
    PoseSample,
    frame_angles,
)
from metrics.profile import ClientProfile
from metrics.reps import far_hip, head_room, segment_reps
from metrics.thresholds import Thresholds
from metrics.track import BACK_STATIONS, PoseTrack
from metrics.view import classify_view
from tests.hingefigure import depth_profile, hinge_set, phase_times, rep_phases
from tests.stickfigure import make_track, plank_pose


def _samples(track: PoseTrack) -> list[PoseSample]:
    out = []
    for i in range(len(track)):
        found = bool(np.isfinite(track.image[i, :, 0]).any())
        out.append(
            PoseSample(
                float(track.t[i]),
                track.image[i] if found else None,
                track.world[i] if found else None,
                track.visibility[i] if found else None,
                None,
                0,
                (track.width, track.height),
            )
        )
    return out


class _Recorder:
    """A streaming rule that remembers what it was fed."""

    def __init__(self) -> None:
        self.frames: list[LiveFrame] = []

    def update(self, frame: LiveFrame) -> MonitorUpdate:
        self.frames.append(frame)
        return MonitorUpdate(reps=len(self.frames))


def _recording(rec: _Recorder):  # type: ignore[no-untyped-def]
    def factory(ex: LiveExercise, th: Thresholds, pr: ClientProfile) -> _Recorder:
        return rec

    return factory


@pytest.mark.parametrize("facing", ["left", "right"])
def test_still_pose_reads_its_angles_and_facing(facing: str) -> None:
    pose = (40.0, 120.0, 160.0, 170.0)
    track = make_track([pose] * 45, facing=facing)  # type: ignore[arg-type]
    analyzer = LiveAnalyzer("hinge")
    state = [analyzer.update(s) for s in _samples(track)][-1]
    assert state.found
    assert state.facing == facing
    assert state.side == facing  # a side view shows the camera the side it faces
    a = state.angles
    assert a.trunk == pytest.approx(40.0, abs=0.5)
    assert a.hip == pytest.approx(120.0, abs=0.5)
    assert a.knee == pytest.approx(160.0, abs=0.5)
    assert a.neck == pytest.approx(170.0, abs=0.5)


def test_standing_hip_height_is_one_leg_length() -> None:
    track = make_track([(0.0, 180.0, 180.0, 180.0)] * 30)
    state = [LiveAnalyzer("hinge").update(s) for s in _samples(track)][-1]
    assert state.angles.hip_height == pytest.approx(1.0, abs=0.01)
    assert state.angles.trunk == pytest.approx(0.0, abs=0.5)


def test_frame_angles_match_the_upload_angles_frame_by_frame() -> None:
    rng = np.random.default_rng(0)
    poses = np.column_stack(
        [
            rng.uniform(-10, 85, 40),
            rng.uniform(60, 190, 40),
            rng.uniform(90, 185, 40),
            170 * np.ones(40),
        ]
    )
    track = make_track(poses, facing="left")
    batch = compute_angles(track, side="left", facing="left")
    for i in range(len(track)):
        one = frame_angles(track.image[i], track.visibility[i], side="left", facing="left")
        for name in ("trunk", "hip", "knee", "neck"):
            assert getattr(one, name) == pytest.approx(getattr(batch, name)[i], abs=1e-4)


def test_every_frame_reaches_the_rule_in_order_with_missing_ones_marked() -> None:
    track = make_track([(30.0, 140.0, 170.0, 175.0)] * 20)
    image = track.image.copy()
    image[5:8] = np.nan  # nobody found on three frames
    vis = track.visibility.copy()
    vis[5:8] = np.nan
    gap = PoseTrack(track.t, image, track.world, vis, track.width, track.height)
    rec = _Recorder()
    analyzer = LiveAnalyzer("hinge", monitor_factory=_recording(rec))
    states = [analyzer.update(s) for s in _samples(gap)]
    assert [f.t for f in rec.frames] == pytest.approx(list(track.t))
    assert [f.found for f in rec.frames] == [not (5 <= i < 8) for i in range(20)]
    assert all(math.isnan(rec.frames[i].angles.trunk) for i in (5, 6, 7))
    assert states[-1].reps == 20
    # Smoothing resumes where it was: the pose is the same before and after the gap.
    assert rec.frames[8].angles.trunk == pytest.approx(30.0, abs=0.5)


def test_low_visibility_landmark_is_gated_out() -> None:
    track = make_track([(30.0, 140.0, 170.0, 175.0)] * 10, facing="right")
    vis = track.visibility.copy()
    vis[-1, 26] = 0.1  # right knee hardly visible on the last frame
    dim = PoseTrack(track.t, track.image, track.world, vis, track.width, track.height)
    state = [LiveAnalyzer("hinge").update(s) for s in _samples(dim)][-1]
    assert math.isnan(state.angles.knee)
    assert math.isnan(state.angles.hip)
    assert state.angles.trunk == pytest.approx(30.0, abs=0.5)


def test_times_that_do_not_increase_are_ignored() -> None:
    track = make_track([(30.0, 140.0, 170.0, 175.0)] * 5)
    rec = _Recorder()
    analyzer = LiveAnalyzer("hinge", monitor_factory=_recording(rec))
    samples = _samples(track)
    for s in samples:
        analyzer.update(s)
    analyzer.update(samples[2])
    assert len(rec.frames) == 5
    assert analyzer.n_frames == 5


def test_recording_is_the_raw_input_with_the_back_edge_of_the_facing_side() -> None:
    track = make_track([(20.0, 150.0, 175.0, 175.0)] * 12, facing="right", noise_px=2.0)
    k = len(BACK_STATIONS)
    edges = np.arange(12 * k * 4, dtype=np.float32).reshape(12, k, 2, 2)
    analyzer = LiveAnalyzer("hinge")
    for i, s in enumerate(_samples(track)):
        analyzer.update(PoseSample(s.t, s.image, s.world, s.visibility, edges[i], 1, s.size))
    rec = analyzer.recorded_track(track.width, track.height)
    np.testing.assert_array_equal(rec.image, track.image)
    np.testing.assert_array_equal(rec.visibility, track.visibility)
    np.testing.assert_array_equal(rec.t, track.t)
    assert rec.back_contour is not None
    np.testing.assert_array_equal(rec.back_contour, edges[:, :, 0, :])  # facing right: side 0
    left = analyzer.recorded_track(track.width, track.height, facing="left")
    assert left.back_contour is not None
    np.testing.assert_array_equal(left.back_contour, edges[:, :, 1, :])
    assert rec.others.tolist() == [1] * 12


def _hinge_set(n_reps: int, fps: float = 30.0) -> np.ndarray:
    """Stand 1 s, then reps of 2.4 s (trunk 0 → 75 → 0), then stand 1 s."""
    t = np.arange(0.0, 2.0 + 2.4 * n_reps, 1.0 / fps)
    phase = np.clip((t - 1.0) / 2.4, 0.0, n_reps)
    depth = np.where((t > 1.0) & (phase < n_reps), np.sin(np.pi * (phase % 1.0)) ** 2, 0.0)
    trunk = 75.0 * depth
    hip = 180.0 - 95.0 * depth
    knee = 180.0 - 25.0 * depth
    return np.column_stack([trunk, hip, knee, np.full_like(t, 175.0)])


def test_live_rep_count_matches_the_upload_on_a_synthetic_set() -> None:
    poses = _hinge_set(5)
    track = make_track(poses, facing="left", noise_px=1.0)
    analyzer = LiveAnalyzer("hinge")
    counts = [analyzer.update(s).reps for s in _samples(track)]
    upload = analyze_track(track, exercise="hinge")
    assert counts[-1] == 5
    assert len(upload.result.reps) in (0, 5)  # 0 only while the hinge rules are a stub
    # The count only ever goes up, one at a time.
    assert all(b - a in (0, 1) for a, b in zip(counts, counts[1:], strict=False))


def test_plank_hold_is_timed_and_a_sag_gives_one_steady_cue() -> None:
    fps = 30.0
    n = int(12 * fps)
    t = np.arange(n) / fps
    sag = np.where((t >= 5.0) & (t < 9.0), 30.0, 0.0)  # hips drop 30 deg for 4 s
    poses = np.array([plank_pose(float(s), tilt_deg=12.0) for s in sag])
    track = make_track(poses, facing="left", hip_px=(800.0, 1200.0))
    analyzer = LiveAnalyzer("plank")
    states = [analyzer.update(s) for s in _samples(track)]
    holds = [s.hold_s for s in states if s.hold_s is not None]
    assert holds, "the hold was never timed"
    assert states[-1].hold_s == pytest.approx(t[-1] - t[0], abs=0.2)
    cues = [(s.t, s.cue.code if s.cue else None) for s in states]
    shown = [c for _, c in cues if c is not None]
    assert set(shown) == {"hip_sag"}
    on = [tt for tt, c in cues if c == "hip_sag"]
    # One uninterrupted stretch, starting during the sag, lasting past its end.
    assert np.allclose(np.diff(on), 1 / fps, atol=1e-6)
    assert 5.0 <= on[0] <= 7.0
    assert on[-1] - on[0] >= 3.0
    assert any(f.code == "hip_sag" for f in states[-1].flags)


def test_frame_angles_default_is_unknown() -> None:
    a = FrameAngles()
    assert all(
        math.isnan(getattr(a, n)) for n in ("trunk", "hip", "knee", "plank_line", "head_room")
    )


# Hips 470 px down the 1600 px frame put the standing head 0.5 torso lengths below the
# top edge (and 0.85 a third of the way up a rep); 800 px, 1.9 torso lengths.
HEAD_AT_THE_TOP, HEAD_WELL_INSIDE = 470.0, 800.0


@pytest.mark.parametrize(
    ("hip_y", "lost_s", "seen"),
    [
        (HEAD_AT_THE_TOP, 0.25, False),  # rose out of the top: lockout not seen
        (HEAD_WELL_INSIDE, 1.0, True),  # lost low in the frame: the rep stays open
    ],
)
def test_live_lockout_out_of_view_agrees_with_the_upload(
    hip_y: float, lost_s: float, seen: bool
) -> None:
    """The lifter is lost a third of the way up the second rep. The live counter reads
    the head's room below the frame's top as the upload does (metrics.reps.head_room),
    so both say whether the lockout went out of view."""
    phases = rep_phases(2, set_down=True)
    track = hinge_set(phases, hip_px=(800.0, hip_y))
    up2 = [p for p in phase_times(phases) if p[0] == "up"][1]
    t = track.t
    lost = (t > up2[1] + 0.35) & (t < up2[1] + 0.35 + lost_s)
    # upload: the counter over the whole cleaned track, as metrics.hinge runs it
    cleaned = clean_track(track)
    view = classify_view(cleaned)
    angles = compute_angles(cleaned, facing=view.facing)
    blind = angles
    for name in ("trunk", "hip", "knee", "shoulder_height"):
        blind = replace(blind, **{name: np.where(lost, np.nan, getattr(angles, name))})  # type: ignore[arg-type]
    far = np.where(lost, np.nan, far_hip(cleaned, angles))
    upload = segment_reps(blind, hip_far=far, room=head_room(cleaned), params=rep_params_for(view))
    # live: nobody found on the lost frames
    analyzer = LiveAnalyzer("hinge")
    for s, gone in zip(_samples(track), lost, strict=True):
        analyzer.update(PoseSample(s.t, size=s.size) if gone else s)
    live = analyzer.monitor.counter.reps  # type: ignore[attr-defined]
    assert [r.lockout_seen for r in upload] == [True, seen]
    assert [r.lockout_seen for r in live] == [True, seen]
    for lv, up in zip(live, upload, strict=True):
        assert -0.001 <= lv.end_s - up.end_s <= 0.2  # the causal filter lags a frame or so
    if not seen:
        assert live[1].end_s == pytest.approx(up2[1] + 0.35, abs=0.05)  # last frame seen
    else:
        assert live[1].end_s == pytest.approx(up2[1] + 0.35 + lost_s, abs=0.1)  # found again


@pytest.mark.parametrize("hip_y", [HEAD_AT_THE_TOP, HEAD_WELL_INSIDE])
def test_frame_head_room_is_the_uploads_head_room(hip_y: float) -> None:
    """Where the lifter holds still (the causal filter has caught up), a live frame's
    head room is the upload's at that frame: the stick figure's torso keeps its length,
    so the running median torso is the clip's."""
    phases = rep_phases(3, bottom_s=1.0, top_s=1.0)
    track = hinge_set(phases, hip_px=(800.0, hip_y), noise_px=1.5)
    rec = _Recorder()
    analyzer = LiveAnalyzer("hinge", monitor_factory=_recording(rec))
    for s in _samples(track):
        analyzer.update(s)
    live = np.array([f.angles.head_room for f in rec.frames])
    upload = head_room(clean_track(track))
    t, depth = depth_profile(phases, 30.0)
    still = np.array([ti >= 0.5 and np.ptp(depth[(t <= ti) & (t >= ti - 0.5)]) == 0 for ti in t])
    assert still.sum() > 60  # the last half second of every hold
    assert np.isfinite(live).all()
    np.testing.assert_allclose(live[still], upload[still], rtol=0.02)
