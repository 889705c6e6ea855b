"""A quick check moved to a client is judged again with the client's profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backcheck.history import HistoryStore
from backcheck.pipeline import write_analysis
from backcheck.rejudge import move_and_rejudge
from metrics.analysis import analyze_track, build_report
from metrics.profile import ClientProfile
from metrics.report import ModelInfo, SourceInfo
from tests.hingefigure import hinge_set, rep_phases

# A back folded 8.5° at every bottom: under the default 10° line, over a
# flexion-intolerant client's 7° (thresholds.toml [profile] intolerant = 0.7).
FOLD_DEG = 8.5


def _quick_check(store: HistoryStore) -> int:
    track = hinge_set(rep_phases(3), fold_deg=FOLD_DEG)
    analysis = analyze_track(track, exercise="hinge")
    source = SourceInfo(
        file="try.mp4",
        duration_s=track.duration_s,
        frames=len(track),
        fps=30.0,
        vfr=False,
        width=1280,
        height=720,
        rotation_deg=0,
        codec="h264",
    )
    report = build_report(analysis, source, ModelInfo("full", "x"))
    with store.staged() as staging:
        write_analysis(staging, report, analysis, track)
        (staging / "report.html").write_text("<p>Quick check</p>")
        return store.save_session(store.quick_check().id, report, staging).id


def test_a_moved_quick_check_is_judged_with_the_clients_profile(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    sid = _quick_check(store)
    before = store.session(sid)
    assert len(before.report.reps) == 3
    assert not any(f.code == "spine_flexion" for f in before.report.flags)
    kim = store.add_client(ClientProfile(name="Kim", flexion_intolerant=True))

    moved = move_and_rejudge(store, sid, kim.id)

    after = store.session(sid)
    assert moved.client_id == kim.id and after.profile.flexion_intolerant
    flexion = [f for f in after.report.flags if f.code == "spine_flexion"]
    assert len(flexion) == 3  # every rep now over the client's line
    for f in flexion:
        assert f.threshold == pytest.approx(7.0, abs=0.01)
        assert f.value == pytest.approx(FOLD_DEG, abs=1.5)
    assert moved.n_flagged_reps == 3
    # reps and flags rows, the folder's report.json and the printable page follow
    assert [r["flags"] for r in store.rep_rows(sid)] == [["spine_flexion"]] * 3
    assert sum(r["code"] == "spine_flexion" for r in store.flag_rows(sid)) == 3
    on_disk = json.loads((after.folder / "report.json").read_text())
    assert on_disk == after.report.to_dict()
    assert not (after.folder / "report.html").exists()  # made again when next shown


def test_a_session_without_its_track_moves_as_judged(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    sid = _quick_check(store)
    (store.session(sid).folder / "track.npz").unlink()
    kim = store.add_client(ClientProfile(name="Kim", flexion_intolerant=True))
    before = store.session(sid).report.to_dict()
    assert move_and_rejudge(store, sid, kim.id).client_id == kim.id
    assert store.session(sid).report.to_dict() == before
