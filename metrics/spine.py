"""Spinal flexion and extension from the back's outline, relative to the lifter's neutral.

The hip–shoulder line that most tools stop at cannot see a rounded back: a humped spine
and a flat one can share the same hip and shoulder. The person-segmentation mask can. Its
dorsal edge is sampled at `BACK_STATIONS` along the hip–shoulder line, from the hip (0)
to the shoulder (1) and on past it over the upper thoracic spine and the back of the neck
(1.1–1.4) (`PoseTrack.back_contour`, see vision/pose.py).

Measures (docs/spine.md has the method, the evidence and the limits)
--------------------------------------------------------------------
back fold
    The back's own bend from the hips to the base of the neck: the direction of a line
    fitted to the lower-back stations (0.1–0.5) minus that of a line fitted to the upper
    back on past the shoulder landmark (0.6–1.2). + humped, − hollow. The head plays no
    part in it.
head fold
    How far the head is folded toward the chest from the upper back: the upper back's
    line minus the direction from the outline at the shoulder (station 1.0) to the ear.
flexion (the flag measure, on tracks with the neck stations)
    ``(back fold − its neutral) + max(0, head fold − its neutral)``: the back's bend
    past the lifter's neutral, plus the head only when it folds toward the chest past
    its neutral. A head lifted to look ahead never takes anything off a humped back.
curve (the flag measure on tracks saved before the neck stations)
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

All outline angles are rotation-invariant and scale-free (camera distance and trunk
inclination do not change them) and are smoothed by a short running median against mask
flicker. Each neutral is the client profile's saved value when given, else the clip's
standing frames (trunk upright, hips open) held within the range that flat-backed lifters
stand at, else a default. On old tracks flexion is `curve` minus its neutral (profile
``spine_curve_deg``, else standing within `neutral_band_deg` of the default, else the
default), exactly as before the neck stations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from metrics.angles import Angles, to_body_frame
from metrics.landmarks import SIDE_PARTS
from metrics.track import BACK_STATIONS, TRUNK_STATIONS, PoseTrack

# Keys of `ClientProfile.neutral` read here.
NEUTRAL_CURVE_KEY = "spine_curve_deg"
NEUTRAL_TRUNK_KEY = "standing_trunk_deg"
NEUTRAL_BACK_KEY = "spine_back_fold_deg"
NEUTRAL_HEAD_KEY = "spine_head_fold_deg"

# `SpineShape.measure`: which flexion measure a track allows.
MEASURE_FOLDS = "back fold + head fold"  # tracks with the neck stations
MEASURE_CURVE = "curve"  # tracks saved before them


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
    # The back fold and head fold (tracks with the neck stations, docs/spine.md).
    back_upper: tuple[int, int] = (6, 12)  # 0.6–1.2: upper back on past the shoulder
    head_station: int = 10  # the outline at the shoulder, where the line to the ear starts
    # A clip's standing back / head fold (frames of `_still_standing`) is used only within
    # the range the flat-backed lifters of the labelled side-view clips stand at (their
    # standing medians, rounded outward: back −7.5…23.8, head 26.4…46.8 deg), so a lifter
    # who stands slumped cannot make a rounded back neutral. With no standing frames, or
    # a reading outside the range, the upper end is used: an unseen neutral gives a flat
    # back the benefit of the doubt (docs/spine.md).
    back_neutral_range: tuple[float, float] = (-8.0, 24.0)
    head_neutral_range: tuple[float, float] = (26.0, 47.0)
    # The folds' standing frames must also be still (trunk turning slower than this):
    # a lifter who leans back at lockout passes through upright at 100-300 deg/s, and
    # the outline of those few frames is a swing, not a posture.
    standing_still_deg_s: float = 30.0
    standing_fold_trunk_max_deg: float = 30.0


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
    # The outline's own hump between hip and shoulder (`outline_hump`): its height as a
    # share of the outline's length (+ humped, − hollow) and where its apex sits (0 hip,
    # 1 shoulder), after the running median; NaN unknown.
    hump: np.ndarray | None = None
    hump_at: np.ndarray | None = None
    # Which flexion measure `flexion_deg` is (`MEASURE_FOLDS` or `MEASURE_CURVE`); with
    # the folds, their per-frame values after the running median and their neutrals
    # (None on tracks without the neck stations). `neutral_deg` / `neutral_source` stay
    # those of `curve_deg`'s neutral; `flexion_source` is where the flexion's neutral
    # came from.
    measure: str = MEASURE_CURVE
    back_fold_deg: np.ndarray | None = None
    head_fold_deg: np.ndarray | None = None
    back_neutral_deg: float | None = None
    head_neutral_deg: float | None = None
    flexion_source: str | None = None

    @property
    def head_unseen(self) -> np.ndarray | None:
        """(T,) bool: frames whose flexion is the back's fold alone because the head's
        was not seen, a lower bound of the flexion (None without the folds)."""
        if self.back_fold_deg is None or self.head_fold_deg is None:
            return None
        return np.isfinite(self.back_fold_deg) & ~np.isfinite(self.head_fold_deg)


def directions(points: np.ndarray, min_points: int = 2) -> np.ndarray:
    """(T,) direction in degrees (counter-clockwise from +x) of the principal line
    through each frame's points, pointing from the first stations toward the last.

    `points` is (T, K, 2) with NaN rows for missing points; frames with fewer than
    `min_points` give NaN. The principal axis of the 2×2 covariance has the closed form
    ``0.5 * atan2(2 sxy, sxx - syy)``; its sign is chosen so the axis runs the way the
    station index grows.
    """
    pts = np.asarray(points, np.float64)
    ok: np.ndarray = np.asarray(np.isfinite(pts).all(axis=2), bool)
    count = ok.sum(axis=1)
    w = ok.astype(np.float64)
    safe = np.where(ok[..., None], pts, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = safe.sum(axis=1) / count[:, None]
        d = np.where(ok[..., None], pts - mean[:, None, :], 0.0)
        sxx = (d[..., 0] ** 2).sum(axis=1)
        syy = (d[..., 1] ** 2).sum(axis=1)
        sxy = (d[..., 0] * d[..., 1]).sum(axis=1)
        theta = 0.5 * np.arctan2(2.0 * sxy, sxx - syy)
        k = np.arange(pts.shape[1], dtype=np.float64)
        kmean = (w * k).sum(axis=1) / count
        # how the points move as the station index grows
        trend = ((w * (k - kmean[:, None]))[..., None] * d).sum(axis=1)
    u = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    flip = (u * trend).sum(axis=1) < 0
    deg = np.degrees(theta) + np.where(flip, 180.0, 0.0)
    return np.where(count >= max(min_points, 2), _wrap(deg), np.nan)


def _wrap(deg: np.ndarray) -> np.ndarray:
    return (np.asarray(deg, np.float64) + 180.0) % 360.0 - 180.0


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
    a_low, a_up, a_head = _line_directions(
        contour, ear, params.lower, params.upper, params.upper_station, params.min_points
    )
    return _wrap(a_low - a_head), _wrap(a_low - a_up)


def fold_angles(
    contour: np.ndarray, ear: np.ndarray, params: SpineParams = DEFAULT_PARAMS
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame raw back fold and head fold (deg) from body-frame points.

    `contour` (T, K, 2) is the outline at `BACK_STATIONS` in the body frame (x toward
    the facing direction, y up), NaN where missing; `ear` (T, 2) the near-side ear.
    With ``a_low`` and ``a_upper`` the directions of the lines fitted to the lower-back
    stations (`lower`) and to the upper back past the shoulder (`back_upper`), pointing
    from hip toward head, and ``a_head`` the direction from the outline at
    `head_station` to the ear: ``back = a_low - a_upper``, ``head = a_upper - a_head``.
    A spine folding forward turns clockwise from hip to head in the body frame, so both
    are positive for flexion, and ``back + head`` is the whole fold from the low back to
    the head.
    """
    a_low, a_upper, a_head = _line_directions(
        contour, ear, params.lower, params.back_upper, params.head_station, params.min_points
    )
    return _wrap(a_low - a_upper), _wrap(a_upper - a_head)


def _line_directions(
    contour: np.ndarray,
    ear: np.ndarray,
    low: tuple[int, int],
    high: tuple[int, int],
    head_from: int,
    min_points: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,) directions (deg) of the lines fitted to the outline stations `low` and `high`
    (inclusive ranges) and of the line from station `head_from` to the ear."""
    contour = np.asarray(contour, np.float64)
    ear = np.asarray(ear, np.float64)
    a_low = directions(contour[:, low[0] : low[1] + 1], min_points)
    a_high = directions(contour[:, high[0] : high[1] + 1], min_points)
    head = ear - contour[:, head_from]
    return a_low, a_high, np.degrees(np.arctan2(head[:, 1], head[:, 0]))


def has_neck_stations(track: PoseTrack) -> bool:
    """Whether the track's outline goes on past the shoulder (tracks saved before the
    neck stations have NaN there on every frame)."""
    c = track.back_contour
    return c is not None and bool(np.isfinite(c[:, TRUNK_STATIONS:]).any())


def running_median(
    x: np.ndarray, t: np.ndarray, window_s: float, *, min_samples: int = 1
) -> np.ndarray:
    """Running median over about `window_s` seconds (at least `min_samples`, made odd);
    NaN samples stay NaN and are skipped."""
    x = np.asarray(x, np.float64)
    finite = np.isfinite(x)
    if len(x) < 3 or not finite.any():
        return x.copy()
    dt = float(np.median(np.diff(t)))
    size = max(int(round(window_s / dt)) if dt > 0 else 1, min_samples) | 1
    if size <= 1:
        return x.copy()
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[finite], x[finite])
    # the ends padded with their own values, as a median filter's "nearest" mode does
    padded = np.pad(filled, size // 2, mode="edge")
    out = np.median(sliding_window_view(padded, size), axis=1)
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
    neck = has_neck_stations(track)
    # the hump (`flexion_region`) over the outline as far as it goes: on to the base of
    # the neck, or the shoulder on tracks saved before the neck stations
    hump_raw, at_raw = outline_hump(contour, params, end=params.back_upper[1] if neck else None)
    hump = running_median(hump_raw, track.t, params.smooth_s)
    hump_at = running_median(at_raw, track.t, params.smooth_s)
    shape = SpineShape(curve, bend, value, source, curve - value, lean, hump, hump_at)
    if not neck:
        return shape
    back_raw, head_raw = fold_angles(contour, ear, params)
    back = running_median(back_raw, track.t, params.smooth_s)
    head = running_median(head_raw, track.t, params.smooth_s)
    stand = _still_standing(angles, params)
    b0, b_src = _fold_neutral(
        back, stand, track.t, neutral, NEUTRAL_BACK_KEY, params.back_neutral_range, params
    )
    h0, _ = _fold_neutral(
        head, stand, track.t, neutral, NEUTRAL_HEAD_KEY, params.head_neutral_range, params
    )
    with np.errstate(invalid="ignore"):
        flexion = (back - b0) + np.fmax(head - h0, 0.0)  # an unseen head adds nothing
    return replace(
        shape,
        flexion_deg=flexion,
        measure=MEASURE_FOLDS,
        back_fold_deg=back,
        head_fold_deg=head,
        back_neutral_deg=b0,
        head_neutral_deg=h0,
        flexion_source=b_src,
    )


def _still_standing(angles: Angles, params: SpineParams) -> np.ndarray:
    """(T,) bool: the frames a fold's standing neutral uses: hips open, the trunk within
    `standing_fold_trunk_max_deg` of vertical (a lockout leaning back counts) and turning
    slower than `standing_still_deg_s`."""
    n = len(angles.t)
    if n < 2:
        return np.zeros(n, bool)
    trunk = np.asarray(angles.trunk, np.float64)
    # the turning rate of the trunk's running median: landmark jitter on a small or
    # strongly compressed lifter reads tens of deg/s frame to frame on a still body
    smooth = running_median(trunk, angles.t, params.smooth_s)
    with np.errstate(invalid="ignore"):
        rate = np.abs(np.gradient(smooth, angles.t))
        return np.asarray(
            (np.abs(trunk) <= params.standing_fold_trunk_max_deg)
            & (angles.hip >= params.standing_hip_min_deg)
            & (rate <= params.standing_still_deg_s),
            bool,
        )


def _fold_neutral(
    fold: np.ndarray,
    stand: np.ndarray,
    t: np.ndarray,
    neutral: dict[str, float],
    key: str,
    bounds: tuple[float, float],
    params: SpineParams,
) -> tuple[float, str]:
    """A fold's neutral: the profile's, else the clip's standing median when within
    `bounds`, else the upper bound (see `SpineParams.back_neutral_range`)."""
    saved = neutral.get(key)
    if saved is not None and math.isfinite(saved):
        return float(saved), "profile"
    own = _standing_median(fold, stand, t, params)
    if own is None or not bounds[0] <= own <= bounds[1]:
        # unseen, or a reading no flat-backed lifter stands at (a mask edge smeared by
        # compression, a lean-back read as standing): not the lifter's posture
        return bounds[1], "default"
    return own, "standing"


def _standing_median(
    x: np.ndarray, stand: np.ndarray, t: np.ndarray, params: SpineParams
) -> float | None:
    ok = stand & np.isfinite(x)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    if ok.sum() * dt < params.min_standing_s:
        return None
    return float(np.median(x[ok]))


def outline_hump(
    contour: np.ndarray, params: SpineParams = DEFAULT_PARAMS, end: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the outline's hump: the largest distance of the stations from the chord
    between the first and last stations used (`lower[0]`, and `end`, default
    `upper[1]`), on the back's side, as a share of the chord (+ humped, − hollow), and
    where it sits (its station: 0 hip … 1 shoulder, beyond 1 past it). `contour` is in
    the body frame (x toward the facing direction, y up), so the back's side is the chord
    direction turned a quarter turn counter-clockwise.

    For a circular arc the total bend is about ``8 × height / chord`` radians: a 4% hump
    is an arc of about 18°.
    """
    c = np.asarray(contour, np.float64)
    a, b = params.lower[0], params.upper[1] if end is None else end
    p, q = c[:, a], c[:, b]
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / length[:, None]
        height = ((c[:, a : b + 1] - p[:, None, :]) * normal[:, None, :]).sum(axis=2)
        share = height / length[:, None]
    ok = np.isfinite(share)
    enough = ok.sum(axis=1) >= params.min_points
    filled = np.where(ok, share, -np.inf)
    j = np.argmax(filled, axis=1)
    top = filled[np.arange(len(c)), j]
    low = np.where(ok, share, np.inf).min(axis=1)
    # the larger of the hump and the hollow, signed
    value = np.where(top >= -low, top, low)
    stations = (
        BACK_STATIONS if c.shape[1] == len(BACK_STATIONS) else np.linspace(0, 1, c.shape[1])
    )[a : b + 1]
    where = stations[j]
    return np.where(enough, value, np.nan), np.where(enough & (top > 0), where, np.nan)


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
    return _standing_median(curve, standing_frames(angles, params), t, params)


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
    stand = _still_standing(angles, params)
    for key, fold in (
        (NEUTRAL_BACK_KEY, shape.back_fold_deg),
        (NEUTRAL_HEAD_KEY, shape.head_fold_deg),
    ):
        if fold is not None:
            value = _standing_median(fold, stand, track.t, params)
            if value is not None:
                out[key] = round(value, 1)
    stand = standing_frames(angles, params) & np.isfinite(angles.trunk)
    if stand.any():
        out[NEUTRAL_TRUNK_KEY] = round(float(np.median(angles.trunk[stand])), 1)
    return out
