"""What counts as the same verdict for two copies of one clip (backcheck.evaluation.verdict)
and the near pass a rep reports (metrics.evidence)."""

from __future__ import annotations

import pytest

from backcheck.evaluation.verdict import Verdict, close_to_line, differences, value_tolerance
from metrics.analysis import analyze_track
from metrics.evidence import close_band, near_pass
from tests.hingefigure import hinge_set, rep_phases


def _verdict(
    flags: tuple[str, ...],
    values: dict[str, float] | None = None,
    close: set[str] | None = None,
) -> Verdict:
    return Verdict(
        exercise="hinge",
        judgeable=True,
        reps=(tuple(sorted(flags)),),
        values={(0, c): v for c, v in (values or {}).items()},
        unjudged=(),
        hold=None,
        plank_flags=(),
        close=frozenset((0, c) for c in (close or set())),
    )


def test_the_close_band_is_twice_the_frame_noise() -> None:
    assert close_band(12.0, "deg") == pytest.approx(4.0)
    assert close_band(70.0, "%") == pytest.approx(4.0)
    assert close_band(50.0, "px") == pytest.approx(10.0)  # unknown noise: 20%
    assert near_pass(11.7, 12.0, "deg") and near_pass(8.0, 12.0, "deg")
    assert not near_pass(7.9, 12.0, "deg")
    assert not near_pass(12.0, 12.0, "deg")  # at the threshold it is a flag
    assert not near_pass(float("nan"), 12.0, "deg")


def test_a_borderline_flag_and_a_near_pass_are_the_same_verdict() -> None:
    a = _verdict(("hips_rise_early",), {"hips_rise_early": 12.1}, {"hips_rise_early"})
    b = _verdict((), close={"hips_rise_early"})
    assert differences(a, b) == []
    assert differences(b, a) == []
    assert close_to_line(a, b) == ["rep 1 hips_rise_early borderline → near pass"]


def test_a_flag_may_not_vanish_silently() -> None:
    clear = _verdict(("hips_rise_early",), {"hips_rise_early": 20.0})
    borderline = _verdict(("hips_rise_early",), {"hips_rise_early": 13.0}, {"hips_rise_early"})
    passed = _verdict(())  # passed with room: no near pass
    near = _verdict((), close={"hips_rise_early"})
    assert differences(clear, near) == ["rep 1 loses hips_rise_early"]
    assert differences(borderline, passed) == ["rep 1 loses hips_rise_early"]
    assert differences(passed, borderline) == ["rep 1 gains hips_rise_early"]


def test_large_values_are_compared_relative() -> None:
    assert value_tolerance(5.0, 12.0) == pytest.approx(10.0)
    assert value_tolerance(48.5, 36.3) == pytest.approx(0.3 * 48.5)
    a = _verdict(("spine_flexion",), {"spine_flexion": 48.5})
    assert differences(a, _verdict(("spine_flexion",), {"spine_flexion": 36.3})) == []
    assert differences(a, _verdict(("spine_flexion",), {"spine_flexion": 30.0})) == [
        "rep 1 spine_flexion 48 → 30"
    ]
    small = _verdict(("spine_flexion",), {"spine_flexion": 12.0})
    assert differences(small, _verdict(("spine_flexion",), {"spine_flexion": 23.0})) != []


def test_a_rep_passed_close_to_the_line_says_so() -> None:
    # a back folded 8 deg: under the 10 deg threshold, within 4 of it
    a = analyze_track(hinge_set(rep_phases(2), fold_deg=8.0), exercise="hinge")
    assert all("spine_flexion" not in r.flags for r in a.result.reps)
    calls = [c for c in a.result.extra["close_calls"] if c["check"] == "spine_flexion"]
    assert [c["rep"] for c in calls] == [1, 2]
    for c in calls:
        assert c["call"] == "near pass" and c["threshold"] == 10.0
        assert c["value"] == pytest.approx(8.0, abs=1.5) and c["margin"] < 0
    assert (0, "spine_flexion") in Verdict.of(a).close
    # a flat back is not close to anything
    flat = analyze_track(hinge_set(rep_phases(2)), exercise="hinge")
    assert flat.result.extra["close_calls"] == []


def test_a_share_keeps_its_fixed_tolerance() -> None:
    assert value_tolerance(76.0, 100.0, "%") == pytest.approx(10.0)
    a = Verdict(
        "hinge",
        True,
        (("knee_dominant",),),
        {(0, "knee_dominant"): 76.0},
        (),
        None,
        (),
        units={"knee_dominant": "%"},
    )
    b = Verdict(
        "hinge",
        True,
        (("knee_dominant",),),
        {(0, "knee_dominant"): 95.0},
        (),
        None,
        (),
        units={"knee_dominant": "%"},
    )
    assert differences(a, b) == ["rep 1 knee_dominant 76 → 95"]
