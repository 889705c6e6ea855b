"""The committed accuracy must hold: the issue's targets, on this session's own pose pass.

Fails when a change makes the analysis worse on the labelled clips (norfair-style gate),
with the same default thresholds for every clip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backcheck.evaluation.hinge import evaluate_hinge
from backcheck.evaluation.plank import evaluate_plank
from backcheck.evaluation.tracks import TrackCache

pytestmark = pytest.mark.clips


@pytest.fixture(scope="module")
def hinge_rows(shared_data: Path, clip_tracks: Path) -> list:
    return evaluate_hinge(shared_data, TrackCache(clip_tracks))


def test_reps_exact_on_at_least_95_percent_of_side_view_hinges(hinge_rows: list) -> None:
    scored = [r for r in hinge_rows if r.view_label == "side" and r.reps_label is not None]
    exact = [r.clip for r in scored if r.reps_exact]
    assert len(scored) >= 16
    assert len(exact) / len(scored) >= 0.95, [
        (r.clip, r.reps_label, r.reps_found) for r in scored if not r.reps_exact
    ]


def test_rounding_flagged_on_every_marked_clip_and_no_flat_one(hinge_rows: list) -> None:
    flexion = {r.clip: next(f for f in r.flags if f.code == "spine_flexion") for r in hinge_rows}
    marked = {c: f for c, f in flexion.items() if f.label == "marked"}
    flat = {c: f for c, f in flexion.items() if f.label == "none"}
    assert len(marked) >= 4 and len(flat) >= 10
    assert [c for c, f in marked.items() if f.outcome not in ("hit", "abstained")] == []
    assert [c for c, f in flat.items() if f.outcome == "false"] == []
    # Marked rounding on a side view is judged, not abstained.
    side = {r.clip for r in hinge_rows if r.view_label == "side"}
    assert all(marked[c].outcome == "hit" for c in marked if c in side)


def test_no_false_flags_of_any_kind(hinge_rows: list) -> None:
    false = [(r.clip, f.code) for r in hinge_rows for f in r.flags if f.outcome == "false"]
    assert false == []


def test_front_and_oblique_views_abstain_and_side_views_are_judged(hinge_rows: list) -> None:
    wrong = [(r.clip, r.view_label, r.camera, r.judgeable) for r in hinge_rows if not r.view_ok]
    assert wrong == []
    front = [r for r in hinge_rows if r.view_label == "front"]
    assert front and all(not r.judgeable and r.reason for r in front)


def test_plank_holds_within_a_second_and_only_the_labelled_sag(
    shared_data: Path, clip_tracks: Path
) -> None:
    rows = evaluate_plank(shared_data, TrackCache(clip_tracks))
    assert len(rows) == 3
    for row in rows:
        assert row.hold_ok, (row.start_error_s, row.end_error_s)  # within 1 s at each end
        assert row.flags_ok and row.view_ok and row.exercise_auto == "plank", row
