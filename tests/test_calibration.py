"""Neutral calibration from the first steady frames of a clip's columns."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.calibration import neutral_from_columns, shape_columns
from metrics.errors import AnalysisError


def _columns(steady_from: float = 0.3, steady_to: float = 1.3, fps: float = 30.0) -> dict:
    t = np.arange(0.0, 3.0, 1.0 / fps)
    rng = np.random.default_rng(0)
    moving = (t < steady_from) | (t > steady_to)
    trunk = np.where(moving, 10.0 + 40.0 * np.abs(np.sin(3 * t)), 12.0)
    return {
        "t_s": t,
        "trunk_deg": trunk + rng.normal(0, 0.3, t.size),
        "hip_deg": np.where(moving, 170.0 - 50.0 * np.abs(np.sin(3 * t)), 168.0),
        "knee_deg": np.full_like(t, 175.0),
        "neck_deg": np.where(moving, 215.0, 200.0) + rng.normal(0, 0.5, t.size),
        "spine_curve_deg": np.where(moving, 45.0, 32.0),
        "back_bend_deg": np.where(moving, 15.0, 6.0),
        "plank_line_deg": np.full_like(t, np.nan),
        "visibility": np.full_like(t, 0.9),
    }


def test_the_neutral_is_the_curve_the_rules_read() -> None:
    assert shape_columns(_columns()) == ["spine_curve_deg"]


def test_neutral_is_the_median_of_the_first_steady_window() -> None:
    n = neutral_from_columns(_columns(), window_s=0.5)
    assert n.values == {"spine_curve_deg": pytest.approx(32.0, abs=1e-6)}
    start, end = (float(x) for x in n.how.removeprefix("still at ").removesuffix(" s").split("-"))
    assert start == pytest.approx(0.3, abs=1 / 30 + 0.05)
    assert end - start == pytest.approx(0.5, abs=1 / 30 + 0.1)


def test_jitter_in_the_curve_does_not_break_stillness() -> None:
    cols = _columns()
    rng = np.random.default_rng(1)
    cols["spine_curve_deg"] = cols["spine_curve_deg"] + rng.normal(0, 3.0, cols["t_s"].size)
    n = neutral_from_columns(cols, window_s=0.5)
    assert n.values["spine_curve_deg"] == pytest.approx(32.0, abs=2.5)


def test_poorly_seen_frames_are_not_used() -> None:
    cols = _columns()
    cols["visibility"][(cols["t_s"] > 0.25) & (cols["t_s"] < 0.7)] = 0.2
    n = neutral_from_columns(cols, window_s=0.5)
    assert n.how.startswith("still at 0.7")


def test_no_steady_moment_raises_with_advice() -> None:
    cols = _columns(steady_from=0.3, steady_to=0.5)
    with pytest.raises(AnalysisError, match="hold the start position"):
        neutral_from_columns(cols, window_s=0.5)
    with pytest.raises(AnalysisError, match="first 0 s"):
        neutral_from_columns(_columns(steady_from=0.3), search_s=0.2)


def test_a_clip_without_shape_measures_cannot_calibrate() -> None:
    cols = {k: v for k, v in _columns().items() if k != "spine_curve_deg"}
    with pytest.raises(AnalysisError, match="no measure of the back's shape"):
        neutral_from_columns(cols)
