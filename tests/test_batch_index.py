"""The batch's inputs, index, journal, progress and re-scoring, without Ray or the pose
model: manifests, content hashes, what counts as done, a journal cut by a kill, and a
saved track re-scored to the report it came from."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from backcheck.batch import BatchProgress, run_batch
from backcheck.batch_index import JOURNAL, BatchIndex, Row, summary_line
from backcheck.batch_inputs import track_jobs, video_jobs
from backcheck.batch_work import rescore_folder

TRACKS = Path(__file__).parent / "data" / "tracks"


def _video(path: Path, content: bytes = b"\x00\x00\x00\x18ftypmp42 not really") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_folders_and_manifests_become_jobs_keyed_by_content(tmp_path: Path) -> None:
    a = _video(tmp_path / "in" / "a.mp4", b"AAAA")
    _video(tmp_path / "in" / "deeper" / "b.MOV", b"BBBB")
    (tmp_path / "in" / "notes.txt").write_text("not a video name")
    _video(tmp_path / "in" / "a-0123456789" / "annotated.mp4")  # an earlier run's output
    (tmp_path / "in" / "a-0123456789" / "report.json").write_text("{}")
    renamed = _video(tmp_path / "elsewhere" / "copy of a.mp4", b"AAAA")
    manifest = tmp_path / "in" / "list.csv"
    manifest.write_text(
        "path,client,exercise,profile\na.mp4,Kim,plank,kim.toml\n,Ali,,\na.mp4,Ali,squat,\n",
        "utf-8",
    )
    jobs = video_jobs([tmp_path / "in", manifest, renamed], exercise="hinge")
    assert [Path(j.input).name for j in jobs] == [
        "a.mp4", "b.MOV", "a.mp4", "list.csv line 3", "a.mp4", "copy of a.mp4",
    ]  # fmt: skip
    folder_a, folder_b, kim, no_path, squat, copy = jobs
    assert folder_a.key == kim.key == copy.key != folder_b.key  # by content, not by name
    assert folder_a.exercise == "hinge" and kim.exercise == "plank"
    assert kim.client == "Kim" and kim.profile == tmp_path / "in" / "kim.toml"
    assert kim.source == a  # relative to the manifest's folder
    assert no_path.reason == "list.csv line 3: no path given"
    assert squat.reason is not None and "unknown exercise 'squat'" in squat.reason
    # A clip's folder is named for it and its content; a client's clips go in its folder.
    assert folder_a.out_dir(tmp_path / "o") == tmp_path / "o" / f"a-{folder_a.key[:10]}"  # type: ignore[index]
    assert kim.out_dir(tmp_path / "o").parent == tmp_path / "o" / "Kim"
    # Other settings (exercise, profile) mean other work.
    assert folder_a.settings("full") != kim.settings("full") != kim.settings("lite")
    # The faster pose pass is other work too; without it the settings read as they always
    # did, so an index written before `--fast` existed is still reused.
    fast = replace(folder_a, fast=True)
    assert fast.settings("full") == folder_a.settings("full") + ";fast"
    assert ";fast" not in folder_a.settings("full")


def _row(tmp_path: Path, name: str, status: str, key: str, with_report: bool = True) -> Row:
    out = tmp_path / "out" / name
    if with_report:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text("{}")
    return Row(input=name, status=status, content_sha256=key, settings="s", out_dir=str(out))


def test_index_journal_survives_a_kill_and_says_what_is_done(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    index = BatchIndex(out)
    index.add(_row(tmp_path, "ok.mp4", "ok", "k1"))
    index.add(_row(tmp_path, "gone.mp4", "ok", "k2", with_report=False))
    index.add(Row(input="bad.mp4", status="bad_input", reason="bad.mp4: x", content_sha256="k3",
                  settings="s"))  # fmt: skip
    index.add(Row(input="crash.mp4", status="failed", reason="boom", content_sha256="k4",
                  settings="s"))  # fmt: skip
    with open(out / JOURNAL, "a") as fh:
        fh.write('{"input": "half.mp4", "sta')  # the batch was killed mid-line
    # No index.csv was written: the next run reads the journal.
    again = BatchIndex(out)
    assert {r.input for r in again.rows.values()} == {"ok.mp4", "gone.mp4", "bad.mp4", "crash.mp4"}
    assert again.done_row("k1", "s") is not None
    assert again.done_row("k1", "other settings") is None
    assert again.done_row("k2", "s") is None  # its report folder was deleted: redo
    assert again.done_row("k3", "s") is not None  # the same bytes give the same reason
    assert again.done_row("k4", "s") is None  # failed: try again
    again.write()
    assert not (out / JOURNAL).exists()
    assert (out / "index.csv").read_text().count("\n") == 5
    third = BatchIndex(out)
    assert third.rows == again.rows  # CSV round trip keeps types
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out / "index.parquet").num_rows == 4


def test_inputs_bad_before_any_analysis_need_no_ray(tmp_path: Path) -> None:
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,exercise\nclip.mp4,squat\n")
    jobs = video_jobs([tmp_path / "missing.mov", manifest])
    rows = run_batch(jobs, tmp_path / "out")  # would need Ray for any readable file
    assert [r.status for r in rows] == ["bad_input"] * 2
    assert rows[0].reason == "missing.mov: file not found"  # the CLI's words
    assert rows[1].reason.startswith("unknown exercise 'squat'")
    assert (tmp_path / "out" / "index.csv").read_text().count("bad_input") == 2


def test_summary_and_progress_lines() -> None:
    rows = [
        Row(input="a", status="ok", work_s=3.0),
        Row(input="b", status="ok", reused=True),
        Row(input="c", status="bad_input", reason="c: not a video"),
        Row(input="d", status="failed", reason="boom", work_s=1.0),
    ]
    assert summary_line(rows, 90.0) == (
        "batch: 4 inputs, 2 ok (1 done earlier), 1 bad input, 1 failed in 1 min 30 s, 80 clips/h"
    )
    log = io.StringIO()
    progress = BatchProgress(log, tty=False)
    for n, row in enumerate(rows, start=1):
        progress(row, n, len(rows))
    lines = log.getvalue().splitlines()
    assert "backcheck batch: bad_input: c: c: not a video" in lines
    assert "backcheck batch: failed: d: boom" in lines
    assert lines[-1].startswith("backcheck batch: 4/4 ok 2 bad_input 1 failed 1 |")
    bar = io.StringIO()
    tty = BatchProgress(bar, tty=True)
    tty(rows[0], 1, 4)
    assert bar.getvalue().startswith("\r[######------------------] 1/4 ok 1")
    assert "clips/h ETA" in bar.getvalue()


def test_a_saved_track_is_rescored_to_the_report_it_came_from(tmp_path: Path) -> None:
    from backcheck.pipeline import write_timeseries
    from metrics.analysis import analyze_track, build_report
    from metrics.report import ModelInfo, SourceInfo
    from metrics.track import PoseTrack

    archive = tmp_path / "archive"
    for stem, told in (("0016k_1", "hinge"), ("forearm_plank_correct", "auto")):
        folder = archive / stem
        folder.mkdir(parents=True)
        shutil.copyfile(TRACKS / f"{stem}.npz", folder / "track.npz")
        analysis = analyze_track(PoseTrack.load(folder / "track.npz"), exercise=told)  # type: ignore[arg-type]
        source = SourceInfo(f"{stem}.mp4", 20.0, 600, 30.0, False, 360, 640, 0, "h264", 15.0)
        report = build_report(analysis, source, ModelInfo("pose_landmarker_full", "abc"))
        (folder / "report.json").write_text(report.to_json() + "\n")
        write_timeseries(folder / "timeseries.csv", analysis)
    jobs = track_jobs(archive)
    assert [j.input for j in jobs] == ["0016k_1", "forearm_plank_correct"]
    for job in jobs:
        new = rescore_folder(job.source, tmp_path / "new" / job.input)
        old = json.loads((job.source / "report.json").read_text())
        assert json.loads(new.to_json()) == old
        assert (tmp_path / "new" / job.input / "timeseries.csv").read_bytes() == (
            job.source / "timeseries.csv"
        ).read_bytes()
    told = json.loads((tmp_path / "new" / "0016k_1" / "report.json").read_text())
    assert told["exercise_reason"] == "chosen by the user"
    # A folder whose report is unreadable is bad input with a reason, not a crash.
    (archive / "0016k_1" / "report.json").write_text("{")
    from metrics.errors import AnalysisError

    with pytest.raises(AnalysisError, match="saved analysis cannot be read"):
        rescore_folder(archive / "0016k_1", tmp_path / "x")


def test_hashes_are_remembered_until_the_file_changes(tmp_path: Path) -> None:
    """A nightly batch over a clip store reads only new or changed files: the memo keys a
    file's SHA-256 by its path, size, mtime and inode, and is kept in the output folder."""
    import hashlib
    import os

    from backcheck.batch_inputs import HASHES_JSON, HashMemo

    clips = tmp_path / "clips"
    clips.mkdir()
    a, b = clips / "a.mp4", clips / "b.mp4"
    a.write_bytes(b"first bytes")
    b.write_bytes(b"other bytes!")
    out = tmp_path / "out"
    memo = HashMemo(out / HASHES_JSON)
    first = {j.input: j.key for j in video_jobs([clips], memo=memo)}
    assert first[str(a)] == hashlib.sha256(b"first bytes").hexdigest()
    memo.save()
    assert (out / HASHES_JSON).is_file()

    # Same size, same mtime, same inode: taken from the memo, not read (the stale hash
    # proves it); a new mtime makes it read again.
    stamp = a.stat()
    a.write_bytes(b"FIRST BYTES")
    os.utime(a, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    again = HashMemo(out / HASHES_JSON)
    assert again.sha256(a) == first[str(a)]
    os.utime(a, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    assert again.sha256(a) == hashlib.sha256(b"FIRST BYTES").hexdigest()
    # a changed size is read again whatever the mtime
    stamp = b.stat()
    b.write_bytes(b"other bytes, longer")
    os.utime(b, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert again.sha256(b) == hashlib.sha256(b"other bytes, longer").hexdigest()
    # a damaged memo file is not fatal: every file is hashed again
    (out / HASHES_JSON).write_text("{not json", "utf-8")
    assert HashMemo(out / HASHES_JSON).sha256(b) == again.sha256(b)
