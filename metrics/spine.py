"""Spinal flexion and extension from the back's outline, relative to the lifter's neutral.

The hip–shoulder line that most tools stop at cannot see a rounded back: a humped spine
and a flat one can share the same hip and shoulder. The person-segmentation mask can. Its
dorsal edge is sampled at `BACK_STATIONS` from the hip (0) to the shoulder (1) along the
hip–shoulder line (`PoseTrack.back_contour`, see vision/pose.py).

Measures (docs/spine.md has the method, the evidence and the limits)
--------------------------------------------------------------------
curve
    The angle between the lower back and the upper back carried on to the head: the
    direction of a line fitted to the outline's lower-back stations (0.1–0.5 of the way
    from hip to shoulder), minus the direction from the outline's upper back (station
    0.8) to the ear. It grows as the back humps or the upper back and head fold toward
    the chest, and shrinks as the chest lifts and the head comes up. Rounding in a hinge
    often peaks between the shoulder blades and the neck, above the shoulder landmark,
    where the outline stops; the ear carries the measure over that stretch.
bend
    The angle between lines fitted to the lower-back (0.1–0.5) and upper-back (0.5–0.9)
    stations of the outline alone: a hump between hip and shoulder (+) or a hollow (−).
    Reported for reference; the flags read `curve`.
lean back
    How far the hip→shoulder line leans back past vertical (at lockout).

Both outline angles are rotation-invariant and scale-free (camera distance and trunk
inclination do not change them) and are smoothed by a short running median against mask
flicker. Flexion is `curve` minus the lifter's neutral: the client profile's saved value
(``spine_curve_deg``) when given, else the clip's standing frames (trunk upright, hips
open), within `neutral_band_deg` of the default, else the default measured on
flat-backed lifters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from metrics.angles import Angles, to_body_frame
from metrics.landmarks import SIDE_PARTS
from metrics.track import PoseTrack

# Keys of `ClientProfile.neutral` read here.
NEUTRAL_CURVE_KEY = "spine_curve_deg"
NEUTRAL_TRUNK_KEY = "standing_trunk_deg"


@dataclass(frozen=True)
class SpineParams:
    """Stations read, smoothing, and where the neutral comes from (degrees, seconds)."""

    lower: tuple[int, int] = (1, 5)  # station indices, inclusive: 0.1–0.5 hip→shoulder
    upper: tuple[int, int] = (5, 9)  # 0.5–0.9, for `bend`
    upper_station: int = 8  # where the line to the ear starts, for `curve`
    min_points: int = 3  # per fitted segment, else no value for that frame
    smooth_s: float = 0.3  # running median window
    # Standing frames that give the neutral: trunk within this of upright, hips open.
    standing_trunk_max_deg: float = 12.0
    standing_hip_min_deg: float = 160.0
    min_standing_s: float = 0.3
    # `curve` of flat-backed lifters standing tall (median over the labelled side-view
    # clips, docs/spine.md), and how far a clip's own standing value may stray from it.
    default_neutral_deg: float = 24.0
    neutral_band_deg: float = 10.0


DEFAULT_PARAMS = SpineParams()


@dataclass(frozen=True, eq=False)
class SpineShape:
    """Per-frame back shape of one track, (T,) float64 arrays in degrees, NaN unknown.

    Attributes
    ----------
    curve_deg : `curve` per frame after the running median (+ folded toward the chest).
    bend_deg : `bend` per frame after the running median (+ humped, − hollow).
    neutral_deg : the lifter's neutral `curve`.
    neutral_source : "profile", "standing" or "default".
    flexion_deg : ``curve_deg - neutral_deg``: + rounded, − chest and head lifted.
    lean_back_deg : how far the trunk leans back past the lifter's upright (+ leaning
        back, − forward).
    """

    curve_deg: np.ndarray
    bend_deg: np.ndarray
    neutral_deg: float
    neutral_source: str
    flexion_deg: np.ndarray
    lean_back_deg: np.ndarray


def _direction(points: np.ndarray) -> float:
    """Direction (deg, counter-clockwise from +x) of the principal line through `points`,
    pointing from the first point toward the last."""
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    u = vt[0]
    if np.dot(u, points[-1] - points[0]) < 0:
        u = -u
    return math.degrees(math.atan2(u[1], u[0]))


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def outline_angles(
    contour: np.ndarray, ear: np.ndarray, params: SpineParams = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame raw `curve` and `bend` (deg) from body-frame points.

    Parameters
    ----------
    contour : (T, K, 2)
        The back's outline at `BACK_STATIONS` in the body frame (x toward the facing
        direction, y up; `metrics.angles.to_body_frame`), NaN where missing.
    ear : (T, 2)
        The near-side ear in the same frame.

    Notes
    -----
    With ``a_low``, ``a_up`` the directions of the lines fitted to the lower and upper
    stations (pointing from hip toward shoulder) and ``a_head`` the direction from the
    upper-back station to the ear: ``curve = a_low - a_head``, ``bend = a_low - a_up``.
    In the body frame a spine that folds forward turns clockwise from hip to head, so
    both are positive for flexion.
    """
    contour = np.asarray(contour, np.float64)
    ear = np.asarray(ear, np.float64)
    n = contour.shape[0]
    curve = np.full(n, np.nan)
    bend = np.full(n, np.nan)
    lo = np.arange(params.lower[0], params.lower[1] + 1)
    up = np.arange(params.upper[0], params.upper[1] + 1)
    top = params.upper_station
    for i in range(n):
        pts = contour[i]
        ok = np.isfinite(pts).all(axis=1)
        if ok[lo].sum() < params.min_points:
            continue
        a_low = _direction(pts[lo[ok[lo]]])
        if ok[up].sum() >= params.min_points:
            bend[i] = _wrap(a_low - _direction(pts[up[ok[up]]]))
        if ok[top] and np.isfinite(ear[i]).all():
            head = ear[i] - pts[top]
            curve[i] = _wrap(a_low - math.degrees(math.atan2(head[1], head[0])))
    return curve, bend


def running_median(x: np.ndarray, t: np.ndarray, window_s: float) -> np.ndarray:
    """Running median over about `window_s` seconds; NaN samples stay NaN and are skipped."""
    x = np.asarray(x, np.float64)
    finite = np.isfinite(x)
    if len(x) < 3 or not finite.any():
        return x.copy()
    dt = float(np.median(np.diff(t)))
    size = int(round(window_s / dt)) | 1 if dt > 0 else 1
    if size <= 1:
        return x.copy()
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[finite], x[finite])
    out = np.asarray(median_filter(filled, size=size, mode="nearest"), np.float64)
    out[~finite] = np.nan
    return out


def standing_frames(angles: Angles, params: SpineParams = DEFAULT_PARAMS) -> np.ndarray:
    """(T,) bool: trunk near upright and hips open, the frames a standing neutral uses."""
    with np.errstate(invalid="ignore"):
        return (np.abs(angles.trunk) <= params.standing_trunk_max_deg) & (
            angles.hip >= params.standing_hip_min_deg
        )


def spine_shape(
    track: PoseTrack,
    angles: Angles,
    *,
    neutral: dict[str, float] | None = None,
    params: SpineParams = DEFAULT_PARAMS,
) -> SpineShape:
    """The back's shape over a cleaned track and its flexion from the lifter's neutral.

    `neutral` is `ClientProfile.neutral`: ``spine_curve_deg`` (see `calibrate_neutral`)
    wins over the clip's standing frames; ``standing_trunk_deg`` is the lifter's upright
    trunk (default 0, vertical) that leaning back is measured from.
    """
    n = len(track)
    neutral = neutral or {}
    upright = float(neutral.get(NEUTRAL_TRUNK_KEY, 0.0))
    lean = running_median(upright - angles.trunk, track.t, params.smooth_s)
    if track.back_contour is None:
        nan = np.full(n, np.nan)
        return SpineShape(nan, nan.copy(), params.default_neutral_deg, "default", nan, lean)
    k = 0 if angles.side == "left" else 1
    contour = to_body_frame(track.back_contour, angles.facing)
    ear = to_body_frame(track.image[:, SIDE_PARTS["ear"][k], :2], angles.facing)
    curve_raw, bend_raw = outline_angles(contour, ear, params)
    curve = running_median(curve_raw, track.t, params.smooth_s)
    bend = running_median(bend_raw, track.t, params.smooth_s)
    value, source = _neutral(curve, angles, track.t, neutral, params)
    return SpineShape(curve, bend, value, source, curve - value, lean)


def _neutral(
    curve: np.ndarray,
    angles: Angles,
    t: np.ndarray,
    neutral: dict[str, float],
    params: SpineParams,
) -> tuple[float, str]:
    saved = neutral.get(NEUTRAL_CURVE_KEY)
    if saved is not None and math.isfinite(saved):
        return float(saved), "profile"
    own = standing_curve(curve, angles, t, params)
    if own is None:
        return params.default_neutral_deg, "default"
    lo = params.default_neutral_deg - params.neutral_band_deg
    hi = params.default_neutral_deg + params.neutral_band_deg
    return float(np.clip(own, lo, hi)), "standing"


def standing_curve(
    curve: np.ndarray, angles: Angles, t: np.ndarray, params: SpineParams = DEFAULT_PARAMS
) -> float | None:
    """Median `curve` over the standing frames, or None with too few of them."""
    stand = standing_frames(angles, params) & np.isfinite(curve)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    if stand.sum() * dt < params.min_standing_s:
        return None
    return float(np.median(curve[stand]))


def calibrate_neutral(
    track: PoseTrack, angles: Angles, params: SpineParams = DEFAULT_PARAMS
) -> dict[str, float]:
    """`ClientProfile.neutral` entries from a calibration clip of the client standing tall
    (or holding a coach-approved flat-backed position): empty when nothing was measured."""
    out: dict[str, float] = {}
    shape = spine_shape(track, angles, params=params)
    if shape.neutral_source == "standing":
        own = standing_curve(shape.curve_deg, angles, track.t, params)
        if own is not None:
            out[NEUTRAL_CURVE_KEY] = round(own, 1)
    stand = standing_frames(angles, params) & np.isfinite(angles.trunk)
    if stand.any():
        out[NEUTRAL_TRUNK_KEY] = round(float(np.median(angles.trunk[stand])), 1)
    return out
