"""`backcheck batch` on a real local Ray (2 CPUs) over short labelled clips and bad files:
the index, a killed worker, an interrupted batch resumed, re-scoring from saved tracks,
and the app's shared-server mode."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from backcheck.batch import run_batch
from backcheck.batch_index import Row
from backcheck.batch_inputs import track_jobs, video_jobs

ROOT = Path(__file__).resolve().parent.parent
# The three shortest labelled clips (1-2 s each) keep these tests to about a minute.
GOOD = "clips/deadlift/posereader_good.mp4"  # 1 rep, no flags (labels)
BAD = "clips/deadlift/posereader_bad.mp4"  # a partial pull with a rounded back
HEEL = "clips/deadlift/posereader_heellift.mp4"  # 1 rep
OUTPUTS = {"report.json", "timeseries.csv", "track.npz", "annotated.mp4"}

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[str]:
    """A real local Ray with 2 CPUs for this module; yields its address."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="WARNING",
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of two clips, a text file and a truncated video named like videos, and a
    manifest naming the third clip for client Kim."""
    folder = tmp_path_factory.mktemp("inputs")
    clips = folder / "clips"
    clips.mkdir()
    (clips / "good.mp4").symlink_to(shared_data / GOOD)
    (clips / "bad.mp4").symlink_to(shared_data / BAD)
    (clips / "notes.mp4").write_text("session notes, not a video\n")
    (clips / "cut.mp4").write_bytes((shared_data / HEEL).read_bytes()[:200_000])
    (folder / "manifest.csv").write_text(
        f"path,client,exercise\n{shared_data / HEEL},Kim,hinge\n", "utf-8"
    )
    return folder


def _index(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "index.csv", newline="", encoding="utf-8") as fh:
        return {Path(r["input"]).name: r for r in csv.DictReader(fh)}


def _cli_reason(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line reason `backcheck analyze` gives for a bad file."""
    from backcheck.cli import main

    assert main(["analyze", str(path), "--quiet"]) == 1
    return capsys.readouterr().err.strip().removeprefix("backcheck: ")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def first_batch(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`backcheck batch` run as a command, starting its own Ray: (output folder, stdout)."""
    out = tmp_path_factory.mktemp("batch") / "out"
    missing = inputs / "clips" / "missing.mp4"
    cmd = [
        sys.executable,
        "-m",
        "backcheck.cli",
        "batch",
        str(inputs / "clips"),
        str(inputs / "manifest.csv"),
        str(missing),
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.mark.clips
def test_batch_indexes_clips_and_bad_inputs(
    first_batch: tuple[Path, str], inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, stdout = first_batch
    rows = _index(out)
    assert set(rows) == {
        "good.mp4",
        "bad.mp4",
        "notes.mp4",
        "cut.mp4",
        "missing.mp4",
        Path(HEEL).name,
    }
    assert "6 inputs, 3 ok, 3 bad input, 0 failed" in stdout
    for name in ("good.mp4", "bad.mp4", Path(HEEL).name):
        row = rows[name]
        assert row["status"] == "ok", row
        assert row["exercise"] == "hinge"
        assert set(os.listdir(row["out_dir"])) == OUTPUTS  # what `analyze` writes, no leftovers
        report = json.loads((Path(row["out_dir"]) / "report.json").read_text())
        assert int(row["reps"]) == len(report["reps"])
        assert int(row["flags"]) == len(report["flags"])
        assert float(row["video_s"]) == pytest.approx(report["source"]["duration_s"])
        assert float(row["work_s"]) > 0
    assert int(rows["good.mp4"]["reps"]) == 1 and int(rows["good.mp4"]["flags"]) == 0
    assert int(rows[Path(HEEL).name]["reps"]) == 1
    assert rows[Path(HEEL).name]["client"] == "Kim"
    assert Path(rows[Path(HEEL).name]["out_dir"]).parent.name == "Kim"
    # Bad files: the same one-line reason the CLI gives, and no output folder.
    for name in ("notes.mp4", "cut.mp4", "missing.mp4"):
        row = rows[name]
        assert row["status"] == "bad_input"
        assert row["reason"] == _cli_reason(inputs / "clips" / name, capsys)
        assert row["out_dir"] == ""
    assert "not a video" in rows["notes.mp4"]["reason"]
    assert "cut short" in rows["cut.mp4"]["reason"]
    assert "not found" in rows["missing.mp4"]["reason"]
    # The Parquet copy holds the same rows.
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "index.parquet").to_pylist()
    assert sorted(r["input"] for r in table) == sorted(r["input"] for r in rows.values())


@pytest.mark.clips
def test_batch_output_is_what_analyze_writes(
    first_batch: tuple[Path, str], shared_data: Path, tmp_path: Path
) -> None:
    """A worker that kept its pose model from an earlier clip gives the report a fresh
    `analyze_video` gives."""
    from backcheck.pipeline import analyze_video

    out, _ = first_batch
    row = _index(out)["bad.mp4"]
    mine = analyze_video(shared_data / BAD, out_dir=tmp_path / "a", write_video=False)
    batch = json.loads((Path(row["out_dir"]) / "report.json").read_text())
    fresh = json.loads(mine.report_path.read_text())
    batch["source"].pop("file"), fresh["source"].pop("file")  # bad.mp4 vs posereader_bad.mp4
    assert batch == fresh


@pytest.mark.clips
def test_batch_fast_analyses_with_the_faster_pass_and_apart_from_the_default(
    first_batch: tuple[Path, str], shared_data: Path, tmp_path: Path
) -> None:
    """`backcheck batch --fast` gives the report `backcheck analyze --fast` gives, says so
    in report.json, and is not taken for the default's earlier result of the same clip."""
    import shutil

    from backcheck.pipeline import analyze_video

    out = tmp_path / "out"
    shutil.copytree(first_batch[0], out)  # this module's other tests read the first
    before = _index(out)["good.mp4"]
    cmd = [sys.executable, "-m", "backcheck.cli", "batch", str(shared_data / GOOD)]
    done = subprocess.run(
        [*cmd, "--out", str(out), "--workers", "1", "--fast"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    row = _index(out)["posereader_good.mp4"]
    assert row["status"] == "ok" and row["reused"] == "False"  # analysed, not reused
    assert row["settings"] == before["settings"] + ";fast"
    batch = json.loads((Path(row["out_dir"]) / "report.json").read_text())
    assert batch["model"]["fast"] is True
    mine = analyze_video(
        shared_data / GOOD, out_dir=tmp_path / "a", write_video=False, follow_one=True
    )
    assert batch == json.loads(mine.report_path.read_text())


@pytest.mark.clips
def test_from_tracks_reproduces_the_reports(
    first_batch: tuple[Path, str], tmp_path: Path, local_ray: str
) -> None:
    out, _ = first_batch
    jobs = track_jobs(out)
    assert len(jobs) == 3
    rows = run_batch(jobs, tmp_path / "rescored", workers=2, recycle_after=1)
    assert [r.status for r in rows] == ["ok"] * 3
    assert len({r.worker for r in rows}) == 3  # a fresh worker after each clip
    for job, row in zip(jobs, rows, strict=True):
        assert row.kind == "track" and row.work_s < 5.0
        old = json.loads((job.source / "report.json").read_text())
        new = json.loads((Path(row.out_dir) / "report.json").read_text())
        assert new == old  # same reps, flags, values, source and model
        assert (Path(row.out_dir) / "timeseries.csv").read_bytes() == (
            job.source / "timeseries.csv"
        ).read_bytes()
    # Re-running the same re-score finds everything done.
    again = run_batch(jobs, tmp_path / "rescored", workers=2)
    assert all(r.reused for r in again)


def _workers_of(parent: int, busy: bool) -> list[int]:
    """Pids of batch worker processes descended from `parent` (this test's Ray), by their
    process title: `ray::ClipWorker.run` while on a clip."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
            if not title.startswith("ray::ClipWorker") or (busy and ".run" not in title):
                continue
            pid = int(entry.name)
            while pid > 1 and pid != parent:
                stat = Path(f"/proc/{pid}/stat").read_text()
                pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if pid == parent:
            found.append(int(entry.name))
    return found


def _run_in_thread(*args: object, **kwargs: object) -> tuple[threading.Thread, list[list[Row]]]:
    result: list[list[Row]] = []
    thread = threading.Thread(target=lambda: result.append(run_batch(*args, **kwargs)))  # type: ignore[arg-type]
    thread.start()
    return thread, result


@pytest.mark.clips
def test_killed_workers_clips_are_analysed_exactly_once(
    inputs: Path, tmp_path: Path, local_ray: str
) -> None:
    jobs = [
        j
        for j in video_jobs([inputs / "clips", inputs / "manifest.csv"])
        if j.input.endswith(("good.mp4", "bad.mp4", "heellift.mp4"))
    ]
    assert len(jobs) == 3
    out = tmp_path / "out"
    thread, result = _run_in_thread(jobs, out, workers=2)
    killed: list[int] = []
    deadline = time.monotonic() + 120
    while not killed and time.monotonic() < deadline and thread.is_alive():
        # Kill every worker that is half-way through a clip (its frame stash exists).
        if list(out.glob("*/.frames-*")) or list(out.glob("*/*/.frames-*")):
            for pid in _workers_of(os.getpid(), busy=True):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.05)
    thread.join(timeout=300)
    assert killed, "no worker was caught mid-clip"
    rows = result[0]
    assert [r.status for r in rows] == ["ok"] * 3, [r.reason for r in rows]
    # Every clip once: one row, one folder, nothing half-written left by the killed attempt.
    folders = {r.out_dir for r in rows}
    assert len(folders) == 3
    for folder in folders:
        assert set(os.listdir(folder)) == OUTPUTS
    assert len(list(out.rglob("report.json"))) == 3
    # The retried clips were finished by restarted worker processes.
    pids = {int(r.worker.rsplit(":", 1)[1]) for r in rows}
    assert not pids & set(killed)


@pytest.mark.clips
def test_a_clip_whose_worker_keeps_dying_is_marked_failed(
    inputs: Path, tmp_path: Path, local_ray: str
) -> None:
    from backcheck.batch_ray import MAX_RETRIES

    jobs = [j for j in video_jobs([inputs / "clips"]) if j.input.endswith("good.mp4")]
    thread, result = _run_in_thread(jobs, tmp_path / "out", workers=1)
    killed: set[int] = set()
    deadline = time.monotonic() + 180
    while thread.is_alive() and time.monotonic() < deadline:
        for pid in set(_workers_of(os.getpid(), busy=True)) - killed:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.05)
    thread.join(timeout=60)
    [row] = result[0]
    assert row.status == "failed"
    assert f"stopped {MAX_RETRIES + 1} times" in row.reason
    assert len(killed) == MAX_RETRIES + 1
    # Not left as done: the next run tries it again.
    from backcheck.batch_index import BatchIndex

    assert BatchIndex(tmp_path / "out").done_row(jobs[0].key or "", row.settings) is None


@pytest.mark.clips
def test_an_interrupted_batch_resumes_with_only_the_missing_clips(
    inputs: Path, tmp_path: Path, local_ray: str
) -> None:
    out = tmp_path / "out"
    clips = inputs / "clips"
    cmd = [
        sys.executable,
        "-m",
        "backcheck.cli",
        "batch",
        str(clips / "good.mp4"),
        str(clips / "bad.mp4"),
        str(inputs / "manifest.csv"),
        "--out",
        str(out),
        "--workers",
        "1",
        "--ray",
        local_ray,
    ]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = out / "index.journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and '"status": "ok"' not in (
        journal.read_text() if journal.exists() else ""
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # the batch itself dies, after its first clip
    proc.wait(timeout=30)
    first = list(out.rglob("report.json"))
    assert len(first) == 1 and first[0].parent.name.startswith("good-")
    stamp = first[0].stat().st_mtime_ns

    # Resumed, with the first clip also under a new name: nothing done is redone.
    (tmp_path / "renamed.mp4").symlink_to(clips / "good.mp4")
    jobs = video_jobs(
        [clips / "good.mp4", clips / "bad.mp4", inputs / "manifest.csv", tmp_path / "renamed.mp4"]
    )
    rows = run_batch(jobs, out, workers=2)
    assert [r.status for r in rows] == ["ok"] * 4
    assert {Path(r.input).name for r in rows if r.reused} == {"good.mp4", "renamed.mp4"}
    assert first[0].stat().st_mtime_ns == stamp  # not analysed again
    assert len(list(out.rglob("report.json"))) == 3
    by_name = {Path(r.input).name: r for r in rows}
    assert by_name["renamed.mp4"].out_dir == by_name["good.mp4"].out_dir == str(first[0].parent)
    assert len(_index(out)) == 4


@pytest.mark.clips
def test_app_hands_each_upload_to_ray(
    shared_data: Path, tmp_path: Path, local_ray: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With BACKCHECK_RAY_ADDRESS set, two trainers uploading at once both get their
    session, analysed by Ray workers while the app's own process stays idle."""
    import backcheck.pipeline
    from backcheck.history import HistoryStore
    from backcheck.ui.uploads import RAY_ADDRESS_ENV, analyse_upload
    from metrics.profile import ClientProfile

    store = HistoryStore(tmp_path / "history.sqlite3")
    kim = store.add_client(ClientProfile(name="Kim"))
    ali = store.add_client(ClientProfile(name="Ali"))
    monkeypatch.setenv(RAY_ADDRESS_ENV, local_ray)

    def here(*args: object, **kwargs: object) -> None:
        raise AssertionError("analysed in the app's own process")

    monkeypatch.setattr(backcheck.pipeline, "analyze_video", here)
    saved: dict[str, object] = {}
    errors: list[BaseException] = []

    def upload(client: object, clip: str) -> None:
        try:
            with open(shared_data / clip, "rb") as fh:
                saved[client.name] = analyse_upload(  # type: ignore[attr-defined]
                    store,
                    client,
                    Path(clip).name,
                    fh,  # type: ignore[arg-type]
                )
        except BaseException as err:
            errors.append(err)

    threads = [
        threading.Thread(target=upload, args=(kim, GOOD)),
        threading.Thread(target=upload, args=(ali, HEEL)),
    ]
    wall, cpu = time.monotonic(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert not errors, errors
    assert {s.client_id for s in store.sessions()} == {kim.id, ali.id}
    for name, clip in (("Kim", GOOD), ("Ali", HEEL)):
        session = saved[name]
        assert session.n_reps == 1 and session.exercise == "hinge"  # type: ignore[attr-defined]
        assert session.source_file == Path(clip).name  # type: ignore[attr-defined]
        folder = session.folder  # type: ignore[attr-defined]
        assert {"report.json", "annotated.mp4", "report.html"} <= set(os.listdir(folder))
    assert cpu < 0.5 * wall, (cpu, wall)  # the app's process only waited
