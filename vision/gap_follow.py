"""Follow the lifter through the stretches where the pose pass lost them.

The pose pass asks for two poses, so MediaPipe runs its person detector on every frame
and finds the lifter afresh each time. On a small or strongly compressed video the
detector misses a lifter it found a moment before, for a second or more: the 854×480
copy of yfgd_good_04 loses the whole lockout (1.5 s), and a coach gets "no rep" for a
pull anyone can see. Asked for one pose, the model follows that person from the last
frame's landmarks instead of running the detector, and keeps them (measured on that
copy: a torso of 56–64 px and a lean-back of 16–20° on every lockout frame, against one
frame found).

So, after the pose pass, each stretch of analysed frames where the lifter was not found
and that follows frames where they were is looked at again: one pose is followed from
`LEAD_FRAMES` frames before the stretch to its end. It must start on the lifter (its
torso within `MATCH_TORSO` torso lengths of the lifter's on the last lead frame), or the
stretch is left as it was. What it finds in the stretch is added to those frames'
detections and the lifter is chosen again (`vision.lifter`), so a follower that drifts
onto someone else or onto the plates is refused there as any detection is; the
plausibility gate (`metrics.plausibility`) still judges every frame it adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics.clean import MAX_GAP_S
from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from vision.lifter import similar_size, torso_distance
from vision.pose import PersonPose
from vision.pose_pass import FramePoses

# Frames where the lifter was found that the follower starts on before a stretch: the
# first is found by the detector, the next confirms whom it follows.
LEAD_FRAMES = 2
# The follower started on the lifter when its torso centre is within this many of the
# lifter's torso lengths of the lifter's on the last lead frame.
MATCH_TORSO = 0.5
# A stretch longer than this is not followed: a lifter gone that long has left the frame
# or the set is over, and following would only fit the background.
MAX_STRETCH_S = 3.0
_TORSO = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]

# (start_t, end_t) → (t, people) for each analysed frame in that time, seen by a
# one-pose model started afresh at start_t (people: at most one pose).
StretchDetector = Callable[[float, float], Iterable[tuple[float, Sequence[PersonPose]]]]


@dataclass(frozen=True)
class Stretch:
    """Analysed frames `first` to `end - 1` without the lifter, after frames `lead` to
    `first - 1` with them."""

    lead: int
    first: int
    end: int


def lost_stretches(found: np.ndarray, t: np.ndarray) -> list[Stretch]:
    """Stretches where the lifter is lost: each starts at a frame without them that comes
    right after `LEAD_FRAMES` frames with them, and ends where `LEAD_FRAMES` frames in a
    row have them again (a lone frame found in between does not end it: the detector
    catching the lifter once is not the lifter followed); none longer than
    `MAX_STRETCH_S`, and none the cleaning fills from its neighbours
    (`metrics.clean.MAX_GAP_S`): a model loaded and frames decoded again for a few
    frames' interpolation are not worth it."""
    out: list[Stretch] = []
    n = len(found)
    i = LEAD_FRAMES
    while i < n:
        if found[i] or not found[i - LEAD_FRAMES : i].all():
            i += 1
            continue
        end = i + 1
        while end < n and not found[end : end + LEAD_FRAMES].all():
            end += 1
        span = t[min(end, n - 1)] - t[i - 1]  # between the frames with the lifter around it
        if span > MAX_GAP_S and t[end - 1] - t[i] <= MAX_STRETCH_S:
            out.append(Stretch(i - LEAD_FRAMES, i, end))
        i = end
    return out


def _pose_of(track: PoseTrack, i: int) -> PersonPose:
    return PersonPose(track.image[i], track.world[i], track.visibility[i], None)


def lost_frames(rough: PoseTrack) -> np.ndarray:
    """(T,) bool: frames where the lifter was not found, or found as no body could be
    (the plausibility gate drops a shoulder or hip: a fit of the plates, or of part of
    the body, that the detector's region gave the model)."""
    from metrics.plausibility import check_track

    gated = check_track(rough).track.image[:, _TORSO, 0]
    return ~rough.found | ~np.isfinite(gated).all(axis=1)


def follow_stretches(
    frames: Sequence[FramePoses],
    rough: PoseTrack,
    lost: np.ndarray,
    detect_stretch: StretchDetector,
) -> tuple[list[FramePoses], int]:
    """`frames` where a one-pose follower found the lifter in a stretch of `lost` frames
    of the lifter's track `rough` (a row per frame), and how many frames it gave a pose.

    In those frames the follower's pose replaces the lifter's pose (one the gate would
    drop, or none) and any other detection of the same body (within `MATCH_TORSO`)."""
    out = list(frames)
    gained = 0
    times = np.array([f.t for f in frames])
    half_step = float(np.median(np.diff(times))) / 2 if len(times) > 1 else 0.0
    for s in lost_stretches(~lost, rough.t):
        seen: dict[int, Sequence[PersonPose]] = {}
        for t, people in detect_stretch(float(times[s.lead]), float(times[s.end - 1])):
            i = int(np.argmin(np.abs(times - t)))
            if abs(times[i] - t) <= half_step + 1e-6:
                seen[i] = people
        lifter = _pose_of(rough, s.first - 1)
        followed = seen.get(s.first - 1)
        if not followed or not (
            torso_distance(followed[0], lifter, lifter.torso_size) <= MATCH_TORSO
        ):
            continue  # the follower started on someone or something else
        for i in range(s.first, s.end):
            pose = seen[i][0] if seen.get(i) else None
            if pose is None or not lost[i] or not similar_size(pose.torso_size, lifter.torso_size):
                continue  # a fit of part of the body is not the lifter either
            size = pose.torso_size
            others = tuple(
                p
                for p in out[i].people
                if not np.array_equal(p.image, rough.image[i], equal_nan=True)
                and not torso_distance(p, pose, size) <= MATCH_TORSO
            )
            out[i] = FramePoses(out[i].t, (*others, pose))
            gained += 1
    return out, gained


def follow_lost_lifter(
    video: Path,
    model_path: Path,
    frames: Sequence[FramePoses],
    rough: PoseTrack,
    *,
    max_fps: float | None,
    scale_to: int | None,
    full_size: tuple[int, int],
) -> tuple[list[FramePoses], int]:
    """`follow_stretches` with the pose model (one pose, in VIDEO mode) on the video's
    analysed frames, decoded again for the stretches only."""
    lost = lost_frames(rough)
    if not lost_stretches(~lost, rough.t):
        return list(frames), 0
    from vision.pose_reuse import open_estimator
    from vision.video import iter_frames

    times = [f.t for f in frames]
    half_step = float(np.median(np.diff(times))) / 2 if len(times) > 1 else 0.0
    with open_estimator(model_path, num_poses=1) as model:

        def detect_stretch(start_t: float, end_t: float) -> Iterator[tuple[float, list]]:
            model.restart()  # forget whom it followed: the detector finds the lead frame
            decoded = iter_frames(
                video,
                max_fps=max_fps,
                scale_to=scale_to,
                start_s=start_t,
                end_s=end_t + max(2 * half_step, 1e-3),  # the slot after the stretch's last
            )
            try:
                for frame in decoded:
                    yield frame.t, model.detect(frame.rgb, frame.t, full_size)[:1]
            finally:
                decoded.close()

        return follow_stretches(frames, rough, lost, detect_stretch)
