"""`--exercise auto`: plank or hinge, on saved real tracks and on stick figures.

tests/data/tracks holds the plank clips' tracks and a few hinge ones (some cut to their
first seconds); with BACKCHECK_TRACKS_DIR set, every clip in ../shared/data/clips.csv with a
track there is checked too. All clips that are not planks are hinges.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import analyze_track
from metrics.track import PoseTrack
from tests.conftest import TRACKS, clip_labels, need_shared_data
from tests.stickfigure import make_track, plank_pose

SAVED = sorted(p.stem for p in TRACKS.glob("*.npz"))


def _kinds() -> dict[str, str]:
    """Clip stem → labelled exercise (clips.csv); skips the test without ../shared."""
    need_shared_data()
    return {Path(r["file"]).stem: r["kind"] for r in clip_labels()}


def _check(path: Path, stem: str) -> None:
    kinds = _kinds()
    if stem not in kinds:
        pytest.skip(f"{stem} not in ../shared/data/clips.csv")
    a = analyze_track(PoseTrack.load(path), exercise="auto")
    assert a.exercise == kinds[stem], a.exercise_reason
    if a.exercise == "plank":
        assert "held" in a.exercise_reason and a.result.hold is not None
        assert f"{a.result.hold.duration_s:.1f} s" in a.exercise_reason
    else:
        assert "hinge" in a.exercise_reason


def test_saved_tracks_cover_both_exercises() -> None:
    kinds = _kinds()
    assert {"plank", "hinge"} <= {kinds.get(s) for s in SAVED}


@pytest.mark.parametrize("stem", SAVED)
def test_auto_detection_on_saved_tracks(stem: str) -> None:
    _check(TRACKS / f"{stem}.npz", stem)


@pytest.mark.clips
def test_auto_detection_on_every_labelled_clip(labelled_clip: str, clip_tracks: Path) -> None:
    stem = Path(labelled_clip).stem
    path = clip_tracks / f"{stem}.npz"
    assert path.exists(), f"no track {path.name}: its clip failed to analyse"
    _check(path, stem)


def _standing(n: int) -> list[tuple[float, float, float, float]]:
    return [(0.0, 180.0, 178.0, 175.0)] * n


def test_stick_figure_that_gets_down_into_a_plank_is_a_plank() -> None:
    fps = 30.0
    plank = [plank_pose(-8.0, tilt_deg=12.0)] * int(10 * fps)
    track = make_track(_standing(int(3 * fps)) + plank + _standing(int(2 * fps)), fps=fps)
    a = analyze_track(track, exercise="auto")
    assert a.exercise == "plank", a.exercise_reason
    hold = a.result.hold
    assert hold is not None
    assert hold.start_s == pytest.approx(3.0, abs=0.2)
    assert hold.duration_s == pytest.approx(10.0, abs=0.3)
    assert hold.mean_line_deg == pytest.approx(-8.0, abs=1.0)


def test_stick_figure_hinging_is_a_hinge() -> None:
    fps = 30.0
    t = np.arange(int(12 * fps)) / fps
    depth = 0.5 - 0.5 * np.cos(2 * math.pi * t / 3.0)  # a rep every 3 s
    poses = np.stack(
        [85.0 * depth, 180.0 - 95.0 * depth, 178.0 - 25.0 * depth, np.full_like(t, 175.0)], -1
    )
    a = analyze_track(make_track(poses, fps=fps), exercise="auto")
    assert a.exercise == "hinge", a.exercise_reason
