"""Streamlit AppTest tests of the page flows, on saved sessions (synthetic reports with
known reps, flags and a real small annotated.mp4) and on bad uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcheck.history import HistoryStore
from metrics.profile import ClientProfile
from tests.app_data import fill_folder, hinge_report, plank_report

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "history.sqlite3"
    monkeypatch.setenv("BACKCHECK_DB", str(path))
    return path


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _session(store: HistoryStore, client_id: int, report, profile=None) -> int:
    staging = store.new_staging_dir()
    fill_folder(staging, report)
    return store.save_session(client_id, report, staging, profile).id


def _charts(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]


def _videos(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "type", None) == "video"]


def test_first_run_offers_a_quick_check_at_once_and_adds_a_client(db: Path) -> None:
    at = _app()
    # No client needed: the uploader is there, under the quick check.
    assert at.selectbox[0].format_func(at.selectbox[0].value) == "Quick check (no client)"
    assert len(at.file_uploader) == 1
    assert "saved apart from clients" in at.caption[1].value
    assert HistoryStore(db).clients() == []
    at.text_input[0].input("Kim Lee")
    at.checkbox[0].check()  # flexion-intolerant
    at.radio[0].set_value("strict")
    [b for b in at.button if b.label == "Add client"][0].click()
    at.run()
    assert not at.exception
    assert at.selectbox[0].format_func(at.selectbox[0].value) == "Kim Lee"
    assert "flexion-intolerant" in at.caption[1].value
    assert len(at.file_uploader) == 1
    (kim,) = HistoryStore(db).clients()
    assert kim.profile.flexion_intolerant and kim.profile.strictness == "strict"


def test_a_duplicate_client_name_is_refused_with_a_message(db: Path) -> None:
    HistoryStore(db).add_client(ClientProfile(name="Kim"))
    at = _app()
    at.text_input[0].input("kim")
    [b for b in at.button if b.label == "Add client"][0].click()
    at.run()
    assert [e.value for e in at.error] == ["There is already a client called 'kim'."]
    assert len(HistoryStore(db).clients()) == 1


def test_a_hinge_result_shows_cues_reps_scrubber_charts_video_and_downloads(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    sid = _session(store, kim.id, hinge_report(flexion=(4.0, 22.0, 12.0)))
    at = _app()
    at.session_state["last_session_id"] = sid
    at.run()
    assert not at.exception
    # Praise first, then at most two cues.
    assert at.success[0].value.startswith("Good work")
    assert [i.value for i in at.info] == [
        "**Cue 1.** Chest proud and brace before you hinge. Watch reps 2 and 3."
    ]
    table = at.table[0].value
    assert list(table["Verdict"]) == [
        "Good",
        "Check: rounded back (clear)",
        "Check: rounded back (slight)",
    ]
    assert list(table["Back rounding"]) == ["4°", "22°", "12°"]
    assert "Trunk lean (max)" not in table.columns  # compact for phones; all in the expander
    assert list(at.table[1].value["Trunk lean (max)"]) == ["71°", "72°", "73°"]
    assert len(_videos(at)) == 1
    assert len(_charts(at)) == 3  # trunk/hip/knee, back rounding, lean back
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Printable report", "report.json", "timeseries.csv", "annotated.mp4"]
    # The scrubber starts at rep 1's bottom and jumps to rep 2's worst frame (flag peak).
    slider = at.slider(key=f"latest-scrub-{sid}")
    assert slider.value == pytest.approx(1.0)
    jumps = [b for b in at.button if b.label.startswith("Rep ")]
    assert [b.label for b in jumps] == [
        "Rep 1: bottom",
        "Rep 2: rounded back",
        "Rep 3: rounded back",
    ]
    jumps[1].click()
    at.run()
    assert at.slider(key=f"latest-scrub-{sid}").value == pytest.approx(3.0)
    assert at.image[0].captions[0].startswith("3.00 s · Trunk lean 75°")
    # The printable report was written once and names the client and the cue.
    html = (store.session(sid).folder / "report.html").read_text("utf-8")
    assert "Kim" in html and "Chest proud" in html and "Check: rounded back (clear)" in html


def test_a_view_that_cannot_be_judged_says_so_with_filming_advice(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    sid = _session(store, kim.id, hinge_report(judgeable=False))
    at = _app()
    at.session_state["last_session_id"] = sid
    at.run()
    (warning,) = at.warning
    assert warning.value.startswith("**Can't judge the back from this angle.** Filmed from")
    assert "Film from the side, at right angles" in warning.value
    assert not [i for i in at.info if i.value.startswith("**Cue")]  # no verdicts, no cues
    assert "No verdicts" in " ".join(c.value for c in at.caption)


def test_a_plank_result_shows_the_hold_summary(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    sid = _session(store, kim.id, plank_report(hold_s=5.0, in_tol_s=4.0))
    at = _app()
    at.session_state["last_session_id"] = sid
    at.run()
    hold = at.table[0].value
    assert list(hold["Value"])[:2] == ["5.0 s (0.5-5.5 s)", "4.0 s (80%)"]
    flags = at.table[1].value
    assert list(flags["What"]) == ["hips sagging"]
    assert [b.label for b in at.button if "sagging" in b.label] == ["Hips sagging at 3.5 s"]
    assert _charts(at)


def test_the_history_page_lists_sessions_progress_and_opens_one(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    store.add_client(ClientProfile(name="Alex"))
    _session(store, kim.id, hinge_report(file="monday.mp4", flexion=(25.0, 22.0, 12.0)))
    _session(store, kim.id, hinge_report(file="friday.mp4", flexion=(4.0, 8.0, 12.0)))
    _session(store, kim.id, plank_report(hold_s=30.0, in_tol_s=25.0))
    at = _app()
    at.button_group[0].set_value("history")
    at.run()
    at.selectbox[0].set_value(kim.id)
    at.run()
    assert not at.exception
    sessions = at.table[0].value
    assert list(sessions["Video"]) == ["monday.mp4", "friday.mp4", "plank.mp4"]
    assert list(sessions["Worst rounding"]) == ["25°", "12°", "–"]
    assert list(sessions["Result"])[2] == "hold 30.0 s, 25.0 s in line"
    titles = [json.loads(c.proto.spec)["title"] for c in _charts(at)[:2]]
    assert titles == [
        "Hinge: worst rounding",
        "Plank: hold and time in line",
    ]
    # The newest session opens below, with its own result view.
    assert at.selectbox(key="history_open_session").value == store.sessions(kim.id)[-1].id
    assert at.table[1].value.iloc[0, 0] == "Hold"


def test_the_client_profile_can_be_edited_on_the_history_page(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    at = _app()
    at.button_group[0].set_value("history")
    at.run()
    form = at.get("form")
    assert form
    ext = [c for c in at.checkbox if c.label.startswith("Extension")][-1]
    ext.check()
    [b for b in at.button if b.label == "Save changes"][0].click()
    at.run()
    assert store.client(kim.id).profile.extension_intolerant


def test_a_corrupt_upload_shows_the_reason_and_the_app_keeps_working(db: Path) -> None:
    store = HistoryStore(db)
    store.add_client(ClientProfile(name="Kim"))
    at = _app()
    at.file_uploader[0].set_value(("../../etc/my clip.mp4", b"\x00\x01 not a video", "video/mp4"))
    at.run()
    [b for b in at.button if b.label == "Analyse"][0].click()
    at.run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("**This video can't be analysed.**")
    assert "my_clip.mp4" in error.value and "../" not in error.value
    assert store.sessions() == []
    assert list(store.staging_dir.iterdir()) == [] and list(store.sessions_dir.iterdir()) == []
    # Still usable: the other page renders and the uploader is still there.
    at.button_group[0].set_value("history")
    at.run()
    assert not at.exception and at.title[0].value == "Clients and history"
    at.button_group[0].set_value("analyse")
    at.run()
    assert len(at.file_uploader) == 1


def test_a_file_that_is_not_a_video_type_is_refused(db: Path) -> None:
    HistoryStore(db).add_client(ClientProfile(name="Kim"))
    at = _app()
    at.file_uploader[0].set_value(("notes.mp4", b"", "video/mp4"))
    at.run()
    [b for b in at.button if b.label == "Analyse"][0].click()
    at.run()
    assert "notes.mp4 is empty (0 bytes)" in at.error[0].value


def test_the_setup_of_a_result_calibrates_the_clients_neutral(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim"))
    staging = store.new_staging_dir()
    report = hinge_report()
    fill_folder(staging, report, video=False, steady_s=1.0)  # still for the first second
    sid = store.save_session(kim.id, report, staging).id
    at = _app()
    at.session_state["last_session_id"] = sid
    at.run()
    [b for b in at.button if b.label == "Calibrate from this setup"][0].click()
    at.run()
    assert not at.exception
    assert at.success[-1].value.startswith("Neutral saved for Kim: setup of client_set.mp4")
    assert store.client(kim.id).profile.neutral == {"spine_curve_deg": pytest.approx(30.0)}
    # The history page now shows the neutral and where it came from.
    at.button_group[0].set_value("history")
    at.run()
    assert "Spine curve 30°" in " ".join(m.value for m in at.markdown)


def test_a_bad_standing_clip_leaves_the_neutral_alone(db: Path) -> None:
    store = HistoryStore(db)
    kim = store.add_client(ClientProfile(name="Kim", neutral={"spine_curve_deg": 31.0}))
    at = _app()
    at.button_group[0].set_value("history")
    at.run()
    at.file_uploader(key=f"neutral_clip_{kim.id}").set_value(
        ("stand.mov", b"RIFF\x00\x00 nonsense", "video/quicktime")
    )
    at.run()
    [b for b in at.button if b.label == "Calibrate"][0].click()
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith("stand.mov:")
    assert store.client(kim.id).profile.neutral == {"spine_curve_deg": 31.0}
    assert list(store.staging_dir.iterdir()) == []


def test_a_quick_check_result_moves_to_a_client_from_the_page(db: Path) -> None:
    store = HistoryStore(db)
    quick = store.quick_check()
    sid = _session(store, quick.id, hinge_report(file="try.mp4"))
    at = _app()
    at.session_state["last_session_id"] = sid
    at.run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Quick check: Hip hinge"
    # No client yet: the page says how to keep it, and offers no move.
    assert any("Add a client above to move it" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Move to their history"]
    ana = store.add_client(ClientProfile(name="Ana"))
    store.add_client(ClientProfile(name="Kim"))
    at.run()
    move_to = at.selectbox(key=f"latest_move_to_{sid}")
    assert move_to.options == ["Ana", "Kim"]
    move_to.set_value(ana.id)
    [b for b in at.button if b.label == "Move to their history"][0].click()
    at.run()
    assert not at.exception, at.exception
    assert [s.id for s in store.sessions(ana.id)] == [sid]
    assert store.sessions(quick.id) == []
    # The page now shows it as Ana's, with Ana picked, and no move control.
    assert at.subheader[0].value == "Ana: Hip hinge"
    assert at.selectbox[0].format_func(at.selectbox[0].value) == "Ana"
    assert not [b for b in at.button if b.label == "Move to their history"]


def test_quick_checks_have_their_own_history_without_a_profile(db: Path) -> None:
    store = HistoryStore(db)
    quick = store.quick_check()
    _session(store, quick.id, hinge_report(file="try.mp4"))
    store.add_client(ClientProfile(name="Kim"))
    at = _app()
    at.segmented_control(key="page").set_value("history").run()
    picker = at.selectbox[0]
    assert picker.format_func(picker.value) == "Kim"  # a real client comes up first
    picker.set_value(quick.id).run()
    assert not at.exception, at.exception
    labels = [e.label for e in at.expander]
    assert "Profile" not in labels and "Neutral calibration" not in labels
    assert "try.mp4" in at.table[0].value.to_string()


def test_a_full_disk_says_not_saved_and_keeps_the_page(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backcheck.history import DISK_FULL, HistoryError
    from backcheck.ui import upload_page

    def full(*args: object, **kwargs: object) -> None:
        raise HistoryError(DISK_FULL)

    monkeypatch.setattr(upload_page, "analyse_upload", full)
    at = _app()
    at.file_uploader[0].set_value(("set.mp4", b"\0" * 100, "video/mp4"))
    at.run()
    [b for b in at.button if b.label == "Analyse"][0].click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"**Not saved.** {DISK_FULL}"]
    assert HistoryStore(db).sessions() == []
    assert len(at.file_uploader) == 1  # the page carries on
