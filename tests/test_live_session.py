"""LiveSession without a camera: frame dropping, bounded results, lifter choice, drawing.

The pose model is replaced by a function that returns stick-figure poses, so these tests
pin down the threading and plumbing, not MediaPipe.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.stickfigure import make_track
from vision.live import LiveSession, draw_cue, pick_lifter, readout_lines
from vision.pose import PersonPose

W, H = 640, 480


def _person(trunk: float = 30.0, shift_px: float = 0.0, scale: float = 300.0) -> PersonPose:
    track = make_track(
        [(trunk, 140.0, 170.0, 175.0)],
        scale_px_per_m=scale,
        hip_px=(320.0 + shift_px, 260.0),
        size=(W, H),
    )
    return PersonPose(track.image[0], track.world[0], track.visibility[0], None)


def _frame(value: int = 0) -> np.ndarray:
    return np.full((H, W, 3), value, np.uint8)


def test_a_busy_worker_drops_waiting_frames_and_analyses_the_newest() -> None:
    started = threading.Event()
    release = threading.Event()
    seen: list[float] = []

    def slow_pose(rgb: np.ndarray, t: float) -> list[PersonPose]:
        seen.append(t)
        if len(seen) == 1:
            started.set()
            assert release.wait(10.0)
        return [_person()]

    with LiveSession("hinge", pose_fn=slow_pose) as session:
        session.start()
        assert session.submit(_frame(), 0.0)
        assert started.wait(10.0)
        # While frame 0 is in the pose model, 19 more arrive: each replaces the one waiting.
        fresh = [session.submit(_frame(), k / 30.0) for k in range(1, 20)]
        assert fresh == [True] + [False] * 18
        assert session.dropped == 18
        release.set()
        results = [session.results.get(timeout=10.0) for _ in range(2)]
        session.stop()
    assert seen == pytest.approx([0.0, 19 / 30.0])
    assert [r.index for r in results] == [1, 2]
    assert results[-1].dropped == 18
    assert results[-1].state.found


def test_results_queue_stays_bounded_and_keeps_the_newest() -> None:
    with LiveSession("hinge", pose_fn=lambda rgb, t: [_person()], result_queue_size=4) as s:
        for k in range(25):
            s.process(_frame(), k / 30.0)
        assert s.results.qsize() == 4
        got = [s.results.get_nowait().index for _ in range(4)]
        latest = s.latest()
    assert got == [22, 23, 24, 25]
    assert latest is not None and latest.index == 25


def test_submitted_times_always_increase() -> None:
    seen: list[float] = []

    def pose(rgb: np.ndarray, t: float) -> list[PersonPose]:
        seen.append(t)
        return []

    with LiveSession("hinge", pose_fn=pose) as s:
        s.start()
        for t in (1.0, 1.0, 0.5):
            s.submit(_frame(), t)
            s.results.get(timeout=10.0)
    assert seen[0] == 1.0
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))


def test_lifter_is_not_swapped_for_a_bigger_passer_by() -> None:
    lifter = _person(shift_px=0.0, scale=250.0)
    big_stranger = _person(shift_px=250.0, scale=320.0)
    assert pick_lifter([lifter, big_stranger], None) is big_stranger  # nothing known yet
    assert pick_lifter([big_stranger, lifter], lifter) is lifter
    near = _person(shift_px=15.0, scale=250.0)
    assert pick_lifter([big_stranger, near], lifter) is near
    # Only a far-away stranger in view: the lifter stepped out; nobody is taken.
    assert pick_lifter([_person(shift_px=280.0), _person(shift_px=-300.0)], lifter) is None
    assert pick_lifter([], lifter) is None


def test_annotated_frame_shows_skeleton_count_and_cue() -> None:
    with LiveSession("hinge", pose_fn=lambda rgb, t: [_person()]) as s:
        result = s.process(_frame(), 0.0)
        plain = s.annotate(_frame(), result)
    assert plain.shape == (H, W, 3)
    assert readout_lines(result)[0] == "Reps 0"
    person = _person()
    hip = person.image[23, :2].astype(int)
    assert plain[hip[1] - 3 : hip[1] + 4, hip[0] - 3 : hip[0] + 4].max() > 0  # drawn joint
    banner = _frame()
    draw_cue(banner, "Chest proud and brace before you hinge: keep a long back from hips to head.")
    rows = np.flatnonzero(banner.reshape(H, -1).max(axis=1) > 0)
    assert rows.min() > H // 2  # a banner at the bottom, wrapped to fit the width
    assert (banner[-5, :, 2] > 100).all()


def test_annotate_scales_landmarks_to_a_frame_of_another_size() -> None:
    with LiveSession("hinge", pose_fn=lambda rgb, t: [_person()]) as s:
        result = s.process(_frame(), 0.0)
        small = s.annotate(np.zeros((H // 2, W // 2, 3), np.uint8), result)
    hip = (_person().image[23, :2] / 2).astype(int)
    assert small[hip[1] - 2 : hip[1] + 3, hip[0] - 2 : hip[0] + 3].max() > 0


def test_closing_a_session_stops_its_threads() -> None:
    from tests.test_live_metrics import _hinge_set

    track = make_track(
        _hinge_set(2), facing="left", scale_px_per_m=260.0, hip_px=(320.0, 260.0), size=(W, H)
    )
    poses = [PersonPose(track.image[i], track.world[i], track.visibility[i], None) for i in
             range(len(track))]  # fmt: skip
    session = LiveSession("hinge", pose_fn=lambda rgb, t: [poses[int(round(t * 30))]])
    session.start()
    for t in track.t:
        session.process(_frame(), float(t))
    names = {t.name for t in threading.enumerate()}
    assert {"backcheck-live", "hinge-judge"} <= names  # reps were judged on their own thread
    assert session.latest().state.reps == 2  # type: ignore[union-attr]
    session.close()
    alive = {t.name for t in threading.enumerate()}
    assert "backcheck-live" not in alive
    assert "hinge-judge" not in alive


def test_a_lifter_lost_for_a_while_is_found_again_elsewhere() -> None:
    here, there, stranger = _person(0.0), _person(260.0), _person(-280.0, scale=200.0)
    frames = [[here]] * 3 + [[]] * 80 + [[there, stranger]]  # 30 fps: gone 2.7 s
    with LiveSession("hinge", pose_fn=lambda rgb, t: frames[int(round(t * 30))]) as s:
        states = [s.process(_frame(), k / 30.0).state for k in range(len(frames))]
    assert states[0].found and not states[50].found
    assert states[-1].found  # taken up again where the lifter now stands
    assert states[-1].image is not None
    assert abs(states[-1].image[23, 0] - there.image[23, 0]) < 1.0
