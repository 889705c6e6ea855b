"""Each client's history in an embedded SQLite file: clients, sessions, reps and flags.

Why it is shaped this way
-------------------------
- One file, WAL mode, ``synchronous=FULL``: a reader never blocks the writer, and a
  transaction that committed survives the process being killed a moment later.
- A session is saved in one transaction (session row, its reps, its flags and the full
  report JSON), so a kill mid-save leaves either the whole session or none of it.
- The analysis outputs (report.json, timeseries.csv, annotated.mp4, …) live in a folder
  per session under `data_dir`. An analysis writes into a staging folder first; the folder
  is moved into place (one rename) just before the database transaction. A kill during the
  analysis leaves only a staging folder, which `sweep` removes later.
- The schema is versioned with ``PRAGMA user_version`` and migrated forward on open.
- Every call opens its own short-lived connection, so the store can be shared between
  Streamlit's script threads and between processes.
- A coach who only wants to try the tool analyses under "Quick check", a client row
  marked ``quick_check``: kept apart from real clients (`clients()` leaves it out), and a
  session is moved to a real client later with `move_session`.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metrics.profile import ClientProfile
from metrics.report import Report

SCHEMA_VERSION = 2
DB_ENV = "BACKCHECK_DB"
DB_FILENAME = "history.sqlite3"
# Staging folders older than this are leftovers of an analysis that was killed.
STALE_AFTER_S = 6 * 3600.0
# The name the quick-check "client" shows under; no real client may take it.
QUICK_CHECK = "Quick check"

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE clients (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
        flexion_intolerant INTEGER NOT NULL DEFAULT 0,
        extension_intolerant INTEGER NOT NULL DEFAULT 0,
        strictness TEXT NOT NULL DEFAULT 'standard'
            CHECK (strictness IN ('relaxed', 'standard', 'strict')),
        neutral_json TEXT NOT NULL DEFAULT '{}',
        neutral_source TEXT,
        notes TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        source_file TEXT NOT NULL,
        exercise TEXT NOT NULL,
        duration_s REAL,
        camera TEXT,
        judgeable INTEGER NOT NULL,
        n_reps INTEGER NOT NULL,
        n_flagged_reps INTEGER NOT NULL,
        worst_flexion_deg REAL,
        worst_extension_deg REAL,
        hold_s REAL,
        in_tolerance_s REAL,
        worst_line_deg REAL,
        folder TEXT NOT NULL UNIQUE,
        profile_json TEXT NOT NULL,
        report_json TEXT NOT NULL
    );
    CREATE INDEX sessions_by_client ON sessions(client_id, created_at);
    CREATE TABLE reps (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        rep INTEGER NOT NULL,
        start_s REAL NOT NULL,
        bottom_s REAL NOT NULL,
        end_s REAL NOT NULL,
        metrics_json TEXT NOT NULL,
        flags TEXT NOT NULL,
        PRIMARY KEY (session_id, rep)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        severity TEXT NOT NULL,
        rep INTEGER,
        start_s REAL NOT NULL,
        peak_s REAL NOT NULL,
        end_s REAL NOT NULL,
        value REAL,
        threshold REAL,
        unit TEXT NOT NULL
    );
    CREATE INDEX flags_by_session ON flags(session_id);
    """,
    2: """
    ALTER TABLE clients ADD COLUMN quick_check INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX one_quick_check ON clients(quick_check) WHERE quick_check = 1;
    """,
}


class HistoryError(Exception):
    """A history operation a coach asked for that cannot be done; `str()` says why."""


DISK_FULL = "The disk is full, so nothing was saved: free some space and analyse again."


def is_disk_full(err: BaseException) -> bool:
    """True for a full disk, whether the OS said so (ENOSPC) or SQLite (SQLITE_FULL)."""
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    return getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def default_db_path() -> Path:
    """`$BACKCHECK_DB`, else `$XDG_DATA_HOME/backcheck/history.sqlite3` (~/.local/share)."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "backcheck" / DB_FILENAME


@dataclass(frozen=True)
class Client:
    """A client and their profile (intolerances, strictness, neutral calibration)."""

    id: int
    name: str
    profile: ClientProfile
    neutral_source: str | None
    notes: str
    created_at: str
    quick_check: bool = False


@dataclass(frozen=True)
class SessionSummary:
    """One analysed video, with the numbers the progress charts need."""

    id: int
    client_id: int
    created_at: str
    source_file: str
    exercise: str
    duration_s: float | None
    camera: str | None
    judgeable: bool
    n_reps: int
    n_flagged_reps: int
    worst_flexion_deg: float | None
    worst_extension_deg: float | None
    hold_s: float | None
    in_tolerance_s: float | None
    worst_line_deg: float | None
    folder: Path


@dataclass(frozen=True)
class SessionRecord:
    """A saved session in full: its summary, report, and the profile it was judged with."""

    summary: SessionSummary
    report: Report
    profile: ClientProfile

    @property
    def folder(self) -> Path:
        return self.summary.folder


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def session_numbers(report: Report) -> dict[str, Any]:
    """The per-session numbers kept as columns for progress over time.

    Worst spinal flexion/extension: the largest per-rep ``spine_flexion_deg`` /
    ``spine_extension_deg`` metric, else the largest flag value of that code, else None.
    """

    def worst(metric: str, code: str) -> float | None:
        values = [
            float(v)
            for r in report.reps
            if isinstance(v := r.metrics.get(metric), int | float) and v == v
        ]
        if not values:
            values = [f.value for f in report.flags if f.code == code]
        return max(values) if values else None

    hold = report.hold
    return {
        "exercise": report.exercise,
        "duration_s": report.source.duration_s,
        "camera": report.view.camera,
        "judgeable": int(report.view.judgeable),
        "n_reps": len(report.reps),
        "n_flagged_reps": sum(1 for r in report.reps if r.flags),
        "worst_flexion_deg": worst("spine_flexion_deg", "spine_flexion"),
        "worst_extension_deg": worst("spine_extension_deg", "spine_extension"),
        "hold_s": hold.duration_s if hold else None,
        "in_tolerance_s": hold.in_tolerance_s if hold else None,
        "worst_line_deg": hold.worst_line_deg if hold else None,
    }


class HistoryStore:
    """The SQLite history at `db_path`, with session folders under `data_dir`.

    `data_dir` defaults to ``<db folder>/<db stem>.files`` so two databases in one folder
    never share (or sweep) each other's files.
    """

    def __init__(self, db_path: str | Path, data_dir: str | Path | None = None) -> None:
        self.db_path = Path(db_path).expanduser().resolve()
        self.data_dir = (
            Path(data_dir).expanduser().resolve()
            if data_dir is not None
            else self.db_path.parent / f"{self.db_path.stem}.files"
        )
        self.sessions_dir = self.data_dir / "sessions"
        self.staging_dir = self.data_dir / "staging"
        for d in (self.db_path.parent, self.sessions_dir, self.staging_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # ------------------------------------------------------------------ connections

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one unit of work; committed on success, rolled back on error."""
        con = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA busy_timeout = 30000")
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk).
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _migrate(self) -> None:
        with self.connect() as con:
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise HistoryError(f"could not put {self.db_path} in WAL mode (got {mode})")
        with self._transaction() as con:
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"{self.db_path} was written by a newer backcheck "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); update backcheck."
                )
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {v}")

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

    # ---------------------------------------------------------------------- clients

    def add_client(self, profile: ClientProfile, notes: str = "") -> Client:
        """Add a client; raises `HistoryError` for an empty or already used name."""
        name = _client_name(profile)
        now = _now()
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO clients (name, flexion_intolerant, extension_intolerant,"
                    " strictness, neutral_json, notes, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        int(profile.flexion_intolerant),
                        int(profile.extension_intolerant),
                        profile.strictness,
                        json.dumps(profile.neutral),
                        notes,
                        now,
                        now,
                    ),
                )
                client_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise HistoryError(f"There is already a client called {name!r}.") from exc
        return self.client(client_id)

    def update_client(
        self, client_id: int, profile: ClientProfile, notes: str | None = None
    ) -> Client:
        """Change a client's name, intolerances and strictness (the neutral is kept)."""
        name = _client_name(profile)
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "UPDATE clients SET name = ?, flexion_intolerant = ?,"
                    " extension_intolerant = ?, strictness = ?,"
                    " notes = COALESCE(?, notes), updated_at = ?"
                    " WHERE id = ? AND quick_check = 0",
                    (
                        name,
                        int(profile.flexion_intolerant),
                        int(profile.extension_intolerant),
                        profile.strictness,
                        notes,
                        _now(),
                        client_id,
                    ),
                )
                if cur.rowcount != 1:
                    raise HistoryError(f"No client with id {client_id}.")
        except sqlite3.IntegrityError as exc:
            raise HistoryError(f"There is already a client called {name!r}.") from exc
        return self.client(client_id)

    def set_neutral(self, client_id: int, neutral: dict[str, float], source: str) -> Client:
        """Store a client's neutral calibration and where it came from."""
        clean = {str(k): float(v) for k, v in neutral.items()}
        with self._transaction() as con:
            cur = con.execute(
                "UPDATE clients SET neutral_json = ?, neutral_source = ?, updated_at = ?"
                " WHERE id = ?",
                (json.dumps(clean), source, _now(), client_id),
            )
            if cur.rowcount != 1:
                raise HistoryError(f"No client with id {client_id}.")
        return self.client(client_id)

    def clients(self) -> list[Client]:
        """All real clients, by name (the quick check is not one of them)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT * FROM clients WHERE quick_check = 0 ORDER BY name COLLATE NOCASE"
            ).fetchall()
        return [_client(r) for r in rows]

    def quick_check(self) -> Client:
        """The quick-check "client" that sessions go to when no client was picked; made on
        first use, with the default profile."""
        with self.connect() as con:
            row = con.execute("SELECT * FROM clients WHERE quick_check = 1").fetchone()
        if row is not None:
            return _client(row)
        now = _now()
        with self._transaction() as con:
            # Another session may have just made it (the unique index keeps one).
            con.execute(
                "INSERT OR IGNORE INTO clients (name, quick_check, created_at, updated_at)"
                " VALUES (?, 1, ?, ?)",
                (QUICK_CHECK, now, now),
            )
            row = con.execute("SELECT * FROM clients WHERE quick_check = 1").fetchone()
        if row is None:  # a client of that name from before quick checks existed
            raise HistoryError(
                f"A client is called {QUICK_CHECK!r}; rename them to use quick checks."
            )
        return _client(row)

    def move_session(
        self,
        session_id: int,
        client_id: int,
        *,
        rejudged: Report | None = None,
        profile: ClientProfile | None = None,
    ) -> SessionSummary:
        """Move a session (e.g. a quick check) to another client's history.

        With `rejudged` (the session judged again with `profile`, the new client's, see
        `backcheck.rejudge`), its report, numbers, reps and flags are replaced in the same
        transaction as the move; without it the report stays as it was judged. Raises
        `HistoryError` for an unknown session or client.
        """
        self.session(session_id)
        target = self.client(client_id)
        with self._transaction() as con:
            con.execute("UPDATE sessions SET client_id = ? WHERE id = ?", (target.id, session_id))
            if rejudged is not None:
                nums = session_numbers(rejudged)
                columns = ", ".join(f"{name} = :{name}" for name in nums)
                con.execute(
                    f"UPDATE sessions SET {columns}, profile_json = :profile_json,"
                    " report_json = :report_json WHERE id = :id",
                    {
                        **nums,
                        "id": session_id,
                        "profile_json": json.dumps((profile or ClientProfile()).to_dict()),
                        "report_json": rejudged.to_json(),
                    },
                )
                con.execute("DELETE FROM reps WHERE session_id = ?", (session_id,))
                con.execute("DELETE FROM flags WHERE session_id = ?", (session_id,))
                self._write_reps(con, session_id, rejudged)
                self._write_flags(con, session_id, rejudged)
        return self.session(session_id).summary

    def client(self, client_id: int) -> Client:
        with self.connect() as con:
            row = con.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
        if row is None:
            raise HistoryError(f"No client with id {client_id}.")
        return _client(row)

    # --------------------------------------------------------------------- sessions

    def new_staging_dir(self) -> Path:
        """An empty folder for one analysis's outputs, before they are saved."""
        path = self.staging_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    @contextmanager
    def staged(self) -> Iterator[Path]:
        """A staging folder for one analysis to fill and `save_session` to save. If
        anything fails it is removed, and a full disk becomes a one-line `HistoryError`."""
        staging = self.new_staging_dir()
        try:
            yield staging
        except BaseException as err:
            shutil.rmtree(staging, ignore_errors=True)
            if is_disk_full(err):
                raise HistoryError(DISK_FULL) from err
            raise

    def save_session(
        self, client_id: int, report: Report, staging: Path, profile: ClientProfile | None = None
    ) -> SessionSummary:
        """Move `staging` into place and record the session, its reps and flags atomically.

        The folder is renamed first (atomic on one file system), then one transaction
        writes everything else. A kill between the two leaves an unreferenced folder that
        `sweep` removes; it never leaves a session row without its reps and flags.
        """
        staging = Path(staging).resolve()
        if staging.parent != self.staging_dir:
            raise ValueError(f"{staging} is not a staging folder of this store")
        self.client(client_id)  # a clear error before anything moves
        final = self.sessions_dir / staging.name
        os.replace(staging, final)
        profile = profile or ClientProfile()
        nums = session_numbers(report)
        try:
            with self._transaction() as con:
                cur = con.execute(
                    "INSERT INTO sessions (client_id, created_at, source_file, exercise,"
                    " duration_s, camera, judgeable, n_reps, n_flagged_reps,"
                    " worst_flexion_deg, worst_extension_deg, hold_s, in_tolerance_s,"
                    " worst_line_deg, folder, profile_json, report_json)"
                    " VALUES (:client_id, :created_at, :source_file, :exercise, :duration_s,"
                    " :camera, :judgeable, :n_reps, :n_flagged_reps, :worst_flexion_deg,"
                    " :worst_extension_deg, :hold_s, :in_tolerance_s, :worst_line_deg,"
                    " :folder, :profile_json, :report_json)",
                    {
                        **nums,
                        "client_id": client_id,
                        "created_at": _now(),
                        "source_file": report.source.file,
                        "folder": final.name,
                        "profile_json": json.dumps(profile.to_dict()),
                        "report_json": report.to_json(),
                    },
                )
                session_id = int(cur.lastrowid or 0)
                self._write_reps(con, session_id, report)
                self._write_flags(con, session_id, report)
        except BaseException as err:
            # Not saved: put the folder back where `sweep` will find it.
            if final.exists():
                os.replace(final, staging)
            if is_disk_full(err):
                raise HistoryError(DISK_FULL) from err
            raise
        return self.session(session_id).summary

    def _write_reps(self, con: sqlite3.Connection, session_id: int, report: Report) -> None:
        reps = report.to_dict()["reps"]  # NaN already null, as in report.json
        con.executemany(
            "INSERT INTO reps (session_id, rep, start_s, bottom_s, end_s, metrics_json, flags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    session_id,
                    r["index"],
                    r["start_s"],
                    r["bottom_s"],
                    r["end_s"],
                    json.dumps(r["metrics"]),
                    ",".join(r["flags"]),
                )
                for r in reps
            ],
        )

    def _write_flags(self, con: sqlite3.Connection, session_id: int, report: Report) -> None:
        keys = ("code", "severity", "rep", "start_s", "peak_s", "end_s", "value", "threshold")
        con.executemany(
            "INSERT INTO flags (session_id, code, severity, rep, start_s, peak_s, end_s,"
            " value, threshold, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(session_id, *(f[k] for k in keys), f["unit"]) for f in report.to_dict()["flags"]],
        )

    def sessions(self, client_id: int | None = None) -> list[SessionSummary]:
        """Saved sessions, oldest first (one client's, or everyone's)."""
        query = "SELECT * FROM sessions"
        args: tuple[Any, ...] = ()
        if client_id is not None:
            query += " WHERE client_id = ?"
            args = (client_id,)
        with self.connect() as con:
            rows = con.execute(query + " ORDER BY created_at, id", args).fetchall()
        return [self._summary(r) for r in rows]

    def session(self, session_id: int) -> SessionRecord:
        with self.connect() as con:
            row = con.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise HistoryError(f"No saved session with id {session_id}.")
        return SessionRecord(
            summary=self._summary(row),
            report=Report.from_dict(json.loads(row["report_json"])),
            profile=ClientProfile.from_dict(json.loads(row["profile_json"])),
        )

    def rep_rows(self, session_id: int) -> list[dict[str, Any]]:
        """The reps of a session as stored: rep, times, metrics and flag codes."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT * FROM reps WHERE session_id = ? ORDER BY rep", (session_id,)
            ).fetchall()
        return [
            {
                "rep": r["rep"],
                "start_s": r["start_s"],
                "bottom_s": r["bottom_s"],
                "end_s": r["end_s"],
                "metrics": json.loads(r["metrics_json"]),
                "flags": [c for c in r["flags"].split(",") if c],
            }
            for r in rows
        ]

    def flag_rows(self, session_id: int) -> list[dict[str, Any]]:
        with self.connect() as con:
            rows = con.execute(
                "SELECT * FROM flags WHERE session_id = ? ORDER BY start_s, id", (session_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def delete_session(self, session_id: int) -> None:
        """Forget a session and remove its folder."""
        record = self.session(session_id)
        with self._transaction() as con:
            con.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        shutil.rmtree(record.folder, ignore_errors=True)

    def sweep(self, older_than_s: float = STALE_AFTER_S) -> list[Path]:
        """Remove leftovers of killed analyses: old staging folders and session folders no
        saved session refers to. Returns what was removed."""
        cutoff = time.time() - older_than_s
        with self.connect() as con:
            known = {r[0] for r in con.execute("SELECT folder FROM sessions")}
        removed: list[Path] = []
        for parent, keep in ((self.staging_dir, set()), (self.sessions_dir, known)):
            for path in parent.iterdir():
                if path.name in keep:
                    continue
                try:
                    if path.stat().st_mtime > cutoff:
                        continue
                except FileNotFoundError:
                    continue
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def integrity_ok(self) -> bool:
        with self.connect() as con:
            return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def _summary(self, row: sqlite3.Row) -> SessionSummary:
        return SessionSummary(
            id=row["id"],
            client_id=row["client_id"],
            created_at=row["created_at"],
            source_file=row["source_file"],
            exercise=row["exercise"],
            duration_s=row["duration_s"],
            camera=row["camera"],
            judgeable=bool(row["judgeable"]),
            n_reps=row["n_reps"],
            n_flagged_reps=row["n_flagged_reps"],
            worst_flexion_deg=row["worst_flexion_deg"],
            worst_extension_deg=row["worst_extension_deg"],
            hold_s=row["hold_s"],
            in_tolerance_s=row["in_tolerance_s"],
            worst_line_deg=row["worst_line_deg"],
            folder=self.sessions_dir / row["folder"],
        )


def _client(row: sqlite3.Row) -> Client:
    profile = ClientProfile.from_dict(
        {
            "name": row["name"],
            "flexion_intolerant": bool(row["flexion_intolerant"]),
            "extension_intolerant": bool(row["extension_intolerant"]),
            "strictness": row["strictness"],
            "neutral": json.loads(row["neutral_json"] or "{}"),
        }
    )
    return Client(
        id=row["id"],
        name=row["name"],
        profile=profile,
        neutral_source=row["neutral_source"],
        notes=row["notes"],
        created_at=row["created_at"],
        quick_check=bool(row["quick_check"]),
    )


def _client_name(profile: ClientProfile) -> str:
    """The name a client is saved under; `HistoryError` for an empty or reserved one."""
    name = " ".join(profile.name.split())
    if not name:
        raise HistoryError("Give the client a name.")
    if name.casefold() == QUICK_CHECK.casefold():
        raise HistoryError(
            f"{QUICK_CHECK!r} is kept for checks without a client: pick another name."
        )
    return name
