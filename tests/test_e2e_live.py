"""End to end: the Live page counts a real clip's reps and cues its fault, through WebRTC.

The clip becomes Chromium's fake camera (a .y4m made here from ../shared/data/clips),
the real app runs on a free localhost port, and headless Chromium presses START on the
Live page. The file plays once per pass, then loops; the first frame is held a few
seconds so the connection is up before the first rep, and the checks are made within the
first pass.

Everything runs in a private network namespace whose only interface is loopback (see
tests/live_e2e.py), so no packet leaves 127.0.0.0/8.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, REPO
from tests.live_e2e import write_y4m

pytestmark = pytest.mark.browser

# The camera's frame rate. 15 fps halves the video coding (browser and server both encode
# and decode every frame) on a 2-core machine that also runs the browser and the pose model.
CAMERA_FPS = 15
HOLD_FIRST_S = 4.0
HOLD_LAST_S = 2.0
# Time after START before frames flow (browser capture, ICE, first analysis), at most.
STARTUP_S = 10.0

_NETNS = (
    "ip link set lo up && ip addr add 127.0.0.2/32 dev lo && exec {python} -m tests.live_e2e {args}"
)


def _netns_ok() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, check=False
    )
    return probe.returncode == 0


def _skip_reason() -> str | None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return "Debian chromium and chromium-driver are not installed"
    if not _netns_ok():
        return "cannot make a loopback-only network namespace (unshare -n)"
    return None


def _watch(
    tmp: Path,
    clip: Path,
    *,
    stop_at_reps: int | None,
    stop_at_cue: bool = False,
    save_as: str | None = None,
    exercise: str = "hinge",
) -> tuple[list[dict], float, dict]:
    y4m = tmp / f"{clip.stem}.y4m"
    pass_s = write_y4m(
        clip, y4m, fps=CAMERA_FPS, hold_first_s=HOLD_FIRST_S, hold_last_s=HOLD_LAST_S
    )
    out = tmp / "observations.json"
    args = [
        "--y4m", str(y4m),
        "--exercise", exercise,
        "--seconds", f"{pass_s + STARTUP_S:.1f}",
        "--out", str(out),
        "--screenshot", str(tmp / "live.png"),
    ]  # fmt: skip
    if stop_at_reps is not None:
        args += ["--stop-at-reps", str(stop_at_reps)]
    if stop_at_cue:
        args.append("--stop-at-cue")
    if save_as:
        args += ["--save-as", save_as]
    cmd = _NETNS.format(python=sys.executable, args=shlex.join(args))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # A session of its own, so a run that hangs is ended with the app and browser it started.
    proc = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", cmd],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=pass_s + STARTUP_S + 240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        y4m.unlink(missing_ok=True)
    assert proc.returncode == 0, stderr[-3000:]
    got = json.loads(out.read_text("utf-8"))
    return got["observations"], pass_s, got["saved"]


@pytest.fixture(scope="module", autouse=True)
def _needs_browser_and_netns() -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


def test_rep_counter_reaches_the_labelled_count_in_one_pass(
    tmp_path: Path, shared_data: Path
) -> None:
    clip = shared_data / "clips" / "kettlebell" / "0016c_1.mp4"  # labelled 10 reps, no fault
    seen, pass_s, saved = _watch(tmp_path, clip, stop_at_reps=10, save_as="Sam")
    counts = [o["reps"] for o in seen if o["reps"] is not None]
    assert counts, "the rep counter never showed"
    first_ten = next((o for o in seen if (o["reps"] or 0) >= 10), None)
    assert first_ten is not None, f"counted only {max(counts)} of 10 reps: {seen[-1]}"
    # Reached within the first pass of the file (before the clip could loop back) ...
    assert first_ten["elapsed_s"] <= pass_s + STARTUP_S
    # ... one rep at a time, never past the labelled count.
    assert first_ten["reps"] == 10
    assert all(b >= a for a, b in zip(counts, counts[1:], strict=False))
    fps = [o["fps"] for o in seen if o["fps"]]
    assert fps and max(fps) > 0
    assert not any(o["cue_code"] for o in seen), "a cue on a clip labelled without faults"
    # STOP, then save: the set lands in the client's history, analysed like an upload of
    # the frames the live path saw (a camera stream analysed at a few frames a second, so
    # within a rep of the live count).
    assert saved["message"].startswith("Saved")
    assert len(saved["sessions"]) == 1
    assert saved["sessions"][0]["exercise"] == "hinge"
    assert abs(saved["sessions"][0]["n_reps"] - 10) <= 1


def test_rounded_back_clip_brings_up_the_rounding_cue(tmp_path: Path, shared_data: Path) -> None:
    clip = shared_data / "clips" / "kettlebell" / "0016r_1.mp4"  # 10 reps, marked rounding
    seen, pass_s, _ = _watch(tmp_path, clip, stop_at_reps=10, stop_at_cue=True)
    first_pass = [o for o in seen if o["elapsed_s"] <= pass_s + STARTUP_S]
    cues = [o for o in first_pass if o["cue_code"]]
    assert cues, f"no cue appeared; last readout {first_pass[-1]}"
    assert {o["cue_code"] for o in cues} == {"spine_flexion"}
    assert "back" in cues[0]["cue_text"].lower()
    assert max(o["reps"] or 0 for o in first_pass) >= 10


def test_plank_hold_timer_runs_through_the_labelled_hold(tmp_path: Path, shared_data: Path) -> None:
    clip = shared_data / "clips" / "plank" / "forearm_plank_correct.mp4"  # held 0-16.2 s
    seen, pass_s, saved = _watch(
        tmp_path, clip, stop_at_reps=None, exercise="plank", save_as="Quick check"
    )
    holds = [
        (o["elapsed_s"], float(o["hold"].split()[0])) for o in seen if o["hold"] not in (None, "--")
    ]
    assert holds, "the hold timer never started"
    first_pass = [h for t, h in holds if t <= pass_s]
    # The clip is a plank from its first frame (held 4 s) to its last: the timer starts
    # within a few seconds and runs at clock speed through the labelled 16.2 s.
    assert max(first_pass) >= 16.2
    assert all(b >= a for a, b in zip(first_pass, first_pass[1:], strict=False))
    t0, h0 = holds[0]
    t1, h1 = holds[-1]
    assert (h1 - h0) / (t1 - t0) == pytest.approx(1.0, abs=0.1)
    assert not any(o["cue_code"] for o in seen), "a cue on a plank labelled straight"
    # Saved without making a client: as a quick check, analysed like an upload.
    assert saved["message"] == "Saved: the hold as a quick check."
    assert [s["exercise"] for s in saved["sessions"]] == ["plank"]
