"""A lost pose longer than a burst (0.5 s) caught by the body's own geometry: on a side
view the torso turns in the image plane, so its seen length hardly changes
(metrics.plausibility, `min_torso_ratio_side`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from metrics.landmarks import SIDE_PARTS
from metrics.plausibility import DEFAULT_PARAMS, LENGTH, check_track
from metrics.track import PoseTrack
from tests.hingefigure import hinge_set, rep_phases

TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "hinge"


def shrink_torso(track: PoseTrack, frames: np.ndarray, ratio: float) -> PoseTrack:
    """Both shoulders (and ears with them) pulled toward their hips to `ratio` of the
    torso's length on `frames`, as a lost pose folds the torso up."""
    image = track.image.copy()
    for k in (0, 1):
        hip = image[frames, SIDE_PARTS["hip"][k], :2].copy()
        sh = image[frames, SIDE_PARTS["shoulder"][k], :2].copy()
        new_sh = hip + ratio * (sh - hip)
        for part in ("shoulder", "ear"):
            lm = SIDE_PARTS[part][k]
            image[frames, lm, :2] = image[frames, lm, :2] - sh + new_sh
    return replace(track, image=image)


def _set() -> PoseTrack:
    return hinge_set(rep_phases(2), fps=15.0, noise_px=0.5)


def test_a_torso_collapsed_for_a_second_is_dropped_on_a_side_view() -> None:
    clean = _set()
    frames = np.arange(20, 35)  # one second at 15 fps: twice the longest burst
    bad = shrink_torso(clean, frames, 0.4)
    checked = check_track(bad, facing="right", side_view=True)
    found = np.array([LENGTH in c for c in checked.codes])
    assert found[frames].all()
    assert not found[np.setdiff1d(np.arange(len(bad)), frames)].any()
    for k in (0, 1):  # the shoulders strayed; the hips stayed where they were
        assert np.isnan(checked.track.image[frames, SIDE_PARTS["shoulder"][k], 0]).all()
        assert np.isfinite(checked.track.image[frames, SIDE_PARTS["hip"][k], 0]).all()


def test_off_side_on_a_short_torso_may_be_real() -> None:
    clean = _set()
    bad = shrink_torso(clean, np.arange(20, 35), 0.4)
    checked = check_track(bad, facing="right", side_view=False)
    assert not any(LENGTH in c for c in checked.codes)


def test_a_real_hinge_keeps_its_torso_length() -> None:
    """The figure's reps (trunk from upright to past 80°) never trip the check."""
    checked = check_track(_set(), facing="right", side_view=True)
    assert not checked.flagged.any()


@pytest.mark.parametrize("clip", ["0016c_1", "0016r_1", "0016k_1", "posereader_good"])
def test_real_side_view_tracks_keep_their_torsos(clip: str) -> None:
    track = PoseTrack.load(TRACKS / f"{clip}.npz")
    checked = check_track(track, facing="left", side_view=True)
    assert not any(LENGTH in c for c in checked.codes)
    assert DEFAULT_PARAMS.min_torso_ratio_side == pytest.approx(0.6)
