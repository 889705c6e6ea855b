"""A second look at a far, small lifter: find where they are, then pose a crop around them.

The pose pass shrinks every frame to 640 px on its long side, and the pose detector looks
at the whole frame at 224 px. A lifter filmed from across the gym (a torso of a few dozen
pixels in a 1080p frame) is then found on few frames or on none, and the landmarks of
the frames where they are found are coarse. The second look:

1. decides whether the first pass needs it (`needs_second_look`): the lifter found on
   under `MIN_FOUND_SHARE` of the analysed frames, or a torso under `SMALL_TORSO_SHARE` of
   the frame's long side;
2. finds where the person is (`locate_person`): from the lifter's landmarks on the frames
   where they were found, or, when nobody was found, by the pose model on overlapping
   tiles of a few frames (a tile is half or a third of the frame's short side, so a far
   person fills a good part of it);
3. runs the pose pass again on one padded box, fixed over the clip, cut from the frames
   at full resolution (`crop_pose_pass`), and maps the landmarks and mask edges back to
   full-frame pixels, so everything downstream sees a normal track of the whole frame.

The crop's track replaces the first pass's only when it finds the lifter on at least as
many frames (less a small slack). When someone was seen in the tiles but cannot be
followed in the crop, the reason says so instead of "no one was found". The thresholds
and how they were chosen are in docs/second-look.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from vision.lifter import LifterTracker
from vision.pose import PersonPose, create_landmarker, poses_from_result
from vision.pose_pass import FramePoses, pose_workers, run_spans, split_spans

# The lifter found on fewer analysed frames than this share: look again.
MIN_FOUND_SHARE = 0.5
# A median torso (shoulder to hip) shorter than this share of the frame's long side: look
# again. At the pose pass's 640 px this is a 32 px torso; a lifter filling a third of the
# frame's height (the advice given to coaches) has about twice that.
SMALL_TORSO_SHARE = 0.05
# The crop is a square this many times the person's box (its longer side), so the lifter
# fills about half of it and stays inside as the bar moves them.
CROP_PAD = 2.0
# A crop this close to the whole frame (its side over the frame's short side) is no
# closer look than the first pass.
MAX_CROP_SHARE = 0.8
# Poses followed in the crop. It holds the one person found, and following the last
# frame's region keeps a small person's fit steady: asking for two made the model lose
# the far lifter on every other frame of the far test copy (36 of 73 frames kept, against
# 72 of 73 with one).
CROP_NUM_POSES = 1
# The crop is shrunk to this long side for the pose model, as the first pass's frames are.
CROP_LONG_SIDE = 640
# The crop's track is kept when it finds the lifter on at least this share of the frames
# the first pass found them on.
KEEP_SLACK = 0.9
# Tiles for finding a person nobody found: sides as shares of the frame's short side,
# overlapping by half; no tile smaller than `MIN_TILE_PX`.
TILE_SHARES = (0.5, 1.0 / 3.0)
MIN_TILE_PX = 256
SAMPLE_FRAMES = 3
# A tile's detection counts when its shoulders and hips are seen this well, and its torso
# is at least this share of the tile (a real person, not a speck).
MIN_TILE_VISIBILITY = 0.6
MIN_TILE_TORSO = 0.08
# Landmarks of the lifter that bound the person's box, and how well seen they must be.
_BOX_VISIBILITY = 0.3
_TORSO = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in full-frame pixels


def needs_second_look(track: PoseTrack) -> str | None:
    """Why the first pass's lifter track deserves a closer look, or None when it does not."""
    n = len(track)
    if n == 0:
        return None
    found = int(track.found.sum())
    if found == 0:
        return "no one was found in the whole frame"
    if found < MIN_FOUND_SHARE * n:
        return f"the lifter was found on {found} of {n} frames"
    share = torso_share(track)
    if share < SMALL_TORSO_SHARE:
        return f"the lifter is small in the frame (torso {share:.1%} of its long side)"
    return None


def torso_share(track: PoseTrack) -> float:
    """The lifter's median torso length over the frame's long side (NaN if never found)."""
    im = track.image
    sh = im[:, [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER], :2].mean(axis=1)
    hp = im[:, [Landmark.LEFT_HIP, Landmark.RIGHT_HIP], :2].mean(axis=1)
    torso = np.hypot(*(sh - hp).T)
    if not np.isfinite(torso).any():
        return float("nan")
    return float(np.nanmedian(torso)) / max(track.width, track.height)


def box_from_track(track: PoseTrack) -> Box | None:
    """The box the lifter's well-seen landmarks span over the frames where they were found."""
    pts = track.image[track.found][..., :2]
    vis = track.visibility[track.found]
    if len(pts) == 0:
        return None
    ok = (vis >= _BOX_VISIBILITY) & np.isfinite(pts).all(axis=-1)
    lo = np.where(ok[..., None], pts, np.inf).min(axis=1)  # per frame
    hi = np.where(ok[..., None], pts, -np.inf).max(axis=1)
    good = np.isfinite(lo).all(axis=1) & np.isfinite(hi).all(axis=1)
    if not good.any():
        return None
    # A landmark thrown off for a frame or two does not stretch the box.
    x0, y0 = np.percentile(lo[good], 5, axis=0)
    x1, y1 = np.percentile(hi[good], 95, axis=0)
    return int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))


def crop_box(person: Box, width: int, height: int) -> Box | None:
    """A square `CROP_PAD` times the person's box around it, inside the frame; None when
    that is hardly smaller than the frame (nothing to gain)."""
    x0, y0, x1, y1 = person
    side = int(round(CROP_PAD * max(x1 - x0, y1 - y0, 1)))
    side = min(side, width, height)
    if side > MAX_CROP_SHARE * min(width, height):
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return left, top, left + side, top + side


def shift_pose(person: PersonPose, box: Box, scale: float) -> PersonPose:
    """A pose found on a crop (shrunk by `scale`) in pixels of the whole frame."""
    x0, y0 = box[0], box[1]
    image = person.image.copy()
    image[:, :2] = image[:, :2] / scale + np.array([x0, y0], np.float32)
    image[:, 2] = image[:, 2] / scale
    edges = None
    if person.edges is not None:
        edges = person.edges / scale + np.array([x0, y0], np.float32)
    return PersonPose(image, person.world, person.visibility, edges)


def _cut(rgb: np.ndarray, box: Box) -> tuple[np.ndarray, float]:
    """The crop of `rgb`, shrunk to `CROP_LONG_SIDE` when larger, and its scale."""
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1]
    side = max(crop.shape[:2])
    if side <= CROP_LONG_SIDE:
        return np.ascontiguousarray(crop), 1.0
    import cv2

    scale = CROP_LONG_SIDE / side
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA), scale


def crop_pose_pass(
    video: Path,
    model_path: Path,
    box: Box,
    *,
    max_fps: float | None,
    num_poses: int,
    duration_s: float,
    workers: int | None = None,
) -> list[FramePoses]:
    """The pose pass on the `box` of every analysed frame, landmarks in full-frame pixels.

    Spans of the video run in threads, one model instance each, as `vision.pose_pass`
    does; the frames met are the same as the first pass's (same rate cap and slots).
    """
    from vision.pose_reuse import open_estimator
    from vision.video import iter_frames

    spans = split_spans(duration_s, max_fps, workers or pose_workers())
    found: list[list[FramePoses]] = [[] for _ in spans]
    stop = threading.Event()

    def work(k: int) -> None:
        start, end = spans[k]
        frames = iter_frames(video, max_fps=max_fps, start_s=start, end_s=end)
        try:
            with open_estimator(model_path, num_poses=num_poses) as estimator:
                for frame in frames:
                    if stop.is_set():
                        return
                    crop, scale = _cut(frame.rgb, box)
                    size = (crop.shape[1], crop.shape[0])
                    people = estimator.detect(crop, frame.t, size)
                    shifted = tuple(shift_pose(p, box, scale) for p in people)
                    found[k].append(FramePoses(frame.t, shifted))
        finally:
            frames.close()

    run_spans(len(spans), work, stop, name="second-look")
    return [frame for span in found for frame in span]


# ------------------------------------------------------------------ finding a far person


def tiles(width: int, height: int, share: float) -> list[Box]:
    """Square tiles of `share` × the short side, overlapping by half, covering the frame."""
    side = int(round(share * min(width, height)))
    if side < MIN_TILE_PX:
        return []
    stride = side // 2
    xs = list(range(0, max(width - side, 0) + 1, stride))
    ys = list(range(0, max(height - side, 0) + 1, stride))
    if xs[-1] + side < width:
        xs.append(width - side)
    if ys[-1] + side < height:
        ys.append(height - side)
    return [(x, y, x + side, y + side) for y in ys for x in xs]


def _person_box(person: PersonPose) -> Box | None:
    pts = person.image[:, :2]
    ok = (person.visibility >= _BOX_VISIBILITY) & np.isfinite(pts).all(axis=1)
    if ok.sum() < 4:
        return None
    lo, hi = pts[ok].min(axis=0), pts[ok].max(axis=0)
    return int(lo[0]), int(lo[1]), int(np.ceil(hi[0])), int(np.ceil(hi[1]))


def locate_in_tiles(video: Path, model_path: Path, duration_s: float) -> Box | None:
    """The box around a person the whole-frame pass missed, found on tiles of a few frames.

    Each of `SAMPLE_FRAMES` frames (spread over the clip) is cut into overlapping tiles,
    and the pose model looks at each tile alone. The detections near the best-seen one
    (the same person in overlapping tiles and other frames) make the box; None when no
    tile holds a clearly seen person.
    """
    from vision.video import iter_frames

    picked: list[np.ndarray] = []
    for k in range(SAMPLE_FRAMES):
        t = duration_s * (2 * k + 1) / (2 * SAMPLE_FRAMES)
        frames = iter_frames(video, start_s=t, end_s=t + 1.0)
        try:
            frame = next(frames, None)
        finally:
            frames.close()
        if frame is not None:
            picked.append(frame.rgb)
    if not picked:
        return None
    height, width = picked[0].shape[:2]
    with _ImageLandmarker(model_path) as model:
        for share in TILE_SHARES:
            hits: list[tuple[float, PersonPose]] = []
            for rgb in picked:
                for tile in tiles(width, height, share):
                    crop, scale = _cut(rgb, tile)
                    side = tile[2] - tile[0]
                    for person in model.detect(crop):
                        seen = float(np.min(person.visibility[_TORSO]))
                        big = person.torso_size / max(crop.shape[:2]) >= MIN_TILE_TORSO
                        if seen >= MIN_TILE_VISIBILITY and big and side > 0:
                            hits.append((seen, shift_pose(person, tile, scale)))
            if hits:
                return _cluster_box(hits)
    return None


def _cluster_box(hits: list[tuple[float, PersonPose]]) -> Box | None:
    """The union of the boxes of detections within two torso lengths of the best-seen."""
    best = max(hits, key=lambda h: h[0])[1]
    reach = 2.0 * max(best.torso_size, 1.0)
    boxes = [
        b
        for _, p in hits
        if float(np.hypot(*(p.torso_center - best.torso_center))) <= reach
        and (b := _person_box(p)) is not None
    ]
    if not boxes:
        return None
    a = np.array(boxes)
    return int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max())


class _ImageLandmarker:
    """PoseLandmarker in IMAGE mode (each tile on its own, nothing followed), no masks."""

    def __init__(self, model_path: Path) -> None:
        self._model = create_landmarker(model_path, video=False, num_poses=1, masks=False)

    def detect(self, rgb: np.ndarray) -> list[PersonPose]:
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._model.detect(image)
        return poses_from_result(result, rgb.shape[1], rgb.shape[0])

    def __enter__(self) -> _ImageLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self._model.close()


# ------------------------------------------------------------------ the whole step

FAR_AWAY = (
    "Someone is in the frame but too far away to follow: film from closer, with the "
    "lifter filling at least a third of the frame."
)


@dataclass(frozen=True)
class SecondLook:
    """What the second look did: why it looked, the crop, and the lifter it found there.

    `tracker` follows the people found in the crop (None when the crop found the lifter
    on fewer frames than the first pass, or there was no crop); `failure` is the reason
    to give when the lifter is found nowhere although someone was seen.
    """

    reason: str
    box: Box | None
    found_before: int
    found_after: int
    tracker: LifterTracker | None

    @property
    def failure(self) -> str | None:
        return FAR_AWAY if self.box is not None and self.found_after == 0 else None


def second_look(
    video: Path,
    model_path: Path,
    rough: PoseTrack,
    *,
    max_fps: float | None,
    duration_s: float,
    workers: int | None = None,
) -> SecondLook | None:
    """A closer look at the lifter of the first pass's track `rough`, or None when the
    first pass needs none (`needs_second_look`)."""
    reason = needs_second_look(rough)
    if reason is None:
        return None
    before = int(rough.found.sum())
    person = box_from_track(rough) if before >= 3 else None
    if person is None:
        person = locate_in_tiles(video, model_path, duration_s)
    box = crop_box(person, rough.width, rough.height) if person is not None else None
    if box is None:
        return SecondLook(reason, None, before, before, None)
    frames = crop_pose_pass(
        video,
        model_path,
        box,
        max_fps=max_fps,
        num_poses=CROP_NUM_POSES,
        duration_s=duration_s,
        workers=workers,
    )
    tracker = LifterTracker()
    for frame in frames:
        tracker.update(frame.t, frame.people)
    after = int(tracker.lifter_track(rough.width, rough.height).found.sum())
    kept = after > 0 and after >= KEEP_SLACK * before
    return SecondLook(reason, box, before, after, tracker if kept else None)
