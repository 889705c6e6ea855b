"""Following the lifter through the frames where the pose pass lost them (vision/gap_follow.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from metrics.track import PoseTrack
from tests.stickfigure import torso_pose
from vision.gap_follow import (
    LEAD_FRAMES,
    MAX_STRETCH_S,
    Stretch,
    follow_stretches,
    lost_stretches,
)
from vision.pose import PersonPose

FPS = 15.0


def _track(poses: Sequence[PersonPose | None]) -> PoseTrack:
    nan33 = np.full((33, 3), np.nan, np.float32)
    rows = [
        (
            k / FPS,
            nan33 if p is None else p.image,
            nan33 if p is None else p.world,
            np.full(33, np.nan, np.float32) if p is None else p.visibility,
            None,
            0,
        )
        for k, p in enumerate(poses)
    ]
    return PoseTrack.from_rows(rows, 640, 360, with_contour=True)


def test_a_stretch_starts_after_lead_frames_and_ends_when_the_lifter_is_back() -> None:
    t = np.arange(20) / FPS
    found = np.ones(20, bool)
    found[5:12] = False
    found[8] = True  # caught once by the detector: not yet followed again
    assert lost_stretches(found, t) == [Stretch(5 - LEAD_FRAMES, 5, 12)]
    found[0] = False  # the first frame has nothing before it to follow from
    found[1] = False
    assert lost_stretches(found, t)[0].first == 5


def test_a_long_absence_is_not_followed() -> None:
    n = int((MAX_STRETCH_S + 2) * FPS)
    t = np.arange(n) / FPS
    found = np.zeros(n, bool)
    found[:3] = True
    found[-2:] = True
    assert lost_stretches(found, t) == []  # gone for longer than MAX_STRETCH_S


def _detector(script: dict[int, list[PersonPose]], calls: list[tuple[float, float]]):
    def detect(start_t: float, end_t: float) -> Iterator[tuple[float, list[PersonPose]]]:
        calls.append((start_t, end_t))
        k0, k1 = round(start_t * FPS), round(end_t * FPS)
        for k in range(k0, k1 + 1):
            yield k / FPS, script.get(k, [])

    return detect


def test_a_loss_the_cleaning_fills_is_not_followed() -> None:
    t = np.arange(20) / FPS
    found = np.ones(20, bool)
    found[5:8] = False  # 3 frames: 0.27 s between the frames around them
    assert lost_stretches(found, t) == []
    found[8] = False  # 4 frames: 0.33 s, past what the cleaning fills
    assert lost_stretches(found, t) == [Stretch(3, 5, 9)]


LOST = (4, 5, 6, 7, 8)


def test_the_follower_fills_the_lost_frames_with_the_lifter() -> None:
    lifter = [torso_pose(300.0 + 2 * k) for k in range(12)]
    junk = torso_pose(305.0, torso=15.0)  # the pass's fit of part of the body: gated
    rough = _track([junk if k in LOST else lifter[k] for k in range(12)])
    lost = np.isin(np.arange(12), LOST)
    calls: list[tuple[float, float]] = []
    script = {k: [lifter[k]] for k in range(2, 9)}
    pins = follow_stretches(rough, lost, _detector(script, calls))
    assert calls == [pytest.approx((2 / FPS, 8 / FPS))]  # from the lead frames on
    assert sorted(pins) == list(LOST)
    assert all(pins[k] is lifter[k] for k in LOST)


def test_pinned_poses_replace_the_lost_ones_and_no_found_frame_loses_the_lifter() -> None:
    from vision.lifter import LifterTracker

    lifter = [torso_pose(300.0 + 2 * k, torso=200.0) for k in range(12)]
    junk = torso_pose(305.0, torso=15.0)
    bystander = torso_pose(560.0, torso=100.0)  # smaller, standing still: not the lifter
    tracker = LifterTracker()
    for k in range(12):
        tracker.update(k / FPS, (junk, bystander) if k in LOST else (lifter[k], bystander))
    before = tracker.lifter_track(640, 360)
    for k in LOST:
        tracker.pin(k, lifter[k])
    after = tracker.lifter_track(640, 360)
    assert after.found.all() and before.found.sum() <= after.found.sum()
    centre_x = after.image[:, 11, 0]
    assert centre_x == pytest.approx([300.0 + 2 * k for k in range(12)])
    assert after.others.tolist() == before.others.tolist()  # the bystander, every frame


def test_a_follower_that_starts_on_someone_else_is_not_used() -> None:
    lifter = torso_pose(300.0)
    rough = _track([None if k in LOST else lifter for k in range(12)])
    script = {k: [torso_pose(560.0)] for k in range(2, 9)}  # the detector picked the bystander
    assert follow_stretches(rough, ~rough.found, _detector(script, [])) == {}


def test_a_follower_fit_of_another_size_or_place_is_not_taken() -> None:
    lifter = torso_pose(300.0)
    rough = _track([None if k in LOST else lifter for k in range(12)])
    script = {k: [lifter] for k in range(2, 9)}
    script[5] = [torso_pose(300.0, torso=20.0)]  # a torso 7.5 times shorter: the plates
    script[7] = [torso_pose(420.0)]  # drifted onto someone a torso away within a frame
    pins = follow_stretches(rough, ~rough.found, _detector(script, []))
    assert sorted(pins) == [4, 6, 8]


@pytest.mark.clips
def test_a_lockout_the_detector_misses_at_480_px_is_followed(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    """yfgd_good_04 at 854x480, CRF 35: with two poses the detector misses the lifter
    through the lockout and the pull read as no rep; followed, the lockout is seen and the
    lean-back flagged, as on the clip itself."""
    from backcheck.pipeline import extract_track
    from metrics.analysis import analyze_track
    from vision.transforms import make_variant

    copy = make_variant(
        shared_data / "clips" / "deadlift" / "yfgd_good_04.mp4", tmp_path / "g04.mp4", "short480"
    )
    track = extract_track(copy, model_path)
    analysis = analyze_track(track, exercise="hinge")
    lockout = (track.t > 2.8) & (track.t < 3.6)
    # the timeseries says which frames were followed, and the saved track keeps it
    assert track.followed[lockout].mean() >= 0.5
    assert analysis.columns()["followed"].tolist() == track.followed.astype(int).tolist()
    track.save(tmp_path / "track.npz")
    assert PoseTrack.load(tmp_path / "track.npz").followed.tolist() == track.followed.tolist()
    assert analysis.angles.trunk[lockout].size >= 10
    assert np.isfinite(analysis.angles.trunk[lockout]).mean() >= 0.8
    assert np.nanmedian(analysis.angles.trunk[lockout]) == pytest.approx(-20.0, abs=8.0)
    reps = analysis.result.reps
    assert len(reps) == 1
    assert "spine_extension" in reps[0].flags


def test_the_track_keeps_which_frames_were_followed(tmp_path: Path) -> None:
    from dataclasses import replace

    track = _track([torso_pose(300.0) for _ in range(6)])
    assert track.followed.tolist() == [False] * 6  # the pose pass's own, by default
    marked = replace(track, followed=np.array([0, 0, 1, 1, 0, 0], bool))
    marked.save(tmp_path / "t.npz")
    loaded = PoseTrack.load(tmp_path / "t.npz")
    assert loaded.followed.tolist() == [False, False, True, True, False, False]
    assert loaded.select(slice(2, 5)).followed.tolist() == [True, True, False]
