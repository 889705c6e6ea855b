"""A finished live set is analysed like an upload and saved to the client's history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backcheck.history import HistoryStore
from backcheck.live import analyze_live_set, save_live_set
from metrics.errors import AnalysisError
from metrics.profile import ClientProfile
from metrics.report import validate_report_dict
from metrics.track import PoseTrack
from tests.stickfigure import make_track
from tests.test_live_metrics import _hinge_set
from vision.live import LiveSession
from vision.pose import PersonPose

W, H = 640, 480


def _replay_set(n_reps: int) -> LiveSession:
    track = make_track(
        _hinge_set(n_reps), facing="left", scale_px_per_m=260.0, hip_px=(320.0, 260.0),
        size=(W, H), noise_px=0.5,
    )  # fmt: skip
    poses = {
        round(float(t), 6): PersonPose(track.image[i], track.world[i], track.visibility[i], None)
        for i, t in enumerate(track.t)
    }
    session = LiveSession(
        "hinge", pose_fn=lambda rgb, t: [poses[round(t, 6)]], background_judging=False
    )
    frame = np.zeros((H, W, 3), np.uint8)
    for t in track.t:
        session.process(frame, float(t))
    return session


def test_live_set_report_matches_the_live_count_and_validates() -> None:
    with _replay_set(4) as session:
        live_count = session.latest().state.reps  # type: ignore[union-attr]
        done = analyze_live_set(session, name="live test")
    report = done.report
    assert live_count == 4
    assert len(report.reps) == 4
    assert report.exercise == "hinge"
    assert report.source.file == "live test"
    assert report.source.width == W and report.source.height == H
    assert report.source.duration_s == pytest.approx(2.0 + 2.4 * 4 - 1 / 30, abs=0.05)
    assert report.extra["live"] is True
    validate_report_dict(json.loads(report.to_json()))


def test_saving_puts_the_set_in_the_clients_history(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    client = store.add_client(ClientProfile(name="Sam"))
    with _replay_set(3) as session:
        summary = save_live_set(store, client.id, session)
    assert summary.n_reps == 3
    assert summary.exercise == "hinge"
    saved = store.sessions(client.id)
    assert [s.id for s in saved] == [summary.id]
    folder = store.session(summary.id).folder
    assert {"report.json", "timeseries.csv", "track.npz"} <= {p.name for p in folder.iterdir()}
    raw = PoseTrack.load(folder / "track.npz")  # the raw recording, to re-analyse later
    assert len(raw) == int(round((2.0 + 2.4 * 3) * 30))
    assert len(store.rep_rows(summary.id)) == 3


def test_an_empty_set_cannot_be_saved(tmp_path: Path) -> None:
    with LiveSession("hinge", pose_fn=lambda rgb, t: []) as session:
        with pytest.raises(AnalysisError):
            analyze_live_set(session)
        for k in range(30):  # nobody in view for a second
            session.process(np.zeros((H, W, 3), np.uint8), k / 30.0)
        with pytest.raises(AnalysisError):
            analyze_live_set(session)
