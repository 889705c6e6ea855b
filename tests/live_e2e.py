"""Drive the Live page end to end: a clip as Chromium's fake camera, the real app, WebRTC.

`write_y4m` turns a real clip into the raw .y4m file Chromium plays as its camera
(``--use-file-for-fake-video-capture``); it plays the file once per pass and then loops.
`run` starts the app on a free localhost port, opens the Live page in headless Chromium,
presses START and records what the page shows (rep count, hold, cue, frame rate) until the
count reaches a target or time runs out.

WebRTC needs a network path between the browser and the app. To keep every packet on
loopback, `python -m tests.live_e2e` is run in a network namespace of its own (see
tests/test_e2e_live.py) where loopback is the only interface: Chromium is told to use
it (``--allow-loopback-in-peer-connection``) and a second loopback address is added for
aiortc, which skips 127.0.0.1 when it gathers candidates.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np


def write_y4m(
    clip: Path,
    dst: Path,
    *,
    fps: int = 30,
    hold_first_s: float = 0.0,
    hold_last_s: float = 0.0,
    max_s: float | None = None,
) -> float:
    """Write `clip` as a 4:2:0 YUV4MPEG2 file at `fps`, upright, at the clip's size.

    Frames are picked by their presentation time, so the file plays in real time. The
    first frame is held `hold_first_s` before the clip plays (time for the WebRTC
    connection to come up before the first rep) and the last held `hold_last_s` after it
    (the lifter stays in view, so looping back is no new appearance). Returns the length
    of one pass in seconds.
    """
    from vision.video import iter_frames

    n = 0
    last = b""
    with open(dst, "wb") as out:
        for frame in iter_frames(clip, max_fps=float(fps)):
            if max_s is not None and frame.t > max_s:
                break
            rgb = frame.rgb
            h, w = rgb.shape[0] & ~1, rgb.shape[1] & ~1
            last = b"FRAME\n" + _yuv420(rgb[:h, :w])
            if n == 0:
                out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
                for _ in range(int(round(hold_first_s * fps))):
                    out.write(last)
            out.write(last)
            n += 1
        for _ in range(int(round(hold_last_s * fps))):
            out.write(last)
    return (n + round(hold_first_s * fps) + round(hold_last_s * fps)) / fps


def _yuv420(rgb: np.ndarray) -> bytes:
    """Full-range BT.601 Y, U, V planes (chroma averaged over 2×2 blocks)."""
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    v = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b

    def down(c: np.ndarray) -> np.ndarray:
        return 0.25 * (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2])

    planes = (y, down(u), down(v))
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


@dataclass(frozen=True)
class Observation:
    """What the Live page showed at `elapsed_s` after START was pressed."""

    elapsed_s: float
    reps: int | None
    hold: str | None
    fps: float | None
    cue_code: str | None
    cue_text: str | None


_REPS = re.compile(r"Reps:\s*(\d+)")
_HOLD = re.compile(r"Hold:\s*([\d.]+ s|--)")
_FPS = re.compile(r"Analysed:\s*([\d.]+)\s*fps")


def _observe(driver: Any, elapsed: float) -> Observation:
    from selenium.webdriver.common.by import By

    text = driver.find_element(By.TAG_NAME, "body").text
    reps = _REPS.search(text)
    hold = _HOLD.search(text)
    fps = _FPS.search(text)
    cues = driver.find_elements(By.CSS_SELECTOR, "#live-cue")
    code = cues[0].get_attribute("data-code") if cues else None
    return Observation(
        elapsed_s=round(elapsed, 2),
        reps=int(reps.group(1)) if reps else None,
        hold=hold.group(1) if hold else None,
        fps=float(fps.group(1)) if fps else None,
        cue_code=code,
        cue_text=cues[0].text if cues else None,
    )


def chromium_options(y4m: Path, profile_dir: Path) -> Any:
    from selenium import webdriver

    from tests.browser import CHROMIUM

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        f"--user-data-dir={profile_dir}",
        "--window-size=1280,1000",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
        "--allow-loopback-in-peer-connection",
    ):
        opts.add_argument(arg)
    return opts


def run(
    y4m: Path,
    *,
    exercise: str,
    seconds: float,
    stop_at_reps: int | None,
    work: Path,
    stop_at_cue: bool = False,
    screenshot: Path | None = None,
    save_as: str | None = None,
) -> tuple[list[Observation], dict[str, Any]]:
    """Start the app, open Live, press START and watch the page for up to `seconds`.

    Stops early once the count reaches `stop_at_reps` (and a cue is showing, with
    `stop_at_cue`). With `save_as`, that client exists before the app starts, and the set
    is then stopped and saved with the page's button; the second value returned says what
    the page and the history database then show."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from backcheck.history import QUICK_CHECK, HistoryStore
    from metrics.profile import ClientProfile
    from tests.browser import CHROMEDRIVER, App, wait_for

    db = work / "history.sqlite3"
    if save_as is not None and save_as != QUICK_CHECK:  # a quick check needs no client
        HistoryStore(db).add_client(ClientProfile(name=save_as))
    app = App(db, work / "streamlit.log")
    app.start()
    driver = None
    seen: list[Observation] = []
    saved: dict[str, Any] = {}
    try:
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)),
            options=chromium_options(y4m, work / "chromium-profile"),
        )
        driver.set_page_load_timeout(60)
        driver.get(app.url)

        def live_button() -> Any:
            for b in driver.find_elements(By.TAG_NAME, "button"):
                if b.text.strip() == "Live check":
                    return b
            return None

        wait_for(live_button, 60, "the Live check page button").click()
        if exercise == "plank":

            def plank_picked() -> bool:
                """Click "Plank" until its radio is checked (a click made while the page's
                first run is still going can be lost)."""
                label = [e for e in driver.find_elements(By.TAG_NAME, "label") if e.text == "Plank"]
                if not label:
                    return False
                if label[0].find_element(By.TAG_NAME, "input").is_selected():
                    return True
                label[0].click()
                time.sleep(1.0)
                return False

            wait_for(plank_picked, 60, "the Plank choice", interval=1.0)
        frame = wait_for(
            lambda: (
                driver.find_elements(By.CSS_SELECTOR, "iframe[title*='webrtc']")
                or driver.find_elements(By.TAG_NAME, "iframe")
            ),
            90,
            "the camera widget",
        )[0]
        driver.switch_to.frame(frame)
        start = wait_for(
            lambda: [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "START"],
            60,
            "the START button",
        )[0]
        start.click()
        t0 = time.monotonic()
        driver.switch_to.default_content()
        while time.monotonic() - t0 < seconds:
            try:
                obs = _observe(driver, time.monotonic() - t0)
            except Exception:  # an element replaced while Streamlit re-renders
                time.sleep(0.2)
                continue
            seen.append(obs)
            cue_ok = obs.cue_code is not None or not stop_at_cue
            if stop_at_reps is not None and (obs.reps or 0) >= stop_at_reps and cue_ok:
                break
            time.sleep(0.3)
        if screenshot is not None:
            with contextlib.suppress(Exception):
                frames = driver.find_elements(By.TAG_NAME, "iframe")
                driver.execute_script("arguments[0].scrollIntoView();", frames[0])
            driver.save_screenshot(str(screenshot))
        if save_as is not None:
            saved = _stop_and_save(driver, save_as, db)
    finally:
        if driver is not None:
            driver.quit()
        app.stop()
    return seen, saved


def _stop_and_save(driver: Any, client: str, db: Path) -> dict[str, Any]:
    """Press STOP, then the page's save button; what the page and the database say."""
    from selenium.webdriver.common.by import By

    from backcheck.history import QUICK_CHECK, HistoryStore
    from tests.browser import wait_for

    frame = driver.find_elements(By.TAG_NAME, "iframe")[0]
    driver.switch_to.frame(frame)
    wait_for(
        lambda: [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "STOP"],
        30,
        "the STOP button",
    )[0].click()
    driver.switch_to.default_content()
    quick = client == QUICK_CHECK
    label = "Save this set as a quick check" if quick else f"Save this set to {client}'s history"
    wait_for(
        lambda: [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == label],
        60,
        "the save button",
    )[0].click()
    message = wait_for(
        lambda: [
            e.text
            for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=stAlert]")
            if e.text.startswith("Saved")
        ],
        120,
        "the saved message",
    )[0]
    store = HistoryStore(db)
    owner = store.quick_check() if quick else store.clients()[0]
    sessions = store.sessions(owner.id)
    return {
        "message": message,
        "sessions": [{"n_reps": s.n_reps, "exercise": s.exercise} for s in sessions],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--y4m", type=Path, required=True)
    p.add_argument("--exercise", choices=["hinge", "plank"], default="hinge")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--stop-at-reps", type=int, default=None)
    p.add_argument("--stop-at-cue", action="store_true", help="with --stop-at-reps: and a cue")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--screenshot", type=Path, default=None)
    p.add_argument("--save-as", default=None, help="a client to save the set to at the end")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backcheck-live-e2e-") as tmp:
        seen, saved = run(
            args.y4m,
            exercise=args.exercise,
            seconds=args.seconds,
            stop_at_reps=args.stop_at_reps,
            work=Path(tmp),
            stop_at_cue=args.stop_at_cue,
            screenshot=args.screenshot,
            save_as=args.save_as,
        )
    result = {"observations": [asdict(o) for o in seen], "saved": saved}
    args.out.write_text(json.dumps(result), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
