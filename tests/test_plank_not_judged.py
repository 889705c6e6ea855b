"""A plank hold's "couldn't judge" (`Hold.not_judged`, metrics.plank.hold_not_judged).

On the saved MediaPipe track of a good side plank (tests/data/tracks), and on copies of
it whose near ankle (or ear) flickers out of sight for most of the hold; shown by the CLI
summary and the app's hold rows; kept in report.json by the schema.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from metrics.analysis import TrackAnalysis, analyze_track, build_report
from metrics.landmarks import SIDE_PARTS
from metrics.plank import MIN_SEEN_SHARE, NOT_SIDE_ON
from metrics.report import ModelInfo, Report, SourceInfo, validate_report_dict
from metrics.track import PoseTrack
from tests.conftest import TRACKS

GOOD = "forearm_plank_correct"


@cache
def raw(stem: str) -> PoseTrack:
    return PoseTrack.load(TRACKS / f"{stem}.npz")


def hide(track: PoseTrack, part: str, share: float) -> PoseTrack:
    """`part` (both sides) poorly seen on `share` of the frames, spread as a flicker (a
    short run out of every few frames, which the cleaning fills, so the hold goes on)."""
    vis = track.visibility.copy()
    n = len(track)
    period = 10
    off = int(round(share * period))
    frames = np.flatnonzero(np.arange(n) % period < off)
    for lm in SIDE_PARTS[part]:
        vis[frames, lm] = 0.2
    return replace(track, visibility=vis)


def analysed(track: PoseTrack) -> TrackAnalysis:
    return analyze_track(track, exercise="plank")


def _report(a: TrackAnalysis) -> Report:
    src = SourceInfo("p.mp4", 16.0, 480, 30.0, False, 1280, 720, 0, "h264", 15.0)
    return build_report(a, src, ModelInfo("pose_landmarker_full", "0" * 64))


def test_a_well_seen_side_plank_judges_every_check() -> None:
    a = analysed(raw(GOOD))
    assert a.view.judgeable
    assert a.result.hold is not None and a.result.hold.not_judged == []


def test_ankles_hidden_for_most_of_the_hold_leave_the_line_unjudged() -> None:
    a = analysed(hide(raw(GOOD), "ankle", 0.7))
    hold = a.result.hold
    assert hold is not None and hold.duration_s > 10.0  # the hold is still timed
    checks = {n["check"]: n["reason"] for n in hold.not_judged}
    assert set(checks) == {"hip_sag", "hip_pike"}  # the head's check needs no ankle
    reason = checks["hip_sag"]
    assert "ankles" in reason and "of the hold" in reason
    share = float(reason.split("for ")[1].split("%")[0]) / 100
    assert share == pytest.approx(0.7, abs=0.1)


def test_a_little_hiding_is_still_judged() -> None:
    a = analysed(hide(raw(GOOD), "ankle", 0.3))
    assert a.result.hold is not None and a.result.hold.not_judged == []
    assert MIN_SEEN_SHARE <= 1 - 0.3  # seen on 70% of the hold: judged


def test_the_head_hidden_leaves_only_the_head_check_unjudged() -> None:
    a = analysed(hide(raw(GOOD), "ear", 0.8))
    hold = a.result.hold
    assert hold is not None
    assert [n["check"] for n in hold.not_judged] == ["head_drop"]
    assert hold.not_judged[0]["reason"].startswith("the head was not seen clearly for")


def test_an_oblique_plank_says_the_camera_angle_for_every_check() -> None:
    a = analysed(raw("coach_high_plank_oblique"))
    hold = a.result.hold
    assert hold is not None and not a.view.judgeable
    assert {n["reason"] for n in hold.not_judged} == {NOT_SIDE_ON}
    assert len(hold.not_judged) == 3


def test_report_json_keeps_it_and_the_cli_and_app_say_it() -> None:
    from backcheck.summary import summary_text
    from backcheck.ui.verdicts import hold_rows

    report = _report(analysed(hide(raw(GOOD), "ankle", 0.7)))
    d = json.loads(report.to_json())
    assert validate_report_dict(d) == []
    assert [n["check"] for n in d["hold"]["not_judged"]] == ["hip_sag", "hip_pike"]
    back = Report.from_dict(d)
    assert back.hold is not None and back.hold.not_judged == report.hold.not_judged  # type: ignore[union-attr]
    text = summary_text(back)
    assert "Couldn't judge hips sagging or hips piking in the hold: the ankles" in text
    rows = dict(hold_rows(back))
    assert "hips sagging (the ankles were not seen clearly" in rows["Couldn't judge"]
    # An older report without the field still reads.
    del d["hold"]["not_judged"]
    assert validate_report_dict(d) == []
    assert Report.from_dict(d).hold.not_judged == []  # type: ignore[union-attr]


def test_the_schema_rejects_a_malformed_entry() -> None:
    d = json.loads(_report(analysed(raw(GOOD))).to_json())
    d["hold"]["not_judged"] = [{"check": "hip_sag"}]
    assert any("hold.not_judged[0]" in p for p in validate_report_dict(d))
