"""Follow the lifter through the stretches where the pose pass lost them.

The pose pass asks for two poses, so MediaPipe runs its person detector on every frame
and finds the lifter afresh each time. On a small or strongly compressed video the
detector misses a lifter it found a moment before, for a second or more: the 854×480
copy of yfgd_good_04 loses the whole lockout (1.5 s), and a coach gets "no rep" for a
pull anyone can see. Asked for one pose, the model follows that person from the last
frame's landmarks instead of running the detector, and keeps them (measured on that
copy: a torso of 56–64 px and a lean-back of 16–20° on every lockout frame, against one
frame found).

So, after the pose pass, each stretch of analysed frames where the lifter was lost (not
found, or found as no body could be: the plausibility gate drops a shoulder or hip) and
that follows frames where they were is looked at again: one pose is followed from
`LEAD_FRAMES` frames before the stretch to its end. It must start on the lifter (its
torso within `MATCH_TORSO` torso lengths of the lifter's on the last lead frame), or the
stretch is left as it was, and each pose it gives must continue the last one as the
lifter's trail does between frames (`vision.lifter.link_distance`), so a follower that
drifts onto someone else or onto the plates is refused there. The poses it gives are
pinned as the lifter's on those frames (`LifterTracker.pin`): the choice of the lifter
over the clip is made as before, so no frame where the pose pass had the lifter loses
them. The plausibility gate still judges every frame followed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics.clean import MAX_GAP_S
from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from vision.lifter import link_distance, torso_distance
from vision.pose import PersonPose

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


def _half_step(times: np.ndarray) -> float:
    return float(np.median(np.diff(times))) / 2 if len(times) > 1 else 0.0


def follow_stretches(
    rough: PoseTrack, lost: np.ndarray, detect_stretch: StretchDetector
) -> dict[int, PersonPose]:
    """The lifter's pose on the frames of each stretch of `lost` frames of the lifter's
    track `rough` (a row per analysed frame) where a one-pose follower found them.

    The follower must start on the lifter (`MATCH_TORSO` on the last lead frame), and
    each pose it gives must continue the last one taken as the lifter's does between
    frames (`vision.lifter.link_distance`: near it, of the lifter's size); frames that
    `lost` does not mark keep the pose pass's lifter.
    """
    pins: dict[int, PersonPose] = {}
    times = rough.t
    half_step = _half_step(times)
    for s in lost_stretches(~lost, rough.t):
        seen: dict[int, Sequence[PersonPose]] = {}
        for t, people in detect_stretch(float(times[s.lead]), float(times[s.end - 1])):
            i = int(np.argmin(np.abs(times - t)))
            if abs(times[i] - t) <= half_step + 1e-6:
                seen[i] = people
        last, last_t = _pose_of(rough, s.first - 1), float(times[s.first - 1])
        size = last.torso_size
        followed = seen.get(s.first - 1)
        if not followed or not torso_distance(followed[0], last, size) <= MATCH_TORSO:
            continue  # the follower started on someone or something else
        for i in range(s.first, s.end):
            if not lost[i]:
                last, last_t = _pose_of(rough, i), float(times[i])
                continue
            pose = seen[i][0] if seen.get(i) else None
            if pose is None or link_distance(pose, last, size, times[i] - last_t) is None:
                continue  # not found, or not the body it followed (plates, a bystander)
            pins[i] = pose
            last, last_t = pose, float(times[i])
    return pins


def follow_lost_lifter(
    video: Path,
    model_path: Path,
    rough: PoseTrack,
    *,
    max_fps: float | None,
    scale_to: int | None,
    full_size: tuple[int, int],
) -> dict[int, PersonPose]:
    """`follow_stretches` with the pose model (one pose, in VIDEO mode) on the video's
    analysed frames, decoded again for the stretches only."""
    lost = lost_frames(rough)
    if not lost_stretches(~lost, rough.t):
        return {}
    from vision.pose_reuse import open_estimator
    from vision.video import iter_frames

    half_step = _half_step(rough.t)
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

        return follow_stretches(rough, lost, detect_stretch)
