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


_ANALYSIS = """
import sys
from pathlib import Path
from backcheck.history import HistoryStore
from backcheck.ui.uploads import analyse_upload

store = HistoryStore(sys.argv[1])
quick = store.quick_check()

def progress(fraction, label):
    print(f"{fraction:.3f} {label}", flush=True)

with open(sys.argv[2], "rb") as fh:
    analyse_upload(store, quick, "try.mp4", fh, model=sys.argv[3], progress=progress)
print("saved", flush=True)
"""


@pytest.mark.clips
@pytest.mark.parametrize("stage", ["finding the lifter", "drawing"])
def test_an_analysis_killed_midway_leaves_no_session(
    tmp_path: Path, shared_data: Path, model_path: Path, stage: str
) -> None:
    """SIGKILL during the pose pass or while the annotated video is drawn: the history has
    no session, its files are only a staging folder that the next start's sweep removes,
    and the database is whole and takes the next session."""
    import os
    import signal
    import subprocess
    import sys

    db = tmp_path / "history.sqlite3"
    clip = shared_data / "clips" / "deadlift" / "posereader_good.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", _ANALYSIS, str(db), str(clip), str(model_path)],
        cwd=Path(APP).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line.strip())
        if stage in line.lower():
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, seen
    store = HistoryStore(db)
    assert store.integrity_ok()
    assert store.sessions() == []
    assert list(store.sessions_dir.iterdir()) == []
    (left,) = store.staging_dir.iterdir()  # the killed run's outputs, half written
    assert store.sweep(older_than_s=0) == [left]
    # The next analysis is saved as usual.
    with open(clip, "rb") as fh:
        from backcheck.ui.uploads import analyse_upload

        s = analyse_upload(store, store.quick_check(), "again.mp4", fh, model=str(model_path))
    assert [x.id for x in store.sessions()] == [s.id] and s.n_reps >= 1
