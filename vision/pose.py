"""MediaPipe Tasks PoseLandmarker behind a small interface that speaks numpy.

Nothing downstream sees a MediaPipe object: each detected person becomes a `PersonPose`
with pixel and world landmarks, visibility, and the back edges of its segmentation mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from metrics.landmarks import N_LANDMARKS, Landmark
from metrics.track import BACK_STATIONS, SHOULDER_STATION

# How far from the hip–shoulder line to look for the edge of the body, as a fraction of
# that line's length (a thick torso in a baggy shirt is well inside this).
_EDGE_SEARCH = 0.6
_EDGE_STEPS = 48
_MASK_LEVEL = 0.5
# Past the shoulder (the neck stations) the hip→shoulder line may run outside the body
# (a hanging head puts the neck below it, a raised one above), so the whole ray from
# this far on the chest's side to `_EDGE_SEARCH` on the back's side is scanned and the
# outermost inside→outside crossing on the back's side is the edge.
_NECK_FRONT = 0.5
_NECK_STEPS = 88


def create_landmarker(
    model_path: str | Path,
    *,
    video: bool,
    num_poses: int,
    masks: bool,
    min_detection: float = 0.5,
    min_presence: float = 0.5,
    min_tracking: float = 0.5,
) -> Any:
    """A MediaPipe PoseLandmarker in VIDEO mode (`video`) or IMAGE mode: every model of
    the project is built here, after `import_mediapipe` (one thread at a time, so the
    span threads of a pose pass never import it side by side, and without pyplot)."""
    from vision.mediapipe_import import import_mediapipe

    import_mediapipe()
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
        VisionTaskRunningMode,
    )

    mode = VisionTaskRunningMode.VIDEO if video else VisionTaskRunningMode.IMAGE
    options = PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=mode,
        num_poses=num_poses,
        min_pose_detection_confidence=min_detection,
        min_pose_presence_confidence=min_presence,
        min_tracking_confidence=min_tracking,
        output_segmentation_masks=masks,
    )
    return PoseLandmarker.create_from_options(options)


@dataclass(frozen=True, eq=False)
class PersonPose:
    """One person in one frame.

    `edges` holds the mask's edge at `BACK_STATIONS` on both sides of the hip–shoulder line
    of the side nearer the camera: `edges[:, 0]` along the normal (uy, -ux) of the
    hip→shoulder direction u (the back of a person facing image-right), `edges[:, 1]`
    along (-uy, ux) (the back of a person facing image-left). NaN where no edge was found.
    """

    image: np.ndarray  # (33, 3) px
    world: np.ndarray  # (33, 3) m
    visibility: np.ndarray  # (33,)
    edges: np.ndarray | None  # (K, 2, 2) px

    @property
    def torso_center(self) -> np.ndarray:
        idx = [
            Landmark.LEFT_SHOULDER,
            Landmark.RIGHT_SHOULDER,
            Landmark.LEFT_HIP,
            Landmark.RIGHT_HIP,
        ]
        return np.asarray(self.image[idx, :2].mean(axis=0))

    @property
    def torso_size(self) -> float:
        sh = self.image[[Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER], :2].mean(axis=0)
        hp = self.image[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP], :2].mean(axis=0)
        return float(np.hypot(*(sh - hp)))


class PoseEstimator:
    """PoseLandmarker in VIDEO mode: call `detect(rgb, t)` with increasing times."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        num_poses: int = 2,
        masks: bool = True,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        min_tracking: float = 0.5,
    ) -> None:
        self._landmarker = create_landmarker(
            model_path,
            video=True,
            num_poses=num_poses,
            masks=masks,
            min_detection=min_detection,
            min_presence=min_presence,
            min_tracking=min_tracking,
        )
        self._last_ms = -1
        self.masks = masks

    def detect(
        self, rgb: np.ndarray, t: float, full_size: tuple[int, int] | None = None
    ) -> list[PersonPose]:
        """Everyone found in one upright RGB frame taken at `t` seconds.

        `full_size` (width, height) is the size of the original frame when `rgb` was
        shrunk for speed: landmarks and mask edges are returned in its pixels.
        """
        import mediapipe as mp

        if rgb.dtype != np.uint8 or not rgb.flags.c_contiguous:
            rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        # MediaPipe needs strictly increasing integer milliseconds.
        ms = max(int(round(t * 1000.0)), self._last_ms + 1)
        self._last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = self._landmarker.detect_for_video(image, ms)
        return poses_from_result(result, rgb.shape[1], rgb.shape[0], full_size)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False


def poses_from_result(
    result: Any, width: int, height: int, full_size: tuple[int, int] | None = None
) -> list[PersonPose]:
    """Convert a PoseLandmarkerResult on a `width`×`height` image into `PersonPose`s.

    Coordinates are pixels of `full_size` when given (the frame before it was shrunk).
    """
    people: list[PersonPose] = []
    masks = result.segmentation_masks or []
    out_w, out_h = full_size or (width, height)
    k = out_w / width
    for i, lms in enumerate(result.pose_landmarks):
        norm = np.array([(p.x, p.y, p.z) for p in lms], np.float32)
        image = norm * np.array([width, height, width], np.float32)
        vis = np.array([min(_or1(p.visibility), _or1(p.presence)) for p in lms], np.float32)
        wl = result.pose_world_landmarks[i] if i < len(result.pose_world_landmarks) else []
        world = (
            np.array([(p.x, p.y, p.z) for p in wl], np.float32)
            if len(wl) == N_LANDMARKS
            else np.full((N_LANDMARKS, 3), np.nan, np.float32)
        )
        edges = None
        if i < len(masks):
            edges = back_edges(masks[i].numpy_view(), image, vis) * k
        people.append(
            PersonPose(norm * np.array([out_w, out_h, out_w], np.float32), world, vis, edges)
        )
    return people


def _or1(v: float | None) -> float:
    return 1.0 if v is None else float(v)


def back_edges(mask: np.ndarray, image: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Edge of the person mask on both sides of the hip–shoulder line, at `BACK_STATIONS`.

    From each station from the hip to the shoulder we march outward along the normal and
    keep the first point where the mask falls below one half, interpolated between
    samples. A station whose ray never leaves the body (or starts outside it) gives NaN.
    Past the shoulder (stations over 1: the upper thoracic spine and the back of the
    neck) the line's extension can run outside the body, so there the whole ray through
    the station, from `_NECK_FRONT` on the other side to `_EDGE_SEARCH` on this side, is
    scanned and the outermost inside→outside crossing is kept; NaN when the ray never
    meets the body or leaves the frame or the search while still inside it.
    """
    mask = np.asarray(mask, np.float32)
    if mask.ndim == 3:
        mask = mask[:, :, 0]
    side_l = visibility[Landmark.LEFT_HIP] + visibility[Landmark.LEFT_SHOULDER]
    side_r = visibility[Landmark.RIGHT_HIP] + visibility[Landmark.RIGHT_SHOULDER]
    hip_i, sh_i = (
        (Landmark.LEFT_HIP, Landmark.LEFT_SHOULDER)
        if side_l >= side_r
        else (Landmark.RIGHT_HIP, Landmark.RIGHT_SHOULDER)
    )
    hip, sh = image[hip_i, :2].astype(np.float64), image[sh_i, :2].astype(np.float64)
    u = sh - hip
    length = float(np.hypot(*u))
    out = np.full((len(BACK_STATIONS), 2, 2), np.nan, np.float32)
    if not np.isfinite(length) or length < 4.0:
        return out
    u /= length
    normals = np.array([[u[1], -u[0]], [-u[1], u[0]]])  # (2 sides, xy)
    k_trunk = SHOULDER_STATION + 1
    stations = hip + BACK_STATIONS[:k_trunk, None] * (sh - hip)  # (K, 2)
    _trunk_edges(mask, stations, normals, length, out[:k_trunk])
    neck = hip + BACK_STATIONS[k_trunk:, None] * (sh - hip)
    _neck_edges(mask, neck, normals, length, out[k_trunk:])
    return out


def _ray_values(
    mask: np.ndarray, stations: np.ndarray, normals: np.ndarray, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mask values (K, 2 sides, S) along each station's normal rays, 0 outside the
    frame, and whether each sample lies inside the frame."""
    h, w = mask.shape
    pts = stations[:, None, None, :] + normals[None, :, None, :] * steps[None, None, :, None]
    xi = np.clip(np.rint(pts[..., 0]).astype(np.intp), 0, w - 1)
    yi = np.clip(np.rint(pts[..., 1]).astype(np.intp), 0, h - 1)
    inside_frame = (pts[..., 0] >= 0) & (pts[..., 0] < w) & (pts[..., 1] >= 0) & (pts[..., 1] < h)
    return np.where(inside_frame, mask[yi, xi], 0.0), inside_frame


def _neck_edges(
    mask: np.ndarray, stations: np.ndarray, normals: np.ndarray, length: float, out: np.ndarray
) -> None:
    """The outermost inside→outside crossing of each whole ray (see `back_edges`)."""
    steps = np.linspace(-_NECK_FRONT * length, _EDGE_SEARCH * length, _NECK_STEPS)
    vals, inside_frame = _ray_values(mask, stations, normals, steps)
    inside = vals >= _MASK_LEVEL
    # a crossing between samples j-1 (inside) and j (outside), j = 1 … S-1
    cross = inside[..., :-1] & ~inside[..., 1:] & inside_frame[..., 1:]
    has = cross.any(axis=-1)
    last = cross.shape[-1] - 1 - np.argmax(cross[..., ::-1], axis=-1)
    # the ray must not end inside the body beyond that crossing (a search too short)
    ends_in = inside[..., -1]
    ok = has & ~ends_in
    k_idx, s_idx = np.nonzero(ok)
    j = last[k_idx, s_idx] + 1
    v0, v1 = vals[k_idx, s_idx, j - 1], vals[k_idx, s_idx, j]
    frac = np.clip((v0 - _MASK_LEVEL) / np.maximum(v0 - v1, 1e-6), 0.0, 1.0)
    d = steps[j - 1] + frac * (steps[j] - steps[j - 1])
    out[k_idx, s_idx] = stations[k_idx] + normals[s_idx] * d[:, None]


def _trunk_edges(
    mask: np.ndarray, stations: np.ndarray, normals: np.ndarray, length: float, out: np.ndarray
) -> None:
    """The first inside→outside crossing of each outward ray (see `back_edges`)."""
    steps = np.linspace(0.0, _EDGE_SEARCH * length, _EDGE_STEPS)  # (S,)
    vals, inside_frame = _ray_values(mask, stations, normals, steps)  # (K, 2, S)
    inside = vals >= _MASK_LEVEL
    below = ~inside
    first_out = np.argmax(below, axis=-1)  # first sample outside the body
    has_out = below.any(axis=-1)
    starts_in = inside[..., 0]
    exit_in_frame = np.take_along_axis(inside_frame, first_out[..., None], axis=-1)[..., 0]
    ok = has_out & starts_in & (first_out > 0) & exit_in_frame  # a frame border is no edge
    k_idx, s_idx = np.nonzero(ok)
    j = first_out[k_idx, s_idx]
    v0, v1 = vals[k_idx, s_idx, j - 1], vals[k_idx, s_idx, j]
    frac = np.clip((v0 - _MASK_LEVEL) / np.maximum(v0 - v1, 1e-6), 0.0, 1.0)
    d = steps[j - 1] + frac * (steps[j] - steps[j - 1])
    out[k_idx, s_idx] = stations[k_idx] + normals[s_idx] * d[:, None]
