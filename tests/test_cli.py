"""`backcheck analyze`: outputs on a real clip, and a one-line reason for each bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from backcheck.cli import main
from metrics.report import validate_report_dict
from metrics.track import PoseTrack


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _duration(path: Path) -> tuple[float, str]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        last = max(
            (f.pts + (f.duration or 0)) * float(s.time_base)
            for f in c.decode(s)
            if f.pts is not None
        )
        return last - float((s.start_time or 0) * s.time_base), s.codec_context.name


def _assert_clean_failure(code: int, err: str, *words: str) -> None:
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("backcheck: ")
    assert "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


@pytest.mark.clips
def test_analyze_writes_report_csv_and_annotated_video(
    shared_data: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = shared_data / "clips" / "deadlift" / "posereader_good.mp4"
    # A frame stash left by a killed run two days ago is cleared; a recent one is not ours
    # to touch (another run may be writing it).
    stale, recent = tmp_path / "o" / ".frames-killed", tmp_path / "o" / ".frames-running"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
        (folder / "span-000.frames").write_bytes(b"x" * 1000)
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    code, out, err = _run(
        ["analyze", str(clip), "--out", str(tmp_path / "o"), "--model", str(model_path)], capsys
    )
    assert code == 0, err
    assert "posereader_good.mp4" in out
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert validate_report_dict(report) == []
    assert report["source"]["frames"] == 62
    assert report["source"]["fps"] == pytest.approx(30.0, abs=0.01)
    assert report["exercise"] == "hinge"
    assert report["view"]["camera"] == "side"
    assert report["quality"]["tracked_fraction"] > 0.9
    rows = (tmp_path / "o" / "timeseries.csv").read_text().strip().splitlines()
    header = rows[0].split(",")
    for col in ("t_s", "trunk_deg", "hip_deg", "knee_deg", "neck_deg", "visibility"):
        assert col in header
    track = PoseTrack.load(tmp_path / "o" / "track.npz")
    assert len(rows) - 1 == len(track)  # a row per analysed frame
    # 62 frames at 30 fps analysed at the capped 15 fps: every other frame.
    assert len(track) == 31
    assert report["source"]["analysed_fps"] == pytest.approx(15.0, abs=0.1)
    dur, codec = _duration(tmp_path / "o" / "annotated.mp4")
    assert codec == "h264"
    assert dur == pytest.approx(report["source"]["duration_s"], abs=1 / 30)
    # Drawn on the frames the model saw: one per analysed frame, at the model's size.
    from vision.video import iter_frames

    drawn = list(iter_frames(tmp_path / "o" / "annotated.mp4"))
    assert [round(f.t, 3) for f in drawn] == [round(float(t), 3) for t in track.t]
    assert drawn[0].rgb.shape == (600, 600, 3)  # 600x600 is under the 640 px model size
    # This run's frame stash and the stale one are gone; only the outputs are left.
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".frames-running",
        "annotated.mp4",
        "report.json",
        "timeseries.csv",
        "track.npz",
    ]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["analyze", str(tmp_path / "nope.mp4")], capsys)
    _assert_clean_failure(code, err, "not found")


def test_not_a_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "notes.mp4"
    f.write_text("squat 3x5, deadlift 1x5\n" * 50)
    code, _, err = _run(["analyze", str(f)], capsys)
    _assert_clean_failure(code, err, "not a video")


def test_truncated_video(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = (shared_data / "clips" / "kettlebell" / "0016k_1.mp4").read_bytes()
    f = tmp_path / "cut.mp4"
    f.write_bytes(src[: len(src) // 3])
    code, _, err = _run(["analyze", str(f)], capsys)
    _assert_clean_failure(code, err, "cut short")


def test_corrupt_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "noise.mov"
    f.write_bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    code, _, err = _run(["analyze", str(f)], capsys)
    _assert_clean_failure(code, err, "not a video")


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "empty.mp4"
    f.write_bytes(b"")
    code, _, err = _run(["analyze", str(f)], capsys)
    _assert_clean_failure(code, err, "empty")


@pytest.mark.clips
def test_video_with_no_person(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    frames = [
        np.full((240, 320, 3), 90, np.uint8) + rng.integers(0, 20, (240, 320, 3), dtype=np.uint8)
        for _ in range(45)
    ]
    f = tmp_path / "empty_gym.mp4"
    _write_video(f, frames)
    out = tmp_path / "o"
    code, _, err = _run(["analyze", str(f), "--out", str(out), "--model", str(model_path)], capsys)
    _assert_clean_failure(code, err, "no one was found")
    assert not out.exists()  # the folder made for the run, and its frame stash, are gone


def test_missing_model_file(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = shared_data / "clips" / "deadlift" / "posereader_bad.mp4"
    code, _, err = _run(["analyze", str(clip), "--model", str(tmp_path / "none.task")], capsys)
    _assert_clean_failure(code, err, "none.task")


@pytest.mark.clips
def test_follows_the_lifter_with_someone_else_in_frame(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    """A bigger, standing bystander beside the lifter: the track stays on the lifter."""
    import cv2

    from backcheck.pipeline import extract_track
    from vision.video import iter_frames

    lifter = iter_frames(shared_data / "clips" / "kettlebell" / "0016c_1.mp4", max_fps=30)
    other = iter_frames(shared_data / "clips" / "other" / "deadlift_front_view.mp4", max_fps=30)
    frames = []
    for a, b in zip(lifter, other, strict=False):
        if a.t > 7.0:
            break
        canvas = np.zeros((640, 720, 3), np.uint8)
        canvas[:, :360] = a.rgb
        # The front-view lifter stands still for the first 3 s: enlarged, a bystander who
        # is bigger in the frame than the person doing the exercise.
        canvas[28:640, 370:710] = cv2.resize(b.rgb[:, 220:420], (340, 612))
        frames.append(canvas)
    f = tmp_path / "two.mp4"
    _write_video(f, frames)
    track = extract_track(f, model_path)
    hips = track.image[:, 23, 0]
    found = np.isfinite(hips)
    assert found.mean() > 0.9
    assert np.all(hips[found] < 360), "the track jumped to the person on the right"
    assert (track.others > 0).mean() > 0.5
    shutil.rmtree(tmp_path, ignore_errors=True)


# --- mistakes in the arguments: one line, exit 2, nothing read or written ---------------


def _mistake(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2, (code, err)
    assert out == ""
    _assert_clean_failure(code, err, *words)


def test_out_onto_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me")
    _mistake(["analyze", str(tmp_path / "clip.mp4"), "--out", str(taken)], capsys, "is a file")
    assert taken.read_text() == "keep me"


def test_out_under_a_file_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    out = tmp_path / "notes.txt" / "report"
    _mistake(["analyze", str(tmp_path / "clip.mp4"), "--out", str(out)], capsys, "can't be made")


def test_out_in_a_folder_that_is_not_writable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:  # root writes anywhere a mode allows: use a read-only file system
        locked = Path("/sys")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    out = locked / "backcheck-out" / "deeper"
    try:
        _mistake(
            ["analyze", str(tmp_path / "clip.mp4"), "--out", str(out)],
            capsys,
            "can't be made",
            "not writable",
        )
        assert not out.parent.exists()
    finally:
        if locked != Path("/sys"):
            locked.chmod(0o700)


def test_default_out_beside_a_video_in_a_read_only_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --out: the folder beside the video, which here can't be made."""
    if os.geteuid() == 0:
        video = Path("/sys/kernel/notes")  # readable by all, writable beside by no one
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        video = locked / "clip.mp4"
        video.write_bytes(b"x")
        locked.chmod(0o500)
    _mistake(["analyze", str(video)], capsys, "can't be made", "not writable", "--out")


def test_a_missing_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _mistake(
        ["analyze", str(tmp_path / "clip.mp4"), "--profile", str(tmp_path / "sam.toml")],
        capsys,
        "sam.toml",
        "not found",
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('name = "Sam\nstrictness = "strict"\n', ("not valid TOML",)),
        ('name = "Sam"\nstrictness = "harsh"\n', ("malformed", "strictness")),
        ('name = "Sam"\n[neutral]\nspine_bend_deg = "six"\n', ("malformed",)),
    ],
)
def test_a_malformed_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: tuple[str, ...]
) -> None:
    profile = tmp_path / "sam.toml"
    profile.write_text(text)
    _mistake(
        ["analyze", str(tmp_path / "clip.mp4"), "--profile", str(profile)],
        capsys,
        "sam.toml",
        *words,
    )


def test_a_profile_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", str(tmp_path / "clip.mp4"), "--profile", str(tmp_path)]
    _mistake(argv, capsys, "is a folder")


def test_the_sample_profile_loads() -> None:
    from metrics.profile import ClientProfile

    sam = ClientProfile.load(Path(__file__).resolve().parents[1] / "samples" / "profile.toml")
    assert sam.name == "Sam" and sam.flexion_intolerant and sam.strictness == "standard"


def test_an_unknown_model_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", str(tmp_path / "clip.mp4"), "--model", "fulll"]
    _mistake(argv, capsys, "unknown model 'fulll'", "lite")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["analyze"], ("required", "video")),
        (["analyze", "clip.mp4", "--exercise", "squat"], ("invalid choice", "squat")),
        (["analyse", "clip.mp4"], ("invalid choice", "analyse")),
        (["analyze", "clip.mp4", "--turbo"], ("unrecognized", "--turbo")),
    ],
)
def test_argparse_mistakes_are_one_line(
    argv: list[str], words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    _mistake(argv, capsys, *words)


def test_help_still_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["analyze", "--help"], capsys)
    assert code == 0 and "--verbose" in out and "--profile" in out


# --- a quiet command line: stderr holds backcheck's own lines and the progress bar ------

REPO = Path(__file__).resolve().parents[1]
_BAR = re.compile(r"^\[[#-]{30}\] +\d+% [A-Z]")


def _cli_with_stderr_on_a_terminal(argv: list[str]) -> tuple[int, str, str]:
    """Run the real CLI in a subprocess with stderr on a pseudo-terminal (so the progress
    bar is drawn, as a coach sees it); returns exit code, stdout and stderr."""
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="120")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backcheck.cli", *argv],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.clips
def test_analyze_prints_only_its_own_lines(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    clip = shared_data / "clips" / "deadlift" / "posereader_good.mp4"
    argv = ["analyze", str(clip), "--out", str(tmp_path / "o"), "--model", str(model_path)]
    code, out, err = _cli_with_stderr_on_a_terminal(argv + ["--no-video"])
    assert code == 0, err
    assert out.startswith("posereader_good.mp4: hinge")
    pieces = [p.strip() for p in re.split(r"[\r\n]+", err) if p.strip()]
    bars = [p for p in pieces if _BAR.match(p)]
    assert [p for p in pieces if not _BAR.match(p)] == [], err  # nothing foreign
    stages = {re.sub(r" \(.*|·.*", "", p[37:]).strip() for p in bars}
    assert {"Loading the pose model", "Finding the lifter", "Measuring angles"} <= stages
    assert bars[-1].startswith("[" + "#" * 30 + "] 100%")
    # The same run with --verbose shows the model's own log: the quiet run hid it.
    code, _, loud = _cli_with_stderr_on_a_terminal(["--verbose", *argv, "--no-video"])
    assert code == 0
    assert "TensorFlow Lite" in loud or "LiteRT" in loud or "XNNPACK" in loud, loud[:2000]


@pytest.mark.clips
def test_bit_flipped_video(
    shared_data: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One byte in 500 inverted after the header, as a failing card or transfer does."""
    data = bytearray((shared_data / "clips" / "deadlift" / "posereader_good.mp4").read_bytes())
    rng = np.random.default_rng(3)
    for i in rng.integers(len(data) // 20, len(data), len(data) // 500):
        data[i] ^= 0xFF
    f = tmp_path / "flipped.mp4"
    f.write_bytes(bytes(data))
    out = tmp_path / "o"
    code, _, err = _run(["analyze", str(f), "--out", str(out), "--model", str(model_path)], capsys)
    assert code == 1
    _assert_clean_failure(code, err, "flipped.mp4")
    assert not out.exists()


@pytest.mark.clips
def test_a_full_disk_while_writing_the_report(
    shared_data: Path,
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENOSPC from the file system once the analysis is done: one line, exit 1, and no
    half-written report left in the folder."""
    import errno

    import backcheck.pipeline

    def full(path: Path, analysis: object) -> None:
        Path(path).write_text("t_s,trunk")  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(backcheck.pipeline, "write_timeseries", full)
    clip = shared_data / "clips" / "deadlift" / "posereader_good.mp4"
    out = tmp_path / "o"
    argv = ["analyze", str(clip), "--out", str(out), "--model", str(model_path), "--no-video"]
    code, stdout, err = _run(argv, capsys)
    assert code == 1 and stdout == ""
    _assert_clean_failure(code, err, "disk is full")
    # report.json was written before the disk filled; no partial timeseries.csv is left.
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


def test_batch_fast_with_saved_tracks_is_a_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--fast` changes how poses are found in a video; re-scoring saved tracks finds none."""
    argv = ["batch", "--from-tracks", str(tmp_path), "--out", str(tmp_path / "o"), "--fast"]
    _mistake(argv, capsys, "--fast", "--from-tracks")
    assert not (tmp_path / "o").exists()
