"""The app as a gym's shared server: `BACKCHECK_RAY_ADDRESS` set, two trainers in two real
browsers press Analyse at once, and both get their results from Ray workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backcheck.history import HistoryStore
from backcheck.ui.uploads import RAY_ADDRESS_ENV
from tests.browser import CHROMEDRIVER, CHROMIUM, App, make_driver, wait_for
from tests.test_e2e_app import _by_css, _click, _upload, _wait_idle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.clips,
    pytest.mark.ray,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (apt)",
    ),
]

CLIPS = ("clips/deadlift/posereader_good.mp4", "clips/deadlift/posereader_heellift.mp4")


@pytest.fixture()
def ray_server() -> Iterator[str]:
    """A real local Ray (2 CPUs) standing in for the gym server's; yields its address."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _ray_tasks() -> int:
    """Remote analyses running now: processes titled `ray::_analyze_task` (this test's Ray
    is the only one whose workers run that task)."""
    n = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(
                b"ray::_analyze_task"
            ):
                n += 1
        except OSError:
            continue
    return n


def test_two_trainers_uploading_at_once_both_get_results_from_ray(
    tmp_path: Path,
    shared_data: Path,
    model_path: Path,
    ray_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(RAY_ADDRESS_ENV, ray_server)
    monkeypatch.setenv("BACKCHECK_MODEL_DIR", str(model_path.parent))
    db = tmp_path / "history.sqlite3"
    HistoryStore(db)
    app = App(db, tmp_path / "streamlit.log")
    app.start()
    drivers: list[Any] = []
    try:
        for k, clip in enumerate(CLIPS):  # with no client yet, each is a quick check
            driver = make_driver(tmp_path / f"chromium-{k}")
            drivers.append(driver)
            driver.get(app.url)
            short = tmp_path / f"set{k + 1}.mp4"  # a long name is shown cut short
            short.symlink_to(shared_data / clip)
            _upload(driver, short)
        for driver in drivers:
            _click(driver, "Analyse")
        running = wait_for(lambda: _ray_tasks() >= 1, 120, "an analysis on a Ray worker", 0.1)
        assert running
        for driver in drivers:
            wait_for(lambda d=driver: _by_css(d, ".st-key-latest-cues"), 300, "the result")
            _wait_idle(driver)
        sessions = HistoryStore(db).sessions()
        assert sorted(s.source_file for s in sessions) == ["set1.mp4", "set2.mp4"]
        assert all(s.n_reps == 1 for s in sessions)
    finally:
        for driver in drivers:
            driver.quit()
        app.stop()
