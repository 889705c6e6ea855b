"""The app's logic without Streamlit: upload names, verdicts, moments, bands, the
printable report and the chart specs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backcheck.ui import charts
from backcheck.ui.printable import report_html
from backcheck.ui.uploads import safe_filename, video_suffix
from backcheck.ui.verdicts import hold_rows, rep_rows, rep_verdict, worst_moments
from metrics.errors import AnalysisError
from metrics.profile import ClientProfile
from tests.app_data import hinge_report, plank_report, write_timeseries


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\kim\\clip.MOV", "clip.MOV"),
        ("Kim's  squat (1).mp4", "Kim_s_squat_1.mp4"),
        ("ünïcödé.mp4", "unicode.mp4"),
        ("a/b/.hidden.mp4", "hidden.mp4"),
        ("..", "video"),
        ("", "video"),
        ("set..1.mp4", "set.1.mp4"),
        ("$(rm -rf ~).webm", "rm_-rf.webm"),
        (".mp4", "mp4"),
        ("clip.", "clip"),
    ],
)
def test_upload_names_are_sanitised(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_long_names_keep_their_extension() -> None:
    got = safe_filename("x" * 300 + ".mp4")
    assert len(got) <= 80 and got.endswith(".mp4") and "/" not in got


def test_only_video_types_are_accepted() -> None:
    assert video_suffix("Clip.MOV") == ".mov"
    assert video_suffix("../x.m4v") == ".m4v"
    with pytest.raises(AnalysisError, match="upload one of: mp4, mov, m4v, webm, avi"):
        video_suffix("notes.txt")
    with pytest.raises(AnalysisError):
        video_suffix("mp4")


def test_rep_verdicts_and_rows() -> None:
    report = hinge_report(flexion=(4.0, 22.0, 12.0))
    assert [rep_verdict(report, i) for i in (1, 2, 3)] == [
        "Good",
        "Check: rounded back (clear)",
        "Check: rounded back (slight)",
    ]
    rows = rep_rows(report)
    assert rows[1] == {
        "Rep": "2",
        "Time": "2.0-4.0 s",
        "Verdict": "Check: rounded back (clear)",
        "Trunk lean (max)": "72°",
        "Hip angle (min)": "60°",
        "Knee angle (min)": "130°",
        "Back rounding": "22°",
        "Lean back": "0°",
    }


def test_worst_moments_are_flag_peaks_or_rep_bottoms() -> None:
    got = [(m.label, m.t, m.rep) for m in worst_moments(hinge_report(flexion=(4.0, 22.0, 12.0)))]
    assert got == [
        ("Rep 1: bottom", 1.0, 1),
        ("Rep 2: rounded back", 3.0, 2),
        ("Rep 3: rounded back", 5.0, 3),
    ]
    assert [(m.label, m.t) for m in worst_moments(plank_report())] == [
        ("Hips sagging at 3.5 s", 3.5)
    ]


def test_hold_summary() -> None:
    assert hold_rows(plank_report(hold_s=40.0, in_tol_s=30.0))[:2] == [
        ("Hold", "40.0 s (0.5-40.5 s)"),
        ("In a good line", "30.0 s (75%)"),
    ]
    assert hold_rows(replace(plank_report(), hold=None)) == []


def _band(bands: list[charts.Band], column: str) -> tuple[float | None, float | None]:
    (b,) = [b for b in bands if b.column == column]
    return b.low, b.high


def test_plank_bands_follow_the_report_then_the_profile() -> None:
    cols = ["t_s", "plank_line_deg", "neck_deg"]
    report = plank_report()
    given = replace(report, extra={"line_tolerance_deg": [-18.0, 9.5]})
    assert _band(charts.bands_for(cols, None, given), "plank_line_deg") == (-18.0, 9.5)
    # From thresholds.toml: neutral -5, sag and pike flagged 15 past it; head drop 15.
    assert _band(charts.bands_for(cols, None, report), "plank_line_deg") == (-20.0, 10.0)
    assert _band(charts.bands_for(cols, None, report), "neck_deg") == (165.0, None)
    strict = ClientProfile(strictness="strict")
    low, high = _band(charts.bands_for(cols, strict, report), "plank_line_deg")
    assert (low, high) == (pytest.approx(-17.0), pytest.approx(7.0))
    own = ClientProfile(neutral={"plank_line_deg": -10.0})
    assert _band(charts.bands_for(cols, own, report), "plank_line_deg") == (-25.0, 5.0)
    # The neck band is the plank's only: a hinge has none.
    assert charts.bands_for(cols, None, hinge_report()) == []


def test_hinge_bands_are_stricter_for_an_intolerant_client() -> None:
    cols = ["t_s", "spine_flexion_deg", "lean_back_deg", "neck_deg"]
    bands = charts.bands_for(cols, None, hinge_report())
    assert [(b.column, b.low, b.high) for b in bands] == [
        ("spine_flexion_deg", None, 10.0),
        ("lean_back_deg", None, 10.0),
    ]
    flex = ClientProfile(flexion_intolerant=True)
    assert _band(charts.bands_for(cols, flex, hinge_report()), "spine_flexion_deg") == (
        None,
        pytest.approx(7.0),
    )
    ext = ClientProfile(extension_intolerant=True)
    assert _band(charts.bands_for(cols, ext, hinge_report()), "lean_back_deg") == (
        None,
        pytest.approx(7.0),
    )


def test_the_angle_chart_has_lines_reps_flags_and_band(tmp_path) -> None:
    path = tmp_path / "ts.csv"
    write_timeseries(path, "plank")
    ts = charts.load_timeseries(path)
    report = plank_report()
    groups = charts.chart_groups(report, ts)
    assert [g[1] for g in groups] == [["plank_line_deg"], ["neck_deg"]]
    bands = charts.bands_for(list(ts.columns), None, report)
    spec = charts.angle_chart(ts, report, groups[0][1], bands).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rect", "rect", "line", "rule", "rule"]  # band, flag, line, hold ends
    band = spec["datasets"][spec["layer"][0]["data"]["name"]][0]
    assert (band["low"], band["high"]) == (-20.0, 10.0)
    hinge = hinge_report()
    write_timeseries(path, "hinge")
    ts = charts.load_timeseries(path)
    spec = charts.angle_chart(ts, hinge, ["trunk_deg", "hip_deg"], []).to_dict()
    rules = [lay for lay in spec["layer"] if lay["mark"]["type"] == "rule"][0]
    times = sorted(r["t"] for r in spec["datasets"][rules["data"]["name"]])
    assert times == [0.0, 2.0, 2.0, 4.0, 4.0, 6.0]  # rep starts and ends


def test_printable_report_is_one_escaped_page_with_the_cues() -> None:
    html = report_html(
        hinge_report(), client="<Kim & Co>", when="2026-01-02T10:00:00", frames=[("x", b"j")]
    )
    assert "&lt;Kim &amp; Co&gt;" in html and "<Kim" not in html
    assert "@page { size: A4" in html
    assert html.index("What went well") < html.index("What to work on next")
    assert html.count("<li>") == 1  # one cue: at most two, and only what the report has
    assert "data:image/jpeg;base64,ag==" in html
    assert "Check: rounded back (clear)" in html
    assert "does not diagnose" in html
    blind = report_html(hinge_report(judgeable=False), client="Kim", when="2026-01-02")
    assert "couldn't judge the back" in blind and "What to work on" not in blind


def test_hold_rows_of_an_unjudged_plank_say_so_instead_of_failing() -> None:
    """An oblique plank's report holds null line values once saved and reloaded."""
    import json

    from metrics.report import Hold, Report

    d = json.loads(plank_report().to_json())
    d["hold"] = {
        "start_s": 1.0,
        "end_s": 13.0,
        "duration_s": 12.0,
        "in_tolerance_s": None,
        "mean_line_deg": None,
        "worst_line_deg": None,
    }
    report = Report.from_dict(d)
    assert isinstance(report.hold, Hold)
    rows = dict(hold_rows(report))
    assert rows["Hold"] == "12.0 s (1.0-13.0 s)"
    assert rows["Body line"] == "not judged from this camera angle"
