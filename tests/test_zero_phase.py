"""The numpy filters of metrics/ against SciPy's, which they replace so that an analysis
imports no SciPy: the zero-phase Butterworth (metrics/zero_phase.py) and the running
median (metrics.spine.running_median)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from metrics.clean import _finite_runs, lowpass
from metrics.zero_phase import _section_zi, butter_lowpass_sos, filtfilt_runs

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("fs", [14.985, 15.0, 24.0, 29.97, 30.0, 60.0, 120.0, 240.0])
@pytest.mark.parametrize("order", [2, 4, 6])
def test_the_design_is_scipys(fs: float, order: int) -> None:
    sos = butter_lowpass_sos(order, 6.0, fs)
    assert np.array_equal(sos, signal.butter(order, 6.0, btype="low", fs=fs, output="sos"))
    assert np.array_equal(_section_zi(sos), signal.sosfilt_zi(sos))


def test_a_design_outside_what_it_supports_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        butter_lowpass_sos(3, 6.0, 30.0)
    with pytest.raises(ValueError, match="cutoff"):
        butter_lowpass_sos(4, 15.0, 30.0)  # at the Nyquist frequency


def _scipy_runs(sos: np.ndarray, flat: np.ndarray, runs: list, pad: int) -> np.ndarray:
    out = flat.copy()
    for col, col_runs in enumerate(runs):
        for a, b in col_runs:
            out[a:b, col] = signal.sosfiltfilt(
                sos, flat[a:b, col], padlen=min(pad, b - a - 1), axis=0
            )
    return out


@pytest.mark.parametrize("fs", [15.0, 30.0, 60.0])
def test_runs_filtered_together_equal_scipy_a_run_at_a_time(fs: float) -> None:
    """Runs of every length from 4 samples (a padding shorter than the default) to
    hundreds, in columns with different gaps, come out as SciPy's, bit for bit."""
    rng = np.random.default_rng(7)
    flat = np.cumsum(rng.normal(size=(400, 9)), axis=0)
    for col in range(9):
        for _ in range(col * 3):
            a = int(rng.integers(0, 390))
            flat[a : a + int(rng.integers(1, 12)), col] = np.nan
    flat[100:104, 0], flat[104, 0], flat[99, 0] = 1.0, np.nan, np.nan  # a run of exactly 4
    sos = butter_lowpass_sos(4, 6.0, fs)
    runs = [
        [(a, b) for a, b in _finite_runs(np.isfinite(flat[:, c])) if b - a >= 4] for c in range(9)
    ]
    assert [r for r in runs[0] if r == (100, 104)] == [(100, 104)]
    mine = filtfilt_runs(sos, flat, runs, pad=27)
    assert np.array_equal(mine, _scipy_runs(sos, flat, runs, 27), equal_nan=True)


def test_lowpass_keeps_the_gaps_and_short_runs_and_removes_jitter() -> None:
    t = np.arange(300) / 30.0
    slow = np.sin(2 * np.pi * 0.5 * t)  # a rep's pace
    jitter = 0.2 * np.sin(2 * np.pi * 13.0 * t)  # landmark jitter, above the 6 Hz cutoff
    x = np.stack([slow + jitter, slow], axis=1)
    x[50:60, 0] = np.nan
    x[61:63, 0] = 5.0  # a run of 2 samples: too short to filter, left as it is
    x[63:70, 0] = np.nan
    y = lowpass(x, t)
    assert np.isnan(y[50:60, 0]).all() and np.isnan(y[63:70, 0]).all()
    assert y[61:63, 0].tolist() == [5.0, 5.0]
    inner = slice(100, 280)
    assert np.abs(y[inner, 0] - slow[inner]).max() < 0.01  # the jitter is gone
    assert np.abs(y[inner, 1] - slow[inner]).max() < 1e-3  # the movement is kept


@pytest.mark.parametrize("n", [3, 5, 40, 301])
@pytest.mark.parametrize("window_s", [0.1, 0.2, 0.35, 1.0, 4.0])
def test_the_running_median_is_scipys_median_filter(n: int, window_s: float) -> None:
    from scipy.ndimage import median_filter

    from metrics.spine import running_median

    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    x[1:n:4] = np.nan
    t = np.arange(n) / 15.0
    size = max(round(window_s * 15.0), 1) | 1
    finite = np.isfinite(x)
    filled = np.interp(np.arange(n), np.flatnonzero(finite), x[finite])
    want = median_filter(filled, size=size, mode="nearest").astype(np.float64)
    want[~finite] = np.nan
    assert np.array_equal(running_median(x, t, window_s), want, equal_nan=True)


def test_an_analysis_does_not_import_scipy() -> None:
    """`scipy.signal` alone takes about half a second to import, `scipy.ndimage` a fifth:
    a seventh of a command-line run on a short clip, for two small filters."""
    code = "import sys, metrics.analysis, backcheck.pipeline; print('scipy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "False"
