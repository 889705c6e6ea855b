"""Synthetic people for tests: a 3D stick figure posed by joint angles, projected to a track.

The figure is built in a body frame (x forward, y up, z toward the person's right) from
segment lengths and the angles of docs/design.md, turned about the vertical axis by a
camera yaw (0 = side view, 90 = facing the camera), mirrored for a person facing left, and
projected orthographically to image pixels (y down) and MediaPipe-style world metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from metrics.landmarks import N_LANDMARKS, Landmark
from metrics.track import PoseTrack
from vision.pose import PersonPose

L = Landmark

TRUNK_M = 0.50  # hip → shoulder
THIGH_M = 0.45
SHANK_M = 0.43
NECK_M = 0.15  # shoulder → ear
# Half the distance between the left and right landmark of a pair (metres).
HALF_WIDTH = {
    "shoulder": 0.18,
    "hip": 0.11,
    "knee": 0.10,
    "ankle": 0.10,
    "foot": 0.11,
    "ear": 0.075,
    "eye": 0.03,
    "mouth": 0.025,
    "arm": 0.20,
}


def _unit(deg: float) -> np.ndarray:
    r = math.radians(deg)
    return np.array([math.cos(r), math.sin(r)])


def sagittal_points(trunk: float, hip: float, knee: float, neck: float) -> dict[str, np.ndarray]:
    """2D body-frame points (x forward, y up, hip at the origin) for the given angles.

    trunk: inclination of hip→shoulder from vertical, + forward. hip, knee, neck: 180 =
    straight, below 180 flexed (hip: trunk toward thigh; knee: bent; neck: head forward).
    """
    p: dict[str, np.ndarray] = {"hip": np.zeros(2)}
    trunk_dir = 90.0 - trunk  # polar angle of hip → shoulder
    p["shoulder"] = TRUNK_M * _unit(trunk_dir)
    thigh_dir = trunk_dir - hip  # hip angle: counter-clockwise from thigh to trunk
    p["knee"] = THIGH_M * _unit(thigh_dir)
    shank_dir = thigh_dir + 180.0 + knee  # knee angle: counter-clockwise from thigh to shank
    p["ankle"] = p["knee"] + SHANK_M * _unit(shank_dir)
    head_dir = trunk_dir + 180.0 + neck  # neck angle: from shoulder→hip to shoulder→ear
    p["ear"] = p["shoulder"] + NECK_M * _unit(head_dir)
    up = _unit(head_dir)
    fwd = np.array([up[1], -up[0]])  # "up" turned clockwise: where the face points
    p["nose"] = p["ear"] + 0.11 * fwd - 0.02 * up
    p["eye"] = p["ear"] + 0.09 * fwd + 0.02 * up
    p["mouth"] = p["ear"] + 0.09 * fwd - 0.06 * up
    p["elbow"] = p["shoulder"] + np.array([0.0, -0.28])
    p["wrist"] = p["elbow"] + np.array([0.0, -0.25])
    p["hand"] = p["wrist"] + np.array([0.0, -0.08])
    shin_up = (p["knee"] - p["ankle"]) / SHANK_M
    foot_fwd = np.array([shin_up[1], -shin_up[0]])
    p["heel"] = p["ankle"] - 0.05 * foot_fwd - 0.06 * shin_up
    p["foot"] = p["ankle"] + 0.15 * foot_fwd - 0.07 * shin_up
    return p


# landmark → (sagittal point, width key, -1 left / +1 right / 0 centre)
_LAYOUT: dict[Landmark, tuple[str, str, int]] = {
    L.NOSE: ("nose", "eye", 0),
    L.LEFT_EYE_INNER: ("eye", "mouth", -1),
    L.LEFT_EYE: ("eye", "eye", -1),
    L.LEFT_EYE_OUTER: ("eye", "ear", -1),
    L.RIGHT_EYE_INNER: ("eye", "mouth", 1),
    L.RIGHT_EYE: ("eye", "eye", 1),
    L.RIGHT_EYE_OUTER: ("eye", "ear", 1),
    L.LEFT_EAR: ("ear", "ear", -1),
    L.RIGHT_EAR: ("ear", "ear", 1),
    L.MOUTH_LEFT: ("mouth", "mouth", -1),
    L.MOUTH_RIGHT: ("mouth", "mouth", 1),
    L.LEFT_SHOULDER: ("shoulder", "shoulder", -1),
    L.RIGHT_SHOULDER: ("shoulder", "shoulder", 1),
    L.LEFT_ELBOW: ("elbow", "arm", -1),
    L.RIGHT_ELBOW: ("elbow", "arm", 1),
    L.LEFT_WRIST: ("wrist", "arm", -1),
    L.RIGHT_WRIST: ("wrist", "arm", 1),
    L.LEFT_PINKY: ("hand", "arm", -1),
    L.RIGHT_PINKY: ("hand", "arm", 1),
    L.LEFT_INDEX: ("hand", "arm", -1),
    L.RIGHT_INDEX: ("hand", "arm", 1),
    L.LEFT_THUMB: ("hand", "arm", -1),
    L.RIGHT_THUMB: ("hand", "arm", 1),
    L.LEFT_HIP: ("hip", "hip", -1),
    L.RIGHT_HIP: ("hip", "hip", 1),
    L.LEFT_KNEE: ("knee", "knee", -1),
    L.RIGHT_KNEE: ("knee", "knee", 1),
    L.LEFT_ANKLE: ("ankle", "ankle", -1),
    L.RIGHT_ANKLE: ("ankle", "ankle", 1),
    L.LEFT_HEEL: ("heel", "ankle", -1),
    L.RIGHT_HEEL: ("heel", "ankle", 1),
    L.LEFT_FOOT_INDEX: ("foot", "foot", -1),
    L.RIGHT_FOOT_INDEX: ("foot", "foot", 1),
}


def body_points(trunk: float, hip: float, knee: float, neck: float) -> np.ndarray:
    """(33, 3) body-frame metres: x forward, y up, z toward the person's right."""
    sag = sagittal_points(trunk, hip, knee, neck)
    out = np.zeros((N_LANDMARKS, 3))
    for lm, (name, width, sign) in _LAYOUT.items():
        out[lm, :2] = sag[name]
        out[lm, 2] = sign * HALF_WIDTH[width]
    return out


def to_camera(points: np.ndarray, facing: Literal["left", "right"], yaw_deg: float) -> np.ndarray:
    """Body frame → camera frame (x right, y down, z away from the camera), metres.

    yaw 0: side view, the person's forward along image +x (facing "right"), their right
    side nearer the camera. The figure is turned about its vertical axis by `yaw_deg`
    (90: facing away from the camera, a back view) and then mirrored for facing "left".
    """
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    xr, zr = c * x + s * z, -s * x + c * z
    if facing == "right":
        return np.stack([xr, -y, -zr], axis=-1)
    return np.stack([-xr, -y, zr], axis=-1)


def make_track(
    poses: Sequence[tuple[float, float, float, float]] | np.ndarray,
    *,
    facing: Literal["left", "right"] = "right",
    yaw_deg: float | Sequence[float] | np.ndarray = 0.0,
    t: np.ndarray | None = None,
    fps: float = 30.0,
    scale_px_per_m: float = 500.0,
    hip_px: tuple[float, float] = (800.0, 800.0),
    size: tuple[int, int] = (1600, 1600),
    vis_near: float = 0.99,
    vis_far: float = 0.8,
    noise_px: float = 0.0,
    seed: int = 0,
) -> PoseTrack:
    """A PoseTrack of the stick figure, one frame per (trunk, hip, knee, neck) row.

    Landmarks outside the `size` frame get visibility 0.05, as MediaPipe gives them.
    """
    poses = np.asarray(poses, np.float64).reshape(-1, 4)
    n = len(poses)
    yaws = np.broadcast_to(np.asarray(yaw_deg, np.float64), (n,))
    if t is None:
        t = np.arange(n) / fps
    rng = np.random.default_rng(seed)
    image = np.zeros((n, N_LANDMARKS, 3), np.float32)
    world = np.zeros((n, N_LANDMARKS, 3), np.float32)
    vis = np.zeros((n, N_LANDMARKS), np.float32)
    hips = [L.LEFT_HIP, L.RIGHT_HIP]
    for i, (pose, yaw) in enumerate(zip(poses, yaws, strict=True)):
        cam = to_camera(body_points(*pose), facing, float(yaw))
        cam = cam - cam[hips].mean(axis=0)
        world[i] = cam
        px = cam * scale_px_per_m
        px[:, 0] += hip_px[0]
        px[:, 1] += hip_px[1]
        if noise_px:
            px[:, :2] += rng.normal(0.0, noise_px, (N_LANDMARKS, 2))
        image[i] = px
        # Nearer landmarks (smaller z) are more visible.
        depth = cam[:, 2]
        vis[i] = np.where(depth <= 1e-9, vis_near, vis_far)
        outside = (px[:, 0] < 0) | (px[:, 0] > size[0]) | (px[:, 1] < 0) | (px[:, 1] > size[1])
        vis[i][outside] = 0.05
    return PoseTrack(
        t=np.asarray(t, np.float64),
        image=image,
        world=world,
        visibility=vis,
        width=size[0],
        height=size[1],
    )


def plank_pose(sag_deg: float, tilt_deg: float = 0.0, neck: float = 180.0) -> tuple:
    """(trunk, hip, knee, neck) of a straight-kneed plank whose hip bends `sag_deg` off the
    shoulder–ankle line (+ below it, a sag; − above, a pike); the shoulder–ankle line rises
    `tilt_deg` toward the head (a high plank on straight arms is ~10-20°)."""
    leg = THIGH_M + SHANK_M
    d = math.radians(sag_deg)
    alpha_s = math.degrees(math.atan2(leg * math.sin(d), TRUNK_M + leg * math.cos(d)))
    trunk = 90.0 - (tilt_deg + alpha_s)
    return (trunk, 180.0 + sag_deg, 180.0, neck)


def torso_pose(x: float, y: float = 300.0, torso: float = 150.0) -> PersonPose:
    """A pose whose torso (shoulders over hips) is centred at (x, y), `torso` px long,
    every other landmark at the centre: for tests of who is followed, not of angles."""
    image = np.zeros((33, 3), np.float32)
    image[:, :2] = (x, y)
    image[[11, 12], :2] = (x, y - torso / 2)
    image[[23, 24], :2] = (x, y + torso / 2)
    return PersonPose(image, np.zeros((33, 3), np.float32), np.ones(33, np.float32), None)
