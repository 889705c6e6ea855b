"""One pose followed, a headcount about once a second, and a fresh look after a cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

import vision.headcount
from tests.stickfigure import torso_pose
from vision.headcount import (
    CUT_CHANGE,
    HEADCOUNT_EVERY_S,
    SLIP_FACTOR,
    Headcount,
    grey_thumbnail,
    thumb_change,
)
from vision.pose import PersonPose

FPS = 15.0


class ScriptedModel:
    """Stands in for a pose model (the test is about when each model is asked): returns
    the poses `people(t, fresh)` gives (`fresh`: no restart since the last call) and
    records its calls and restarts."""

    def __init__(self, people: Any) -> None:
        self.people = people
        self.calls: list[float] = []
        self.restarts: list[int] = []

    def detect(self, rgb: np.ndarray, t: float, full_size: object = None) -> list[PersonPose]:
        fresh = bool(self.restarts) and self.restarts[-1] == len(self.calls)
        self.calls.append(round(t, 3))
        found = self.people(t, fresh)
        return (
            [torso_pose(*p) for p in found]
            if isinstance(found, list)
            else [torso_pose(100.0 * i) for i in range(found)]
        )

    def restart(self) -> None:
        self.restarts.append(len(self.calls))


def _scene(seed: int) -> np.ndarray:
    """A textured 360x640 frame; the same seed gives the same scene."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 255, (9, 16, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(coarse, np.ones((40, 40, 1), np.uint8)))


def _run(one: ScriptedModel, many: ScriptedModel, frames: list[tuple[float, np.ndarray]]):
    counter = Headcount(cast(Any, one), cast(Any, many))
    out = [counter.detect(rgb, t) for t, rgb in frames]
    return counter, out


def _steady(seconds: float) -> list[tuple[float, np.ndarray]]:
    scene = _scene(1)
    return [(k / FPS, scene) for k in range(int(seconds * FPS))]


def test_one_person_is_followed_with_a_headcount_each_second():
    one, many = ScriptedModel(lambda t, fresh: 1), ScriptedModel(lambda t, fresh: 1)
    counter, out = _run(one, many, _steady(3.0))
    assert len(one.calls) == 45
    assert many.calls == [0.0, 1.0, 2.0]  # the first frame, then every HEADCOUNT_EVERY_S
    assert all(len(p) == 1 for p in out)
    assert not counter.crowded and counter.cuts == 0 and counter.slips == 0
    assert one.restarts == []


def test_a_second_person_hands_the_span_to_the_two_pose_model():
    one = ScriptedModel(lambda t, fresh: 1)
    many = ScriptedModel(lambda t, fresh: 2 if t >= 1.4 else 1)
    counter, out = _run(one, many, _steady(3.0))
    assert counter.crowded
    switch = 2.0  # the first headcount after the passer-by came in
    assert max(one.calls) < switch + 1e-9
    assert many.calls[:3] == [0.0, 1.0, 2.0]
    assert len(many.calls) == 3 + int(round((3.0 - switch) * FPS)) - 1
    after = [p for (t, _), p in zip(_steady(3.0), out, strict=True) if t >= switch - 1e-9]
    assert all(len(p) == 2 for p in after)


def test_a_headcount_fills_in_when_the_followed_pose_is_lost():
    one, many = ScriptedModel(lambda t, fresh: 0), ScriptedModel(lambda t, fresh: 1)
    _, out = _run(one, many, _steady(1.1))
    assert len(out[0]) == 1  # a headcount frame: the headcount's person
    assert out[1] == []  # between headcounts: what the one-pose model found
    assert one.restarts == [1, 16]  # told to look afresh after each headcount (0 s, 1 s)


def test_a_cut_makes_the_followed_model_look_afresh_and_counts_heads():
    first, second = _scene(1), _scene(2)
    frames = [(k / FPS, first if k < 8 else second) for k in range(15)]
    one, many = ScriptedModel(lambda t, fresh: 1), ScriptedModel(lambda t, fresh: 1)
    counter, _ = _run(one, many, frames)
    assert counter.cuts == 1
    assert one.restarts == [8]  # before the first frame after the cut
    assert many.calls == [0.0, round(8 / FPS, 3)]


def test_a_pose_that_slips_onto_something_smaller_is_detected_afresh():
    """From 1.3 s the followed pose shrinks to a fifth of the torso (onto the plates); a
    fresh detection finds the lifter again."""

    def followed(t: float, fresh: bool) -> list[tuple[float, float, float]]:
        return [(300.0, 300.0, 150.0 if fresh or t < 1.3 else 30.0)]

    one, many = ScriptedModel(followed), ScriptedModel(lambda t, fresh: [(300.0, 300.0, 150.0)])
    counter, out = _run(one, many, _steady(2.0))
    sizes = [p[0].torso_size for p in out]
    assert sizes == pytest.approx([150.0] * 30)
    assert counter.slips >= 1 and one.restarts  # each slip answered on its own frame
    assert SLIP_FACTOR < 150.0 / 30.0


def test_a_headcount_that_finds_the_person_elsewhere_takes_over():
    one = ScriptedModel(lambda t, fresh: [(300.0 if fresh or t < 0.9 else 600.0, 300.0)])
    many = ScriptedModel(lambda t, fresh: [(300.0, 300.0)])
    counter, out = _run(one, many, _steady(1.2))
    at_count = round(1.0 * FPS)
    assert out[at_count][0].torso_center[0] == pytest.approx(300.0)  # the headcount's
    assert out[at_count - 1][0].torso_center[0] == pytest.approx(600.0)  # not caught between
    assert out[at_count + 1][0].torso_center[0] == pytest.approx(300.0)  # followed afresh
    assert counter.slips == 1


def test_the_cut_measure_ignores_light_and_small_camera_moves():
    scene = (_scene(3) // 2).astype(np.int16)  # room for the light to rise unclipped
    brighter = (scene + 40).astype(np.uint8)
    panned = np.roll(scene, 6, axis=1).astype(np.uint8)  # 6 px of a 640 px frame
    base = grey_thumbnail(scene.astype(np.uint8))
    assert thumb_change(base, grey_thumbnail(brighter)) < 1.0
    assert thumb_change(base, grey_thumbnail(panned)) < CUT_CHANGE / 2
    assert thumb_change(base, grey_thumbnail(_scene(4))) > 3 * CUT_CHANGE
    assert HEADCOUNT_EVERY_S == 1.0


@pytest.mark.clips
def test_after_a_hard_cut_the_lifter_is_found_where_they_are(
    shared_data: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real model on a clip of two pulls cut together at 1.07 s: the hips right after the
    cut are where a model that detects on every frame puts them; without the cut check,
    the followed pose lags tens of pixels behind."""
    from vision.pose import PoseEstimator
    from vision.pose_pass import run_pose_pass
    from vision.video import iter_frames, probe

    clip = shared_data / "clips" / "deadlift" / "posereader_good_bad.mp4"
    info = probe(clip)
    size = (info.width, info.height)
    with PoseEstimator(model_path, num_poses=2) as every_frame:
        truth = {
            round(f.t, 3): every_frame.detect(f.rgb, f.t, size)
            for f in iter_frames(clip, max_fps=15.0, scale_to=640)
        }

    def hips_off(frames: list[Any]) -> list[float]:
        offs = []
        for f in frames:
            if 1.1 <= f.t <= 1.35 and f.people and truth[round(f.t, 3)]:
                a = f.people[0].image[[23, 24], :2].mean(axis=0)
                b = truth[round(f.t, 3)][0].image[[23, 24], :2].mean(axis=0)
                offs.append(float(np.hypot(*(a - b))))
        return offs

    def headcount_pass() -> list[float]:
        frames = run_pose_pass(
            clip,
            model_path,
            max_fps=15.0,
            scale_to=640,
            full_size=size,
            num_poses=2,
            duration_s=info.duration_s,
            workers=1,
            follow_one=True,
        )
        return hips_off(frames)

    with_check = headcount_pass()
    monkeypatch.setattr(vision.headcount, "CUT_CHANGE", float("inf"))
    without = headcount_pass()
    assert len(with_check) >= 3 and len(without) >= 3
    assert max(with_check) < 12.0, with_check
    assert max(without) > 30.0, without


def test_fast_tracks_are_cached_apart_from_the_default_ones():
    from backcheck.evaluation.tracks import track_name

    assert track_name("yfgd_bad_02") == "yfgd_bad_02.npz"
    assert track_name("yfgd_bad_02", "mirror", follow_one=True) == "yfgd_bad_02.mirror.fast.npz"
    assert track_name("a", "fps30", "lite", follow_one=True) == "a.fps30.lite.fast.npz"


@pytest.mark.clips
def test_analyze_fast_judges_a_cut_together_clip_as_the_default_does(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`backcheck analyze --fast` end to end on the real model: two pulls cut together,
    the second rounded, read as two reps with rounding on the second, as by default."""
    import json

    from backcheck.cli import main

    clip = shared_data / "clips" / "deadlift" / "posereader_good_bad.mp4"
    assert main(["analyze", str(clip), "--out", str(tmp_path), "--no-video", "--fast"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"]["fast"] is True  # a reader can tell which pass made it
    assert len(report["reps"]) == 2
    flexion = [f for f in report["flags"] if f["code"] == "spine_flexion"]
    assert [f["rep"] for f in flexion] == [2]
    assert flexion[0]["value"] > 15.0
