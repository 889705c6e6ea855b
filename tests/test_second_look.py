"""The second look at a far, small lifter (vision/second_look.py).

The rules (when to look again, the crop, mapping back) on synthetic tracks; the whole step
with real MediaPipe on a labelled clip shrunk into a large empty frame (the `far` copy of
`vision.transforms`), and on a large frame with no one in it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import SECOND_LOOK_WARNING
from metrics.errors import AnalysisError
from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from tests.stickfigure import make_track
from vision.pose import PersonPose
from vision.second_look import (
    MIN_FOUND_SHARE,
    SMALL_TORSO_SHARE,
    box_from_track,
    crop_box,
    needs_second_look,
    shift_pose,
    tiles,
    torso_share,
)

STAND = (0.0, 180.0, 180.0, 180.0)
BENT = (70.0, 100.0, 150.0, 180.0)


def _hinge(scale_px_per_m: float, n: int = 30) -> object:
    poses = [STAND if i % 10 < 5 else BENT for i in range(n)]
    return make_track(
        poses, scale_px_per_m=scale_px_per_m, hip_px=(1300.0, 700.0), size=(1920, 1080)
    )


def test_a_well_framed_lifter_needs_no_second_look() -> None:
    track = _hinge(scale_px_per_m=500.0)  # a 0.5 m trunk is 250 px: 13% of 1920
    assert torso_share(track) == pytest.approx(250 / 1920, rel=0.02)
    assert needs_second_look(track) is None


def test_a_small_lifter_gets_a_second_look() -> None:
    track = _hinge(scale_px_per_m=100.0)  # 50 px of torso: 2.6% of the long side
    assert torso_share(track) < SMALL_TORSO_SHARE
    reason = needs_second_look(track)
    assert reason is not None and "small" in reason


def test_a_lifter_found_on_few_frames_gets_a_second_look() -> None:
    track = _hinge(scale_px_per_m=500.0, n=40)
    lost = np.arange(40) % 4 != 0  # found on a quarter of the frames
    track.image[lost] = np.nan
    track.visibility[lost] = np.nan
    assert track.found.mean() < MIN_FOUND_SHARE
    reason = needs_second_look(track)
    assert reason is not None and "10 of 40" in reason


def test_nobody_found_gets_a_second_look() -> None:
    track = _hinge(scale_px_per_m=500.0)
    track.image[:] = np.nan
    track.visibility[:] = np.nan
    assert needs_second_look(track) == "no one was found in the whole frame"


def test_the_lifters_box_ignores_a_landmark_thrown_off_on_one_frame() -> None:
    track = _hinge(scale_px_per_m=100.0, n=40)
    clean = box_from_track(track)
    track.image[7, Landmark.LEFT_WRIST, :2] = (10.0, 10.0)  # a one-frame flip
    box = box_from_track(track)
    assert clean is not None and box is not None
    assert box == pytest.approx(clean, abs=3)
    pts = track.image[:, :, :2][track.visibility > 0.3]
    assert box[0] <= np.percentile(pts[:, 0], 10) and box[2] >= np.percentile(pts[:, 0], 90)


def test_the_crop_is_a_padded_square_inside_the_frame() -> None:
    box = crop_box((1800, 900, 1880, 1060), 1920, 1080)  # near the bottom-right corner
    assert box is not None
    x0, y0, x1, y1 = box
    assert x1 - x0 == y1 - y0 == 320  # twice the person's longer side
    assert x0 >= 0 and y0 >= 0 and x1 <= 1920 and y1 <= 1080
    assert x0 <= 1800 and y0 <= 900 and x1 >= 1880 and y1 >= 1060
    # A person filling most of the frame: a crop would be no closer look.
    assert crop_box((500, 100, 1000, 1000), 1920, 1080) is None


def test_a_pose_found_on_a_crop_maps_back_to_full_frame_pixels() -> None:
    image = np.zeros((33, 3), np.float32)
    image[:, 0], image[:, 1], image[:, 2] = 100.0, 50.0, 20.0
    edges = np.full((3, 2, 2), 40.0, np.float32)
    vis = np.ones(33, np.float32)
    person = PersonPose(image, np.zeros((33, 3), np.float32), vis, edges)
    moved = shift_pose(person, (1000, 600, 1800, 1400), scale=0.5)  # crop shrunk by half
    assert moved.image[0, :2].tolist() == [1200.0, 700.0]
    assert moved.image[0, 2] == pytest.approx(40.0)
    assert moved.edges is not None and moved.edges[0, 0].tolist() == [1080.0, 680.0]


def test_tiles_overlap_and_cover_the_frame() -> None:
    boxes = tiles(1920, 1080, 0.5)
    assert all(x1 - x0 == 540 and y1 - y0 == 540 for x0, y0, x1, y1 in boxes)
    covered = np.zeros((1080, 1920), bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    assert len(boxes) == 7 * 3
    assert tiles(320, 240, 0.5) == []  # a small frame: the first pass saw it whole


# ------------------------------------------------------------------ real MediaPipe

FAR_CLIP = "clips/deadlift/yfgd_good_01.mp4"


@pytest.fixture(scope="module")
def far_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vision.transforms import make_variant

    out = tmp_path_factory.mktemp("far") / "yfgd_good_01.far.mp4"
    return make_variant(shared_data / FAR_CLIP, out, "far")


@pytest.mark.clips
def test_without_the_second_look_the_far_lifter_is_missed(far_clip: Path, model_path: Path) -> None:
    from backcheck.pipeline import POSE_LONG_SIDE, UPLOAD_NUM_POSES
    from vision.lifter import LifterTracker
    from vision.pose_pass import run_pose_pass
    from vision.video import probe

    info = probe(far_clip)
    frames = run_pose_pass(
        far_clip,
        model_path,
        max_fps=15.0,
        scale_to=POSE_LONG_SIDE,
        full_size=(info.width, info.height),
        num_poses=UPLOAD_NUM_POSES,
        duration_s=info.duration_s,
    )
    tracker = LifterTracker()
    for frame in frames:
        tracker.update(frame.t, frame.people)
    rough = tracker.lifter_track(info.width, info.height)
    assert rough.found.mean() < MIN_FOUND_SHARE
    assert needs_second_look(rough) is not None


@pytest.mark.clips
def test_with_the_second_look_the_far_lifter_gets_the_clips_verdict(
    far_clip: Path, shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    from backcheck.pipeline import analyze_video

    with open(shared_data / "clips.csv", newline="", encoding="utf-8") as fh:
        label = next(r for r in csv.DictReader(fh) if r["file"] == FAR_CLIP)
    result = analyze_video(far_clip, out_dir=tmp_path / "o", model=str(model_path))
    report = result.report
    assert report.quality.tracked_fraction >= 0.9
    assert len(report.reps) == int(label["reps"])  # 1
    codes = {f.code for f in report.flags}
    assert ("spine_extension" in codes) == (label["spine_extension"] == "marked")
    assert "spine_flexion" not in codes and label["spine_flexion"] == "none"
    # The landmarks are in the full 1920×1080 frame, where the small clip was placed.
    track = result.analysis.track
    hips = track.image[track.found][:, Landmark.LEFT_HIP, :2]
    assert np.nanmedian(hips[:, 0]) == pytest.approx(1340, abs=80)
    assert np.nanmedian(hips[:, 1]) == pytest.approx(790, abs=80)
    # The report says the lifter was found by a closer look, and where.
    assert report.quality.second_look_crop is not None
    x0, y0, x1, y1 = report.quality.second_look_crop
    assert x0 <= 1340 <= x1 and y0 <= 790 <= y1
    assert SECOND_LOOK_WARNING in report.quality.warnings
    saved = json.loads(result.report_path.read_text(encoding="utf-8"))
    assert saved["quality"]["second_look_crop"] == [x0, y0, x1, y1]
    assert PoseTrack.load(result.track_path).crop == (x0, y0, x1, y1)


@pytest.mark.clips
def test_a_large_empty_frame_still_has_no_one(model_path: Path, tmp_path: Path) -> None:
    from backcheck.pipeline import analyze_video
    from vision.video import VideoWriter

    rng = np.random.default_rng(1)
    video = tmp_path / "empty_1080p.mp4"
    with VideoWriter(video, crf=23, preset="veryfast") as writer:
        for i in range(30):
            noise = rng.integers(0, 20, (1080, 1920, 3), dtype=np.uint8)
            writer.write(np.full((1080, 1920, 3), 100, np.uint8) + noise, i / 15)
        writer.close(end_t=2.0)
    with pytest.raises(AnalysisError, match="No one was found"):
        analyze_video(video, out_dir=tmp_path / "o", model=str(model_path), write_video=False)
