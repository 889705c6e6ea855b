"""Leave-one-source-out thresholds, margins and verdict comparison, on saved real tracks."""

from __future__ import annotations

from pathlib import Path

import pytest

from backcheck.evaluation.loso import choose_threshold, leave_one_source_out, summarise
from backcheck.evaluation.tracks import Analyses, TrackCache, track_name
from backcheck.evaluation.verdict import Verdict, differences
from tests.test_evaluation import _clips

TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "hinge"
FIELDS = ["file", "source", "kind", "view", "reps", "spine_flexion", "spine_extension"]


def test_the_threshold_is_the_default_when_it_separates_the_classes() -> None:
    scores = [(1.0, False), (2.0, False), (30.0, True), (40.0, True)]
    assert choose_threshold(scores, 10.0) == 10.0


def test_a_default_that_misclassifies_moves_to_the_best_separating_midpoint() -> None:
    scores = [(1.0, False), (2.0, False), (30.0, True), (40.0, True)]
    assert choose_threshold(scores, 1.5) == pytest.approx(16.0)
    # one class only: just past it, nearest the default
    assert choose_threshold([(3.0, False), (5.0, False)], 4.0) == pytest.approx(6.0)
    assert choose_threshold([(20.0, True), (25.0, True)], 30.0) == pytest.approx(19.0)
    assert choose_threshold([], 12.0) == 12.0


def test_overlapping_classes_get_the_best_balanced_accuracy() -> None:
    # negatives 1, 2, 12; positives 8, 30, 40: T in (2, 8] gets 3/3 + 2/3, T in (12, 30]
    # 2/3 + 3/3; both 5/6, and the candidate nearest the default 10 wins: 5 ((2+8)/2)
    scores = [(1.0, False), (2.0, False), (12.0, False), (8.0, True), (30.0, True), (40.0, True)]
    assert choose_threshold(scores, 10.0) == pytest.approx(5.0)


def test_cached_track_names() -> None:
    assert track_name("0016c_1") == "0016c_1.npz"
    assert track_name("0016c_1", "mirror") == "0016c_1.mirror.npz"
    assert track_name("0016c_1", "fps30", "lite") == "0016c_1.fps30.lite.npz"
    assert track_name("a", model="/models/pose_landmarker_heavy.task") == (
        "a.pose_landmarker_heavy.npz"
    )


def test_a_read_only_cache_says_which_track_is_missing(tmp_path: Path) -> None:
    cache = TrackCache(TRACKS, make=False)
    assert cache(Path("clips/x/0016c_1.mp4")).t.size > 0
    with pytest.raises(FileNotFoundError, match="0016c_1.mirror.npz"):
        cache(Path("clips/x/0016c_1.mp4"), "mirror")


def _row(stem: str, source: str, view: str = "side", **labels: str) -> dict[str, str]:
    return {
        "file": f"clips/x/{stem}.mp4",
        "source": f"{source} some/path.mp4",
        "kind": "hinge",
        "view": view,
        **labels,
    }


def test_each_source_is_scored_with_thresholds_chosen_without_it(tmp_path: Path) -> None:
    rows = [
        _row("0016r_1", "tby", spine_flexion="marked", spine_extension="none"),
        _row("0016c_1", "tby", spine_flexion="none", spine_extension="none"),
        _row("0016c_2", "tby", view="oblique", spine_flexion="none"),
        _row("posereader_bad", "pr", spine_flexion="marked", spine_extension="none"),
        _row("posereader_good", "pr", spine_flexion="none", spine_extension="none"),
        _row("yfgd_good_02", "yf", spine_flexion="none", spine_extension="marked"),
        _row("yfgd_bad_02", "yf", spine_flexion="mild", spine_extension="none"),
    ]
    decisions = leave_one_source_out(
        _clips(tmp_path, rows, FIELDS), Analyses(TrackCache(TRACKS, make=False))
    )
    by = {(d.clip, d.code): d for d in decisions}
    assert {d.source for d in decisions} == {"tby", "pr", "yf"}
    # Extension: only yf has a lean-back, so held out it is scored with a threshold chosen
    # on neutral lockouts alone (the default, which passes them all).
    ext = by[("yfgd_good_02", "spine_extension")]
    assert ext.threshold == pytest.approx(10.0) and ext.raised
    assert ext.score is not None and ext.margin == pytest.approx(ext.score - 10.0)
    # clear of the 4-degree borderline band (the lean held 0.3 s, not one frame's peak)
    assert ext.margin is not None and ext.margin > 5.0
    flex = by[("0016r_1", "spine_flexion")]
    assert flex.raised and flex.margin is not None and flex.margin > 5.0
    flat = by[("0016c_1", "spine_flexion")]
    assert flat.raised is False and flat.margin is not None and flat.margin < 0
    oblique = by[("0016c_2", "spine_flexion")]
    assert oblique.raised is None and oblique.reason and oblique.reason.startswith("view:")
    # this saved cut measured no flexion on its rep: counted apart, not as a pass, with
    # the reason the rep gives (its `not_judged`)
    unmeasured = by[("yfgd_good_02", "spine_flexion")]
    assert unmeasured.raised is None
    assert unmeasured.reason == "rep 1: the bottom of the rep was not seen clearly"
    s = summarise(decisions, "spine_flexion")
    assert s.marked == (2, 2) and s.mild == (1, 1) and s.negative == (2, 2)
    assert s.not_judged == 2 and s.meets_target()


def _v(*reps: tuple[str, ...], values: dict | None = None, judge: bool = True) -> Verdict:
    return Verdict("hinge", judge, tuple(reps), values or {}, (), None, ())


def test_verdict_differences_name_what_changed() -> None:
    a = _v(("spine_flexion",), (), values={(0, "spine_flexion"): 30.0})
    assert differences(a, a) == []
    near = _v(("spine_flexion",), (), values={(0, "spine_flexion"): 38.0})
    assert differences(a, near) == []  # within the value tolerance
    far = _v(("spine_flexion",), (), values={(0, "spine_flexion"): 45.0})
    assert differences(a, far) == ["rep 1 spine_flexion 30 → 45"]
    assert differences(a, _v((), ("spine_extension",))) == [
        "rep 1 loses spine_flexion",
        "rep 2 gains spine_extension",
    ]
    assert differences(a, _v((), (), ())) == ["reps 2 → 3"]
    assert differences(a, _v(("spine_flexion",), (), judge=False))[0] == (
        "view judged → not judged"
    )
