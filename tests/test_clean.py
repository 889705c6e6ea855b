"""Cleaning steps on synthetic signals with a known answer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from metrics.clean import (
    OneEuroFilter,
    clean_track,
    fill_gaps,
    gate_by_visibility,
    lowpass,
    reject_outliers,
)
from metrics.landmarks import Landmark as L
from tests.stickfigure import make_track


def _amplitude(x: np.ndarray, t: np.ndarray, hz: float) -> float:
    """Least-squares amplitude of the `hz` component of `x`."""
    basis = np.stack([np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(np.hypot(*coef))


# --- fill_gaps ---------------------------------------------------------------------------


def test_short_gap_filled_long_gap_and_edges_stay_nan() -> None:
    t = np.arange(0, 6, 1 / 30)
    truth = np.sin(2 * np.pi * 0.3 * t)  # a rep every ~3 s
    x = truth.copy()
    idx = np.arange(len(t))
    short = (idx >= 30) & (idx < 33)  # 3 frames: the gap spans 0.13 s between valid samples
    long = (idx >= 90) & (idx < 120)  # 1 s
    x[short] = np.nan
    x[long] = np.nan
    x[:2] = np.nan
    out = fill_gaps(x, t, max_gap_s=0.3)
    assert short.sum() == 3
    assert np.max(np.abs(out[short] - truth[short])) < 0.01  # < 1 % of the amplitude
    assert np.all(np.isnan(out[long]))
    assert np.all(np.isnan(out[:2]))
    np.testing.assert_array_equal(out[~(short | long)][2:], truth[~(short | long)][2:])
    assert np.isnan(x[short]).all()  # input untouched


def test_fill_gaps_uses_true_time_and_works_per_column() -> None:
    t = np.array([0.0, 0.1, 0.15, 0.4, 0.5])  # irregular steps
    x = np.stack([2 * t, -t], axis=1)  # straight lines: interpolation is exact
    x[[1, 2], 0] = np.nan
    x[2, 1] = np.nan
    out = fill_gaps(x, t, max_gap_s=0.5)
    np.testing.assert_allclose(out, np.stack([2 * t, -t], axis=1), atol=1e-12)
    assert np.isnan(fill_gaps(x, t, max_gap_s=0.35)[1:3, 0]).all()  # span 0.4 s > 0.35


# --- reject_outliers ---------------------------------------------------------------------


def test_single_frame_spike_rejected_and_smooth_motion_kept() -> None:
    t = np.arange(0, 4, 1 / 30)
    x = 100 * np.sin(2 * np.pi * 1.0 * t)  # px, a brisk 1 Hz movement
    spiked = x.copy()
    spiked[50] += 80.0
    out = reject_outliers(spiked, t, threshold=30.0)
    assert np.isnan(out[50])
    assert np.isnan(out).sum() == 1
    np.testing.assert_array_equal(np.delete(out, 50), np.delete(x, 50))


def test_vector_outlier_rejects_the_whole_point() -> None:
    t = np.arange(0, 2, 1 / 30)
    pts = np.zeros((len(t), 3, 2))
    pts[..., 0] = 50 * t[:, None]  # three points walking right
    pts[20, 1] = [pts[20, 1, 0] + 25.0, 25.0]  # 35 px off diagonally: each axis only 25
    out = reject_outliers(pts, t, threshold=30.0, vector=True)
    assert np.isnan(out[20, 1]).all()
    assert np.isfinite(np.delete(out.reshape(len(t), -1), [2, 3], axis=1)).all()
    assert np.isfinite(reject_outliers(pts, t, threshold=30.0)).all()  # per axis: 25 < 30


def test_outlier_window_follows_irregular_time() -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.8, 1.2, 120) / 30)
    x = 20 * t
    x[60:62] += 100.0  # a two-frame glitch
    out = reject_outliers(x, t, threshold=10.0, window_s=0.3)
    assert np.isnan(out[60:62]).all() and np.isnan(out).sum() == 2


# --- lowpass -----------------------------------------------------------------------------


@pytest.mark.parametrize("jitter", [0.0, 0.2])
def test_lowpass_keeps_1hz_and_removes_15hz(jitter: float) -> None:
    rng = np.random.default_rng(0)
    fps = 60.0
    steps = (1 + rng.uniform(-jitter, jitter, 600)) / fps  # ±20 % variable frame rate
    t = np.cumsum(steps)
    slow = np.sin(2 * np.pi * 1.0 * t)
    fast = 0.5 * np.sin(2 * np.pi * 15.0 * t)
    out = lowpass(slow + fast, t, cutoff_hz=6.0, order=4)
    core = slice(60, -60)  # away from the edges
    amp_slow = _amplitude(out[core], t[core], 1.0)
    amp_fast = _amplitude(out[core], t[core], 15.0)
    assert amp_slow == pytest.approx(1.0, rel=0.03)
    assert amp_fast < 0.1 * 0.5  # > 90 % attenuation
    np.testing.assert_allclose(out[core], slow[core], atol=0.06)


def test_lowpass_filters_each_finite_run_and_keeps_nan() -> None:
    t = np.arange(0, 4, 1 / 30)
    x = np.where(t < 2, 0.0, 10.0) + 0.0  # two flat runs at different levels
    x[58:62] = np.nan
    out = lowpass(x, t, cutoff_hz=3.0)
    assert np.isnan(out[58:62]).all()
    # No ringing carried across the gap: each run is flat and stays flat.
    np.testing.assert_allclose(out[:58], 0.0, atol=1e-9)
    np.testing.assert_allclose(out[62:], 10.0, atol=1e-9)


def test_lowpass_above_nyquist_is_a_no_op() -> None:
    t = np.arange(0, 1, 1 / 10)
    x = np.sin(2 * np.pi * 3 * t)
    np.testing.assert_array_equal(lowpass(x, t, cutoff_hz=6.0), x)


# --- track level -------------------------------------------------------------------------


def test_gate_by_visibility_sets_nan_and_keeps_visibility() -> None:
    tr = make_track([(20.0, 160.0, 170.0, 180.0)] * 3, facing="right")
    gated = gate_by_visibility(tr, min_visibility=0.9)  # far side (0.8) is gated
    assert np.isnan(gated.image[:, L.LEFT_KNEE]).all()
    assert np.isnan(gated.world[:, L.LEFT_KNEE]).all()
    assert np.isfinite(gated.image[:, L.RIGHT_KNEE]).all()
    np.testing.assert_array_equal(gated.visibility, tr.visibility)
    assert np.isfinite(tr.image).all()  # input untouched


def test_clean_track_removes_a_glitch_fills_a_dropout_and_smooths() -> None:
    fps = 30.0
    n = 150
    trunk = 40 + 35 * np.sin(2 * np.pi * 0.4 * np.arange(n) / fps)
    poses = [(a, 180 - a, 170.0, 180.0) for a in trunk]
    truth = make_track(poses, facing="right")
    noisy = make_track(poses, facing="right", noise_px=1.5, seed=3)
    image = noisy.image.copy()
    vis = noisy.visibility.copy()
    image[70, L.RIGHT_KNEE, :2] += [120.0, -90.0]  # the knee jumps to the other leg
    vis[100:104, L.RIGHT_HIP] = 0.1  # the hip drops out for 4 frames
    cleaned = clean_track(replace(noisy, image=image, visibility=vis))
    err = np.linalg.norm(cleaned.image[:, :, :2] - truth.image[:, :, :2], axis=-1)
    assert err[70, L.RIGHT_KNEE] < 3.0
    assert np.all(err[100:104, L.RIGHT_HIP] < 3.0)
    raw_err = np.linalg.norm(noisy.image[:, :, :2] - truth.image[:, :, :2], axis=-1)
    inner = slice(10, -10)
    # White jitter at 30 fps through a 6 Hz zero-phase filter keeps ~60 % of its size.
    assert np.mean(err[inner]) < 0.7 * np.mean(raw_err[inner])
    assert cleaned.image.dtype == np.float32 and cleaned.image.shape == noisy.image.shape


# --- OneEuroFilter -----------------------------------------------------------------------


def test_one_euro_converges_to_a_step() -> None:
    f = OneEuroFilter()
    t = np.arange(0, 2, 1 / 30)
    out = np.array([f.update(ti, np.array([0.0 if ti < 0.5 else 100.0]))[0] for ti in t])
    assert out[t < 0.5].max() == 0.0
    after = out[t >= 0.5]
    assert np.all(np.diff(after) >= -1e-9)  # no overshoot back and forth
    assert after[t[t >= 0.5] >= 1.0][0] > 95.0  # within 5 % half a second after the step
    assert abs(after[-1] - 100.0) < 0.5


def test_one_euro_reduces_jitter_at_rest() -> None:
    rng = np.random.default_rng(0)
    f = OneEuroFilter()
    t = np.arange(0, 5, 1 / 30)
    x = 200.0 + rng.normal(0.0, 2.0, (len(t), 4))
    out = np.array([f.update(ti, xi) for ti, xi in zip(t, x, strict=True)])
    assert out[30:].std(axis=0).max() < 0.5 * x[30:].std(axis=0).min()
    assert abs(out[30:].mean() - 200.0) < 0.5


def test_one_euro_tolerates_nan_and_restarts_after_long_gaps() -> None:
    f = OneEuroFilter(reset_after_s=0.5)
    f.update(0.0, np.array([10.0, 10.0]))
    f.update(1 / 30, np.array([10.0, 10.0]))
    out = f.update(2 / 30, np.array([np.nan, 10.0]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(10.0)
    out = f.update(3 / 30, np.array([10.0, 10.0]))  # short dropout: carries on smoothly
    assert out[0] == pytest.approx(10.0)
    for k in range(4, 40):  # element 0 missing for over a second
        f.update(k / 30, np.array([np.nan, 10.0]))
    out = f.update(40 / 30, np.array([50.0, 10.0]))
    assert out[0] == pytest.approx(50.0)  # restarts from the new value, no stale blending
    assert np.array_equal(f.update(40 / 30, np.array([0.0, 0.0])), out)  # same t: unchanged
    with pytest.raises(ValueError):
        f.update(2.0, np.zeros(3))
