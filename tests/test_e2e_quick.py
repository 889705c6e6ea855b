"""End to end in headless Chromium: a new user's quick check with no client, and two
trainers analysing on one server at the same time.

With ``BACKCHECK_SCREENSHOTS=DIR`` the first screen is saved at phone and laptop widths
(docs/screenshots/0-first-screen-*.png is made this way).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from backcheck.history import HistoryStore
from tests.browser import CHROMEDRIVER, CHROMIUM, App, make_driver, wait_for
from tests.test_e2e_app import (
    _by_css,
    _click,
    _picked_client,
    _shoot,
    _text,
    _upload,
    _wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (apt)",
    ),
]

# The two shortest labelled clips (2 s each).
CLIPS = ("clips/deadlift/posereader_good.mp4", "clips/deadlift/posereader_bad.mp4")
ANALYSIS_TIMEOUT_S = 300


def _first_screen(driver: Any, timeout: float = 60) -> None:
    """Until the upload page is up with its uploader."""
    wait_for(
        lambda: (
            any(h.text == "Check a lift" for h in _by_css(driver, "h1"))
            and _by_css(driver, "[data-testid='stFileUploader'] input[type='file']")
        ),
        timeout,
        "the first screen",
        interval=0.2,
    )


def _result(driver: Any) -> str:
    """The result's heading once the analysis has finished."""
    return wait_for(
        lambda: (
            _by_css(driver, ".st-key-latest-cues")
            and " ".join(h.text for h in _by_css(driver, "h3"))
        ),
        ANALYSIS_TIMEOUT_S,
        "the analysis result",
    )


def _start(tmp_path: Path, model_path: Path) -> App:
    os.environ.setdefault("BACKCHECK_MODEL_DIR", str(model_path.parent))
    app = App(tmp_path / "history.sqlite3", tmp_path / "streamlit.log")
    app.start()
    return app


def test_a_new_user_gets_a_result_without_making_a_client(
    tmp_path: Path, shared_data: Path, model_path: Path
) -> None:
    shots_env = os.environ.get("BACKCHECK_SCREENSHOTS")
    shots = Path(shots_env).resolve() if shots_env else None
    app = _start(tmp_path, model_path)
    driver = make_driver(tmp_path / "chromium")
    try:
        driver.get(app.url)
        _first_screen(driver)
        _wait_idle(driver)
        assert _picked_client(driver) == "Quick check (no client)"
        _shoot(driver, shots, "0-first-screen")
        _upload(driver, shared_data / CLIPS[0])
        _click(driver, "Analyse")
        assert "Quick check: Hip hinge" in _result(driver)
        store = HistoryStore(app.db)
        assert store.clients() == []  # no client was made
        (session,) = store.sessions(store.quick_check().id)
        assert session.source_file == "posereader_good.mp4" and session.n_reps >= 1
        # The result says how to keep it with a client.
        assert "Add a client above to move it" in _by_css(driver, ".main, body")[0].text
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        raise
    finally:
        driver.quit()
        app.stop()


def test_two_trainers_analysing_at_once_both_get_results(
    tmp_path: Path, shared_data: Path, model_path: Path
) -> None:
    """Two browser sessions press Analyse together; a third visitor's first screen still
    comes up while they run; both results are shown and saved, nothing is mixed up."""
    app = _start(tmp_path, model_path)
    drivers = [make_driver(tmp_path / f"chromium-{n}", width=1100) for n in range(2)]
    visitor = None
    try:
        for driver, clip in zip(drivers, CLIPS, strict=True):
            driver.get(app.url)
            _first_screen(driver)
            _upload(driver, shared_data / clip)
        # Press Analyse in both at the same moment.
        go = threading.Barrier(2)
        errors: list[BaseException] = []

        def press(driver: Any) -> None:
            try:
                button = wait_for(
                    lambda: next(
                        (b for b in _by_css(driver, "button") if b.text.strip() == "Analyse"),
                        None,
                    ),
                    30,
                    "the Analyse button",
                )
                go.wait(timeout=30)
                button.click()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=press, args=(d,)) for d in drivers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        started = time.monotonic()
        # The progress bar names the stage and, once it can tell, the time left: read from
        # the moment Analyse is pressed, while the third visitor below opens the app (a
        # short clip can be done before that visitor's page is up).
        shown: set[str] = set()

        def watch_progress() -> None:
            while (
                not _by_css(drivers[1], ".st-key-latest-cues") and time.monotonic() - started < 120
            ):
                shown.add(_text(drivers[1], "[data-testid='stProgress']").strip())
                time.sleep(0.3)

        watcher = threading.Thread(target=watch_progress)
        watcher.start()
        # Meanwhile a third visitor opens the app: the page stays responsive.
        visitor = make_driver(tmp_path / "chromium-visitor", width=1100)
        t0 = time.monotonic()
        visitor.get(app.url)
        _first_screen(visitor, timeout=60)
        first_screen_s = time.monotonic() - t0
        both_running = [bool(_by_css(drivers[0], "[data-testid='stProgress']")), bool(shown)]
        watcher.join(timeout=130)
        results = [_result(d) for d in drivers]
        print(
            f"third visitor's first screen in {first_screen_s:.1f} s "
            f"(both analyses running then: {both_running}); both results after "
            f"{time.monotonic() - started:.1f} s"
        )
        assert first_screen_s < 30.0
        assert any(t.startswith("Finding the lifter (") for t in shown), shown
        assert any(re.search(r" · (about \d+ s left|almost done)$", t) for t in shown), shown
        assert all("Quick check: Hip hinge" in r for r in results)
        store = HistoryStore(app.db)
        sessions = store.sessions()
        assert sorted(s.source_file for s in sessions) == sorted(Path(c).name for c in CLIPS)
        assert all(s.n_reps >= 1 for s in sessions)
        assert list(store.staging_dir.iterdir()) == []
        assert store.integrity_ok()
        # Each trainer sees their own clip's result, not the other's.
        for driver, clip in zip(drivers, CLIPS, strict=True):
            caption = " ".join(
                e.text for e in _by_css(driver, "[data-testid='stCaptionContainer']")
            )
            assert Path(clip).name in caption
            assert Path(CLIPS[1 - CLIPS.index(clip)]).name not in caption
    except BaseException:
        for n, d in enumerate(drivers):
            d.save_screenshot(str(tmp_path / f"failure-{n}.png"))
        shutil.copy(app.log, tmp_path / "streamlit-copy.log")
        raise
    finally:
        for d in [*drivers, *([visitor] if visitor else [])]:
            d.quit()
        app.stop()
