"""Sagittal-plane angles from a side view, in the one convention of docs/design.md.

Angles are defined as data (`ANGLE_SPECS`: named points and a kind) and computed by one
vectorised function, `signed_angle`, an ``arctan2(cross, dot)``. All angles are in degrees
and computed from image pixels (x right, y down) of the body side nearer the camera.

Body frame
----------
Joint angles and the trunk inclination are measured in a *body frame*: x points the way
the person faces in the image, y points up. A person facing right and the mirror image of
that person facing left have identical body-frame coordinates, so every angle has the same
value and sign whichever way the person faces: there are no 90°/270° flips.

Conventions
-----------
- trunk: inclination of hip→shoulder from vertical; 0 upright, 90 horizontal, positive
  leaning forward (toward the facing direction), negative leaning back past vertical.
- hip (shoulder–hip–knee), knee (hip–knee–ankle), neck (ear–shoulder–hip): 180 = straight.
  Below 180 is flexion (hip: trunk toward thigh; knee: bent; neck: head forward/down
  toward the chest); above 180 is hyperextension (hip: leaning back over the legs; knee:
  locked back; neck: head tipped back). Values lie in [0, 360).
- plank_line: 180 minus the shoulder–hip–ankle angle, i.e. how far the body bends at the
  hip away from a straight shoulder–ankle line. Positive when the hip lies below the line
  (toward the floor, larger image y: a sag), negative above it (a pike). It uses gravity,
  not the facing direction, and is NaN when the shoulder–ankle line is steeper than
  `PLANK_LINE_MAX_TILT_DEG` from horizontal (standing), where "below" has no meaning.
- hip_height, shoulder_height: height above the ankle (same side) in leg lengths, where a
  leg length is the clip's median hip–knee plus knee–ankle distance in pixels; about 1.0
  for the hip of a person standing straight, near 0.2 in a plank. Scale-free, for rep and
  hold detection.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from metrics.landmarks import SIDE_PARTS, Landmark
from metrics.track import PoseTrack

Side = Literal["left", "right"]
AngleKind = Literal["from_vertical", "joint", "line_deviation"]

PLANK_LINE_MAX_TILT_DEG = 60.0


@dataclass(frozen=True)
class AngleSpec:
    """One angle: named body parts (keys of `SIDE_PARTS`, on the chosen side) and a kind.

    Kinds
    -----
    from_vertical : (a, b)
        Signed angle of the segment a→b from straight up, positive toward the facing
        direction (body frame).
    joint : (a, vertex, c)
        Angle at `vertex`, swept counter-clockwise in the body frame from the ray to `a`
        to the ray to `c`, in [0, 360). The order of `a` and `c` is chosen so that 180 is
        straight and flexion is below 180.
    line_deviation : (a, vertex, c)
        180 minus the angle a–vertex–c, positive when `vertex` lies below the line a–c
        (toward larger image y), independent of the facing direction.
    """

    name: str
    points: tuple[str, ...]
    kind: AngleKind


ANGLE_SPECS: tuple[AngleSpec, ...] = (
    AngleSpec("trunk", ("hip", "shoulder"), "from_vertical"),
    AngleSpec("hip", ("knee", "hip", "shoulder"), "joint"),
    AngleSpec("knee", ("hip", "knee", "ankle"), "joint"),
    AngleSpec("neck", ("hip", "shoulder", "ear"), "joint"),
    AngleSpec("plank_line", ("shoulder", "hip", "ankle"), "line_deviation"),
)

# Evidence weights for the facing direction (see `facing_direction`).
_FACING_WEIGHTS = {"toes": 1.0, "nose": 0.5, "trunk": 1.0}
# Scales that turn the side-choice evidence into comparable votes (see `choose_side`).
_SIDE_VIS_SCALE = 0.1  # a 0.1 mean visibility difference is a clear vote
_SIDE_Z_SCALE = 0.2  # a depth difference of 0.2 torso lengths is a clear vote


def signed_angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Counter-clockwise angle from vector `u` to vector `v` in degrees, in (-180, 180].

    `u` and `v` are (..., 2) arrays in a y-up frame (broadcastable). Computed as
    ``arctan2(cross(u, v), dot(u, v))``, exact at 0 and 180 degrees and NaN-propagating.
    """
    u = np.asarray(u, np.float64)
    v = np.asarray(v, np.float64)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]
    return np.degrees(np.arctan2(cross, dot))


def _facing_sign(facing: Side) -> float:
    return 1.0 if facing == "right" else -1.0


def to_body_frame(xy: np.ndarray, facing: Side) -> np.ndarray:
    """Image pixels (x right, y down) → body frame (x toward the facing direction, y up)."""
    xy = np.asarray(xy, np.float64)
    return np.stack([_facing_sign(facing) * xy[..., 0], -xy[..., 1]], axis=-1)


def _point(track: PoseTrack, part: str, side: Side) -> np.ndarray:
    left, right = SIDE_PARTS[part]
    lm = left if side == "left" else right
    return track.image[:, lm, :2].astype(np.float64)


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def angle_from_spec(track: PoseTrack, spec: AngleSpec, *, side: Side, facing: Side) -> np.ndarray:
    """(T,) values of one angle spec in degrees, NaN where a point is missing."""
    pts = [_point(track, p, side) for p in spec.points]
    if spec.kind == "from_vertical":
        a, b = (to_body_frame(p, facing) for p in pts)
        return signed_angle(b - a, np.array([0.0, 1.0]))
    if spec.kind == "joint":
        a, vtx, c = (to_body_frame(p, facing) for p in pts)
        return np.mod(signed_angle(a - vtx, c - vtx), 360.0)
    if spec.kind == "line_deviation":
        return _line_deviation(*pts)
    raise ValueError(f"unknown angle kind {spec.kind!r}")


def _line_deviation(a: np.ndarray, vtx: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Signed bend at `vtx` off the line a–c; + when `vtx` is below it (image y down)."""
    a_up, v_up, c_up = (np.stack([p[:, 0], -p[:, 1]], -1) for p in (a, vtx, c))
    bend = 180.0 - np.abs(signed_angle(a_up - v_up, c_up - v_up))
    line = c_up - a_up
    # Unit normal of the line pointing down (toward the floor), whichever end is left.
    dx, dy = line[:, 0], line[:, 1]
    sgn = np.where(dx >= 0, 1.0, -1.0)
    normal = np.stack([sgn * dy, -sgn * dx], -1)
    below = np.sum((v_up - a_up) * normal, axis=-1)
    signed = np.where(below >= 0, bend, -bend)
    with np.errstate(invalid="ignore"):
        tilt = np.degrees(np.arctan2(np.abs(dy), np.abs(dx)))
        signed = np.where(tilt <= PLANK_LINE_MAX_TILT_DEG, signed, np.nan)
    return np.where(np.isfinite(below), signed, np.nan)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else 0.0


def _torso_px(track: PoseTrack) -> float:
    """Median 2D shoulder–hip distance over the clip (either side), in pixels."""
    ds = []
    for side in ("left", "right"):
        d = np.linalg.norm(_point(track, "shoulder", side) - _point(track, "hip", side), axis=-1)
        ds.append(d)
    d = np.concatenate(ds)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if d.size else float("nan")


def choose_side(track: PoseTrack) -> Side:
    """The body side nearer the camera over the whole clip.

    Two votes, each squashed to (-1, 1) and added: the mean visibility difference
    between left and right landmarks (the far side is partly hidden), and MediaPipe's depth
    estimate, the median of ``z_right - z_left`` in torso lengths (smaller z is nearer).
    Ties (no evidence at all) go to "left".
    """
    parts = ("ear", "shoulder", "hip", "knee", "ankle", "heel", "foot")
    left = [SIDE_PARTS[p][0] for p in parts]
    right = [SIDE_PARTS[p][1] for p in parts]
    vis_diff = _nanmean(track.visibility[:, left] - track.visibility[:, right])
    z_diff = track.image[:, right, 2].astype(np.float64) - track.image[:, left, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_frame = np.nanmean(z_diff, axis=1)
    per_frame = per_frame[np.isfinite(per_frame)]
    torso = _torso_px(track)
    z_vote = 0.0
    if per_frame.size and np.isfinite(torso) and torso > 0:
        z_vote = float(np.tanh(np.median(per_frame) / torso / _SIDE_Z_SCALE))
    score = float(np.tanh(vis_diff / _SIDE_VIS_SCALE)) + z_vote
    return "left" if score >= 0 else "right"


def facing_evidence(track: PoseTrack, side: Side) -> dict[str, float]:
    """Per-cue evidence for the facing direction, each in [-1, 1], + meaning "right".

    - toes: toe (foot index) ahead of the heel, in frames where the foot is flatter than
      45° (not in a plank, where the foot stands on its toes).
    - nose: nose ahead of the ear, in frames where the trunk is within 45° of upright (in
      a plank the face points at the floor and the nose can sit behind the ear).
    - trunk: shoulder ahead of the hip in torso lengths, averaged over all frames, so
      bent-over frames (hinge bottoms, planks) dominate and upright ones count little.

    The named side's landmarks are used, falling back to the other side's per frame.
    """

    def pick(part: str) -> np.ndarray:
        p = _point(track, part, side)
        q = _point(track, part, _other(side))
        return np.where(np.isfinite(p), p, q)

    toe, heel = pick("foot"), pick("heel")
    foot = toe - heel
    flat = np.abs(foot[:, 0]) > np.abs(foot[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        toes = np.where(flat, foot[:, 0] / np.linalg.norm(foot, axis=-1), np.nan)

    sh, hp = pick("shoulder"), pick("hip")
    torso = hp - sh
    upright = np.abs(torso[:, 0]) < np.abs(torso[:, 1])
    nose = track.image[:, Landmark.NOSE, :2].astype(np.float64)
    face = nose - pick("ear")
    with np.errstate(invalid="ignore", divide="ignore"):
        nose_vote = np.where(upright, face[:, 0] / np.linalg.norm(face, axis=-1), np.nan)

    length = _torso_px(track)
    with np.errstate(invalid="ignore", divide="ignore"):
        trunk_vote = np.clip((sh[:, 0] - hp[:, 0]) / length, -1.0, 1.0)
    return {
        "toes": _nanmean(toes),
        "nose": _nanmean(nose_vote),
        "trunk": _nanmean(trunk_vote),
    }


def facing_direction(track: PoseTrack, side: Side | None = None) -> Side:
    """Which way in the image the person faces over the clip ("left" = toward x = 0).

    A weighted sum of the cues in `facing_evidence`. With no evidence at all it falls
    back on geometry: in a side view a person facing right shows the camera their right
    side.
    """
    if side is None:
        side = choose_side(track)
    ev = facing_evidence(track, side)
    score = sum(_FACING_WEIGHTS[k] * v for k, v in ev.items())
    if score == 0.0:
        return side
    return "right" if score > 0 else "left"


@dataclass(frozen=True, eq=False)
class Angles:
    """Per-frame angles of one track, (T,) float64 arrays in degrees, NaN where unknown.

    See the module docstring for each convention. `side` is the body side the angles were
    measured on, `facing` the image direction the person faces.
    """

    t: np.ndarray
    trunk: np.ndarray
    hip: np.ndarray
    knee: np.ndarray
    neck: np.ndarray
    plank_line: np.ndarray
    hip_height: np.ndarray
    shoulder_height: np.ndarray
    side: Side
    facing: Side

    def __post_init__(self) -> None:
        n = len(self.t)
        for name in self.series_names():
            a = getattr(self, name)
            if a.shape != (n,):
                raise ValueError(f"Angles.{name} has shape {a.shape}, expected ({n},)")

    @staticmethod
    def series_names() -> tuple[str, ...]:
        return (
            "t",
            "trunk",
            "hip",
            "knee",
            "neck",
            "plank_line",
            "hip_height",
            "shoulder_height",
        )

    def __len__(self) -> int:
        return len(self.t)

    def to_columns(self) -> dict[str, np.ndarray]:
        """Column name → (T,) array for timeseries.csv; units are in the names."""
        return {
            "t_s": self.t,
            "trunk_deg": self.trunk,
            "hip_deg": self.hip,
            "knee_deg": self.knee,
            "neck_deg": self.neck,
            "plank_line_deg": self.plank_line,
            "hip_height_leg": self.hip_height,
            "shoulder_height_leg": self.shoulder_height,
        }


def _leg_length_px(track: PoseTrack, side: Side) -> float:
    hp, kn, an = (_point(track, p, side) for p in ("hip", "knee", "ankle"))
    leg = np.linalg.norm(hp - kn, axis=-1) + np.linalg.norm(kn - an, axis=-1)
    leg = leg[np.isfinite(leg) & (leg > 0)]
    return float(np.median(leg)) if leg.size else float("nan")


def compute_angles(
    track: PoseTrack, *, side: Side | None = None, facing: Side | None = None
) -> Angles:
    """All angles of `ANGLE_SPECS` plus hip and shoulder height for every frame.

    Pass a cleaned track (`metrics.clean.clean_track`): this function does no gating or
    filtering. `side` and `facing` are chosen from the whole clip when not given.
    """
    if side is None:
        side = choose_side(track)
    if facing is None:
        facing = facing_direction(track, side)
    values = {
        spec.name: angle_from_spec(track, spec, side=side, facing=facing) for spec in ANGLE_SPECS
    }
    leg = _leg_length_px(track, side)
    ankle_y = _point(track, "ankle", side)[:, 1]
    hip_h = (ankle_y - _point(track, "hip", side)[:, 1]) / leg
    sh_h = (ankle_y - _point(track, "shoulder", side)[:, 1]) / leg
    return Angles(
        t=np.asarray(track.t, np.float64),
        trunk=values["trunk"],
        hip=values["hip"],
        knee=values["knee"],
        neck=values["neck"],
        plank_line=values["plank_line"],
        hip_height=hip_h,
        shoulder_height=sh_h,
        side=side,
        facing=facing,
    )
