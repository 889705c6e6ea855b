"""Is the camera side-on enough to judge the back? Classify the view of a whole clip.

The camera's yaw (0 = side view, 90 = the person faces or turns their back to the camera)
is estimated per frame from the left–right pairs of shoulders and hips, which nearly
overlap side-on and lie a full body-width apart from the front:

- in the image, their apparent horizontal width relative to the torso, compared with the
  same person's 3D width-to-torso ratio from MediaPipe's world landmarks (upright:
  ``sin(yaw) = (w_2d / torso_2d) / (w_3d / torso_3d)``; `yaw_from_widths` also corrects
  for a torso bent toward the camera);
- in MediaPipe's world landmarks, the direction of the left→right vector between its
  image-x and depth components (``yaw = atan2(|dx|, |dz|)``).

The clip's yaw is the median over frames; how many frames agree tells a steady view from
one where the person turns. Thresholds live in `THRESHOLDS` (data, not code).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from metrics.angles import Side, choose_side, facing_direction
from metrics.landmarks import SIDE_PARTS
from metrics.report import ViewInfo
from metrics.track import PoseTrack


@dataclass(frozen=True)
class ViewThresholds:
    """Limits used by `classify_view` (angles in degrees, fractions of frames)."""

    # Calibrated on MediaPipe (full) tracks of ../shared clips: clip medians of 3-9° for
    # side views (20-22° with the camera very close), 38-47° for oblique ones, 83° for the
    # front view. The boundary sits midway between the groups.
    side_max_yaw_deg: float = 30.0  # up to here the camera counts as side-on
    front_min_yaw_deg: float = 60.0  # from here on it is a front (or back) view
    judgeable_max_yaw_deg: float = 30.0  # the spine and plank line are read up to here
    min_steady_fraction: float = 0.6  # frames within the judgeable yaw, among measured ones
    min_person_frames: int = 8  # fewer frames with a person: nothing to judge
    min_complete_fraction: float = 0.6  # frames with shoulder, hip, knee and ankle in view
    min_visibility: float = 0.5  # a key landmark below this counts as not seen
    frame_margin_px: float = 1.0  # a landmark this far outside the frame is cut off
    # Shoulder/hip width over torso length used when world landmarks give no ratio.
    default_shoulder_ratio: float = 0.7
    default_hip_ratio: float = 0.45


THRESHOLDS = ViewThresholds()

# Near-side landmarks the view needs, and how strictly. "seen": inside the frame and
# visible. "in_frame": inside the frame, visible or not; a side-on barbell plate hides the
# near ankle for the whole lift, yet MediaPipe still places it and the back is in full
# view, so only an ankle outside the frame (or not placed at all) counts against the view.
KEY_PARTS: dict[str, Literal["seen", "in_frame"]] = {
    "shoulder": "seen",
    "hip": "seen",
    "knee": "seen",
    "ankle": "in_frame",
}

_REASONS = {
    "no_person": (
        "The lifter was found in only {frames} frames: film the whole set in good light "
        "with the whole body in frame."
    ),
    "no_view": (
        "Could not tell where the camera was: film from the lifter's side, level with the "
        "hips, with the whole body in frame."
    ),
    "front": (
        "Filmed from the front or back: move the phone to the lifter's side, level with the "
        "hips, so the whole body is in frame."
    ),
    "oblique": (
        "Filmed at an angle (about {yaw:.0f}° off side-on): move the phone round to the "
        "lifter's side, level with the hips, so one shoulder hides the other."
    ),
    "turning": (
        "The lifter turns away from side-on for much of the clip: set the lifter up side-on "
        "to the phone and keep the phone still."
    ),
    "hidden": (
        "The lifter's {parts} can't be seen for much of the clip: film from the side with "
        "the whole body, head to feet, in frame and in clear view (nothing between the "
        "phone and the lifter), in good light."
    ),
    "cut_off": (
        "The lifter's {parts} are out of frame for much of the clip: step the phone back so "
        "the whole body, head to feet, stays in frame."
    ),
}


@dataclass(frozen=True, eq=False)
class ViewEvidence:
    """What `classify_view` measured, for reports, debugging and calibration.

    Attributes
    ----------
    yaw_deg : (T,) float64
        Per-frame camera yaw estimate, NaN where not measurable.
    yaw_image_deg, yaw_world_deg : (T,) float64
        The two per-frame estimates the yaw combines (image widths; world depth).
    median_yaw_deg : float
        Median of `yaw_deg` over the clip (NaN if never measured).
    steady_fraction : float
        Fraction of measured frames whose yaw is within the judgeable limit.
    person_frames : int
        Frames in which the person was found.
    complete_fraction : float
        Fraction of person frames with every key landmark of `side` in frame and visible.
    missing : dict[str, float]
        Per key part, the fraction of person frames in which it fails its `KEY_PARTS`
        rule (outside the frame, or hidden where it must be seen).
    hidden : dict[str, float]
        The part of `missing` where the landmark was inside the frame but not visible.
    side : str
        Body side the key landmarks were checked on.
    """

    yaw_deg: np.ndarray
    yaw_image_deg: np.ndarray
    yaw_world_deg: np.ndarray
    median_yaw_deg: float
    steady_fraction: float
    person_frames: int
    complete_fraction: float
    missing: dict[str, float]
    hidden: dict[str, float]
    side: Side


def _pair(points: np.ndarray, part: str) -> tuple[np.ndarray, np.ndarray]:
    left, right = SIDE_PARTS[part]
    return points[:, left].astype(np.float64), points[:, right].astype(np.float64)


def _torso(points: np.ndarray) -> np.ndarray:
    """(T,) distance from the shoulder centre to the hip centre."""
    ls, rs = _pair(points, "shoulder")
    lh, rh = _pair(points, "hip")
    return np.linalg.norm(0.5 * (ls + rs) - 0.5 * (lh + rh), axis=-1)


def _nanmedian(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _nanmean_rows(*cols: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.stack(cols, axis=-1), axis=-1)


def yaw_from_widths(width_px: np.ndarray, torso_px: np.ndarray) -> np.ndarray:
    """Camera yaw (deg) from a left–right width and the 2D hip→shoulder vector.

    Parameters
    ----------
    width_px : (T,) array
        Apparent 2D distance between a left and right landmark, divided by that pair's
        width-to-torso-length ratio, so it is in "torso lengths seen side-on" (pixels).
    torso_px : (T, 2) array
        2D vector from the hip centre to the shoulder centre, pixels.

    Notes
    -----
    For an orthographic, level camera at yaw φ, a torso of length L inclined θ from
    vertical in its sagittal plane, and a level left–right pair (scaled width ``u``):
    ``u = L sin φ``, the torso's vertical image component ``a = L cos θ`` and horizontal
    ``b = L sin θ cos φ``. Eliminating L and θ gives, with ``s = sin² φ``,
    ``a² s² − (a² + b² + u²) s + u² = 0``, whose smaller root is the physical one (upright:
    ``sin φ = u / a``; horizontal: ``tan φ = u / b``). So bending toward the camera, which
    shortens the torso in the image, is not mistaken for a wider view.
    """
    u2 = np.asarray(width_px, np.float64) ** 2
    a2 = torso_px[..., 1] ** 2
    b2 = torso_px[..., 0] ** 2
    big = a2 + b2 + u2
    with np.errstate(invalid="ignore", divide="ignore"):
        disc = np.sqrt(np.maximum(big**2 - 4.0 * a2 * u2, 0.0))
        s = np.clip(2.0 * u2 / (big + disc), 0.0, 1.0)
    return np.degrees(np.arcsin(np.sqrt(s)))


def estimate_yaw(
    track: PoseTrack, *, thresholds: ViewThresholds = THRESHOLDS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame camera yaw in degrees: (combined, from image widths, from world depth).

    Each is (T,) in [0, 90], NaN where the shoulders and hips were not found. The combined
    estimate is the mean of the two where both exist.
    """
    xy = track.image[..., :2].astype(np.float64)
    world = track.world
    ls, rs = _pair(xy, "shoulder")
    lh, rh = _pair(xy, "hip")
    torso_vec = 0.5 * (ls + rs) - 0.5 * (lh + rh)
    torso_3d = _nanmedian(_torso(world))
    image_yaws = []
    world_yaws = []
    defaults = {
        "shoulder": thresholds.default_shoulder_ratio,
        "hip": thresholds.default_hip_ratio,
    }
    for part in ("shoulder", "hip"):
        left, right = _pair(xy, part)
        # Only the horizontal image component: a camera pitched up or down (a phone on
        # the floor) moves the far shoulder vertically even when exactly side-on.
        width_2d = np.abs(left[:, 0] - right[:, 0])
        wl, wr = _pair(world, part)
        ratio_3d = _nanmedian(np.linalg.norm(wl - wr, axis=-1)) / torso_3d
        if not (np.isfinite(ratio_3d) and 0.2 < ratio_3d < 1.5):
            ratio_3d = defaults[part]
        image_yaws.append(yaw_from_widths(width_2d / ratio_3d, torso_vec))
        d = wr - wl
        world_yaws.append(np.degrees(np.arctan2(np.abs(d[:, 0]), np.abs(d[:, 2]))))
    yaw_image = _nanmean_rows(*image_yaws)
    yaw_world = _nanmean_rows(*world_yaws)
    return _nanmean_rows(yaw_image, yaw_world), yaw_image, yaw_world


def _key_part_status(
    track: PoseTrack, side: Side, thresholds: ViewThresholds
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per key part, (T,) bool arrays (lost, hidden) under its `KEY_PARTS` rule.

    Lost: the part fails its rule in that frame. Hidden: the lost part was not placed
    outside the frame but is not visible (or its position was removed by a visibility
    gate, so where it was is unknown); the rest of lost is cut off by the frame edge.
    """
    m = thresholds.frame_margin_px
    out = {}
    for part, rule in KEY_PARTS.items():
        lm = SIDE_PARTS[part][0 if side == "left" else 1]
        x = track.image[:, lm, 0]
        y = track.image[:, lm, 1]
        vis = track.visibility[:, lm]
        placed = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):
            inside = (x >= -m) & (x <= track.width + m) & (y >= -m) & (y <= track.height + m)
            low = ~(vis >= thresholds.min_visibility)
        outside = placed & ~inside
        unseen = ~placed | (low if rule == "seen" else np.zeros_like(low))
        out[part] = (outside | unseen, unseen & ~outside)
    return out


def view_evidence(
    track: PoseTrack, *, side: Side | None = None, thresholds: ViewThresholds = THRESHOLDS
) -> ViewEvidence:
    """Measure everything `classify_view` decides on."""
    if side is None:
        side = choose_side(track)
    found = track.found
    person_frames = int(found.sum())
    yaw, yaw_image, yaw_world = estimate_yaw(track, thresholds=thresholds)
    measured = yaw[np.isfinite(yaw)]
    steady = float(np.mean(measured <= thresholds.judgeable_max_yaw_deg)) if measured.size else 0.0
    status = _key_part_status(track, side, thresholds)
    if person_frames:
        lost = {k: lo[found] for k, (lo, _) in status.items()}
        complete = float(np.mean(~np.any(np.stack(list(lost.values())), axis=0)))
        missing_frac = {k: float(np.mean(v)) for k, v in lost.items()}
        hidden_frac = {k: float(np.mean(h[found])) for k, (_, h) in status.items()}
    else:
        complete = 0.0
        missing_frac = {k: 1.0 for k in status}
        hidden_frac = {k: 0.0 for k in status}
    return ViewEvidence(
        yaw_deg=yaw,
        yaw_image_deg=yaw_image,
        yaw_world_deg=yaw_world,
        median_yaw_deg=_nanmedian(yaw),
        steady_fraction=steady,
        person_frames=person_frames,
        complete_fraction=complete,
        missing=missing_frac,
        hidden=hidden_frac,
        side=side,
    )


def _plural_parts(names: list[str]) -> str:
    words = [
        {"knee": "knees", "ankle": "feet", "hip": "hips", "shoulder": "shoulders"}[n] for n in names
    ]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def classify_view(
    track: PoseTrack,
    *,
    side: Side | None = None,
    thresholds: ViewThresholds = THRESHOLDS,
) -> ViewInfo:
    """Camera view of the clip and whether the spine and plank line can be judged from it.

    Not judgeable (with a reason a coach can act on) when the person is found in too few
    frames, the camera is front-on or too oblique, the person turns away from side-on for
    much of the clip, or a `KEY_PARTS` landmark of the near side fails its rule (out of
    frame; shoulder, hip or knee hidden) in too many frames. Pass the track before
    visibility gating if you can: a gated (NaN) ankle counts as hidden. `facing` is
    given when the view is side-on enough to read it (None for front and clearly oblique
    views).
    """
    ev = view_evidence(track, side=side, thresholds=thresholds)
    th = thresholds
    if ev.person_frames < th.min_person_frames:
        reason = _REASONS["no_person"].format(frames=ev.person_frames)
        return ViewInfo("unknown", None, False, reason)
    yaw = ev.median_yaw_deg
    if not np.isfinite(yaw):
        return ViewInfo("unknown", None, False, _REASONS["no_view"])
    camera: Literal["side", "oblique", "front"]
    if yaw <= th.side_max_yaw_deg:
        camera = "side"
    elif yaw >= th.front_min_yaw_deg:
        camera = "front"
    else:
        camera = "oblique"
    facing: Side | None = None
    if yaw <= max(th.side_max_yaw_deg, th.judgeable_max_yaw_deg):
        facing = facing_direction(track, ev.side)
    if yaw > th.judgeable_max_yaw_deg:
        if camera == "front":
            return ViewInfo(camera, facing, False, _REASONS["front"])
        return ViewInfo(camera, facing, False, _REASONS["oblique"].format(yaw=yaw))
    if ev.steady_fraction < th.min_steady_fraction:
        return ViewInfo(camera, facing, False, _REASONS["turning"])
    if ev.complete_fraction < th.min_complete_fraction:
        return ViewInfo(camera, facing, False, _cut_off_reason(ev, th))
    return ViewInfo(camera, facing, True, None)


def _cut_off_reason(ev: ViewEvidence, th: ViewThresholds) -> str:
    worst = [p for p in KEY_PARTS if ev.missing[p] > 1.0 - th.min_complete_fraction]
    if not worst:  # each part alone is fine, but together too few frames are complete
        worst = [max(KEY_PARTS, key=lambda p: ev.missing[p])]
    hidden = [p for p in worst if ev.hidden[p] > 0.5 * ev.missing[p]]
    cut = [p for p in worst if p not in hidden]
    if cut:
        return _REASONS["cut_off"].format(parts=_plural_parts(cut))
    return _REASONS["hidden"].format(parts=_plural_parts(hidden))
