"""Plank rules on real MediaPipe tracks of the labelled plank clips, and on copies of them
whose hips (or head) were moved by known angles over known time windows.

Tracks: tests/data/tracks/<clip stem>.npz (landmarks from `backcheck analyze`, no video).
Labels: ../shared/data/clips.csv (hold_start, hold_end, fault_windows).
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import TrackAnalysis, analyze_track
from metrics.angles import compute_angles
from metrics.landmarks import SIDE_PARTS, Landmark
from metrics.plank import (
    HoldTimer,
    PlankInputs,
    PlankRow,
    PlankSettings,
    plank_posture,
    row_posture,
)
from metrics.profile import ClientProfile
from metrics.report import Flag, Hold
from metrics.thresholds import load_defaults, thresholds_for
from metrics.track import PoseTrack
from tests.conftest import TRACKS, clip_labels, need_shared_data

PLANKS = ("forearm_plank_correct", "yogai_high_plank", "coach_high_plank_oblique")
JUDGEABLE = ("forearm_plank_correct", "yogai_high_plank")


@cache
def labels() -> dict[str, dict[str, str]]:
    need_shared_data()
    return {Path(r["file"]).stem: r for r in clip_labels()}


@cache
def raw(stem: str) -> PoseTrack:
    return PoseTrack.load(TRACKS / f"{stem}.npz")


@cache
def analysis(stem: str) -> TrackAnalysis:
    return analyze_track(raw(stem), exercise="plank")


def flags_of(a: TrackAnalysis, code: str) -> list[Flag]:
    return [f for f in a.result.flags if f.code == code]


# --------------------------------------------------------------------------- the real clips


@pytest.mark.parametrize("stem", PLANKS)
def test_hold_window_matches_the_labelled_window_within_a_second(stem: str) -> None:
    label = labels()[stem]
    hold = analysis(stem).result.hold
    assert hold is not None
    assert abs(hold.start_s - float(label["hold_start"])) <= 1.0, hold
    assert abs(hold.end_s - float(label["hold_end"])) <= 1.0, hold
    assert hold.duration_s == pytest.approx(hold.end_s - hold.start_s, abs=1e-3)


def test_yogai_hold_leaves_out_tabletop_stepping_back_and_kneeling_down() -> None:
    """Tabletop 0-4.7 s, steps back 4.7-8.3 s, knees down after 31.4 s: none is timed."""
    a = analysis("yogai_high_plank")
    hold = a.result.hold
    assert hold is not None
    in_hold = a.result.columns["in_hold"].astype(bool)
    t = a.angles.t
    assert not in_hold[t < 7.3].any()  # one knee still down until ~8 s
    assert not in_hold[t > 32.4].any()
    assert in_hold[(t > 9.3) & (t < 30.4)].all()
    # The position column is off in tabletop (0-4.7 s) and after kneeling down (from 32 s).
    pos = a.result.columns["plank_position"].astype(bool)
    assert not pos[t < 4.7].any()
    assert not pos[t > 32.0].any()


@pytest.mark.parametrize("stem", JUDGEABLE)
def test_good_planks_raise_no_pike_and_no_sag_outside_the_demonstrated_one(stem: str) -> None:
    a = analysis(stem)
    assert a.view.judgeable
    assert flags_of(a, "hip_pike") == []
    assert flags_of(a, "head_drop") == []
    sags = flags_of(a, "hip_sag")
    if stem == "forearm_plank_correct":
        assert sags == []
    else:  # the one demonstrated sag, 16.2-17.8 s
        assert len(sags) == 1 and 16.0 <= sags[0].start_s <= 17.8


def test_forearm_plank_line_is_in_tolerance_all_hold_and_reads_slightly_piked() -> None:
    """The good forearm plank holds the hips ~8-10° above the line (MediaPipe: 9-15°)."""
    a = analysis("forearm_plank_correct")
    hold = a.result.hold
    assert hold is not None
    assert hold.in_tolerance_s == pytest.approx(hold.duration_s, abs=0.05)
    assert -14.0 <= hold.mean_line_deg <= -7.0
    assert -16.0 <= hold.worst_line_deg <= -8.0
    fatigue = a.result.extra["fatigue"]
    assert fatigue is not None and fatigue["degraded"] is False
    assert a.result.extra["line_tolerance_deg"] == [-20.0, 10.0]
    assert [c.code for c in a.cues] == ["praise"]


def test_yogai_demonstrated_hip_sag_is_flagged_with_onset_and_depth() -> None:
    """clips.csv: hip_sag 16.2-17.8 s, ~25-30° below the line."""
    a = analysis("yogai_high_plank")
    (sag,) = flags_of(a, "hip_sag")
    assert sag.start_s == pytest.approx(16.2, abs=0.3)
    assert sag.end_s == pytest.approx(17.8, abs=0.3)
    assert sag.start_s < sag.peak_s < sag.end_s
    assert 24.0 <= sag.value <= 33.0
    assert sag.severity == "marked"
    assert sag.threshold == pytest.approx(10.0)
    hold = a.result.hold
    assert hold is not None
    assert hold.worst_line_deg == pytest.approx(sag.value, abs=0.1)
    # Only the sag (about 1.5 s) is out of tolerance.
    assert 1.0 <= hold.duration_s - hold.in_tolerance_s <= 2.0
    assert [c.code for c in a.cues] == ["praise", "hip_sag"]
    assert "16.3 s" in a.cues[1].text or "16.2 s" in a.cues[1].text


def test_front_oblique_plank_is_timed_but_the_line_is_not_judged() -> None:
    a = analysis("coach_high_plank_oblique")
    assert not a.view.judgeable and a.view.reason
    assert a.result.flags == []
    hold = a.result.hold
    assert hold is not None and hold.duration_s > 10.0
    assert math.isnan(hold.in_tolerance_s) and math.isnan(hold.mean_line_deg)
    assert a.result.extra["fatigue"] is None
    assert np.isnan(a.result.columns["line_in_tolerance"]).all()
    camera = [c for c in a.cues if c.code == "camera"]
    assert camera and "side" in camera[0].text


# --------------------------------------------------------------------------- moved hips


def signed_line(s: np.ndarray, h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Shoulder–hip–ankle bend in degrees from image px (y down): + hip below the line."""
    u, v = s - h, a - h
    cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    bend = 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    line = a - s
    cross = line[..., 0] * (h - s)[..., 1] - line[..., 1] * (h - s)[..., 0]
    # Hip below the line means larger image y than the line at that point: the sign of
    # the cross product flips with the line's direction along x.
    below = np.sign(cross) * np.sign(line[..., 0])
    return np.where(below >= 0, bend, -bend)


def down_normal(s: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Unit normal of the shoulder–ankle line pointing down in the image (y down)."""
    d = (a - s) / np.linalg.norm(a - s, axis=-1, keepdims=True)
    n = np.stack([-d[..., 1], d[..., 0]], -1)
    return np.where(n[..., 1:2] >= 0, n, -n)


def window(t: np.ndarray, t0: float, t1: float, ramp: float = 0.2) -> np.ndarray:
    """0..1 weight: raised-cosine ramps up from t0 and down to t1, 1 in between."""
    w = np.clip(np.minimum(t - t0, t1 - t) / ramp, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * w)


def move_hips(track: PoseTrack, side: str, delta: np.ndarray) -> PoseTrack:
    """Move both hips perpendicular to the `side` shoulder–ankle line so that side's body
    line changes by `delta[i]` degrees in frame i (exactly, on the raw landmarks)."""
    k = 0 if side == "left" else 1
    img = track.image.copy()
    s = img[:, SIDE_PARTS["shoulder"][k], :2].astype(np.float64)
    h = img[:, SIDE_PARTS["hip"][k], :2].astype(np.float64)
    a = img[:, SIDE_PARTS["ankle"][k], :2].astype(np.float64)
    base = signed_line(s, h, a)
    n = down_normal(s, a)
    reach = np.linalg.norm(a - s, axis=-1)
    idx = np.flatnonzero((delta != 0) & np.isfinite(base))
    target = base[idx] + delta[idx]
    lo, hi = -0.45 * reach[idx], 0.45 * reach[idx]
    for _ in range(60):  # bisection: the line angle grows as the hip moves down
        mid = 0.5 * (lo + hi)
        got = signed_line(s[idx], h[idx] + mid[:, None] * n[idx], a[idx])
        lo, hi = np.where(got < target, mid, lo), np.where(got < target, hi, mid)
    shift = (0.5 * (lo + hi))[:, None] * n[idx]
    for lm in SIDE_PARTS["hip"]:
        img[idx, lm, :2] += shift.astype(np.float32)
    return replace(track, image=img)


def expected(
    stem: str, delta: np.ndarray, level: float, sign: float, span: tuple[float, float]
) -> tuple[float, float, float]:
    """(onset, end, peak) of the moved line in `span`, from the unmoved analysis + `delta`."""
    a = analysis(stem)
    t = a.angles.t
    moved = np.where((t >= span[0]) & (t <= span[1]), sign * (a.angles.plank_line + delta), np.nan)
    with np.errstate(invalid="ignore"):
        above = np.flatnonzero(moved >= level)
    return float(t[above[0]]), float(t[above[-1]]), float(np.nanmax(moved))


MOVES = [
    # stem, code, degrees, window (s), severity
    ("forearm_plank_correct", "hip_sag", 24.0, (5.0, 8.0), "mild"),
    ("forearm_plank_correct", "hip_sag", 40.0, (9.0, 10.5), "marked"),
    ("forearm_plank_correct", "hip_pike", -16.0, (3.0, 6.0), "mild"),
    ("forearm_plank_correct", "hip_pike", -28.0, (11.0, 14.0), "marked"),
    ("yogai_high_plank", "hip_sag", 28.0, (24.0, 27.0), "mild"),
    ("yogai_high_plank", "hip_pike", -25.0, (20.0, 22.0), "marked"),
]


def test_move_hips_changes_the_raw_line_by_exactly_the_asked_angle() -> None:
    track = raw("forearm_plank_correct")
    delta = 30.0 * window(track.t, 5.0, 8.0)
    moved = move_hips(track, "left", delta)
    before = compute_angles(track, side="left", facing="left").plank_line
    after = compute_angles(moved, side="left", facing="left").plank_line
    ok = np.isfinite(before)
    np.testing.assert_allclose((after - before)[ok], delta[ok], atol=1e-3)


@pytest.mark.parametrize(("stem", "code", "deg", "span", "severity"), MOVES)
def test_moved_hips_raise_the_right_flag_at_the_right_time_and_angle(
    stem: str, code: str, deg: float, span: tuple[float, float], severity: str
) -> None:
    base = analysis(stem)
    track = raw(stem)
    delta = deg * window(track.t, *span)
    a = analyze_track(move_hips(track, base.angles.side, delta), exercise="plank")
    hold = a.result.hold
    assert hold is not None and base.result.hold is not None
    assert hold.start_s == pytest.approx(base.result.hold.start_s, abs=0.05)
    new = [f for f in a.result.flags if f not in base.result.flags]
    assert [f.code for f in new] == [code], a.result.flags
    flag = new[0]
    sign = 1.0 if code == "hip_sag" else -1.0
    onset, end, peak = expected(stem, delta, flag.threshold, sign, span)
    assert flag.start_s == pytest.approx(onset, abs=0.15)
    assert flag.end_s == pytest.approx(end, abs=0.15)
    assert span[0] <= flag.peak_s <= span[1]
    assert flag.value == pytest.approx(peak, abs=3.0)
    # The line moved by the asked angle, measured after cleaning and filtering.
    assert abs(peak - sign * (np.nanmedian(base.angles.plank_line) + deg)) < 4.0
    assert flag.severity == severity
    assert hold.in_tolerance_s < base.result.hold.in_tolerance_s - 0.5


def drop_head(track: PoseTrack, side: str, facing: str, deg: np.ndarray) -> PoseTrack:
    """Turn the head landmarks about the `side` shoulder by `deg[i]` degrees, in the
    direction that closes the ear–shoulder–hip angle (the head dropping)."""
    k = 0 if side == "left" else 1
    sh = track.image[:, SIDE_PARTS["shoulder"][k], :2].astype(np.float64)
    head = [lm for lm in Landmark if lm <= Landmark.MOUTH_RIGHT]

    def turned(sign: float) -> PoseTrack:
        img = track.image.copy()
        for i in np.flatnonzero(deg != 0):
            r = math.radians(sign * deg[i])
            rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
            for lm in head:
                img[i, lm, :2] = (sh[i] + rot @ (img[i, lm, :2] - sh[i])).astype(np.float32)
        return replace(track, image=img)

    neck = compute_angles(track, side=side, facing=facing).neck  # type: ignore[arg-type]
    plus = turned(1.0)
    after = compute_angles(plus, side=side, facing=facing).neck  # type: ignore[arg-type]
    return plus if np.nanmean(after - neck) < 0 else turned(-1.0)


def test_dropped_head_is_flagged_with_onset_and_angle() -> None:
    stem = "forearm_plank_correct"
    base = analysis(stem)
    track = raw(stem)
    delta = 38.0 * window(track.t, 6.0, 9.0)
    side, facing = base.angles.side, base.angles.facing
    moved = drop_head(track, side, facing, delta)
    # The turn closes the neck angle by exactly the asked amount on the raw landmarks.
    before = compute_angles(track, side=side, facing=facing).neck
    after = compute_angles(moved, side=side, facing=facing).neck
    ok = np.isfinite(before) & np.isfinite(after)
    np.testing.assert_allclose((before - after)[ok], delta[ok], atol=1e-2)
    a = analyze_track(moved, exercise="plank")
    (flag,) = a.result.flags
    assert flag.code == "head_drop"
    bend = 180.0 - (base.angles.neck - delta)
    above = np.flatnonzero(bend >= flag.threshold)
    assert flag.start_s == pytest.approx(base.angles.t[above[0]], abs=0.15)
    assert flag.value == pytest.approx(np.nanmax(bend), abs=3.0)
    assert 6.0 <= flag.peak_s <= 9.0


def test_short_dip_below_min_flag_time_is_not_flagged() -> None:
    stem = "forearm_plank_correct"
    track = raw(stem)
    delta = 40.0 * window(track.t, 5.0, 5.35, ramp=0.1)  # ~0.3 s past the sag level
    a = analyze_track(move_hips(track, analysis(stem).angles.side, delta), exercise="plank")
    assert flags_of(a, "hip_sag") == []


def test_extension_intolerant_profile_tightens_the_sag_threshold_and_tolerance() -> None:
    stem = "forearm_plank_correct"
    track = raw(stem)
    delta = 20.0 * window(track.t, 5.0, 8.0)  # ~+10°: at the standard sag level
    moved = move_hips(track, analysis(stem).angles.side, delta)
    profile = ClientProfile(extension_intolerant=True)
    strict = analyze_track(moved, exercise="plank", profile=profile)
    (sag,) = flags_of(strict, "hip_sag")
    assert sag.threshold == pytest.approx(-5.0 + 15.0 * 0.7)
    assert strict.result.extra["line_tolerance_deg"] == [-20.0, 5.5]


def test_the_line_tolerance_is_scaled_by_the_thresholds_own_profile_table() -> None:
    """A custom table's strictness scales the tolerance band as it scales the flags."""
    table = load_defaults()
    table["profile"]["strict"] = 0.5
    table["profile"]["intolerant"] = 0.4
    profile = ClientProfile(strictness="strict", extension_intolerant=True)
    thresholds = thresholds_for(profile, table)
    settings = PlankSettings.from_thresholds(thresholds, profile)
    assert settings.tolerance_pike_deg == pytest.approx(15.0 * 0.5)
    assert settings.tolerance_sag_deg == pytest.approx(15.0 * 0.5 * 0.4)
    assert thresholds["hip_sag"].mild == pytest.approx(15.0 * 0.5 * 0.4)


def test_late_sag_reads_as_fatigue() -> None:
    stem = "forearm_plank_correct"
    base = analysis(stem)
    track = raw(stem)
    t = track.t
    delta = np.clip((t - 8.0) / 6.0, 0.0, 1.0) * 14.0  # hips sink 14° over the second half
    a = analyze_track(move_hips(track, base.angles.side, delta), exercise="plank")
    fatigue = a.result.extra["fatigue"]
    assert fatigue["degraded"] is True and fatigue["direction"] == "sag"
    hold = a.result.hold
    assert hold is not None
    third = (hold.end_s - hold.start_s) / 3.0
    line = base.angles.plank_line + delta
    early = np.nanmean(line[t <= hold.start_s + third])
    late = np.nanmean(line[(t >= hold.end_s - third) & (t <= hold.end_s)])
    assert fatigue["early_line_deg"] == pytest.approx(early, abs=1.5)
    assert fatigue["late_line_deg"] == pytest.approx(late, abs=1.5)
    assert fatigue["change_deg"] == pytest.approx(late - early, abs=2.0)
    assert flags_of(a, "hip_sag") == []  # a drift to ~+3°, never a sag past +10°


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("stem", PLANKS)
def test_streaming_timer_agrees_with_the_batch_result(stem: str) -> None:
    a = analysis(stem)
    batch = a.result
    assert batch.hold is not None
    settings = PlankSettings.from_thresholds(thresholds_for(), judge_line=a.view.judgeable)
    inputs = PlankInputs.from_track(a.track, a.angles)
    timer = HoldTimer(settings)
    states = [timer.update(inputs.row(i)) for i in range(len(inputs))]
    main = timer.result().main
    assert main is not None
    assert main.hold == batch.hold or _same_hold(main.hold, batch.hold)
    assert main.flags == batch.flags
    # Per frame: the same plank position as the batch column, the live hold clock starts
    # once the position has been held enter_s and reads the time since the batch start.
    position = np.array([s.posture for s in states])
    assert (position == batch.columns["plank_position"].astype(bool)).all()
    t = inputs.t
    live = np.array([s.holding for s in states])
    inside = (t >= batch.hold.start_s + settings.enter_s) & (t <= batch.hold.end_s)
    assert live[inside].all()
    clock = np.array([s.hold_s if s.hold_s is not None else np.nan for s in states])
    np.testing.assert_allclose(clock[inside], t[inside] - batch.hold.start_s, atol=1e-3)
    if a.view.judgeable:
        last = int(np.flatnonzero(t <= batch.hold.end_s)[-1])
        assert states[last].in_tolerance_s == pytest.approx(batch.hold.in_tolerance_s, abs=1e-3)
    # The one-row posture agrees with the vectorised one.
    assert all(row_posture(inputs.row(i)) == position[i] for i in range(0, len(inputs), 7))


def _same_hold(a: Hold, b: Hold) -> bool:
    """Equal holds, NaN equal to NaN (the fields that make a hold's identity)."""
    pairs = [(getattr(a, f.name), getattr(b, f.name)) for f in fields(Hold) if f.compare]
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in pairs)


def test_live_readout_shows_the_sag_while_it_happens() -> None:
    a = analysis("yogai_high_plank")
    settings = PlankSettings.from_thresholds(thresholds_for())
    inputs = PlankInputs.from_track(a.track, a.angles)
    timer = HoldTimer(settings)
    states = {round(inputs.t[i], 2): timer.update(inputs.row(i)) for i in range(len(inputs))}
    during = [s for t, s in states.items() if 17.0 <= t <= 17.5]
    assert during and all("hip_sag" in s.active for s in during)
    assert all(s.in_tolerance is False for s in during)
    before = [s for t, s in states.items() if 14.0 <= t <= 15.5]
    assert before and all(s.active == () and s.in_tolerance for s in before)


def test_title_card_gap_splits_holds_and_the_longest_is_reported() -> None:
    """Blank out 2 s of the forearm plank (as a title card would): two holds."""
    track = raw("forearm_plank_correct")
    gap = (track.t >= 5.0) & (track.t < 7.0)
    img, vis = track.image.copy(), track.visibility.copy()
    img[gap] = np.nan
    vis[gap] = np.nan
    a = analyze_track(replace(track, image=img, visibility=vis), exercise="plank")
    hold = a.result.hold
    assert hold is not None
    assert hold.start_s == pytest.approx(7.0, abs=0.3)
    assert hold.end_s == pytest.approx(16.2, abs=0.3)
    holds = a.result.extra["holds"]
    assert len(holds) == 2 and holds[0]["end_s"] == pytest.approx(5.0, abs=0.3)


def test_posture_rejects_kneeling_lying_and_standing() -> None:
    # line, near knee, far knee, hip height, arm support
    plank = plank_posture(-10.0, 178.0, np.nan, 0.2, 0.9)
    kneeling = plank_posture(-10.0, 95.0, np.nan, 0.3, 1.8)
    far_knee_down = plank_posture(-15.0, 175.0, 100.0, 0.4, 1.8)
    lying = plank_posture(2.0, 180.0, 180.0, 0.05, 0.1)
    standing = plank_posture(np.nan, 180.0, 180.0, 1.0, 2.0)
    downdog = plank_posture(-70.0, 175.0, 175.0, 1.0, 1.8)
    assert plank and not (kneeling or far_knee_down or lying or standing or downdog)


def test_extension_intolerant_client_gets_the_ribs_down_sag_cue() -> None:
    a = analyze_track(
        raw("yogai_high_plank"),
        exercise="plank",
        profile=ClientProfile(extension_intolerant=True),
    )
    sag = [c for c in a.cues if c.code == "hip_sag"]
    assert sag and sag[0].text.startswith("Ribs down")
    assert a.cues[0].code == "praise"  # what went well comes first


def test_plank_forced_on_a_hinge_finds_no_hold_and_says_how_to_film_one() -> None:
    a = analyze_track(raw("posereader_good"), exercise="plank")
    assert a.result.hold is None and a.result.flags == []
    assert not a.result.columns["in_hold"].any()
    assert [c.code for c in a.cues] == ["praise"]
    assert "hold it still" in a.cues[0].text


def test_oblique_plank_report_round_trips_with_null_line_values_and_a_clean_summary() -> None:
    from backcheck.summary import summary_text
    from metrics.analysis import build_report
    from metrics.report import ModelInfo, Report, SourceInfo, validate_report_dict

    a = analysis("coach_high_plank_oblique")
    src = SourceInfo("coach_high_plank_oblique.mp4", 13.9, 416, 30.0, False, 360, 640, 0, "h264")
    d = build_report(a, src, ModelInfo("pose_landmarker_full", "0" * 64)).to_dict()
    assert validate_report_dict(d) == []
    assert d["hold"]["in_tolerance_s"] is None and d["hold"]["mean_line_deg"] is None
    assert d["exercise_reason"] == "chosen by the user" and d["fatigue"] is None
    text = summary_text(Report.from_dict(d))
    assert "Hold 12.4 s" in text and "nan" not in text


def test_live_path_with_its_one_euro_filter_agrees_with_the_upload_path() -> None:
    """metrics.live runs the same HoldTimer on causally smoothed landmarks."""
    from metrics.live import LiveAnalyzer, PoseSample

    track = raw("yogai_high_plank")
    batch = analysis("yogai_high_plank").result
    assert batch.hold is not None
    live = LiveAnalyzer("plank")
    starts: list[float] = []
    flags: tuple[Flag, ...] = ()
    # From the tabletop (5 s) to after the sag (19 s), to keep the test short.
    for i in np.flatnonzero((track.t >= 5.0) & (track.t <= 19.0)):
        ok = bool(track.found[i])
        state = live.update(
            PoseSample(
                t=float(track.t[i]),
                image=track.image[i] if ok else None,
                world=track.world[i] if ok else None,
                visibility=track.visibility[i] if ok else None,
            )
        )
        if state.hold_s is not None:
            starts.append(state.t - state.hold_s)
        flags = state.flags
    assert starts and starts[0] == pytest.approx(batch.hold.start_s, abs=0.2)
    (sag,) = [f for f in flags if f.code == "hip_sag"]  # closed by 19 s
    (want,) = batch.flags
    assert sag.start_s == pytest.approx(want.start_s, abs=0.2)
    assert sag.end_s == pytest.approx(want.end_s, abs=0.2)
    assert sag.value == pytest.approx(want.value, abs=3.0)


def _rows(spec: list[tuple[float, bool, float]], fps: float = 30.0) -> list[PlankRow]:
    """Rows from (seconds, in plank position, body line) pieces, one after another."""
    rows, t = [], 0.0
    for seconds, plank, line in spec:
        for _ in range(int(round(seconds * fps))):
            knee = 178.0 if plank else 95.0
            rows.append(PlankRow(t, line, knee, math.nan, 190.0, 0.3, 1.8))
            t += 1.0 / fps
    return rows


def _run(rows: list[PlankRow]) -> list[Hold]:
    timer = HoldTimer(PlankSettings.from_thresholds(thresholds_for()))
    for r in rows:
        timer.update(r)
    return sorted((h.hold for h in timer.result().holds), key=lambda h: h.start_s)


def test_timer_needs_a_second_in_position_and_dates_the_start_back() -> None:
    assert _run(_rows([(2.0, False, -10.0), (0.9, True, -10.0), (2.0, False, -10.0)])) == []
    (hold,) = _run(_rows([(2.0, False, -10.0), (1.2, True, -10.0), (2.0, False, -10.0)]))
    assert hold.start_s == pytest.approx(2.0, abs=0.02)
    assert hold.duration_s == pytest.approx(1.2 - 1 / 30, abs=0.02)


def test_timer_rides_out_breaks_up_to_exit_s_and_splits_on_longer_ones() -> None:
    (one,) = _run(_rows([(5.0, True, -10.0), (0.4, False, -10.0), (5.0, True, -10.0)]))
    assert one.start_s == 0.0 and one.duration_s == pytest.approx(10.4 - 1 / 30, abs=0.02)
    assert one.in_tolerance_s == pytest.approx(one.duration_s, abs=0.02)
    first, second = _run(_rows([(5.0, True, -10.0), (0.7, False, -10.0), (6.0, True, -10.0)]))
    assert first.end_s == pytest.approx(5.0 - 1 / 30, abs=0.02)
    assert second.start_s == pytest.approx(5.7, abs=0.02)


def test_time_in_tolerance_counts_only_frames_inside_the_band() -> None:
    # 4 s straight, 2 s at +14° (sag side, out of the -20..+10 band), 4 s straight.
    (hold,) = _run(_rows([(4.0, True, -8.0), (2.0, True, 14.0), (4.0, True, -8.0)]))
    assert hold.duration_s - hold.in_tolerance_s == pytest.approx(2.0, abs=0.05)
    assert hold.worst_line_deg == 14.0
    assert hold.mean_line_deg == pytest.approx((8 * -8.0 + 2 * 14.0) / 10, abs=0.1)
