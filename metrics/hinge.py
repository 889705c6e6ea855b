"""Hinge rules: every rep, its measures, and the flags a coach would raise.

- `spine_flexion`: the back rounds at the bottom (`metrics.spine` curve past the lifter's
  neutral), judged on the bent-over frames of each rep.
- `spine_extension`: leaning back past upright at lockout.
- `knee_dominant`: the hinge turns into a squat: at the deepest point most of the hip bend
  comes from the thighs tipping forward rather than the trunk (hips sit down, not back).
- `hips_rise_early`: the hips rise before the chest: once the hips start up, the trunk
  tips further forward instead of rising with them.

Values are per rep; a rep is flagged when its value reaches the flag's `mild` threshold
(thresholds.toml, scaled by the client profile), the value is one a body can make
(ranges.toml) and it rests on a sustained stretch of clearly seen frames; each flag
carries that evidence (`metrics.evidence`, docs/ranges.md). A check that cannot be made
is listed in the rep's `not_judged` with the reason. No form flag is raised when the
camera view cannot support it (`ViewInfo.judgeable` False); reps are still counted. A
set-down after the last rep is judged for rounding (`after_last_rep`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from metrics.angles import Angles
from metrics.clean import torso_length
from metrics.evidence import (
    close_call,
    evidence,
    in_range,
    near_pass,
    not_sustained_reason,
    out_of_range_reason,
    run_around,
    stretch,
    support_level,
)
from metrics.landmarks import SIDE_PARTS
from metrics.profile import ClientProfile
from metrics.report import Flag, Rep, ViewInfo
from metrics.reps import (
    DEFAULT_PARAMS as REP_PARAMS,
)
from metrics.reps import RepParams, RepSegment, far_hip, head_room, rep_columns, run_counter
from metrics.result import ExerciseResult
from metrics.spine import DEFAULT_PARAMS as SPINE_PARAMS
from metrics.spine import (
    MEASURE_FOLDS,
    NEUTRAL_BACK_KEY,
    NEUTRAL_HEAD_KEY,
    SpineParams,
    SpineShape,
    running_median,
    spine_shape,
)
from metrics.thresholds import Threshold, Thresholds
from metrics.track import PoseTrack


@dataclass(frozen=True)
class HingeParams:
    """How each rep's values are read (seconds, degrees, percentiles)."""

    # Flexion: the share of the rep's bent-over frames that must show it. The value is
    # this percentile of the flexion over those frames, so a flicker does not count.
    flexion_percentile: float = 80.0
    # A pull from the floor: only this much of the setup before lift-off is judged.
    setup_s: float = 0.5
    # Lockout: how long after reaching the top leaning back is looked for.
    lockout_window_s: float = 1.5
    # Leaning back counts as held for this long (the back-shape series' own running median
    # is 0.3 s too, docs/spine.md): a lean-back read on fewer frames is a flicker.
    lean_hold_s: float = 0.3
    # Hips rising early: for a pull from the floor, how far before lift-off to look for
    # the hips' lowest position (they may rise before the bar leaves the floor)...
    rise_lookback_s: float = 1.0
    # ...and the hip angle still closing faster than this (deg/s) is still the descent,
    # until the knees have opened this much past their angle at the hips' lowest point
    # (the knees straightening is the rise itself: docs/hinge.md).
    closing_deg_s: float = 5.0
    rise_knee_open_deg: float = 10.0
    rise_hip_fraction: float = 0.1
    # ... and only when the hips travel at least this share of the torso's length from
    # their lowest point to lockout: in a hinge whose hips hardly move up and down (a
    # Romanian deadlift, a good morning) a tenth of the travel is pixel noise.
    rise_min_travel_torso: float = 0.15
    # The trunk's running median for it, against landmark glitches: over this long, and
    # over at least this many frames, so that a two-frame glitch in a fast lockout is
    # not read as a tip at the 15 fps uploads are analysed at.
    trunk_smooth_s: float = 0.2
    trunk_smooth_min_frames: int = 5
    # Knee dominance is only judged on reps that bend the hip at least this much, and read
    # (the median) over the frames within this much of the rep's deepest hip bend.
    min_hip_flexion_deg: float = 60.0
    bottom_band_deg: float = 10.0
    # A set-down after the last rep is judged until the weight reaches the floor: the
    # first frame with the trunk within this of its deepest (docs/hinge.md).
    set_down_arrival_deg: float = 5.0
    # Where a rounding sits (docs/spine.md): the outline between hip and shoulder counts
    # as humped from this height over its length (a circular arc of about 18 deg), and a
    # hump whose apex lies at or below this fraction of the way to the shoulder is a low
    # back one.
    hump_min: float = 0.04
    low_back_apex: float = 0.35


DEFAULT_PARAMS = HingeParams()


@dataclass(frozen=True)
class RepMeasure:
    """One rep's value for one flag code: the value, and where it peaked (frame).

    When `series` and `window` are given, a flag's extent is the stretch of `window`
    frames around `peak_i` where `series` stays past the flag's mild threshold;
    otherwise it is `start_i` … `end_i`. `support` / `support_window` (default: `series`
    / `window`) are the per-frame values a flag's evidence counts (`metrics.evidence`).
    `support_lower_bound` marks frames whose support value is only a lower bound (part
    of the measure unseen): under the line, such a frame says nothing either way.
    """

    value: float
    peak_i: int
    start_i: int
    end_i: int
    series: np.ndarray | None = None
    window: np.ndarray | None = None
    support: np.ndarray | None = None
    support_window: np.ndarray | None = None
    support_lower_bound: np.ndarray | None = None


def rep_params_for(view: ViewInfo, rep_params: RepParams = REP_PARAMS) -> RepParams:
    """The rep counter's settings for a camera view, uploads and live alike: away from
    side-on the trunk and hip angles are foreshortened, so the shoulders' drop finds the
    bottoms too."""
    if view.camera != "side" and not rep_params.shoulder_drop:
        return replace(rep_params, shoulder_drop=True)
    return rep_params


def analyze_hinge(
    track: PoseTrack,
    angles: Angles,
    view: ViewInfo,
    thresholds: Thresholds,
    profile: ClientProfile,
    *,
    params: HingeParams = DEFAULT_PARAMS,
    rep_params: RepParams = REP_PARAMS,
    spine_params: SpineParams = SPINE_PARAMS,
) -> ExerciseResult:
    """Reps, per-rep metrics, flags and timeseries columns for a cleaned hinge track."""
    hip_far = far_hip(track, angles)
    rep_params = rep_params_for(view, rep_params)
    counter = run_counter(angles, hip_far=hip_far, room=head_room(track), params=rep_params)
    segments = counter.finish()
    zones = counter.zones
    shape = spine_shape(track, angles, neutral=profile.neutral, params=spine_params)
    bottom_zone = np.array([z == "bottom" for z in zones], bool)
    judge = view.judgeable
    trunk_smooth = running_median(
        angles.trunk, angles.t, params.trunk_smooth_s, min_samples=params.trunk_smooth_min_frames
    )
    hip_y = track.image[:, SIDE_PARTS["hip"][0 if angles.side == "left" else 1], 1]
    torso_px = torso_length(track.image[..., :2])
    knee_smooth = running_median(
        angles.knee, angles.t, params.trunk_smooth_s, min_samples=params.trunk_smooth_min_frames
    )
    reps: list[Rep] = []
    flags: list[Flag] = []
    close_calls: list[dict[str, Any]] = []
    for k, seg in enumerate(segments):
        nxt = segments[k + 1].start_i if k + 1 < len(segments) else len(angles)
        measures = {
            "spine_flexion": _flexion(seg, shape, bottom_zone, angles.t, params),
            "spine_extension": _extension(seg, shape, nxt, angles.t, params),
            "knee_dominant": _knee_dominance(seg, angles, bottom_zone, params),
            "hips_rise_early": _hips_rise(
                seg, angles, hip_y, trunk_smooth, params, knee=knee_smooth, torso_px=torso_px
            ),
        }
        rep_flags, not_judged, near = _judge_rep(seg, measures, judge, track, angles, thresholds)
        flags.extend(rep_flags)
        close_calls.extend({"rep": seg.index, **c} for c in near)
        flexed = [f for f in rep_flags if f.code == "spine_flexion"]
        region = _region(flexed[0], shape, angles.t, params) if flexed else None
        reps.append(
            Rep(
                index=seg.index,
                start_s=round(seg.start_s, 3),
                bottom_s=round(seg.bottom_s, 3),
                end_s=round(seg.end_s, 3),
                metrics=_rep_metrics(seg, angles, measures, judge),
                flags=[f.code for f in rep_flags],
                not_judged=not_judged,
                flexion_region=region,
            )
        )
    set_down = _after_last_rep(segments, bottom_zone, shape, track, angles, judge, thresholds)
    rep_col, phase_col = rep_columns(segments, angles, rep_params, zones)
    flexion_col = shape.flexion_deg if judge else np.full(len(angles), np.nan)
    nan = np.full(len(angles), np.nan)
    columns = {
        "rep": rep_col,
        "phase": phase_col,
        "spine_flexion_deg": flexion_col,
        "spine_curve_deg": shape.curve_deg,
        "back_bend_deg": shape.bend_deg,
        "lean_back_deg": shape.lean_back_deg,
        # named as the profile's neutral keys, so a calibration clip's columns give them
        NEUTRAL_BACK_KEY: nan if shape.back_fold_deg is None else shape.back_fold_deg,
        NEUTRAL_HEAD_KEY: nan if shape.head_fold_deg is None else shape.head_fold_deg,
    }
    spine: dict[str, Any] = {
        "method": "back outline and head (docs/spine.md)",
        "neutral_deg": _r(shape.neutral_deg, 1),
        "neutral_source": shape.neutral_source,
        "judged": judge,
        "measure": shape.measure,
    }
    if shape.measure == MEASURE_FOLDS:
        # flexion = back fold past its neutral + the head's fold toward the chest past its
        spine["method"] = "back outline from the hips to the neck, and the head (docs/spine.md)"
        spine["back_fold_neutral_deg"] = _r(shape.back_neutral_deg, 1)
        spine["head_fold_neutral_deg"] = _r(shape.head_neutral_deg, 1)
        spine["flexion_neutral_source"] = shape.flexion_source
    extra: dict[str, Any] = {"spine": spine}
    if set_down is not None:
        extra["after_last_rep"] = set_down
    if judge:
        extra["close_calls"] = close_calls
    return ExerciseResult(reps=reps, hold=None, flags=flags, columns=columns, extra=extra)


NOT_SIDE_ON = "the camera was not side-on enough to see the back's shape"
LOCKOUT_ARRIVAL_UNSEEN = "the lockout was not seen clearly: the lifter was lost on the way up"


def _arrival_unseen(seg: RepSegment, angles: Angles, params: HingeParams = DEFAULT_PARAMS) -> bool:
    """Whether the lifter was lost for longer than a held lean (`lean_hold_s`) just before
    the rep reached the top: the top is then placed at the first frame found again, and a
    lean-back at the arrival would have gone unseen."""
    seen = np.nonzero(np.isfinite(angles.trunk[: seg.end_i]))[0]
    if seen.size == 0:
        return True
    step = float(np.median(np.diff(angles.t))) if len(angles.t) > 1 else 0.0
    unseen_s = angles.t[seg.end_i] - angles.t[seen[-1]] - step  # between the frames seen
    return bool(unseen_s > params.lean_hold_s)


def _judge_rep(
    seg: RepSegment,
    measures: dict[str, RepMeasure | None],
    judge: bool,
    track: PoseTrack,
    angles: Angles,
    thresholds: Thresholds,
) -> tuple[list[Flag], list[dict[str, str]], list[dict[str, Any]]]:
    """The rep's flags, each with its evidence, the checks it could not judge, and the
    checks it passed close to the line (`metrics.evidence.near_pass`).

    A value outside what a body can do (`metrics.evidence.in_range`) is dropped from the
    rep's metrics (`measures` is updated) and the check abstains; a flag that does not
    rest on a sustained stretch of clearly seen frames is not raised and abstains.
    """
    flags: list[Flag] = []
    not_judged: list[dict[str, str]] = []
    near: list[dict[str, Any]] = []
    for code, m in list(measures.items()):
        if not judge:
            not_judged.append({"check": code, "reason": NOT_SIDE_ON})
            continue
        if m is None:
            not_judged.append({"check": code, "reason": _why_not(code, seg, angles)})
            continue
        if code not in thresholds.by_code:
            continue
        th = thresholds[code]
        if not in_range(code, m.value):
            not_judged.append({"check": code, "reason": out_of_range_reason(m.value, th.unit)})
            measures[code] = None
            continue
        flag = _flag(code, m, seg, thresholds, angles.t)
        if flag is None and code == "spine_extension" and _arrival_unseen(seg, angles):
            # a pass needs the lockout seen: lost on the way up, the lean may have come
            # and gone unseen, and the frames after it would pass whatever happened
            not_judged.append({"check": code, "reason": LOCKOUT_ARRIVAL_UNSEEN})
            measures[code] = None
            continue
        if flag is None:
            if near_pass(m.value, th.mild, th.unit):
                near.append(close_call(code, m.value, th.mild, th.unit))
            continue
        support = m.support if m.support is not None else m.series
        window = m.support_window if m.support_window is not None else m.window
        if support is not None and window is not None:
            level = support_level(th.mild, th.unit)
            if m.support_lower_bound is not None:
                # unknown, not a pass: stepped over like a frame the mask missed
                support = np.where(m.support_lower_bound & (support < level), np.nan, support)
            frames = run_around(support, window, m.peak_i, level, angles.t)
            finite = np.isfinite(support)
        else:
            frames = np.arange(m.start_i, m.end_i + 1)
            finite = None
        s = stretch(code, frames, track.visibility, angles.t, angles.side, finite)
        if not s.sustained:
            not_judged.append({"check": code, "reason": not_sustained_reason(s)})
            continue
        flags.append(replace(flag, evidence=evidence(s, m.value, th.mild, th.unit)))
    return flags, not_judged, near


def _after_last_rep(
    segments: list[RepSegment],
    bottom_zone: np.ndarray,
    shape: SpineShape,
    track: PoseTrack,
    angles: Angles,
    judge: bool,
    thresholds: Thresholds,
    params: HingeParams = DEFAULT_PARAMS,
) -> dict[str, Any] | None:
    """A descent after the last rep (the weight set down), judged for a rounded back.

    Only the way down counts, until the weight reaches the floor (the first frame with
    the trunk within `set_down_arrival_deg` of its deepest): after that the back is no
    longer loaded, and a lifter letting go of the bar may round at no cost. Returns the
    `after_last_rep` report entry (None when there is no such descent); its ``flag`` is
    the flag (rep None, with evidence) when one is raised. It stays out of the report's
    per-rep `flags`, which the live monitor reproduces rep for rep.
    """
    if not segments:
        return None
    start = segments[-1].end_i + 1
    idx = np.flatnonzero(bottom_zone[start:]) + start
    trunk = angles.trunk[start:]
    if idx.size == 0 or not np.isfinite(trunk).any():
        return None
    t = angles.t
    deepest = float(np.nanmax(trunk))
    with np.errstate(invalid="ignore"):
        arrive = start + int(np.flatnonzero(trunk >= deepest - params.set_down_arrival_deg)[0])
    arrive = max(arrive, int(idx[0]))
    used = idx[idx <= arrive]
    info: dict[str, Any] = {
        "start_s": round(float(t[idx[0]]), 3),
        "bottom_s": round(float(t[arrive]), 3),
        "spine_flexion_deg": None,
        "flags": [],
        "not_judged": [],
        "flag": None,
    }
    code = "spine_flexion"
    finite = used[np.isfinite(shape.flexion_deg[used])]
    if not judge:
        info["not_judged"].append({"check": code, "reason": NOT_SIDE_ON})
        return info
    if finite.size == 0:
        reason = "the weight being set down was not seen clearly"
        info["not_judged"].append({"check": code, "reason": reason})
        return info
    series = shape.flexion_deg
    value = float(np.percentile(series[finite], params.flexion_percentile))
    th = thresholds[code]
    if not in_range(code, value):
        info["not_judged"].append({"check": code, "reason": out_of_range_reason(value, th.unit)})
        return info
    info["spine_flexion_deg"] = _r(max(value, 0.0))
    severity = th.severity(value)
    if severity is None:
        return info
    peak = int(finite[int(np.argmax(series[finite]))])
    frames = run_around(series, finite, peak, support_level(th.mild, th.unit), t)
    st = stretch(code, frames, track.visibility, t, angles.side, np.isfinite(series))
    if not st.sustained:
        info["not_judged"].append({"check": code, "reason": not_sustained_reason(st)})
        return info
    info["flags"] = [code]
    info["flag"] = asdict(
        Flag(
            code=code,
            severity=severity,
            rep=None,
            start_s=round(float(t[frames[0]]), 3),
            peak_s=round(float(t[peak]), 3),
            end_s=round(float(t[frames[-1]]), 3),
            value=round(value, 1),
            threshold=round(th.mild, 1),
            unit=th.unit,
            evidence=evidence(st, value, th.mild, th.unit),
        )
    )
    return info


LOW_BACK = "low back"
WHOLE_BACK = "whole back"
UPPER_BACK = "upper back/neck"


def _region(flag: Flag, shape: SpineShape, t: np.ndarray, params: HingeParams) -> str | None:
    """Where a flagged rounding sits, over the flag's frames.

    With the neck stations (`MEASURE_FOLDS`): a rounding carried mostly by the head's fold
    (its part of the flexion at least the back's) or an outline from the hips to the base
    of the neck that does not hump (under `hump_min`) is "upper back/neck"; otherwise the
    outline's hump over that stretch places it: apex in the lowest part (`low_back_apex`)
    "low back", elsewhere "whole back". On older tracks the outline runs from the hip to
    the shoulder landmark and `curve` carries on to the ear: no hump in it means the fold
    is above it ("upper back/neck"), else the apex places it as above. None when the
    outline is unknown.
    """
    if shape.hump is None or shape.hump_at is None:
        return None
    frames = (t >= flag.start_s - 1e-6) & (t <= flag.end_s + 1e-6)
    hump = shape.hump[frames]
    hump = hump[np.isfinite(hump)]
    if hump.size == 0:
        return None
    if float(np.median(hump)) < params.hump_min:
        return UPPER_BACK
    if shape.measure == MEASURE_FOLDS and _head_carries(shape, frames):
        return UPPER_BACK
    at = shape.hump_at[frames]
    at = at[np.isfinite(at)]
    if at.size and float(np.median(at)) <= params.low_back_apex:
        return LOW_BACK
    return WHOLE_BACK


def _head_carries(shape: SpineShape, frames: np.ndarray) -> bool:
    """Whether the head's fold makes at least as much of the flexion as the back's."""
    if shape.back_fold_deg is None or shape.head_fold_deg is None:
        return False
    b0, h0 = shape.back_neutral_deg or 0.0, shape.head_neutral_deg or 0.0
    back = shape.back_fold_deg[frames] - b0
    head = np.fmax(shape.head_fold_deg[frames] - h0, 0.0)
    if not np.isfinite(back).any():
        return False
    return bool(np.nanmedian(head) >= np.nanmedian(back))


def _why_not(code: str, seg: RepSegment, angles: Angles) -> str:
    """Why a rep's measure for `code` could not be made, in a coach's words."""
    if code == "spine_flexion":
        return "the bottom of the rep was not seen clearly"
    if code == "spine_extension":
        if not seg.lockout_seen:
            return "the lockout was not seen"
        return "the lockout was not seen clearly"
    if not seg.pull_seen:
        return "the pull from the bottom was not seen"
    if code == "hips_rise_early" and not seg.lockout_seen:
        return "the rise was not seen all the way to lockout"
    hip = angles.hip[seg.start_i : seg.end_i + 1]
    if code == "knee_dominant" and np.isfinite(hip).any():
        return "the rep did not bend at the hips enough to tell a hinge from a squat"
    return "the hips and knees were not seen clearly"


def _r(x: float | None, nd: int = 1) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


def _window(mask: np.ndarray) -> np.ndarray:
    return np.nonzero(mask)[0]


def _peak(values: np.ndarray, idx: np.ndarray, level: float) -> tuple[int, int, int] | None:
    """(peak, start, end) frames: the largest value over `idx`, and the contiguous run of
    `idx` frames around it that stay at or above `level`."""
    v = values[idx]
    if not np.isfinite(v).any():
        return None
    j = int(np.nanargmax(v))
    lo = hi = j
    while lo > 0 and idx[lo - 1] == idx[lo] - 1 and v[lo - 1] >= level:
        lo -= 1
    while hi < len(idx) - 1 and idx[hi + 1] == idx[hi] + 1 and v[hi + 1] >= level:
        hi += 1
    return int(idx[j]), int(idx[lo]), int(idx[hi])


def _flexion(
    seg: RepSegment,
    shape: SpineShape,
    bottom_zone: np.ndarray,
    t: np.ndarray,
    params: HingeParams,
) -> RepMeasure | None:
    """Flexion over the rep's bent-over frames (the last `setup_s` of a floor setup)."""
    mask = np.zeros(len(t), bool)
    mask[seg.start_i : seg.end_i + 1] = True
    mask &= bottom_zone
    if not seg.from_top:
        mask &= t >= t[seg.bottom_i] - params.setup_s
    idx = _window(mask & np.isfinite(shape.flexion_deg))
    if idx.size == 0:
        return None
    v = shape.flexion_deg[idx]
    value = float(np.percentile(v, params.flexion_percentile))
    found = _peak(shape.flexion_deg, idx, value)
    assert found is not None
    peak, lo, hi = found
    # the evidence reads the rounding over the whole rep: it is judged on the setup's
    # last moments, but a real one is still there as the pull starts
    rep_frames = np.arange(seg.start_i, seg.end_i + 1)
    return RepMeasure(
        value,
        peak,
        lo,
        hi,
        shape.flexion_deg,
        idx,
        shape.flexion_deg,
        rep_frames,
        support_lower_bound=shape.head_unseen,
    )


def _extension(
    seg: RepSegment, shape: SpineShape, next_start: int, t: np.ndarray, params: HingeParams
) -> RepMeasure | None:
    """Leaning back over the lockout: from reaching the top to leaving it (capped)."""
    if not seg.lockout_seen:
        return None
    end = seg.end_i
    stop = min(next_start, len(t))
    mask = np.zeros(len(t), bool)
    mask[end:stop] = True
    mask &= t <= t[end] + params.lockout_window_s
    idx = _window(mask & np.isfinite(shape.lean_back_deg))
    if idx.size == 0:
        return None
    found = _peak(shape.lean_back_deg, idx, 0.0)
    assert found is not None
    peak, lo, hi = found
    value = float(shape.lean_back_deg[peak])
    if in_range("spine_extension", value):  # else: the lockout was not tracked, say so
        value, peak = _held(shape.lean_back_deg, idx, t, params.lean_hold_s)
    return RepMeasure(value, peak, lo, hi, shape.lean_back_deg, idx)


def _held(values: np.ndarray, idx: np.ndarray, t: np.ndarray, hold_s: float) -> tuple[float, int]:
    """The largest value held for `hold_s` over the `idx` frames (the most that every frame
    of some whole `hold_s` stretch reaches; frames spanning less than `hold_s` count as one
    stretch), and the frame where that stretch starts. A lean a coach sees is held, not a
    two-frame flicker."""
    v, ts = values[idx], t[idx]
    best, at = -np.inf, int(idx[0])
    starts = np.nonzero(ts + hold_s <= ts[-1] + 1e-9)[0]
    for k in starts if starts.size else [0]:
        stretch = (ts >= ts[k]) & (ts <= ts[k] + hold_s + 1e-9)
        low = float(np.min(v[stretch]))
        if low > best:
            best, at = low, int(idx[k])
    return best, at


def _knee_dominance(
    seg: RepSegment, angles: Angles, bottom_zone: np.ndarray, params: HingeParams
) -> RepMeasure | None:
    """Share (%) of the hip bend at the rep's deepest point made by the thighs tipping.

    Hip flexion (180 − hip angle) is the trunk's inclination plus the thigh's; a hinge
    bends mostly at the trunk, a squat mostly at the thigh.
    """
    if not seg.pull_seen:
        return None
    hip = angles.hip[seg.start_i : seg.end_i + 1]
    if not np.isfinite(hip).any():
        return None
    j = seg.start_i + int(np.nanargmin(hip))
    flexion = 180.0 - float(angles.hip[j])
    trunk = float(angles.trunk[j])
    if not (flexion >= params.min_hip_flexion_deg and math.isfinite(trunk)):
        return None
    # per frame: the same share wherever the hip bends enough
    bend = 180.0 - angles.hip
    with np.errstate(invalid="ignore", divide="ignore"):
        per_frame = np.where(
            bend >= params.min_hip_flexion_deg, 100.0 * (bend - angles.trunk) / bend, np.nan
        )
    # read over the frames within `bottom_band_deg` of the deepest bend, not the deepest
    # frame alone: one garbled frame (a knee read at 44 deg on a compressed copy) is not
    # the lift's bottom (the deepest frame `j` is always among them)
    rep = np.arange(seg.start_i, seg.end_i + 1)
    with np.errstate(invalid="ignore"):
        deep = rep[(bend[rep] >= flexion - params.bottom_band_deg) & np.isfinite(per_frame[rep])]
    share = float(np.median(per_frame[deep]))
    idx = _window(bottom_zone[seg.start_i : seg.end_i + 1]) + seg.start_i
    lo, hi = (int(idx.min()), int(idx.max())) if idx.size else (j, j)
    support_window = np.union1d(idx, [j])
    return RepMeasure(
        share, j, min(lo, j), max(hi, j), support=per_frame, support_window=support_window
    )


def _hips_rise(
    seg: RepSegment,
    angles: Angles,
    hip_y: np.ndarray,
    trunk: np.ndarray,
    params: HingeParams,
    *,
    knee: np.ndarray | None = None,
    torso_px: float = math.nan,
) -> RepMeasure | None:
    """How far the trunk tips forward once the hips start to rise (deg).

    In a good pull chest and hips rise together and the trunk only becomes more upright.
    When the hips lead (the knees straighten first) the trunk tips further forward. The
    reference is the hips' lowest point (image pixels: the camera is still, no ankle
    needed), moved on while the hip angle is still closing (the upper body still going
    down is the end of the descent, not the rise), but not once the knees have opened
    `rise_knee_open_deg` past their angle at the hips' lowest point: knees straightening
    with the hip still closing is the hips leading, the fault itself, and a reference
    moved past it would hide the tip (a slow close of 1 deg a frame decided it before).
    `trunk` and `knee` are the angles after a short running median: a landmark glitch of
    a frame or two is not a tip. The lowest point is read only where the knee was seen
    (its raw angle): on a frame where the model could not place the knee it guesses the
    hip too (the first frames of a compressed clip put it a tenth of a torso low), and
    a reference there measures the tip from a trunk that never was.
    """
    if not (seg.pull_seen and seg.lockout_seen):
        return None
    t = angles.t
    lo = seg.start_i
    if not seg.from_top:
        lo = max(lo, int(np.searchsorted(t, t[seg.bottom_i] - params.rise_lookback_s)))
    y = np.where(np.isfinite(angles.knee), hip_y, np.nan)[lo : seg.end_i + 1]
    if not np.isfinite(y).any():
        return None
    k = lo + int(np.nanargmax(y))  # image y grows downward: the hips' lowest point
    hip = angles.hip
    knee = angles.knee if knee is None else knee
    knee_at_low, low_y = knee[k], hip_y[k]
    travel = low_y - hip_y[seg.end_i]  # how far the hips rise to lockout (px)
    enough = travel > 0 and not (travel < params.rise_min_travel_torso * torso_px)
    risen = params.rise_hip_fraction * travel if enough else math.inf

    def still_descending(i: int) -> bool:
        closing = hip[i + 1] < hip[i] - params.closing_deg_s * (t[i + 1] - t[i])
        straightening = knee[i + 1] - knee_at_low >= params.rise_knee_open_deg
        rising = low_y - hip_y[i + 1] >= risen
        return bool(closing and not straightening and not rising)

    while k < seg.end_i and still_descending(k):
        k += 1
    after = trunk[k : seg.end_i + 1]
    if not np.isfinite(after).any() or not math.isfinite(trunk[k]):
        return None
    j = k + int(np.nanargmax(after))
    value = float(trunk[j] - trunk[k])
    # the episode: from the start of the rise until the trunk is back where it started
    end = j
    while end < seg.end_i and trunk[end + 1] > trunk[k]:
        end += 1
    tip = trunk - trunk[k]
    return RepMeasure(value, j, k, end, support=tip, support_window=np.arange(k, seg.end_i + 1))


def _flag(
    code: str, m: RepMeasure | None, seg: RepSegment, thresholds: Thresholds, t: np.ndarray
) -> Flag | None:
    if m is None or code not in thresholds.by_code:
        return None
    th: Threshold = thresholds[code]
    severity = th.severity(m.value)
    if severity is None:
        return None
    lo, hi = m.start_i, m.end_i
    if m.series is not None and m.window is not None:
        found = _peak(m.series, m.window, th.mild)
        if found is not None:
            lo, hi = min(found[1], m.peak_i), max(found[2], m.peak_i)
    return Flag(
        code=code,
        severity=severity,
        rep=seg.index,
        start_s=round(float(t[lo]), 3),
        peak_s=round(float(t[m.peak_i]), 3),
        end_s=round(float(t[hi]), 3),
        value=round(m.value, 1),
        threshold=round(th.mild, 1),
        unit=th.unit,
    )


def _rep_metrics(
    seg: RepSegment, angles: Angles, measures: dict[str, RepMeasure | None], judge: bool
) -> dict[str, float | None]:
    sl = slice(seg.start_i, seg.end_i + 1)

    def extreme(x: np.ndarray, fn: Any) -> float | None:
        w = x[sl]
        return _r(float(fn(w))) if np.isfinite(w).any() else None

    def value(code: str, spine: bool = False) -> float | None:
        m = measures[code]
        if m is None or (spine and not judge):
            return None
        return _r(max(m.value, 0.0) if spine else m.value)

    descent = seg.bottom_s - seg.start_s if seg.from_top else None
    ascent = seg.end_s - seg.bottom_s if seg.pull_seen and seg.lockout_seen else None
    return {
        "trunk_max_deg": extreme(angles.trunk, np.nanmax),
        "hip_min_deg": extreme(angles.hip, np.nanmin),
        "knee_min_deg": extreme(angles.knee, np.nanmin),
        "spine_flexion_deg": value("spine_flexion", spine=True),
        "spine_extension_deg": value("spine_extension", spine=True),
        "descent_s": _r(descent, 2),
        "ascent_s": _r(ascent, 2),
        "hips_rise_deg": value("hips_rise_early"),
        "thigh_share_pct": value("knee_dominant"),
        "lockout_seen": 1.0 if seg.lockout_seen else 0.0,
        "pull_seen": 1.0 if seg.pull_seen else 0.0,
    }
