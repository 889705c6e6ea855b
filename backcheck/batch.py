"""`backcheck batch`: many clips (or saved tracks) analysed on Ray, into one output folder
with an index.

Each clip is one Ray actor call on a `ClipWorker` that owns a core and keeps its pose model
loaded. One call per worker is in flight at a time (`ray.wait` hands the next clip to the
worker that just finished), so memory stays flat however long the list. Inputs whose
content is already done (by SHA-256, see `batch_index`) are skipped; every finished clip is
journalled at once, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO, cast

from backcheck.batch_index import BatchIndex, Row, summary_line
from backcheck.batch_inputs import HASHES_JSON, HashMemo, Job, track_jobs, video_jobs
from models.registry import FAST_PASS_HELP, MODE_DEFAULTS

# The index is rewritten at most this often during a run (the journal has every row).
_INDEX_EVERY_S = 10.0
# A worker's memory creeps up by a few MB a clip (445 -> 546 MB over 11 clips in
# docs/batch.md); a fresh one every so many clips bounds it, for a 2 s model load.
RECYCLE_AFTER = 50
WORKER_PREFIX = "backcheck-batch-"


def run_batch(
    jobs: list[Job],
    out: Path,
    *,
    model: str = MODE_DEFAULTS["batch"],
    workers: int | None = None,
    address: str | None = None,
    on_row: Callable[[Row, int, int], None] | None = None,
    recycle_after: int = RECYCLE_AFTER,
) -> list[Row]:
    """Run `jobs` on Ray into `out`; returns one row per job, in the jobs' order.

    Uses Ray as this process finds it: already connected, else joins `address`, else
    starts it here with `workers` cores. `on_row(row, done, total)` is called as rows come.
    A worker is replaced by a fresh one after `recycle_after` clips.
    """
    out.mkdir(parents=True, exist_ok=True)
    index = BatchIndex(out)
    rows: dict[int, Row] = {}
    settings = {i: job.settings(model) for i, job in enumerate(jobs)}
    first_of: dict[tuple[str, str], int] = {}
    copies: dict[int, list[int]] = {}
    todo: deque[int] = deque()

    def finish(i: int, row: Row) -> None:
        rows[i] = row
        index.add(row)
        index.write(every_s=_INDEX_EVERY_S)
        if on_row is not None:
            on_row(row, len(rows), len(jobs))

    for i, job in enumerate(jobs):
        if job.reason is not None or job.key is None:
            finish(i, _unread_row(job, settings[i]))
            continue
        done = index.done_row(job.key, settings[i])
        if done is not None:
            finish(i, replace(done, input=job.input, client=job.client, reused=True))
        elif (job.key, settings[i]) in first_of:
            copies.setdefault(first_of[(job.key, settings[i])], []).append(i)
        else:
            first_of[(job.key, settings[i])] = i
            todo.append(i)

    try:
        if todo:
            _run_on_ray(jobs, todo, out, model, workers, address, settings, finish, recycle_after)
        for first, same in copies.items():
            for i in same:  # the same content under another name: analysed once
                finish(i, replace(rows[first], input=jobs[i].input, client=jobs[i].client))
    finally:
        index.write()
    return [rows[i] for i in range(len(jobs))]


def _run_on_ray(
    jobs: list[Job],
    todo: deque[int],
    out: Path,
    model: str,
    workers: int | None,
    address: str | None,
    settings: dict[int, str],
    finish: Callable[[int, Row], None],
    recycle_after: int,
) -> None:
    import ray

    from backcheck.batch_ray import ClipWorker, cluster_cpus, connect, disconnect

    started = connect(address, num_cpus=workers)
    needs_model = any(jobs[i].kind == "video" for i in todo)
    run = uuid.uuid4().hex[:8]
    made = 0

    def new_worker() -> ray.actor.ActorHandle:
        nonlocal made
        made += 1
        name = f"{WORKER_PREFIX}{run}-{made}"
        # Re-scoring saved tracks needs no pose model.
        return cast(Any, ClipWorker).options(name=name).remote(model, load=needs_model)

    # Workers free for a clip, each with the clips it has done; clips in flight.
    idle: list[tuple[ray.actor.ActorHandle, int]] = []
    pending: dict[ray.ObjectRef, tuple[int, ray.actor.ActorHandle, int]] = {}
    try:
        idle += [(new_worker(), 0) for _ in range(min(workers or cluster_cpus(), len(todo)))]
        while todo or pending:
            while todo and idle:
                (actor, done), i = idle.pop(), todo.popleft()
                pending[actor.run.remote(jobs[i], str(out), settings[i])] = (i, actor, done + 1)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                i, actor, done = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as err:
                    row = _failed_row(jobs[i], settings[i], err)
                    done = recycle_after  # out of restarts: start a fresh one
                finish(i, row)
                if done < recycle_after:
                    idle.append((actor, done))
                    continue
                ray.kill(actor, no_restart=True)  # what a long-lived process gathered goes
                if todo:
                    idle.append((new_worker(), 0))
    finally:
        for actor in [a for a, _ in idle] + [a for _, a, _ in pending.values()]:
            ray.kill(actor)
        if started:
            disconnect()


def _unread_row(job: Job, settings: str) -> Row:
    """The row of an input that never reached a worker: bad before any analysis."""
    reason = job.reason
    if reason is None:
        from metrics.errors import AnalysisError
        from vision.video import probe

        try:
            probe(job.source)  # gives the CLI's reason for a file that cannot be read
            reason = f"{job.source.name}: the file cannot be read"
        except AnalysisError as err:
            reason = str(err)
    return Row(
        input=job.input,
        status="bad_input",
        reason=reason,
        client=job.client,
        kind=job.kind,
        settings=settings,
    )


def _failed_row(job: Job, settings: str, err: Exception) -> Row:
    from backcheck.batch_ray import MAX_RETRIES

    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return Row(
        input=job.input,
        status="failed",
        client=job.client,
        kind=job.kind,
        content_sha256=job.key or "",
        settings=settings,
        reason=f"the worker stopped {MAX_RETRIES + 1} times on this clip ({first[:200]})",
    )


class BatchProgress:
    """Counts, rate and ETA: a bar redrawn in place on a terminal, else a log line at
    each problem and every tenth of the way."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, width: int = 24) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.width = width
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.worked = 0  # clips a worker spent time on in this run
        self._logged_tenth = 0

    def __call__(self, row: Row, done: int, total: int) -> None:
        self.counts[row.status] += 1
        if not row.reused and row.work_s > 0:
            self.worked += 1
        elapsed = time.monotonic() - self.started
        rate = self.worked / elapsed if elapsed > 0 else 0.0
        left = total - done
        eta = f"ETA {_clock(left / rate)}" if rate > 0 and left else ""
        counts = " ".join(f"{k} {self.counts[k]}" for k in ("ok", "bad_input", "failed"))
        line = f"{done}/{total} {counts} | {rate * 3600:.0f} clips/h {eta}".rstrip()
        if self.tty:
            n = round(self.width * done / total) if total else self.width
            self.stream.write(f"\r[{'#' * n}{'-' * (self.width - n)}] {line}\x1b[K")
            if done == total:
                self.stream.write("\n")
        else:
            if row.status != "ok":
                self.stream.write(f"backcheck batch: {row.status}: {row.input}: {row.reason}\n")
            tenth = done * 10 // total if total else 10
            if tenth > self._logged_tenth or done == total:
                self._logged_tenth = tenth
                self.stream.write(f"backcheck batch: {line}\n")
        self.stream.flush()


def _clock(s: float) -> str:
    m, sec = divmod(int(s), 60)
    return f"{m // 60}:{m % 60:02d}:{sec:02d}" if m >= 60 else f"{m}:{sec:02d}"


def add_parser(
    sub: argparse._SubParsersAction[Any], parents: list[argparse.ArgumentParser] | None = None
) -> None:
    """The `batch` subcommand's arguments (`parents`: the options every subcommand has)."""
    batch = sub.add_parser(
        "batch",
        parents=parents or [],
        help="analyse many clips on Ray (local by default) into one folder with an index",
    )
    batch.add_argument("inputs", nargs="*", type=Path, help="videos, folders, CSV manifests")
    batch.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="output folder (index.csv)"
    )
    batch.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="join this Ray cluster (auto, HOST:PORT); default: start Ray here",
    )
    batch.add_argument(
        "--workers", type=int, default=None, metavar="N", help="clips at once (default: cores)"
    )
    batch.add_argument(
        "--exercise",
        choices=["auto", "hinge", "plank"],
        default="auto",
        help="auto: detect it (--from-tracks: as the first run was told)",
    )
    batch.add_argument(
        "--model", default=MODE_DEFAULTS["batch"], help="lite, full, heavy or a .task path"
    )
    batch.add_argument("--profile", type=Path, default=None, help="client profile for all inputs")
    batch.add_argument("--fast", action="store_true", help=FAST_PASS_HELP)
    batch.add_argument(
        "--from-tracks",
        type=Path,
        default=None,
        metavar="DIR",
        help="re-score the report folders under DIR from their track.npz",
    )
    batch.add_argument("--quiet", action="store_true", help="no progress output")


def batch_command(args: argparse.Namespace) -> int:
    """`backcheck batch`: exit 0 when no input failed (bad inputs are listed, not fatal)."""
    if bool(args.inputs) == bool(args.from_tracks):
        print(
            "backcheck: give input videos, folders or manifests, or --from-tracks DIR",
            file=sys.stderr,
        )
        return 2
    if args.workers is not None and args.workers < 1:
        print("backcheck: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.fast and args.from_tracks:
        print(
            "backcheck: --fast is a way of finding the pose in videos; --from-tracks "
            "re-scores saved tracks without the pose model",
            file=sys.stderr,
        )
        return 2
    try:
        import ray  # noqa: F401
    except ImportError:
        print('backcheck: batch needs Ray: pip install "backcheck[scale]"', file=sys.stderr)
        return 1
    memo = HashMemo(args.out / HASHES_JSON)  # files unchanged since the last run: not re-read
    if args.from_tracks:
        if not args.from_tracks.is_dir():
            print(f"backcheck: {args.from_tracks} is not a folder", file=sys.stderr)
            return 1
        jobs = track_jobs(args.from_tracks, exercise=args.exercise, profile=args.profile, memo=memo)
    else:
        jobs = video_jobs(args.inputs, exercise=args.exercise, profile=args.profile, memo=memo)
        if args.fast:
            jobs = [replace(job, fast=True) for job in jobs]
    memo.save()
    if not jobs:
        print("backcheck: no inputs found (videos: mp4, mov, m4v, webm, avi)", file=sys.stderr)
        return 1
    progress = None if args.quiet else BatchProgress(sys.stderr)
    started = time.monotonic()
    try:
        rows = run_batch(
            jobs,
            args.out,
            model=args.model,
            workers=args.workers,
            address=args.ray,
            on_row=progress,
        )
    except KeyboardInterrupt:
        print("\nbackcheck: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except ConnectionError as err:  # --ray names no reachable cluster
        first = (str(err).strip().splitlines() or ["no answer"])[0]
        print(f"backcheck: cannot join the Ray cluster at {args.ray}: {first}", file=sys.stderr)
        return 1
    print(summary_line(rows, time.monotonic() - started))
    print(f"Wrote {args.out / 'index.csv'}")
    return 1 if any(r.status == "failed" for r in rows) else 0
