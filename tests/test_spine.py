"""Back shape: exact angles on constructed outlines, the neutral, and real rounded backs;
the back fold and head fold on tracks with the neck stations, `curve` on older ones."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import analyze_track
from metrics.angles import compute_angles
from metrics.clean import clean_track
from metrics.reps import far_hip, segment_reps
from metrics.spine import (
    DEFAULT_PARAMS,
    MEASURE_CURVE,
    MEASURE_FOLDS,
    NEUTRAL_BACK_KEY,
    NEUTRAL_CURVE_KEY,
    NEUTRAL_HEAD_KEY,
    NEUTRAL_TRUNK_KEY,
    SpineShape,
    calibrate_neutral,
    fold_angles,
    outline_angles,
    running_median,
    spine_shape,
)
from metrics.track import BACK_STATIONS, PoseTrack
from metrics.view import classify_view
from tests.hingefigure import Phase, hinge_set, rep_phases

TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "hinge"


def _unit(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])


def _outline(
    low_deg: float, up_deg: float, head_deg: float, scale: float = 100.0, ear_from: int = 8
):
    """Body-frame outline over all `BACK_STATIONS`: stations 0–5 along `low_deg`, the rest
    along `up_deg`, the ear from station `ear_from` along `head_deg`."""
    pts = np.zeros((len(BACK_STATIONS), 2))
    step = scale / 10.0
    for k in range(1, len(BACK_STATIONS)):
        pts[k] = pts[k - 1] + step * _unit(low_deg if k <= 5 else up_deg)
    ear = pts[ear_from] + 0.4 * scale * _unit(head_deg)
    return pts[None], ear[None]


@pytest.mark.parametrize("trunk_dir", [90.0, 30.0, 0.0, -20.0])
@pytest.mark.parametrize("scale", [40.0, 400.0])
def test_curve_and_bend_are_exact_and_invariant(trunk_dir: float, scale: float) -> None:
    # The lower back points along trunk_dir; the upper back turns 12 deg toward the chest
    # (clockwise), the head another 20 deg: bend 12, curve 32, at any inclination and size.
    contour, ear = _outline(trunk_dir, trunk_dir - 12.0, trunk_dir - 32.0, scale)
    curve, bend = outline_angles(contour, ear)
    assert bend[0] == pytest.approx(12.0, abs=1e-6)
    assert curve[0] == pytest.approx(32.0, abs=1e-6)


def test_an_arch_is_negative_and_missing_points_give_nan() -> None:
    contour, ear = _outline(40.0, 55.0, 60.0)
    curve, bend = outline_angles(contour, ear)
    assert bend[0] == pytest.approx(-15.0, abs=1e-6)
    assert curve[0] == pytest.approx(-20.0, abs=1e-6)
    holes = contour.copy()
    holes[0, 1:4] = np.nan  # only 2 lower-back stations left
    curve, bend = outline_angles(holes, ear)
    assert np.isnan(curve[0]) and np.isnan(bend[0])
    no_ear = np.full_like(ear, np.nan)
    curve, bend = outline_angles(contour, no_ear)
    assert np.isnan(curve[0]) and bend[0] == pytest.approx(-15.0, abs=1e-6)


def test_running_median_drops_a_flicker_and_keeps_gaps() -> None:
    t = np.arange(30) / 30.0
    x = np.full(30, 5.0)
    x[10] = 60.0  # one frame of mask flicker
    x[20:23] = np.nan
    y = running_median(x, t, 0.3)
    assert np.nanmax(y) == pytest.approx(5.0)
    assert np.isnan(y[20:23]).all() and np.isfinite(y[:20]).all()


def test_running_median_min_samples_drops_a_two_frame_glitch_at_15_fps() -> None:
    t = np.arange(15) / 15.0
    x = np.linspace(60.0, 0.0, 15)  # a fast lockout
    x[9:11] = [91.0, 118.0]  # two frames of a misread trunk
    narrow = running_median(x, t, 0.2)  # 3 samples at 15 fps: the glitch survives
    wide = running_median(x, t, 0.2, min_samples=5)
    assert np.max(narrow[8:12]) > 90.0
    assert np.max(wide[8:12]) < 40.0  # no more than the lockout read 0.3 s earlier


def _shape(track: PoseTrack, neutral: dict[str, float] | None = None):
    cleaned = clean_track(track)
    view = classify_view(cleaned)
    angles = compute_angles(cleaned, facing=view.facing)
    return cleaned, angles, spine_shape(cleaned, angles, neutral=neutral)


@pytest.mark.parametrize("facing", ["right", "left"])
def test_flexion_is_the_fold_relative_to_the_standing_neutral(facing: str) -> None:
    track = hinge_set(rep_phases(2), facing=facing, fold_deg=18.0)  # type: ignore[arg-type]
    _, angles, shape = _shape(track)
    assert shape.neutral_source == "standing"
    stand = angles.trunk < 5.0
    bottom = angles.trunk > 55.0
    assert np.nanmedian(shape.flexion_deg[stand]) == pytest.approx(0.0, abs=0.5)
    assert np.nanmedian(shape.flexion_deg[bottom]) == pytest.approx(18.0, abs=0.5)
    # a flat back keeps its shape all the way down
    _, angles, flat = _shape(hinge_set(rep_phases(2), facing=facing))  # type: ignore[arg-type]
    assert np.nanmax(np.abs(flat.flexion_deg)) < 1.0


def test_where_the_neutral_comes_from() -> None:
    track = hinge_set(rep_phases(1), fold_deg=18.0)
    _, _, own = _shape(track)
    # the profile's saved neutral wins: 6 deg lower, so every flexion reads 6 deg more
    _, _, saved = _shape(track, {NEUTRAL_CURVE_KEY: own.neutral_deg - 6.0})
    assert saved.neutral_source == "profile"
    np.testing.assert_allclose(saved.flexion_deg, own.flexion_deg + 6.0, atol=1e-9)
    # no standing frames (a clip that starts and ends bent over): the default
    bent = hinge_set([Phase("bottom", 2.0)], fold_deg=18.0)
    _, _, default = _shape(bent)
    assert default.neutral_source == "default"
    assert default.neutral_deg == DEFAULT_PARAMS.default_neutral_deg


def test_a_slumped_standing_posture_is_not_taken_as_neutral() -> None:
    # Folded even when standing: the standing value is held within the band of the default.
    track = hinge_set(rep_phases(1), fold_deg=30.0, fold_from_depth=-1.0)
    _, _, shape = _shape(track)
    limit = DEFAULT_PARAMS.default_neutral_deg + DEFAULT_PARAMS.neutral_band_deg
    assert shape.neutral_source == "standing"
    assert shape.neutral_deg == pytest.approx(limit)


def test_lean_back_is_read_from_the_trunk() -> None:
    track = hinge_set(rep_phases(1), lean_back_deg=24.0)
    _, angles, shape = _shape(track)
    assert np.nanmax(shape.lean_back_deg) == pytest.approx(24.0, abs=1.0)
    # measured from the lifter's own upright when the profile has it
    _, _, own = _shape(track, {NEUTRAL_TRUNK_KEY: -5.0})
    assert np.nanmax(own.lean_back_deg) == pytest.approx(19.0, abs=1.0)


def test_calibrate_neutral_from_a_standing_clip() -> None:
    track = hinge_set([Phase("top", 2.0)])
    cleaned, angles, shape = _shape(track)
    neutral = calibrate_neutral(cleaned, angles)
    assert neutral[NEUTRAL_CURVE_KEY] == pytest.approx(shape.neutral_deg, abs=0.1)
    assert neutral[NEUTRAL_TRUNK_KEY] == pytest.approx(0.0, abs=0.5)
    bent = hinge_set([Phase("bottom", 2.0)])
    c2 = clean_track(bent)
    assert calibrate_neutral(c2, compute_angles(c2)) == {}


# --- real backs --------------------------------------------------------------------------


def _rep_flexion(stem: str) -> list[float]:
    """Per rep: 80th percentile of flexion over the rep's bent-over frames."""
    track = PoseTrack.load(TRACKS / f"{stem}.npz")
    cleaned, angles, shape = _shape(track)
    out = []
    for rep in segment_reps(angles, hip_far=far_hip(cleaned, angles)):
        lo = rep.start_i if rep.from_top else rep.bottom_i - 15
        window = slice(max(lo, 0), rep.end_i + 1)
        bent = angles.trunk[window] >= 40.0
        values = shape.flexion_deg[window][bent]
        out.append(float(np.nanpercentile(values, 80)))
    return out


def test_real_rounded_backs_read_far_past_flat_ones() -> None:
    # posereader_bad: humped back and hanging head; posereader_good: flat, head up.
    (bad,) = _rep_flexion("posereader_bad")
    (good,) = _rep_flexion("posereader_good")
    assert bad == pytest.approx(48.0, abs=6.0)
    assert good < -10.0
    # 0016r_1 (rounded at every bottom) against 0016c_1 (same room, flat back)
    rounded = _rep_flexion("0016r_1")
    flat = _rep_flexion("0016c_1")
    assert min(rounded) > 10.0
    assert max(flat) < 6.0
    assert min(rounded) - max(flat) > 8.0


# --- the back fold and head fold (tracks with the neck stations) -------------------------


def _neck_outline(low_deg: float, up_deg: float, head_deg: float, scale: float = 100.0):
    """`_outline` with the ear drawn from the outline at the shoulder (station 1.0)."""
    return _outline(low_deg, up_deg, head_deg, scale, ear_from=DEFAULT_PARAMS.head_station)


@pytest.mark.parametrize("trunk_dir", [90.0, 30.0, 0.0, -20.0])
@pytest.mark.parametrize("scale", [40.0, 400.0])
def test_back_fold_and_head_fold_are_exact_and_invariant(trunk_dir: float, scale: float) -> None:
    # The upper back turns 14 deg toward the chest past the lower back, the head another
    # 20 deg past the upper back: at any inclination and size.
    contour, ear = _neck_outline(trunk_dir, trunk_dir - 14.0, trunk_dir - 34.0, scale)
    back, head = fold_angles(contour, ear)
    assert back[0] == pytest.approx(14.0, abs=1e-6)
    assert head[0] == pytest.approx(20.0, abs=1e-6)
    # a hollow and a lifted head are negative; missing neck stations shorten the upper line
    contour, ear = _neck_outline(40.0, 50.0, 80.0)
    back, head = fold_angles(contour, ear)
    assert back[0] == pytest.approx(-10.0, abs=1e-6)
    assert head[0] == pytest.approx(-30.0, abs=1e-6)
    holes = contour.copy()
    holes[0, 11:] = np.nan
    back, _ = fold_angles(holes, ear)
    assert back[0] == pytest.approx(-10.0, abs=1e-6)


def _bottom_flexion(**kw) -> tuple[float, SpineShape]:
    track = hinge_set(rep_phases(2), **kw)
    _, angles, shape = _shape(track)
    bottom = angles.trunk > 55.0
    return float(np.nanmedian(shape.flexion_deg[bottom])), shape


@pytest.mark.parametrize("facing", ["right", "left"])
def test_a_lifted_head_cannot_cancel_a_humped_back(facing: str) -> None:
    # A hump of 10% of the hip–shoulder length from the hips to the neck (the parabola
    # turns the lower back line and the upper back line ~27 deg apart) at every bottom.
    level, shape = _bottom_flexion(facing=facing, neck=True, hump=0.1)
    assert shape.measure == MEASURE_FOLDS
    assert shape.flexion_source == "standing"
    assert level == pytest.approx(26.9, abs=1.0)
    # the head lifted 25 deg to look ahead: the same flexion, flagged all the same
    lifted, _ = _bottom_flexion(facing=facing, neck=True, hump=0.1, fold_deg=-25.0)
    assert lifted == pytest.approx(level, abs=0.5)
    assert lifted > 20.0
    # a flat back with the head lifted reads nothing; folded toward the chest, its fold
    flat_up, _ = _bottom_flexion(facing=facing, neck=True, fold_deg=-25.0)
    assert flat_up == pytest.approx(0.0, abs=0.5)
    flat_down, _ = _bottom_flexion(facing=facing, neck=True, fold_deg=15.0)
    assert flat_down == pytest.approx(15.0, abs=0.5)


def test_the_fold_neutrals_and_where_they_come_from() -> None:
    # a clip's own standing frames
    _, own = _bottom_flexion(neck=True, hump=0.1)
    assert own.back_neutral_deg == pytest.approx(0.0, abs=0.5)
    lo, hi = DEFAULT_PARAMS.head_neutral_range
    assert own.head_neutral_deg is not None and lo <= own.head_neutral_deg <= hi
    # the profile's saved values win: a back neutral 6 deg lower reads 6 deg more
    track = hinge_set(rep_phases(2), neck=True, hump=0.1)
    neutral = {NEUTRAL_BACK_KEY: -6.0, NEUTRAL_HEAD_KEY: own.head_neutral_deg}
    _, _, saved = _shape(track, neutral)
    assert saved.flexion_source == "profile"
    np.testing.assert_allclose(saved.flexion_deg, own.flexion_deg + 6.0, atol=1e-9)
    # humped even when standing: the standing back fold is held at the range's top
    slumped = hinge_set(rep_phases(2), neck=True, hump=0.1, fold_from_depth=-1.0)
    _, _, held = _shape(slumped)
    assert held.back_neutral_deg == pytest.approx(DEFAULT_PARAMS.back_neutral_range[1])
    # no standing frames: the range's top, the benefit of the doubt
    bent = hinge_set([Phase("bottom", 2.0)], neck=True, hump=0.1)
    _, _, default = _shape(bent)
    assert default.flexion_source == "default"
    assert default.back_neutral_deg == DEFAULT_PARAMS.back_neutral_range[1]
    assert default.head_neutral_deg == DEFAULT_PARAMS.head_neutral_range[1]


def test_calibrate_neutral_gives_the_folds_on_a_track_with_the_neck() -> None:
    track = hinge_set([Phase("top", 2.0)], neck=True)
    cleaned, angles, shape = _shape(track)
    neutral = calibrate_neutral(cleaned, angles)
    assert neutral[NEUTRAL_BACK_KEY] == pytest.approx(0.0, abs=0.1)
    assert neutral[NEUTRAL_HEAD_KEY] == pytest.approx(shape.head_neutral_deg, abs=0.1)
    assert NEUTRAL_CURVE_KEY in neutral


def test_tracks_without_the_neck_stations_read_the_curve_as_before() -> None:
    track = hinge_set(rep_phases(2), fold_deg=18.0)  # hip … shoulder only
    _, _, shape = _shape(track)
    assert shape.measure == MEASURE_CURVE
    assert shape.back_fold_deg is None and shape.head_fold_deg is None
    np.testing.assert_allclose(shape.flexion_deg, shape.curve_deg - shape.neutral_deg)


NECK_TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "neck"


def _rep_values(stem: str) -> list[float]:
    """Per rep, the reported flexion of the analysis (tracks made with the neck stations)."""
    a = analyze_track(PoseTrack.load(NECK_TRACKS / f"{stem}.npz"), exercise="hinge")
    assert a.result.extra["spine"]["measure"] == MEASURE_FOLDS
    values = [r.metrics["spine_flexion_deg"] for r in a.result.reps]
    assert all(v is not None for v in values)
    return [float(v) for v in values if v is not None]


def test_real_humped_backs_read_as_flexion_and_flat_ones_do_not() -> None:
    # 0016r_1: humped from hips to neck at every bottom, head hanging; 0016c_1 the same
    # room with a flat back; posereader_bad rounded with no standing frames; yfgd_bad_02
    # a mild thoracic round and yfgd_bad_05 a flat back, both in loose shirts with the
    # head lifted and no standing frames (docs/spine.md has the whole table).
    rounded = _rep_values("0016r_1")
    flat = _rep_values("0016c_1")
    assert len(rounded) == len(flat) == 10
    assert min(rounded) > 11.0
    assert max(flat) < 3.0
    (bad,) = _rep_values("posereader_bad")
    assert bad == pytest.approx(21.0, abs=4.0)
    (mild,) = _rep_values("yfgd_bad_02")
    (loose,) = _rep_values("yfgd_bad_05")
    assert mild > 10.0  # flagged, mild, as labelled
    assert loose < 3.0


def test_where_the_back_bends_on_tracks_with_the_neck() -> None:
    # the head folds toward the chest over a flat back: upper back/neck
    head = analyze_track(hinge_set(rep_phases(2), neck=True, fold_deg=25.0), exercise="hinge")
    assert [r.flexion_region for r in head.result.reps] == ["upper back/neck"] * 2
    # the outline humps from the hips to the neck, the head lifted: whole back
    back = analyze_track(
        hinge_set(rep_phases(2), neck=True, hump=0.15, fold_deg=-20.0), exercise="hinge"
    )
    assert [r.flexion_region for r in back.result.reps] == ["whole back"] * 2
    # 0016r_1: the hump sits between the shoulder blades and the neck with the head
    # hanging; most reps read upper back/neck
    real = analyze_track(PoseTrack.load(NECK_TRACKS / "0016r_1.npz"), exercise="hinge")
    regions = [r.flexion_region for r in real.result.reps]
    assert regions.count("upper back/neck") >= 7
    assert "low back" not in regions


def test_still_standing_frames_survive_landmark_jitter() -> None:
    """A lifter standing still whose trunk reads 3° of noise frame to frame (a small,
    strongly compressed lifter: tens of deg/s of apparent turning at 15 fps) still gives standing
    frames for the neutral; a real swing through upright at 150 deg/s does not."""
    from metrics.angles import Angles
    from metrics.spine import DEFAULT_PARAMS, _still_standing

    n = 30
    t = np.arange(n) / 15.0
    jitter = np.random.default_rng(1).normal(0.0, 3.0, n)
    swing = 150.0 * (t - t.mean())
    hip = np.full(n, 175.0)

    def angles(trunk: np.ndarray) -> Angles:
        z = np.zeros(n)
        return Angles(t, trunk, hip, z + 175.0, z, z, z, z, "left", "left")

    assert _still_standing(angles(jitter), DEFAULT_PARAMS).sum() >= n - 4
    assert not _still_standing(angles(swing), DEFAULT_PARAMS)[np.abs(swing) < 20].any()


@pytest.mark.parametrize(
    ("standing", "neutral", "source"),
    [(-5.0, -5.0, "standing"), (20.0, 20.0, "standing"), (-13.0, 24.0, "default"),
     (30.0, 24.0, "default")],
)  # fmt: skip
def test_a_standing_fold_outside_the_flat_range_is_not_the_neutral(
    standing: float, neutral: float, source: str
) -> None:
    """yfgd_good_01 at 854×480: the lockout's smeared outline read a standing back fold of
    −13°; held at the range's bottom (−8°) it made the flat pull read 24° of flexion. A
    reading outside what flat-backed lifters stand at is treated as unseen (the top)."""
    from metrics.spine import DEFAULT_PARAMS, _fold_neutral

    n = 15
    t = np.arange(n) / 15.0
    fold = np.full(n, standing) + np.random.default_rng(2).normal(0.0, 0.5, n)
    got, src = _fold_neutral(
        fold, np.ones(n, bool), t, {}, "spine_back_fold_deg", DEFAULT_PARAMS.back_neutral_range,
        DEFAULT_PARAMS,
    )  # fmt: skip
    assert src == source
    assert got == pytest.approx(neutral, abs=0.6)
