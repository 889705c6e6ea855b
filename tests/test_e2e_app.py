"""End to end: the real app (`streamlit run app.py`) driven in headless Debian Chromium.

Adds a client, uploads a real clip, waits for the analysis, checks the cues, rep table,
charts and annotated video on the page; restarts the app and finds the session in the
client's history; uploads a corrupt file, sees the reason, and keeps using the app.

With ``BACKCHECK_SCREENSHOTS=DIR`` it also saves the main screens at phone (390 px) and
laptop (1366 px) widths (docs/screenshots/ is made this way).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from backcheck.history import HistoryStore
from tests.browser import CHROMEDRIVER, CHROMIUM, App, make_driver, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (apt)",
    ),
]

# A short clip keeps the test quick; BACKCHECK_E2E_CLIP (relative to ../shared/data) picks
# another, e.g. a longer set for the screenshots.
CLIP = Path(os.environ.get("BACKCHECK_E2E_CLIP", "clips/deadlift/posereader_good.mp4"))
ANALYSIS_TIMEOUT_S = 300
PHONE, LAPTOP = 390, 1366

_PAGE_HEIGHT_JS = """
let h = document.documentElement.scrollHeight;
for (const el of document.querySelectorAll('*')) {
  const s = getComputedStyle(el).overflowY;
  if ((s === 'auto' || s === 'scroll') && el.scrollHeight > el.clientHeight) {
    h = Math.max(h, el.scrollHeight);
  }
}
return h;
"""


def _by_css(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _button(driver: Any, text: str) -> Any:
    """The button labelled `text` (an icon's ligature may come before the label)."""
    buttons = _by_css(driver, "button")
    exact = [b for b in buttons if b.text.strip() == text]
    ending = [b for b in buttons if b.text.strip().endswith("\n" + text)]
    found = exact or ending
    return found[0] if found else None


def _click(driver: Any, text: str, timeout: float = 30) -> None:
    button = wait_for(
        lambda: (b := _button(driver, text)) is not None and b.is_enabled() and b,
        timeout,
        f"an enabled '{text}' button",
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def _open_expander(driver: Any, label: str) -> None:
    """Open the expander titled `label` (unless it is open already)."""
    summary = wait_for(
        lambda: [
            e for e in _by_css(driver, "[data-testid='stExpander'] summary") if label in e.text
        ],
        60,
        f"the '{label}' expander",
    )[0]
    details = summary.find_element("xpath", "..")
    if details.get_attribute("open") is None:
        summary.click()


def _page(driver: Any, name: str) -> None:
    """Switch page with the segmented control at the top."""
    _click(driver, name)
    title = "Clients and history" if name == "Clients and history" else "Check a lift"
    wait_for(lambda: any(h.text == title for h in _by_css(driver, "h1")), 30, f"the {title} page")
    _wait_idle(driver)


def _wait_idle(driver: Any, timeout: float = 60) -> None:
    """Until Streamlit says the script has finished running."""
    time.sleep(0.5)
    wait_for(
        lambda: (
            not _by_css(driver, "[data-testid='stStatusWidget'] [data-testid*='Running']")
            and not _by_css(driver, "[data-testid='stStatusWidgetRunningIcon']")
        ),
        timeout,
        "the page to finish running",
    )


def _text(driver: Any, css: str) -> str:
    """All text of the elements matching `css` (empty when none, or while re-rendering)."""
    try:
        return " ".join(e.get_attribute("textContent") or "" for e in _by_css(driver, css))
    except Exception:  # stale element: Streamlit replaced it while we read
        return ""


def _picked_client(driver: Any) -> str:
    """The value shown in the client picker (a combobox input)."""
    try:
        found = _by_css(driver, "[data-testid='stSelectbox'] input[aria-label='Client']")
        return (found[0].get_attribute("value") or "") if found else ""
    except Exception:  # stale element while re-rendering
        return ""


def _upload(driver: Any, path: Path) -> None:
    """Pick `path` in the file uploader; again if Streamlit replaces the input meanwhile."""

    def pick() -> bool:
        field = _by_css(driver, "[data-testid='stFileUploader'] input[type='file']")
        if field:
            field[0].send_keys(str(path))  # a stale input raises: wait_for tries again
        return bool(field)

    wait_for(pick, 30, "the file uploader")
    wait_for(
        lambda: path.name in _text(driver, "[data-testid='stFileUploader']"),
        60,
        f"{path.name} to upload",
    )
    _wait_idle(driver)


def _shoot(driver: Any, folder: Path | None, name: str) -> None:
    """Full-page screenshots at phone and laptop widths (only when asked for)."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in (("phone", PHONE), ("laptop", LAPTOP)):
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        time.sleep(2.0)  # charts and columns re-lay themselves out
        height = int(driver.execute_script(_PAGE_HEIGHT_JS))
        metrics["height"] = min(max(height + 20, 600), 9000)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        time.sleep(1.5)
        driver.save_screenshot(str(folder / f"{name}-{label}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    time.sleep(1.0)


def test_the_trainer_flow_in_a_real_browser(
    tmp_path: Path, shared_data: Path, model_path: Path
) -> None:
    shots_env = os.environ.get("BACKCHECK_SCREENSHOTS")
    shots = Path(shots_env).resolve() if shots_env else None
    db = tmp_path / "history.sqlite3"
    os.environ.setdefault("BACKCHECK_MODEL_DIR", str(model_path.parent))
    app = App(db, tmp_path / "streamlit.log")
    app.start()
    downloads = tmp_path / "downloads"
    driver = make_driver(tmp_path / "chromium-profile", downloads=downloads)
    try:
        driver.get(app.url)
        # A trainer adds their first client (a quick check needs none: test_e2e_quick).
        _open_expander(driver, "Add a new client")
        name = wait_for(
            lambda: [e for e in _by_css(driver, "input[aria-label='Name']") if e.is_displayed()],
            60,
            "the client form",
        )[0]
        name.send_keys("Sam Carter")
        _click(driver, "Add client")
        wait_for(lambda: "Sam Carter" in _picked_client(driver), 30, "the new client picked")
        _upload(driver, shared_data / CLIP)
        _shoot(driver, shots, "1-upload")

        _click(driver, "Analyse")
        saw_progress = wait_for(
            lambda: (
                _by_css(driver, "[data-testid='stProgress']")
                or _by_css(driver, ".st-key-latest-cues")
            ),
            ANALYSIS_TIMEOUT_S,
            "the progress bar",
            interval=0.2,
        )
        assert saw_progress
        cues = wait_for(
            lambda: _by_css(driver, ".st-key-latest-cues"),
            ANALYSIS_TIMEOUT_S,
            "the analysis result",
        )[0]
        _wait_idle(driver)

        store = HistoryStore(db)
        (session,) = store.sessions()
        report = store.session(session.id).report
        # Cues: praise first, then at most two cues, as in report.json.
        alerts = [e.text for e in cues.find_elements("css selector", "[data-testid='stAlert']")]
        assert alerts and report.cues[0].text in alerts[0]
        assert len(alerts) <= 3
        # Rep table (or the no-reps note), one row per rep with a verdict.
        reps = _by_css(driver, ".st-key-latest-reps")[0]
        assert "Rep by rep" in reps.text
        count_rows = (
            "const t = document.querySelector(\".st-key-latest-reps [data-testid='stTable']\");"
            "return t ? t.querySelectorAll('tbody tr').length : 0;"
        )
        if report.reps:
            assert wait_for(
                lambda: driver.execute_script(count_rows) == len(report.reps), 30, "rep rows"
            )
        else:
            assert driver.execute_script(count_rows) == 0
        if report.reps:
            assert "Verdict" in reps.text
        else:
            assert "No complete reps were found" in reps.text
        # Charts drawn by Vega-Lite with a real size.
        charts = wait_for(
            lambda: [
                c
                for c in _by_css(driver, ".st-key-latest-charts canvas, .st-key-latest-charts svg")
                if c.size["width"] > 100 and c.size["height"] > 50
            ],
            30,
            "the angle charts",
        )
        assert charts
        # The annotated video loads in the browser and is as long as the clip.
        video = _by_css(driver, ".st-key-latest-video video")[0]
        duration = wait_for(
            lambda: driver.execute_script(
                "const v = arguments[0]; return v.readyState >= 1 ? v.duration : 0;", video
            ),
            60,
            "the annotated video's metadata",
        )
        assert duration == pytest.approx(report.source.duration_s, abs=0.1)
        # The scrubber shows a frame.
        frame = _by_css(driver, ".st-key-latest-scrubber img")
        assert frame and frame[0].size["width"] > 50
        # Downloads: report.json as saved, and the printable report for the client.
        _click(driver, "report.json")
        _click(driver, "Printable report")
        got = wait_for(
            lambda: (
                {p.name for p in downloads.glob("*") if not p.name.endswith(".crdownload")}
                >= {"report.json", f"{Path(CLIP).stem}-report.html"}
            ),
            60,
            "the downloads",
        )
        assert got
        assert json.loads((downloads / "report.json").read_text("utf-8")) == report.to_dict()
        html = (downloads / f"{Path(CLIP).stem}-report.html").read_text("utf-8")
        assert "Sam Carter" in html and report.cues[0].text in html
        _shoot(driver, shots, "2-result")

        # Restart the server: the session is in the client's history.
        driver.get("about:blank")
        app.restart()
        driver.get(app.url)
        _page(driver, "Clients and history")
        wait_for(lambda: _text(driver, ".st-key-history-sessions"), 60, "the session history")
        assert wait_for(
            lambda: CLIP.name in _text(driver, ".st-key-history-sessions"), 30, "the session"
        )
        assert "Sam Carter" in _picked_client(driver)
        wait_for(lambda: _by_css(driver, ".st-key-history-cues"), 60, "the opened session")
        _wait_idle(driver)
        _shoot(driver, shots, "3-history")

        # A corrupt upload: a clear reason, and the app keeps working.
        corrupt = tmp_path / "corrupt.mp4"
        corrupt.write_bytes((shared_data / CLIP).read_bytes()[:4000])  # cut short
        _page(driver, "Check a lift")
        _upload(driver, corrupt)
        _click(driver, "Analyse")
        error = wait_for(
            lambda: (
                (t := _text(driver, "[data-testid='stAlert']")) and "can't be analysed" in t and t
            ),
            120,
            "the error message",
        )
        assert "corrupt.mp4" in error and "cut short" in error
        _shoot(driver, shots, "4-bad-upload")
        assert len(store.sessions()) == 1
        assert list(store.staging_dir.iterdir()) == []
        _page(driver, "Clients and history")
        assert wait_for(
            lambda: CLIP.name in _text(driver, ".st-key-history-sessions"), 60, "the history again"
        )
    except BaseException:
        keep = tmp_path / "failure.png"
        driver.save_screenshot(str(keep))
        shutil.copy(app.log, tmp_path / "streamlit-copy.log")
        raise
    finally:
        driver.quit()
        app.stop()
