"""Hinge rules end to end on tracks: flags, values, severities, the profile, abstention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import TrackAnalysis, analyze_track, build_report
from metrics.hinge import LOCKOUT_ARRIVAL_UNSEEN
from metrics.profile import ClientProfile
from metrics.report import Flag, ModelInfo, SourceInfo, validate_report_dict
from metrics.track import PoseTrack
from tests.hingefigure import SQUAT, hinge_set, rep_phases

TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "hinge"


def _run(track: PoseTrack, profile: ClientProfile | None = None) -> TrackAnalysis:
    return analyze_track(track, exercise="hinge", profile=profile)


def _flags(a: TrackAnalysis, code: str) -> list[Flag]:
    return [f for f in a.result.flags if f.code == code]


def test_a_flat_back_set_has_reps_and_no_flags() -> None:
    a = _run(hinge_set(rep_phases(3), noise_px=1.0))
    assert len(a.result.reps) == 3
    assert a.result.flags == []
    m = a.result.reps[0].metrics
    assert m["trunk_max_deg"] == pytest.approx(60.0, abs=2.0)
    assert m["hip_min_deg"] == pytest.approx(70.0, abs=2.0)
    assert m["knee_min_deg"] == pytest.approx(140.0, abs=2.0)
    assert m["spine_flexion_deg"] == pytest.approx(0.0, abs=1.5)
    assert m["spine_extension_deg"] == pytest.approx(0.0, abs=1.0)
    # phases: 1.0 s down, 0.3 s hold, 0.8 s up; the counter's start and lockout are the
    # edges of the standing zone, a little inside those
    assert m["descent_s"] == pytest.approx(1.07, abs=0.15)
    assert m["ascent_s"] == pytest.approx(0.37, abs=0.15)
    assert m["hips_rise_deg"] == pytest.approx(0.0, abs=1.0)
    assert m["thigh_share_pct"] == pytest.approx(100 * (110 - 60) / 110, abs=3.0)
    praise = a.cues[0]
    assert praise.code == "praise" and len(a.cues) == 1


@pytest.mark.parametrize(("fold", "severity"), [(14.0, "mild"), (26.0, "marked")])
def test_a_rounded_back_is_flagged_on_every_rep(fold: float, severity: str) -> None:
    a = _run(hinge_set(rep_phases(3), fold_deg=fold))
    flags = _flags(a, "spine_flexion")
    assert [f.rep for f in flags] == [1, 2, 3]
    for f, rep in zip(flags, a.result.reps, strict=True):
        assert f.severity == severity
        assert f.value == pytest.approx(fold, abs=0.5)
        assert f.threshold == 10.0 and f.unit == "deg"
        assert rep.start_s <= f.start_s <= f.peak_s <= f.end_s <= rep.end_s
        assert "spine_flexion" in rep.flags
    cue = next(c for c in a.cues if c.code == "spine_flexion")
    assert "every rep" in cue.text and cue.priority == 1
    assert a.result.columns["spine_flexion_deg"].shape == (len(a.angles),)


def test_the_profile_tightens_the_flexion_threshold() -> None:
    track = hinge_set(rep_phases(2), fold_deg=8.0)
    assert _flags(_run(track), "spine_flexion") == []
    # flexion-intolerant: 10 × 0.7 = 7 deg
    tight = _flags(_run(track, ClientProfile(flexion_intolerant=True)), "spine_flexion")
    assert [f.severity for f in tight] == ["mild", "mild"]
    assert tight[0].threshold == pytest.approx(7.0)
    # extension-intolerant tightens the other direction only
    assert _flags(_run(track, ClientProfile(extension_intolerant=True)), "spine_flexion") == []
    # strict: 10 × 0.8 = 8
    assert len(_flags(_run(track, ClientProfile(strictness="strict")), "spine_flexion")) == 2


def test_a_saved_neutral_moves_the_judgement() -> None:
    track = hinge_set(rep_phases(1), fold_deg=6.0)
    own = _run(track).result.extra["spine"]["neutral_deg"]
    # the client's calibrated neutral is 5 deg flatter than what this clip stands at
    profile = ClientProfile(neutral={"spine_curve_deg": own - 5.0})
    a = _run(track, profile)
    assert a.result.extra["spine"]["neutral_source"] == "profile"
    (f,) = _flags(a, "spine_flexion")
    assert f.value == pytest.approx(11.0, abs=0.5)


def test_leaning_back_at_lockout_is_extension() -> None:
    a = _run(hinge_set(rep_phases(2), lean_back_deg=25.0))
    flags = _flags(a, "spine_extension")
    assert [(f.rep, f.severity) for f in flags] == [(1, "marked"), (2, "marked")]
    for f, rep in zip(flags, a.result.reps, strict=True):
        assert f.value == pytest.approx(25.0, abs=1.5)
        assert f.peak_s >= rep.end_s  # at lockout, after the rep's top is reached
    assert _flags(a, "spine_flexion") == []


def test_a_squatted_hinge_is_knee_dominant() -> None:
    a = _run(hinge_set(rep_phases(3), pose=SQUAT))
    flags = _flags(a, "knee_dominant")
    assert [f.rep for f in flags] == [1, 2, 3]
    # trunk 20 of a 95 deg hip bend: the thighs make 79% of it
    assert flags[0].value == pytest.approx(100 * 75 / 95, abs=2.0)
    assert flags[0].unit == "%" and flags[0].severity == "mild"


def test_hips_rising_ahead_of_the_chest() -> None:
    a = _run(hinge_set(rep_phases(3), rise_tip_deg=22.0))
    flags = _flags(a, "hips_rise_early")
    assert [f.rep for f in flags] == [1, 2, 3]
    for f, rep in zip(flags, a.result.reps, strict=True):
        assert f.value == pytest.approx(20.0, abs=4.0)
        assert rep.bottom_s - 0.5 <= f.start_s <= f.peak_s <= f.end_s <= rep.end_s
    assert _flags(_run(hinge_set(rep_phases(3))), "hips_rise_early") == []


def test_no_form_flags_from_the_front_but_reps_are_counted() -> None:
    track = hinge_set(rep_phases(3), fold_deg=30.0, lean_back_deg=25.0, yaw_deg=75.0)
    a = _run(track)
    assert not a.view.judgeable and a.view.reason
    assert a.result.flags == []
    assert all(r.metrics["spine_flexion_deg"] is None for r in a.result.reps)
    assert np.isnan(a.result.columns["spine_flexion_deg"]).all()
    assert a.result.extra["spine"]["judged"] is False
    assert [c.code for c in a.cues] == ["praise", "camera"]


def test_report_with_hinge_results_validates() -> None:
    a = _run(hinge_set(rep_phases(2), fold_deg=25.0))
    src = SourceInfo("x.mp4", 6.0, 180, 30.0, False, 1600, 1600, 0, "h264")
    report = build_report(a, src, ModelInfo("pose_landmarker_full", "0" * 64))
    d = report.to_dict()
    assert validate_report_dict(d) == []
    assert d["spine"]["neutral_source"] == "standing"
    assert d["reps"][0]["metrics"]["spine_flexion_deg"] == pytest.approx(25.0, abs=0.5)
    cols = a.columns()
    for name in ("rep", "phase", "spine_flexion_deg", "spine_curve_deg", "lean_back_deg"):
        assert cols[name].shape == (len(a.angles),)


# --- saved real tracks -------------------------------------------------------------------


def _real(stem: str) -> TrackAnalysis:
    return analyze_track(PoseTrack.load(TRACKS / f"{stem}.npz"))


def _by_code(a: TrackAnalysis) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for f in a.result.flags:
        out.setdefault(f.code, []).append(f.rep)
    return out


# stem → flags per rep as labelled in clips.csv (the saved cuts hold the first reps)
EXPECTED: dict[str, dict[str, list[int | None]]] = {
    "0016c_1": {},
    "0016r_1": {"spine_flexion": [1, 2, 3]},
    "0016h_1": {"hips_rise_early": [2, 3]},  # labelled on reps 2-10
    "0016k_1": {"knee_dominant": [1, 2, 3]},
    "posereader_good": {},
    "posereader_bad": {"spine_flexion": [1]},
    "yfgd_good_02": {"spine_extension": [1]},
    "0016c_2": {},  # oblique: abstains
    "deadlift_front_view": {},  # front: abstains
    "yfgd_bad_05": {},  # rises out of the top of the frame: lockout not seen
}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_flags_on_saved_real_tracks(stem: str) -> None:
    a = _real(stem)
    assert a.exercise == "hinge"
    assert _by_code(a) == EXPECTED[stem]


def test_real_values_and_severities() -> None:
    (bad,) = _real("posereader_bad").result.flags
    assert (bad.severity, bad.value) == ("marked", pytest.approx(48.0, abs=6.0))
    ext = _flags(_real("yfgd_good_02"), "spine_extension")[0]
    assert ext.value == pytest.approx(21.0, abs=3.0)  # leans back ~21 deg past vertical
    hips = _flags(_real("0016h_1"), "hips_rise_early")
    assert [f.value for f in hips] == pytest.approx([18.8, 20.7], abs=3.0)
    knees = _flags(_real("0016k_1"), "knee_dominant")
    assert all(74.0 <= f.value <= 82.0 for f in knees)


@pytest.mark.parametrize("stem", ["0016c_2", "deadlift_front_view"])
def test_abstentions_keep_a_reason_a_coach_can_act_on(stem: str) -> None:
    a = _real(stem)
    assert not a.view.judgeable
    assert a.view.reason and ("side" in a.view.reason or "frame" in a.view.reason)
    assert a.result.extra["spine"]["judged"] is False


# --- cues (../shared/docs/coaching.md: praise first, one or two cues, say when) ---------


def test_praise_never_claims_a_steady_back_that_rounded() -> None:
    a = _run(hinge_set(rep_phases(4), fold_deg=25.0))
    praise, cue = a.cues
    assert praise.code == "praise" and "back" not in praise.text
    assert cue.code == "spine_flexion" and "on every rep, at the bottom" in cue.text
    assert "If it keeps showing up, try:" in cue.text  # the trainable menu


def test_a_squatted_set_praises_the_back_and_names_the_reps() -> None:
    a = _run(hinge_set(rep_phases(4), pose=SQUAT))
    praise, cue = a.cues
    assert praise.text == "Good work: your back held its shape on every rep."
    assert cue.code == "knee_dominant" and "Hips back" in cue.text


def test_rep_ranges_read_naturally() -> None:
    from metrics.cues import _join

    assert _join([2, 3, 4, 5, 6, 7, 8, 9, 10]) == "2 to 10"
    assert _join([1, 2, 4, 6, 7, 8]) == "1, 2, 4 and 6 to 8"
    assert _join([3]) == "3"
    assert _join([1, 3]) == "1 and 3"


# Tracks of the same clips from the pose pass on 640 px frames (the current pipeline):
# the setup is lost more often and a fast pull can glitch for a frame or two.
POSE640 = TRACKS / "pose640"


def test_a_landmark_glitch_on_a_fast_pull_is_not_hips_rising_early() -> None:
    # yfgd_good_02: a flat, fast pull; at 1.67 s the trunk reads 83 deg for a frame.
    a = analyze_track(PoseTrack.load(POSE640 / "yfgd_good_02.npz"))
    (rep,) = a.result.reps
    assert rep.metrics["hips_rise_deg"] is not None and rep.metrics["hips_rise_deg"] < 5.0
    assert _by_code(a) == {"spine_extension": [1]}


def test_a_lifter_first_found_at_the_end_of_the_setup_still_has_the_rep() -> None:
    # yfgd_good_03: found only 0.07 s before the pull, after 1.8 s unseen.
    a = analyze_track(PoseTrack.load(POSE640 / "yfgd_good_03.npz"))
    assert len(a.result.reps) == 1
    assert a.result.reps[0].end_s == pytest.approx(2.07, abs=0.25)
    assert _by_code(a) == {"spine_extension": [1]}


def test_a_lean_back_counts_only_as_far_as_it_is_held() -> None:
    """Leaning back is read as the most that every frame of a 0.3 s stretch reaches: a
    three-frame flicker at lockout (mirrored yfgd_bad_03 read 13 deg against 4) is not a
    lean, a held one keeps its value."""
    from metrics.hinge import HingeParams, _held

    t = np.arange(20) / 15.0
    idx = np.arange(20)
    flicker = np.array([0, 1, 13, 14, 13, 2, 1, 0] + [0] * 12, float)
    value, _ = _held(flicker, idx, t, HingeParams().lean_hold_s)
    assert value == pytest.approx(1.0)
    held = np.array([0, 5] + [22.0] * 8 + [4.0] * 10)
    value, start = _held(held, idx, t, HingeParams().lean_hold_s)
    assert value == pytest.approx(22.0) and start == 2
    # a lockout seen on fewer frames than the hold is read whole
    value, _ = _held(np.array([12.0, 15.0]), np.arange(2), t[:2], 0.3)
    assert value == pytest.approx(12.0)


def _lost(track: PoseTrack, t0: float, t1: float) -> PoseTrack:
    """`track` with the lifter lost (NaN) from `t0` to `t1` seconds."""
    from dataclasses import replace

    gone = (track.t >= t0) & (track.t <= t1)
    image, world, vis = track.image.copy(), track.world.copy(), track.visibility.copy()
    image[gone], world[gone], vis[gone] = np.nan, np.nan, np.nan
    contour = None if track.back_contour is None else track.back_contour.copy()
    if contour is not None:
        contour[gone] = np.nan
    return replace(track, image=image, world=world, visibility=vis, back_contour=contour)


@pytest.mark.parametrize("gap_s", [0.5, 1.0])
def test_a_lockout_reached_while_the_lifter_was_lost_is_not_passed(gap_s: float) -> None:
    """small480 yfgd_good_01: lost from half-way up until after the lean-back; the top
    was placed on the first frame found again and the lean read 0 (a silent pass)."""
    phases = rep_phases(1, lead_s=1.0, down_s=1.0, bottom_s=0.3, up_s=0.8, top_s=1.2)
    top = 1.0 + 1.0 + 0.3 + 0.8  # when the rep reaches the top
    track = _lost(hinge_set(phases), top - gap_s + 0.2, top + 0.2)
    a = _run(track)
    (rep,) = a.result.reps
    assert {"check": "spine_extension", "reason": LOCKOUT_ARRIVAL_UNSEEN} in rep.not_judged
    assert rep.metrics["spine_extension_deg"] is None
    assert _flags(a, "spine_extension") == []


def test_a_lean_seen_after_the_gap_is_still_flagged_and_a_short_gap_still_passes() -> None:
    phases = rep_phases(1, lead_s=1.0, down_s=1.0, bottom_s=0.3, up_s=0.8, top_s=1.2)
    top = 1.0 + 1.0 + 0.3 + 0.8
    leaning = _run(_lost(hinge_set(phases, lean_back_deg=25.0), top - 0.6, top + 0.05))
    assert [f.rep for f in _flags(leaning, "spine_extension")] == [1]
    # one lost frame on the way up (30 fps) is not a lockout unseen
    flat = _run(_lost(hinge_set(phases), top - 0.2, top - 0.18))
    (rep,) = flat.result.reps
    assert not any(n["check"] == "spine_extension" for n in rep.not_judged)
    assert rep.metrics["spine_extension_deg"] is not None
