"""The index of a batch: one row per input, what became of it, kept in the output folder.

`index.csv` (and `index.parquet` when pyarrow is installed) is rewritten atomically from
time to time and at the end; every finished clip is also appended at once to
`index.journal.jsonl`, so a batch killed between two rewrites loses nothing. The next
run reads both, and skips any input whose content (and settings) already has an `ok` row
with its report folder on disk, or a `bad_input` row; `failed` inputs are tried again.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

INDEX_CSV = "index.csv"
INDEX_PARQUET = "index.parquet"
JOURNAL = "index.journal.jsonl"
STATUSES = ("ok", "bad_input", "failed")


@dataclass(frozen=True)
class Row:
    """What became of one input."""

    input: str
    status: str  # ok | bad_input | failed
    reason: str = ""  # the one-line reason (bad_input) or the error (failed)
    client: str = ""
    kind: str = "video"
    exercise: str = ""  # what the analysis found (or was told)
    reps: int = 0
    hold_s: float = 0.0
    flags: int = 0
    flag_counts: str = ""  # "spine_flexion=3;knee_dominant=1"
    judgeable: str = ""  # "yes" / "no" / "" (not analysed)
    video_s: float = 0.0  # length of the clip
    work_s: float = 0.0  # wall time the worker spent on it
    cpu_s: float = 0.0  # CPU time the worker's process spent on it (all its threads)
    rss_mb: float = 0.0  # the worker process's resident memory after it
    out_dir: str = ""
    content_sha256: str = ""
    settings: str = ""
    worker: str = ""  # host:pid of the worker process
    finished_at: str = ""
    reused: bool = False  # done in an earlier run: skipped this time

    def key(self) -> tuple[str, str]:
        return (self.input, self.content_sha256)

    def done(self) -> bool:
        """Nothing to redo: bad input (the same bytes give the same reason), or an ok row
        whose report is still on disk."""
        if self.status == "bad_input":
            return bool(self.content_sha256)
        return (
            self.status == "ok"
            and bool(self.out_dir)
            and (Path(self.out_dir) / "report.json").is_file()
        )


_FIELDS = {f.name: f for f in fields(Row)}


def row_from_report(report: Any, **base: Any) -> Row:
    """A row for a finished analysis, from its `Report`."""
    counts = Counter(flag.code for flag in report.flags)
    hold = report.hold.duration_s if report.hold is not None else 0.0
    return Row(
        status="ok",
        exercise=report.exercise,
        reps=len(report.reps),
        hold_s=round(float(hold), 2),
        flags=sum(counts.values()),
        flag_counts=";".join(f"{code}={n}" for code, n in sorted(counts.items())),
        judgeable="yes" if report.view.judgeable else "no",
        video_s=round(float(report.source.duration_s), 3),
        **base,
    )


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELDS[name].type
    if kind == "int":
        return int(float(value or 0))
    if kind == "float":
        return float(value or 0.0)
    if kind == "bool":
        return value in (True, "True", "true", "1", 1)
    return "" if value is None else str(value)


def row_from_dict(data: dict[str, Any]) -> Row:
    return Row(**{k: _coerce(k, v) for k, v in data.items() if k in _FIELDS})


class BatchIndex:
    """The rows of every input ever run into one output folder, newest wins."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: dict[tuple[str, str], Row] = {}
        self._last_write = 0.0
        self._write_s = 0.0
        self._done: dict[tuple[str, str], Row] | None = None
        for row in self._read():
            self.rows[row.key()] = row

    def _read(self) -> Iterable[Row]:
        path = self.out / INDEX_CSV
        if path.is_file():
            with open(path, newline="", encoding="utf-8") as fh:
                yield from (row_from_dict(r) for r in csv.DictReader(fh))
        journal = self.out / JOURNAL
        if journal.is_file():
            for line in journal.read_text("utf-8").splitlines():
                try:
                    yield row_from_dict(json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut short by a kill

    def done_row(self, content_sha256: str, settings: str) -> Row | None:
        """An earlier row for this content and these settings with nothing to redo."""
        if self._done is None:  # looked up once per input: one pass over the rows
            self._done = {}
            for row in self.rows.values():
                if row.content_sha256 and row.done():
                    self._done.setdefault((row.content_sha256, row.settings), row)
        return self._done.get((content_sha256, settings))

    def add(self, row: Row) -> None:
        """Record a finished input: in memory, and appended to the journal at once."""
        self.rows[row.key()] = row
        if self._done is not None and row.content_sha256 and row.done():
            self._done.setdefault((row.content_sha256, row.settings), row)
        with open(self.out / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(row)) + "\n")
            fh.flush()

    def write(self, *, every_s: float = 0.0) -> None:
        """Rewrite index.csv (and index.parquet), unless written less than `every_s` ago."""
        now = time.monotonic()
        # A large index (2 s for 20,000 rows) is rewritten less often, so it never takes
        # more than a twentieth of the run.
        if every_s and now - self._last_write < max(every_s, 20 * self._write_s):
            return
        self._last_write = now
        rows = sorted(self.rows.values(), key=lambda r: (r.client, r.input))
        tmp = self.out / (INDEX_CSV + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(_FIELDS))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)
        os.replace(tmp, self.out / INDEX_CSV)
        _write_parquet(self.out / INDEX_PARQUET, rows)
        self._write_s = time.monotonic() - now
        # Everything in the journal is now in index.csv.
        (self.out / JOURNAL).unlink(missing_ok=True)


def _write_parquet(path: Path, rows: list[Row]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    table = pa.Table.from_pylist([asdict(r) for r in rows]) if rows else None
    if table is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def summary_line(rows: list[Row], elapsed_s: float) -> str:
    """`batch: 12 inputs, 9 ok (3 done earlier), 2 bad input, 1 failed in 1 min 20 s (…)`."""
    counts = Counter(r.status for r in rows)
    reused = sum(r.reused for r in rows)
    worked = sum(1 for r in rows if not r.reused and r.status != "bad_input")
    rate = f", {worked / elapsed_s * 3600:.0f} clips/h" if elapsed_s > 0 and worked else ""
    earlier = f" ({reused} done earlier)" if reused else ""
    return (
        f"batch: {len(rows)} inputs, {counts['ok']} ok{earlier}, "
        f"{counts['bad_input']} bad input, {counts['failed']} failed "
        f"in {_duration(elapsed_s)}{rate}"
    )


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"
