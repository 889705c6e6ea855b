"""What one frame of a plank looks like: the plank rules' inputs and the position test.

`PlankRow` (one frame) and `PlankInputs` (a whole track) carry what the rules read; their
landmark features (`landmark_features`: the far knee, the arms' support) and the
in-position test (`plank_posture`) are shared by the hold timer (metrics.plank), the
exercise detector (metrics.exercise) and the live monitor (metrics.live_rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.angles import Angles, Side, signed_angle, to_body_frame
from metrics.landmarks import SIDE_PARTS
from metrics.track import PoseTrack

# What one frame of a plank looks like (detection, not coaching: these stay in code).
MAX_KNEE_BEND_DEG = 40.0  # knee within this of straight (180): tabletop and kneeling are ~90
MAX_ABS_LINE_DEG = 50.0  # hip bend off the shoulder-ankle line; a pike past this is a downdog
MAX_HIP_HEIGHT = 0.8  # hip height above the ankle in leg lengths (standing is ~1.0)
MIN_ARM_SUPPORT = 0.5  # wrist below the shoulder by this many upper-arm lengths (forearm ~0.9)


@dataclass(frozen=True)
class PlankRow:
    """One frame's inputs to the plank rules (degrees; NaN where unknown).

    `far_knee` is the knee of the side away from the camera (NaN where hidden);
    `arm_support` how far the wrist sits below the shoulder in upper-arm lengths (about
    0.9 on the forearms, 1.8 on straight arms, near 0 lying down).
    """

    t: float
    plank_line: float
    knee: float
    far_knee: float
    neck: float
    hip_height: float
    arm_support: float


@dataclass(frozen=True, eq=False)
class PlankInputs:
    """`PlankRow`s of a whole track as (T,) float64 arrays."""

    t: np.ndarray
    plank_line: np.ndarray
    knee: np.ndarray
    far_knee: np.ndarray
    neck: np.ndarray
    hip_height: np.ndarray
    arm_support: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def row(self, i: int) -> PlankRow:
        return PlankRow(
            t=float(self.t[i]),
            plank_line=float(self.plank_line[i]),
            knee=float(self.knee[i]),
            far_knee=float(self.far_knee[i]),
            neck=float(self.neck[i]),
            hip_height=float(self.hip_height[i]),
            arm_support=float(self.arm_support[i]),
        )

    @classmethod
    def from_track(cls, track: PoseTrack, angles: Angles) -> PlankInputs:
        """Inputs from a cleaned track and its angles (the side and facing of `angles`)."""
        far_knee, support = landmark_features(track.image, angles.side, angles.facing)
        return cls(
            t=np.asarray(angles.t, np.float64),
            plank_line=angles.plank_line,
            knee=angles.knee,
            far_knee=far_knee,
            neck=angles.neck,
            hip_height=angles.hip_height,
            arm_support=support,
        )


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def _pt(image: np.ndarray, part: str, side: Side) -> np.ndarray:
    return image[..., SIDE_PARTS[part][0 if side == "left" else 1], :2].astype(np.float64)


def landmark_features(image: np.ndarray, side: Side, facing: Side) -> tuple[np.ndarray, np.ndarray]:
    """(far_knee, arm_support) from (T, 33, 3) or (33, 3) image landmarks (px, y down).

    far_knee: the hip–knee–ankle angle of the side away from the camera, in the knee
    convention of `metrics.angles` (180 straight). arm_support: wrist y minus shoulder y
    over the shoulder–elbow length, on `side`, falling back to the other side per frame.
    """
    far = _other(side)
    hip, knee, ankle = (to_body_frame(_pt(image, p, far), facing) for p in ("hip", "knee", "ankle"))
    far_knee = np.mod(signed_angle(hip - knee, ankle - knee), 360.0)

    def support(s: Side) -> np.ndarray:
        sh, el, wr = (_pt(image, p, s) for p in ("shoulder", "elbow", "wrist"))
        upper = np.linalg.norm(sh - el, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(upper > 0, (wr[..., 1] - sh[..., 1]) / upper, np.nan)

    near_s, far_s = support(side), support(far)
    return far_knee, np.where(np.isfinite(near_s), near_s, far_s)


def plank_posture(
    plank_line: np.ndarray | float,
    knee: np.ndarray | float,
    far_knee: np.ndarray | float,
    hip_height: np.ndarray | float,
    arm_support: np.ndarray | float,
) -> np.ndarray:
    """Per frame, whether the body is in plank position (see the module docstring).

    The body line and the near knee must be measured; the far knee, hip height and arm
    support veto only where they are measured (the far knee hides behind the near one in
    a good side view).
    """
    line = np.asarray(plank_line, np.float64)
    near = np.asarray(knee, np.float64)
    far = np.asarray(far_knee, np.float64)
    hh = np.asarray(hip_height, np.float64)
    arm = np.asarray(arm_support, np.float64)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(line) <= MAX_ABS_LINE_DEG) & (np.abs(near - 180.0) <= MAX_KNEE_BEND_DEG)
        ok &= ~(np.abs(far - 180.0) > MAX_KNEE_BEND_DEG)
        ok &= ~(hh > MAX_HIP_HEIGHT)
        ok &= ~(arm < MIN_ARM_SUPPORT)
    return np.asarray(ok, bool)


def row_posture(row: PlankRow) -> bool:
    """`plank_posture` of one row."""
    return bool(
        plank_posture(row.plank_line, row.knee, row.far_knee, row.hip_height, row.arm_support)
    )
