"""The SQLite history: schema, clients, atomic session saves, restarts and kills."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backcheck.history import (
    QUICK_CHECK,
    SCHEMA_VERSION,
    HistoryError,
    HistoryStore,
    default_db_path,
)
from metrics.profile import ClientProfile
from tests.app_data import hinge_report, plank_report

REPO = Path(__file__).resolve().parents[1]


def _save(store: HistoryStore, client_id: int, report, profile=None):
    staging = store.new_staging_dir()
    (staging / "report.json").write_text(report.to_json(), "utf-8")
    return store.save_session(client_id, report, staging, profile)


def test_new_database_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION == 2
    con = sqlite3.connect(store.db_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clients", "sessions", "reps", "flags"} <= tables
    con.close()
    assert store.data_dir == tmp_path / "h.files"
    assert store.integrity_ok()


def test_db_path_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BACKCHECK_DB", str(tmp_path / "x.sqlite3"))
    assert default_db_path() == tmp_path / "x.sqlite3"
    monkeypatch.delenv("BACKCHECK_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "backcheck" / "history.sqlite3"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    HistoryStore(db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(HistoryError, match="newer backcheck"):
        HistoryStore(db)


def test_clients_round_trip_with_profile_and_neutral(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    kim = store.add_client(
        ClientProfile(name="  Kim   Lee ", flexion_intolerant=True, strictness="strict")
    )
    assert kim.name == "Kim Lee"
    assert kim.profile.flexion_intolerant and not kim.profile.extension_intolerant
    assert kim.profile.strictness == "strict"
    with pytest.raises(HistoryError, match="already a client"):
        store.add_client(ClientProfile(name="kim lee"))
    with pytest.raises(HistoryError, match="name"):
        store.add_client(ClientProfile(name="   "))
    store.set_neutral(kim.id, {"standing_trunk_deg": 3.5}, "standing clip a.mp4")
    kim = store.update_client(kim.id, ClientProfile(name="Kim Lee", extension_intolerant=True))
    assert kim.profile.neutral == {"standing_trunk_deg": 3.5}  # kept by a profile edit
    assert kim.profile.extension_intolerant and not kim.profile.flexion_intolerant
    assert kim.neutral_source == "standing clip a.mp4"
    store.add_client(ClientProfile(name="Alex"))
    assert [c.name for c in HistoryStore(store.db_path).clients()] == ["Alex", "Kim Lee"]


def test_a_session_is_saved_with_its_reps_flags_and_report(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim", flexion_intolerant=True))
    report = hinge_report(flexion=(4.0, 22.0, 12.0))
    staging = store.new_staging_dir()
    (staging / "report.json").write_text(report.to_json(), "utf-8")
    summary = store.save_session(kim.id, report, staging, kim.profile)
    assert not staging.exists()
    assert summary.folder.parent == store.sessions_dir
    assert (summary.folder / "report.json").exists()
    assert summary.n_reps == 3 and summary.n_flagged_reps == 2
    assert summary.worst_flexion_deg == pytest.approx(22.0)
    assert summary.worst_extension_deg == pytest.approx(0.0)
    assert summary.hold_s is None

    reopened = HistoryStore(store.db_path)  # as after a restart
    record = reopened.session(summary.id)
    assert record.report.to_dict() == report.to_dict()
    assert record.profile.flexion_intolerant
    reps = reopened.rep_rows(summary.id)
    assert [r["rep"] for r in reps] == [1, 2, 3]
    assert [r["flags"] for r in reps] == [[], ["spine_flexion"], ["spine_flexion"]]
    assert reps[1]["metrics"]["spine_flexion_deg"] == pytest.approx(22.0)
    flags = reopened.flag_rows(summary.id)
    assert [(f["rep"], f["severity"], f["peak_s"]) for f in flags] == [
        (2, "marked", 3.0),
        (3, "mild", 5.0),
    ]


def test_plank_sessions_keep_hold_and_time_in_tolerance(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    _save(store, kim.id, plank_report(hold_s=20.0, in_tol_s=15.5))
    _save(store, kim.id, plank_report(hold_s=30.0, in_tol_s=28.0))
    got = [(s.exercise, s.hold_s, s.in_tolerance_s) for s in store.sessions(kim.id)]
    assert got == [("plank", 20.0, 15.5), ("plank", 30.0, 28.0)]
    assert store.sessions(kim.id)[0].worst_line_deg == pytest.approx(14.0)


def test_a_failed_save_writes_nothing_and_keeps_the_outputs_for_the_sweep(tmp_path: Path) -> None:
    class Failing(HistoryStore):
        def _write_flags(self, con, session_id, report):
            raise RuntimeError("disk on fire")

    store = Failing(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    staging = store.new_staging_dir()
    with pytest.raises(RuntimeError):
        store.save_session(kim.id, hinge_report(), staging)
    assert store.sessions() == []
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 0
    assert staging.exists() and list(store.sessions_dir.iterdir()) == []
    assert store.sweep(older_than_s=0) == [staging]
    assert not staging.exists()


def test_sweep_keeps_saved_and_fresh_folders(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    saved = _save(store, kim.id, hinge_report())
    orphan = store.sessions_dir / "orphan"
    orphan.mkdir()
    fresh = store.new_staging_dir()
    assert store.sweep() == []  # nothing is old enough yet
    old = 1_000_000_000
    os.utime(orphan, (old, old))
    assert store.sweep() == [orphan]
    assert saved.folder.exists() and fresh.exists()


def test_deleting_a_session_removes_rows_and_folder(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    s = _save(store, kim.id, hinge_report())
    store.delete_session(s.id)
    assert store.sessions() == [] and not s.folder.exists()
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("SELECT count(*) FROM flags").fetchone()[0] == 0


_WRITER = textwrap.dedent(
    """
    import sys, time
    from backcheck.history import HistoryStore
    from metrics.profile import ClientProfile
    from tests.app_data import hinge_report

    class Slow(HistoryStore):
        slow = False
        def _write_flags(self, con, session_id, report):
            super()._write_flags(con, session_id, report)
            if self.slow:
                print("mid-transaction", flush=True)
                time.sleep(120)

    store = Slow(sys.argv[1])
    kim = store.add_client(ClientProfile(name="Kim"))
    for i in range(3):
        staging = store.new_staging_dir()
        (staging / "report.json").write_text("{}")
        s = store.save_session(kim.id, hinge_report(file=f"set{i}.mp4"), staging)
        print("saved", s.id, flush=True)
    # An analysis in progress: outputs half written in a staging folder.
    staging = store.new_staging_dir()
    (staging / "timeseries.csv").write_text("t_s\\n0.0\\n")
    print("analysing", staging, flush=True)
    store.slow = True
    store.save_session(kim.id, hinge_report(file="set3.mp4"), staging)
    print("should not get here", flush=True)
    """
)


def test_killing_a_writer_mid_save_loses_nothing_already_saved(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("mid-transaction"):
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
    assert lines[-1] == "mid-transaction", lines
    assert proc.returncode == -signal.SIGKILL
    saved = [int(x.split()[1]) for x in lines if x.startswith("saved")]
    assert len(saved) == 3

    store = HistoryStore(db)  # reopened after the kill, as the app would be
    assert store.integrity_ok()
    sessions = store.sessions()
    assert [s.id for s in sessions] == saved
    assert [s.source_file for s in sessions] == ["set0.mp4", "set1.mp4", "set2.mp4"]
    for s in sessions:
        assert len(store.rep_rows(s.id)) == 3
        assert len(store.flag_rows(s.id)) == 2
        assert s.folder.is_dir()
    with sqlite3.connect(db) as con:  # nothing of the killed save got in
        assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 9
        assert con.execute("SELECT count(*) FROM flags").fetchone()[0] == 6
    # The killed save's folder and nothing else is left over, and the sweep removes it.
    removed = store.sweep(older_than_s=0)
    assert len(removed) == 1 and removed[0].name == Path(lines[3].split()[1]).name
    assert all(s.folder.is_dir() for s in store.sessions())
    # The store still takes new sessions.
    assert _save(store, sessions[0].client_id, hinge_report()).id > max(saved)


# --- quick checks: analyse without a client, move to a client afterwards ----------------


def test_quick_checks_are_kept_apart_and_move_to_a_real_client(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    quick = store.quick_check()
    assert quick.name == QUICK_CHECK and quick.quick_check
    assert store.quick_check().id == quick.id  # made once
    assert store.clients() == []  # not a client
    a = _save(store, quick.id, hinge_report(file="try1.mp4"))
    b = _save(store, quick.id, hinge_report(file="try2.mp4", flexion=(4.0, 5.0, 6.0)))
    kim = store.add_client(ClientProfile(name="Kim", flexion_intolerant=True))
    assert [c.name for c in store.clients()] == ["Kim"]
    assert store.sessions(kim.id) == []

    moved = store.move_session(a.id, kim.id)
    assert moved.client_id == kim.id and moved.folder == a.folder and a.folder.is_dir()
    assert [s.source_file for s in store.sessions(kim.id)] == ["try1.mp4"]
    assert [s.source_file for s in store.sessions(quick.id)] == ["try2.mp4"]
    # Moved whole: its reps and flags follow, the report is as it was judged.
    assert len(store.rep_rows(a.id)) == 3 and len(store.flag_rows(a.id)) == 2
    assert store.session(a.id).report.to_dict() == hinge_report(file="try1.mp4").to_dict()
    with pytest.raises(HistoryError, match="No client"):
        store.move_session(b.id, 999)
    with pytest.raises(HistoryError, match="No saved session"):
        store.move_session(999, kim.id)
    # The name is kept for quick checks.
    with pytest.raises(HistoryError, match="kept for checks without a client"):
        store.add_client(ClientProfile(name=" quick  CHECK "))
    with pytest.raises(HistoryError, match="kept for checks without a client"):
        store.update_client(kim.id, ClientProfile(name="Quick check"))


def test_a_version_1_database_is_migrated_with_its_clients_and_sessions(tmp_path: Path) -> None:
    from backcheck.history import _MIGRATIONS

    db = tmp_path / "h.sqlite3"
    con = sqlite3.connect(db)
    con.executescript(_MIGRATIONS[1] + "; PRAGMA user_version = 1;")
    con.execute("INSERT INTO clients (name, created_at, updated_at) VALUES ('Kim', 'x', 'x')")
    con.commit()
    con.close()
    store = HistoryStore(db)
    assert store.schema_version() == 2
    (kim,) = store.clients()
    assert kim.name == "Kim" and not kim.quick_check
    assert store.quick_check().id != kim.id


def test_many_sessions_making_the_quick_check_at_once_make_one(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    HistoryStore(db)
    ids: list[int] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            ids.append(HistoryStore(db).quick_check().id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 1 and len(ids) == 8


# --- under load and when things go wrong ---------------------------------------------

_CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from backcheck.history import HistoryStore
    from metrics.profile import ClientProfile
    from tests.app_data import hinge_report

    db, me, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    store = HistoryStore(db)
    quick = store.quick_check()
    mine = store.add_client(ClientProfile(name=f"Client {me}"))
    while not go.exists():  # every writer starts saving at the same moment
        time.sleep(0.01)
    for i in range(10):
        staging = store.new_staging_dir()
        (staging / "report.json").write_text("{}")
        s = store.save_session(quick.id, hinge_report(file=f"w{me}-{i}.mp4"), staging)
        if i % 2:
            store.move_session(s.id, mine.id)
    print("done", flush=True)
    """
)


def test_concurrent_writers_from_four_processes_all_land(tmp_path: Path) -> None:
    """Four app servers (or CLI runs) saving into one history at once: every session,
    rep, flag and move lands, and the file stays consistent (WAL + busy timeout)."""
    db = tmp_path / "h.sqlite3"
    HistoryStore(db)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_WRITER, str(db), str(n), str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    while len(HistoryStore(db).clients()) < 4 and all(p.poll() is None for p in procs):
        time.sleep(0.05)
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    store = HistoryStore(db)
    assert store.integrity_ok()
    quick = store.quick_check()
    assert len(store.sessions()) == 40
    assert len(store.sessions(quick.id)) == 20
    for client in store.clients():
        n = client.name.split()[-1]
        got = sorted(s.source_file for s in store.sessions(client.id))
        assert got == sorted(f"w{n}-{i}.mp4" for i in (1, 3, 5, 7, 9))
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 120
        assert con.execute("SELECT count(*) FROM flags").fetchone()[0] == 80
    assert len(list(store.sessions_dir.iterdir())) == 40
    assert list(store.staging_dir.iterdir()) == []


def test_a_full_disk_saves_nothing_and_says_so(tmp_path: Path) -> None:
    """SQLite's own "database or disk is full" (the file may not grow): no session, rep or
    flag rows, the outputs go back to staging for the sweep, and the store works again
    once there is room."""

    class Full(HistoryStore):
        full = False

        @contextmanager
        def connect(self) -> Iterator[sqlite3.Connection]:
            with super().connect() as con:
                if self.full:  # the file may not grow by a single page
                    pages = con.execute("PRAGMA page_count").fetchone()[0]
                    con.execute(f"PRAGMA max_page_count = {pages}")
                yield con

    store = Full(tmp_path / "h.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    first = _save(store, kim.id, hinge_report(file="before.mp4"))
    store.full = True
    staging = store.new_staging_dir()
    (staging / "report.json").write_text("{}")
    big = hinge_report(file="x" * 200_000 + ".mp4")  # more than the free pages hold
    with pytest.raises(HistoryError, match="disk is full"):
        store.save_session(kim.id, big, staging)
    assert [s.id for s in store.sessions()] == [first.id]
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM flags").fetchone()[0] == 2
    assert staging.is_dir() and sorted(store.sessions_dir.iterdir()) == [first.folder]
    assert store.integrity_ok()
    store.full = False
    assert _save(store, kim.id, hinge_report(file="after.mp4")).id > first.id


def test_a_full_disk_while_writing_the_outputs_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC from the file system while an upload's outputs are written: a one-line
    reason, no session, no staging folder."""
    import errno

    import backcheck.pipeline
    from backcheck.ui import uploads

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def fake_analysis(video, out_dir, **options):  # the pose pass is not what is tested
        Path(out_dir, "report.json").write_text("{}")
        backcheck.pipeline.write_timeseries(Path(out_dir) / "timeseries.csv", None)  # type: ignore[arg-type]

    monkeypatch.setattr(backcheck.pipeline, "write_timeseries", full)
    monkeypatch.setattr(backcheck.pipeline, "analyze_video", fake_analysis)
    store = HistoryStore(tmp_path / "h.sqlite3")
    quick = store.quick_check()
    with pytest.raises(HistoryError, match="disk is full"):
        uploads.analyse_upload(store, quick, "try.mp4", io.BytesIO(b"\0" * 1000))
    assert store.sessions() == []
    assert list(store.staging_dir.iterdir()) == []
    assert list(store.sessions_dir.iterdir()) == []
