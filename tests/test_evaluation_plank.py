"""The plank rows of the evaluation, on the saved plank tracks and ../shared/data/clips.csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from backcheck.evaluation.plank import (
    FaultWindow,
    evaluate_plank,
    expect_judgeable,
    format_plank_table,
    parse_fault_windows,
)
from backcheck.evaluation.tracks import TrackCache

TRACKS = Path(__file__).resolve().parent / "data" / "tracks"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_fault_windows_are_parsed_from_the_label_text() -> None:
    text = "hip_sag 16.2-17.8 (demonstrated; ~25-30 deg below the line), hip_pike 3 - 4.5"
    assert parse_fault_windows(text) == [
        FaultWindow("hip_sag", 16.2, 17.8),
        FaultWindow("hip_pike", 3.0, 4.5),
    ]
    assert parse_fault_windows("") == []
    assert parse_fault_windows("every rep at the bottom") == []


def test_view_labels_that_can_be_judged() -> None:
    assert expect_judgeable("side") and expect_judgeable("side-oblique")
    assert not expect_judgeable("oblique") and not expect_judgeable("front")


def test_every_plank_clip_matches_its_labels() -> None:
    if not (SHARED / "clips.csv").exists():
        pytest.skip("../shared/data/clips.csv not found")
    rows = evaluate_plank(SHARED, TrackCache(TRACKS, make=False))
    by_clip = {r.clip: r for r in rows}
    assert set(by_clip) == {
        "forearm_plank_correct",
        "yogai_high_plank",
        "coach_high_plank_oblique",
    }
    for r in rows:
        assert r.start_error_s is not None and abs(r.start_error_s) <= 1.0, r
        assert r.end_error_s is not None and abs(r.end_error_s) <= 1.0, r
        assert r.exercise_auto == "plank" and r.view_ok and r.flags_ok and r.ok
    yogai = by_clip["yogai_high_plank"]
    assert [w.code for w in yogai.found] == ["hip_sag"] and yogai.false_alarms == []
    assert not by_clip["coach_high_plank_oblique"].judgeable
    table = format_plank_table(rows)
    assert "hold within 1 s at both ends 3/3" in table
    assert "labelled faults flagged 1/1; false plank flags 0" in table
