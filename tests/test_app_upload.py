"""AppTest of the upload flow on a real clip: the same `analyze_video` the CLI runs, the
session saved with its files, and nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcheck.history import HistoryStore
from metrics.profile import ClientProfile
from metrics.report import validate_report_dict

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.mark.clips
def test_uploading_a_real_clip_saves_and_shows_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path, model_path: Path
) -> None:
    db = tmp_path / "history.sqlite3"
    monkeypatch.setenv("BACKCHECK_DB", str(db))
    monkeypatch.setenv("BACKCHECK_MODEL", str(model_path))
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim", flexion_intolerant=True))
    clip = shared_data / "clips" / "deadlift" / "posereader_good.mp4"

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.radio(key="upload_exercise").set_value("hinge")
    at.file_uploader[0].set_value(("Kim's set #1.mp4", clip.read_bytes(), "video/mp4"))
    at.run()
    [b for b in at.button if b.label == "Analyse"][0].click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error

    (session,) = store.sessions(kim.id)
    assert session.source_file == "Kim_s_set_1.mp4"
    assert session.exercise == "hinge" and session.judgeable
    files = sorted(p.name for p in session.folder.iterdir())
    assert files == [
        "annotated.mp4",
        "report.html",
        "report.json",
        "timeseries.csv",
        "track.npz",
    ]  # the uploaded copy itself is not kept
    assert list(store.staging_dir.iterdir()) == []
    doc = json.loads((session.folder / "report.json").read_text("utf-8"))
    assert validate_report_dict(doc) == []
    assert doc["source"]["file"] == "Kim_s_set_1.mp4"
    record = store.session(session.id)
    assert record.profile.flexion_intolerant  # judged with the client's profile

    # The result is on the page: praise first, the video, the charts and the downloads.
    assert at.session_state["last_session_id"] == session.id
    assert at.success[0].value == doc["cues"][0]["text"]
    assert [e for e in at.main if getattr(e, "type", None) == "video"]
    assert [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]
    assert len(at.get("download_button")) == 4
    # A fresh uploader so the same video is not analysed twice by accident.
    assert at.file_uploader[0].value is None

    # posereader_good starts mid-pull: its setup has no still moment to calibrate from,
    # and the page says so (re-measured from the saved track.npz) without saving anything.
    with_setup = [b for b in at.button if b.label == "Calibrate from this setup"]
    with_setup[0].click()
    at.run()
    assert "No steady moment was found in the first 5 s" in at.error[0].value
    assert store.client(kim.id).profile.neutral == {}
