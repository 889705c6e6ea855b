"""Follow one person, and look for a second now and then: the pose pass's models.

Asked for two poses, MediaPipe's PoseLandmarker runs its person detector on every frame,
because it keeps looking for the second person (about 11 of 28 ms a frame here). Asked
for one, it follows that person from the last frame's landmarks and runs the detector only
when it loses them. Most uploads have one person in frame, so a span follows one pose,
and a second model with room for two counts who is in the frame on the span's first
frame and about once a second after it (a headcount). From the first headcount that finds
two people the span goes on with the two-pose model alone, as every frame did before, so
the lifter choice (`vision.lifter`) still sees a spotter or a passer-by.

This is `backcheck analyze --fast`. The default asks for two poses on every frame: the
landmarks differ a little between the two ways, and on the labelled clips that moved a
borderline call across its line (docs/models.md).

Following the last frame's landmarks can go wrong in three ways, each caught here and
answered by forgetting whom it followed and detecting afresh on the same frame:
- a hard cut (an edited clip) moves the person at once, and the model would look where
  they were for a few frames (measured: 3 frames of a cut-together clip read the hips
  50 px off). A cut is told by the frame's small grey thumbnail changing more than a
  camera's movement does, and a headcount is taken on it;
- in a fast pull the pose can slip onto part of the body or the plates and stay there
  (mirrored yfgd_good_05: the torso shrank from 176 to 29-60 px for a second, and the rep
  was lost): a torso `SLIP_FACTOR` times off its last few frames' length;
- a headcount finding its one person somewhere else than the followed pose.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vision.pose import PersonPose
    from vision.pose_reuse import RebasedEstimator

# Seconds between headcounts. Someone who walks in between two is found at the next;
# until then the one-pose model keeps following whom it followed.
HEADCOUNT_EVERY_S = 1.0
# Side of the grey thumbnail compared between analysed frames, in pixels.
_THUMB = 32
# Mean absolute change of the thumbnail (grey levels, brightness removed) that counts as a
# cut. Between analysed frames of the labelled clips the change is 0.1-3.0 in the median
# and at most 12.5 (a fast lift close to the camera); their cuts read 16 to 62. A
# false cut costs one detector run, a missed one a few lagging frames: the line is low.
CUT_CHANGE = 8.0
# The followed pose has slipped (onto part of the body, or the plates) when its torso is
# this many times shorter or longer than over its last few frames, or than the headcount's
# lone person: a body does not change size that fast. Then it is detected afresh.
SLIP_FACTOR = 1.5
_SIZE_FRAMES = 5


class Headcount:
    """Everyone found in a span's frames, with one pose followed while one is in view.

    `detect` has `PoseEstimator.detect`'s contract. `one` is a model asked for one pose,
    `many` one asked for more. `crowded`, `cuts`, `counts` and `slips` say what happened.
    """

    def __init__(self, one: RebasedEstimator, many: RebasedEstimator) -> None:
        self._one = one
        self._many = many
        self._next_count_s: float | None = None
        self._last_thumb: np.ndarray | None = None
        self._sizes: deque[float] = deque(maxlen=_SIZE_FRAMES)
        self.crowded = False
        self.cuts = 0
        self.counts = 0
        self.slips = 0

    def detect(
        self, rgb: np.ndarray, t: float, full_size: tuple[int, int] | None = None
    ) -> list[PersonPose]:
        if self.crowded:
            return self._many.detect(rgb, t, full_size)
        cut = self._is_cut(rgb)
        if cut:
            self.cuts += 1
            self._forget()
        people = self._one.detect(rgb, t, full_size)
        if people and _off_size(people[0].torso_size, self._sizes):
            people = self._afresh(rgb, t, full_size)
        if cut or self._next_count_s is None or t >= self._next_count_s:
            self._next_count_s = t + HEADCOUNT_EVERY_S
            self.counts += 1
            seen = self._many.detect(rgb, t, full_size)
            if len(seen) > 1:
                self.crowded = True
                return seen
            if seen and (not people or _elsewhere(people[0], seen[0])):
                self.slips += bool(people)  # found where the followed pose isn't
                self._forget()
                people = seen
        if people:
            self._sizes.append(people[0].torso_size)
        return people

    def _forget(self) -> None:
        self._one.restart()
        self._sizes.clear()

    def _afresh(
        self, rgb: np.ndarray, t: float, full_size: tuple[int, int] | None
    ) -> list[PersonPose]:
        self.slips += 1
        self._forget()
        return self._one.detect(rgb, t, full_size)

    def _is_cut(self, rgb: np.ndarray) -> bool:
        thumb = grey_thumbnail(rgb)
        last, self._last_thumb = self._last_thumb, thumb
        return last is not None and thumb_change(last, thumb) > CUT_CHANGE


def _off_size(size: float, recent: Sequence[float]) -> bool:
    if not recent or not size > 0:
        return False
    typical = float(np.median(recent))
    return not (typical / SLIP_FACTOR <= size <= typical * SLIP_FACTOR)


def _elsewhere(followed: PersonPose, found: PersonPose) -> bool:
    """The followed pose and the headcount's lone person are not the same body: torso
    centres more than half a torso apart, or torso lengths `SLIP_FACTOR` apart."""
    if _off_size(followed.torso_size, [found.torso_size]):
        return True
    apart = followed.torso_center - found.torso_center
    return bool(np.hypot(*apart) > 0.5 * found.torso_size)


def grey_thumbnail(rgb: np.ndarray) -> np.ndarray:
    """The frame as a `_THUMB`² grey thumbnail with its mean brightness taken out."""
    import cv2

    small = cv2.resize(rgb, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA)
    grey = small.astype(np.float32).mean(axis=2)
    return grey - grey.mean()


def thumb_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, in grey levels."""
    return float(np.abs(a - b).mean())


@contextmanager
def open_span_models(
    model_path: Path, *, num_poses: int, follow_one: bool
) -> Iterator[Headcount | RebasedEstimator]:
    """The models for one span of the pose pass: with `follow_one` and more than one pose
    wanted, a `Headcount`; else one model asked for `num_poses` on every frame. Models are
    lent by `vision.pose_reuse` (kept by a batch worker)."""
    from vision.pose_reuse import open_estimator

    if not follow_one or num_poses <= 1:
        with open_estimator(model_path, num_poses=num_poses) as model:
            yield model
        return
    with ExitStack() as stack:
        one = stack.enter_context(open_estimator(model_path, num_poses=1))
        many = stack.enter_context(open_estimator(model_path, num_poses=num_poses))
        yield Headcount(one, many)
