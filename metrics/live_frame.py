"""One live frame as the streaming rules see it, and the interface those rules implement.

`metrics.live.LiveAnalyzer` turns each `PoseSample` into a `LiveFrame` (smoothed
landmarks, `frame_angles`); a `StreamMonitor` (metrics.live_rules) turns frames into a
`MonitorUpdate`. Both sides import these types from here, so neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from metrics.angles import ANGLE_SPECS, Side, angle_from_spec, compute_angles
from metrics.landmarks import N_LANDMARKS, SIDE_PARTS
from metrics.profile import ClientProfile
from metrics.report import Flag, ViewInfo
from metrics.reps import head_top_px, torso_lengths_px
from metrics.thresholds import Thresholds
from metrics.track import PoseTrack

LiveExercise = Literal["hinge", "plank"]

_HIP_SPEC = next(s for s in ANGLE_SPECS if s.name == "hip")


@dataclass(frozen=True, eq=False)
class PoseSample:
    """The lifter in one frame as the pose model saw it; arrays None when nobody was found.

    `edges` is `vision.pose.PersonPose.edges`: the mask edge on both sides of the
    hip–shoulder line, (K, 2, 2) px.
    """

    t: float
    image: np.ndarray | None = None  # (33, 3) px
    world: np.ndarray | None = None  # (33, 3) m
    visibility: np.ndarray | None = None  # (33,)
    edges: np.ndarray | None = None  # (K, 2, 2) px
    others: int = 0
    size: tuple[int, int] | None = None  # (width, height) of the frame, when known


@dataclass(frozen=True)
class FrameAngles:
    """One frame's angles in the conventions of `metrics.angles` (degrees; NaN unknown)."""

    trunk: float = math.nan
    hip: float = math.nan
    knee: float = math.nan
    neck: float = math.nan
    plank_line: float = math.nan
    hip_height: float = math.nan
    shoulder_height: float = math.nan
    hip_far: float = math.nan  # hip angle of the side away from the camera
    # how far below the frame's top edge the head is, in torso lengths (metrics.reps
    # .head_room; the rep counter's test for a lockout risen out of the frame)
    head_room: float = math.nan


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """What the streaming rules see for one frame: smoothed landmarks and their angles."""

    t: float
    found: bool
    angles: FrameAngles
    side: Side
    facing: Side
    image: np.ndarray  # (33, 3) px, smoothed, NaN where gated out
    world: np.ndarray  # (33, 3) m, smoothed
    visibility: np.ndarray  # (33,)
    back: np.ndarray | None  # (K, 2) px, the back's mask edge for `facing`
    judgeable: bool = True  # the recent view is side-on enough to judge the spine or line
    sample: PoseSample | None = None  # the raw detection this frame was computed from
    view: ViewInfo | None = None  # the recent view, as `metrics.view.classify_view` says


@dataclass(frozen=True)
class MonitorUpdate:
    """What a streaming rule says after a frame.

    `events` are flag codes raised on this frame only (e.g. a rep just judged), `active`
    the fault states that hold now (e.g. hips sagging), `flags` every flag judged so far.
    """

    reps: int = 0
    hold_s: float | None = None
    phase: str = ""
    events: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()


class StreamMonitor(Protocol):
    """A streaming exercise rule: fed every frame in time order.

    A rule may also have ``finish() -> tuple[Flag, ...]``, called when the set ends, to
    judge what was still waiting and return every flag.
    """

    def update(self, frame: LiveFrame) -> MonitorUpdate: ...


MonitorFactory = Callable[[LiveExercise, Thresholds, ClientProfile], StreamMonitor]


class NullMonitor:
    """Counts nothing and flags nothing: used when no streaming rule is available."""

    def update(self, frame: LiveFrame) -> MonitorUpdate:
        return MonitorUpdate()


def leg_length_px(image: np.ndarray, side: Side) -> float:
    k = 0 if side == "left" else 1
    hp, kn, an = (image[SIDE_PARTS[p][k], :2].astype(np.float64) for p in ("hip", "knee", "ankle"))
    return float(np.linalg.norm(hp - kn) + np.linalg.norm(kn - an))


def frame_angles(
    image: np.ndarray,
    visibility: np.ndarray,
    *,
    side: Side,
    facing: Side,
    leg_px: float | None = None,
    torso_px: float | None = None,
) -> FrameAngles:
    """Angles of one frame's (already gated and smoothed) landmarks, by `compute_angles`.

    `leg_px` is the leg length that scales hip and shoulder height (the upload path uses
    the clip's median); None uses this frame's own. `torso_px` is the torso length that
    scales the head's room below the frame's top edge (`metrics.reps.head_room`, which
    uses the clip's median); None uses this frame's own (the median of its two sides).
    """
    one = PoseTrack(
        t=np.zeros(1),
        image=np.asarray(image, np.float32)[None],
        world=np.full((1, N_LANDMARKS, 3), np.nan, np.float32),
        visibility=np.asarray(visibility, np.float32)[None],
        width=1,
        height=1,
    )
    a = compute_angles(one, side=side, facing=facing)
    far: Side = "right" if side == "left" else "left"
    hip_far = angle_from_spec(one, _HIP_SPEC, side=far, facing=facing)
    scale = 1.0
    if leg_px is not None and np.isfinite(leg_px) and leg_px > 0:
        own = leg_length_px(image, side)
        scale = own / leg_px if np.isfinite(own) and own > 0 else math.nan
    return FrameAngles(
        trunk=float(a.trunk[0]),
        hip=float(a.hip[0]),
        knee=float(a.knee[0]),
        neck=float(a.neck[0]),
        plank_line=float(a.plank_line[0]),
        hip_height=float(a.hip_height[0]) * scale,
        shoulder_height=float(a.shoulder_height[0]) * scale,
        hip_far=float(hip_far[0]),
        head_room=_head_room(image, torso_px),
    )


def _head_room(image: np.ndarray, torso_px: float | None) -> float:
    """The head's room below the frame's top edge in torso lengths (NaN unknown)."""
    if torso_px is None:
        own = torso_lengths_px(image)
        own = own[np.isfinite(own) & (own > 0)]
        torso_px = float(np.median(own)) if own.size else math.nan
    if not (np.isfinite(torso_px) and torso_px > 0):
        return math.nan
    return float(head_top_px(image)) / torso_px
