"""Synthetic hinge sets for tests: the stick figure doing reps, with a back outline.

`hinge_set` builds per-frame (trunk, hip, knee, neck) angles from a list of phases
(standing, going down, holding the bottom, coming up), poses `tests.stickfigure` with them
and adds the dorsal edge of the trunk as `PoseTrack.back_contour`: the hip→shoulder line
pushed out on the back's side by a constant thickness plus an optional hump. A rounded
back is made by folding the head and upper back down about the upper-back station
(`fold_deg`), which changes `metrics.spine` curve by exactly that angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from metrics.landmarks import SIDE_PARTS
from metrics.track import BACK_STATIONS, SHOULDER_STATION, TRUNK_STATIONS, PoseTrack
from tests.stickfigure import make_track

Facing = Literal["left", "right"]


@dataclass(frozen=True)
class Pose:
    """The set's deepest position: trunk, hip and knee angles (deg) at the bottom."""

    trunk: float = 60.0
    hip: float = 70.0
    knee: float = 140.0


HINGE = Pose()
SQUAT = Pose(trunk=20.0, hip=85.0, knee=65.0)


@dataclass(frozen=True)
class Phase:
    """`kind` is "top" (hold standing), "down", "bottom" (hold) or "up"; `s` seconds."""

    kind: str
    s: float


def rep_phases(
    n: int,
    *,
    down_s: float = 1.0,
    bottom_s: float = 0.3,
    up_s: float = 0.8,
    top_s: float = 0.6,
    lead_s: float = 1.0,
    from_floor: bool = False,
    set_down: bool = False,
) -> list[Phase]:
    """Phases of `n` reps: standing first (or set up at the bottom), optional set-down."""
    out: list[Phase] = []
    if from_floor:
        out += [Phase("bottom", lead_s), Phase("up", up_s), Phase("top", top_s)]
        n -= 1
    else:
        out.append(Phase("top", lead_s))
    for _ in range(n):
        out += [Phase("down", down_s), Phase("bottom", bottom_s), Phase("up", up_s)]
        out.append(Phase("top", top_s))
    if set_down:
        out += [Phase("down", down_s), Phase("bottom", lead_s)]
    return out


def depth_profile(phases: list[Phase], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(t, p): time and depth 0 (standing) … 1 (bottom), cosine-eased between holds."""
    ps: list[float] = []
    level = 0.0 if phases[0].kind in ("top", "down") else 1.0
    for ph in phases:
        k = max(1, int(round(ph.s * fps)))
        x = (np.arange(k) + 1) / k
        if ph.kind == "down":
            seg = 0.5 - 0.5 * np.cos(np.pi * x)
            level = 1.0
        elif ph.kind == "up":
            seg = 0.5 + 0.5 * np.cos(np.pi * x)
            level = 0.0
        else:
            seg = np.full(k, level)
        ps.extend(seg.tolist())
    p = np.asarray(ps)
    return np.arange(len(p)) / fps, p


def phase_times(phases: list[Phase]) -> list[tuple[str, float, float]]:
    """(kind, start_s, end_s) of every phase."""
    out = []
    t = 0.0
    for ph in phases:
        out.append((ph.kind, t, t + ph.s))
        t += ph.s
    return out


def angles_from_depth(
    p: np.ndarray, pose: Pose = HINGE, *, lean_back_deg: float = 0.0
) -> np.ndarray:
    """(T, 4) trunk, hip, knee, neck for depth `p`; `lean_back_deg` tips the trunk back
    past vertical when standing (p = 0)."""
    trunk = p * pose.trunk - (1.0 - np.clip(p / 0.2, 0.0, 1.0)) * lean_back_deg
    hip = 180.0 - p * (180.0 - pose.hip) + (1.0 - np.clip(p / 0.2, 0.0, 1.0)) * lean_back_deg
    knee = 178.0 - p * (178.0 - pose.knee)
    neck = np.full_like(p, 180.0)
    return np.stack([trunk, hip, knee, neck], axis=1)


def rise_progress(phases: list[Phase], fps: float) -> np.ndarray:
    """(T,) progress 0…1 through each "up" phase, NaN elsewhere."""
    out: list[float] = []
    for ph in phases:
        k = max(1, int(round(ph.s * fps)))
        out.extend(((np.arange(k) + 1) / k).tolist() if ph.kind == "up" else [math.nan] * k)
    return np.asarray(out)


def hips_first(poses: np.ndarray, q: np.ndarray, pose: Pose, tip_deg: float) -> np.ndarray:
    """Rises where the hips lead: over the first 40% of each rise the knees straighten and
    the trunk tips `tip_deg` further forward with the hip angle held; then all stand up."""
    out = poses.copy()
    ease = lambda x: 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))  # noqa: E731
    first = np.isfinite(q) & (q <= 0.4)
    second = np.isfinite(q) & (q > 0.4)
    s1 = ease(q[first] / 0.4)
    out[first, 0] = pose.trunk + tip_deg * s1
    out[first, 1] = pose.hip
    out[first, 2] = pose.knee + (165.0 - pose.knee) * s1
    s2 = ease((q[second] - 0.4) / 0.6)
    out[second, 0] = (pose.trunk + tip_deg) * (1.0 - s2)
    out[second, 1] = pose.hip + (180.0 - pose.hip) * s2
    out[second, 2] = 165.0 + (178.0 - 165.0) * s2
    return out


def add_back(
    track: PoseTrack,
    facing: Facing,
    *,
    thickness: float = 0.2,
    fold_deg: np.ndarray | float = 0.0,
    upper_station: int = 8,
    hump: np.ndarray | float = 0.0,
    neck: bool = False,
) -> PoseTrack:
    """The track with a back outline, and the head folded by `fold_deg` where asked.

    The outline is the near side's hip→shoulder line pushed out on the back's side by
    `thickness` (a fraction of its length) plus `hump` × 4s(1−s) (a parabola peaking
    mid-back). `fold_deg` (scalar or per frame) turns the near ear about the outline's
    `upper_station` point toward the chest.

    `neck` False gives the outline from the hip to the shoulder only (stations 0–1, as
    tracks saved before the neck stations: the spine module then reads `curve`); True
    carries it on past the shoulder (stations 1.1–1.4, the hump's parabola continuing
    down toward the neck) and turns the ear about the outline at the shoulder (station
    1.0, `metrics.spine` `head_station`) instead, so that the head's fold is `fold_deg`.
    """
    side = 1 if facing == "right" else 0  # the side nearer the camera
    hip = track.image[:, SIDE_PARTS["hip"][side], :2].astype(np.float64)
    sh = track.image[:, SIDE_PARTS["shoulder"][side], :2].astype(np.float64)
    u = sh - hip
    length = np.linalg.norm(u, axis=1, keepdims=True)
    u = u / length
    # the back's side: (uy, -ux) for a person facing image-right (vision/pose.py)
    n = np.stack([u[:, 1], -u[:, 0]], axis=1)
    if facing == "left":
        n = -n
    s = BACK_STATIONS[None, :, None]
    humps = np.broadcast_to(np.asarray(hump, np.float64), (len(track),))
    offset = thickness + humps[:, None] * 4.0 * BACK_STATIONS * (1.0 - BACK_STATIONS)
    contour = (
        hip[:, None, :]
        + s * (sh - hip)[:, None, :]
        + (offset[:, :, None] * length[:, None, :]) * n[:, None, :]
    )
    if neck:
        upper_station = SHOULDER_STATION
    else:
        contour = contour[:, :TRUNK_STATIONS]
    image = track.image.copy()
    folds = np.broadcast_to(np.asarray(fold_deg, np.float64), (len(track),))
    ear_i = SIDE_PARTS["ear"][side]
    for i, fold in enumerate(folds):
        if not fold:
            continue
        pivot = contour[i, upper_station]
        # toward the chest is clockwise in a body frame facing +x (y up); in image pixels
        # (y down) that is counter-clockwise for facing right, clockwise for facing left
        a = math.radians(fold if facing == "right" else -fold)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        image[i, ear_i, :2] = (pivot + rot @ (image[i, ear_i, :2] - pivot)).astype(np.float32)
    return replace(track, image=image, back_contour=contour.astype(np.float32))


def hinge_set(
    phases: list[Phase],
    *,
    pose: Pose = HINGE,
    facing: Facing = "right",
    fps: float = 30.0,
    fold_deg: float = 0.0,
    fold_from_depth: float = 0.5,
    lean_back_deg: float = 0.0,
    rise_tip_deg: float = 0.0,
    yaw_deg: float = 0.0,
    noise_px: float = 0.0,
    seed: int = 0,
    neck: bool = False,
    hump: float = 0.0,
    hip_px: tuple[float, float] = (800.0, 800.0),
) -> PoseTrack:
    """A stick-figure hinge set with a back outline (see the module notes).

    The head folds by `fold_deg` (negative: lifted) and the outline humps by `hump`
    wherever the depth is past `fold_from_depth`; `neck` as in `add_back`. `hip_px` is
    where the first frame's hips are in the 1600 px square frame (standing, the head is
    about 335 px above them, the torso 250 px long).
    """
    t, p = depth_profile(phases, fps)
    poses = angles_from_depth(p, pose, lean_back_deg=lean_back_deg)
    if rise_tip_deg:
        poses = hips_first(poses, rise_progress(phases, fps), pose, rise_tip_deg)
    track = make_track(
        poses, facing=facing, t=t, yaw_deg=yaw_deg, noise_px=noise_px, seed=seed, hip_px=hip_px
    )
    track = feet_on_the_floor(track)
    folds = np.where(p >= fold_from_depth, fold_deg, 0.0)
    humps = np.where(p >= fold_from_depth, hump, 0.0)
    return add_back(track, facing, fold_deg=folds, hump=humps, neck=neck)


def feet_on_the_floor(track: PoseTrack) -> PoseTrack:
    """Shift each frame so the ankles stay where they are in the first frame (the stick
    figure is built around a fixed hip; a lifter's feet stay put and the hips move)."""
    ankles = [SIDE_PARTS["ankle"][0], SIDE_PARTS["ankle"][1]]
    mid = track.image[:, ankles, :2].astype(np.float64).mean(axis=1)
    shift = (mid - mid[0]).astype(np.float32)
    image = track.image.copy()
    image[:, :, :2] -= shift[:, None, :]
    return replace(track, image=image)
