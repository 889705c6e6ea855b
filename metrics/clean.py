"""Cleaning landmark time series: gate, reject outliers, fill short gaps, low-pass filter.

Every step is a pure function on arrays with explicit keyword arguments, returning a new
array (or `PoseTrack`); NaN marks a value that is not trusted. `clean_track` chains them in
the documented order for files; `OneEuroFilter` is the causal filter for the live path.

The order matters: untrusted values become NaN first (visibility gate, then outliers
against a rolling median), only then are short gaps interpolated, and the zero-phase
low-pass runs last, on each finite run, so a spike or a long gap never smears into its
neighbours.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from metrics.landmarks import Landmark
from metrics.track import PoseTrack
from metrics.zero_phase import butter_lowpass_sos, filtfilt_runs

# Defaults for 30-60 fps video of a person hinging or holding a plank. Human movement in
# these exercises has almost no power above ~6 Hz (Winter's gait figure, also Pose2Sim's
# default); landmark jitter sits above it.
MIN_VISIBILITY = 0.5
OUTLIER_WINDOW_S = 0.3
OUTLIER_TORSO_FRACTION = 0.25  # a landmark 1/4 torso away from its rolling median is a glitch
MAX_GAP_S = 0.3
CUTOFF_HZ = 6.0
FILTER_ORDER = 4

# Shortest finite run the Butterworth filter is applied to; shorter runs are left as they
# are (a handful of samples carries no frequency content worth filtering).
_MIN_FILTER_RUN = 4


def median_dt(t: np.ndarray) -> float:
    """Median time step of strictly increasing timestamps `t` (s); NaN for fewer than 2."""
    t = np.asarray(t, np.float64)
    if t.size < 2:
        return float("nan")
    return float(np.median(np.diff(t)))


def gate_by_visibility(track: PoseTrack, min_visibility: float = MIN_VISIBILITY) -> PoseTrack:
    """Set image and world coordinates to NaN where visibility is below `min_visibility`.

    Parameters
    ----------
    track : PoseTrack
        Input track; left unchanged.
    min_visibility : float
        Landmarks with visibility below this (or NaN visibility) become NaN.

    Returns
    -------
    PoseTrack
        A new track; `visibility` keeps the detector's values so later steps can still
        weigh evidence by it.
    """
    low = ~(track.visibility >= min_visibility)  # NaN visibility counts as low
    image = track.image.copy()
    world = track.world.copy()
    image[low] = np.nan
    world[low] = np.nan
    return replace(track, image=image, world=world)


def _rolling_nanmedian(x: np.ndarray, half: int) -> np.ndarray:
    """Centred rolling median along axis 0 over 2*half+1 samples, ignoring NaN.

    The ends are padded by point reflection about the first and last sample
    (``2 x[0] - x[k]``), so a steady trend has no edge bias; short series are padded
    with NaN instead.
    """
    if x.shape[0] > half:
        front = 2 * x[:1] - x[half:0:-1]
        back = 2 * x[-1:] - x[-2 : -half - 2 : -1]
    else:
        front = back = np.full((half,) + x.shape[1:], np.nan, dtype=x.dtype)
    padded = np.concatenate([front, x, back], axis=0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)
    # np.sort puts NaN last, so the median of the k finite values sits in the middle of
    # the first k sorted entries (much faster than np.nanmedian's masked arrays).
    ordered = np.sort(windows, axis=-1)
    k = np.sum(np.isfinite(windows), axis=-1)
    lo = np.take_along_axis(ordered, np.maximum((k - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.maximum(k // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(k > 0, 0.5 * (lo + hi), np.nan)


def reject_outliers(
    values: np.ndarray,
    t: np.ndarray,
    *,
    threshold: float,
    window_s: float = OUTLIER_WINDOW_S,
    vector: bool = False,
) -> np.ndarray:
    """Set values that jump implausibly far from their rolling median to NaN.

    Parameters
    ----------
    values : (T, ...) array
        Time series along axis 0, NaN where missing.
    t : (T,) array
        Timestamps in seconds (may be irregular).
    threshold : float
        Largest plausible distance from the rolling median, in the units of `values`
        (`clean_track` uses a fraction of the person's torso length).
    window_s : float
        Width of the centred rolling-median window in seconds, converted to an odd number
        of samples with the median time step. Glitches shorter than half the window are
        removed.
    vector : bool
        If True, the last axis holds the components of one point (x, y[, z]): the distance
        is the Euclidean norm over it and a rejected point loses all its components.

    Returns
    -------
    ndarray
        A float copy of `values` with rejected entries set to NaN.

    Notes
    -----
    A rolling median follows smooth motion (it is exact on a straight line) but ignores a
    spike lasting fewer than half the window's samples, so `|x - median|` is near zero for
    real movement and large for a glitch such as a landmark jumping to the other leg. The
    ends are padded by point reflection, which keeps trends but means a glitch in the very
    first or last sample can survive.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    if out.shape[0] < 3:
        return out
    dt = median_dt(t)
    half = max(1, int(round(window_s / dt / 2))) if np.isfinite(dt) and dt > 0 else 1
    med = _rolling_nanmedian(out, half)
    dev = np.abs(out - med)
    if vector:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dist = np.sqrt(np.sum(dev**2, axis=-1))
        bad = np.broadcast_to((dist > threshold)[..., None], out.shape)
    else:
        bad = dev > threshold
    out[bad] = np.nan
    return out


def fill_gaps(values: np.ndarray, t: np.ndarray, *, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Linearly interpolate runs of NaN no longer than `max_gap_s`.

    Parameters
    ----------
    values : (T, ...) array
        Time series along axis 0.
    t : (T,) array
        Timestamps in seconds (irregular steps are interpolated in true time).
    max_gap_s : float
        Longest gap to fill, measured between the valid samples on either side of it
        (one missing frame at 30 fps spans 0.067 s). Longer gaps, and NaN at the start or
        end of the series, stay NaN.

    Returns
    -------
    ndarray
        A float copy of `values` with short gaps filled.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    n = out.shape[0]
    if n < 3:
        return out
    t = np.asarray(t, np.float64)
    flat = out.reshape(n, -1)
    valid = np.isfinite(flat)
    idx = np.arange(n)[:, None]
    prev = np.maximum.accumulate(np.where(valid, idx, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(valid, idx, n)[::-1], axis=0)[::-1]
    inner = ~valid & (prev >= 0) & (nxt < n)
    p = np.clip(prev, 0, n - 1)
    q = np.clip(nxt, 0, n - 1)
    span = t[q] - t[p]
    fill = inner & (span <= max_gap_s + 1e-9)
    if not fill.any():
        return out
    vp = np.take_along_axis(flat, p, axis=0)
    vq = np.take_along_axis(flat, q, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (t[:, None] - t[p]) / span
    flat[fill] = (vp + (vq - vp) * frac)[fill]
    return out


def _finite_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, stop) index ranges where `mask` is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def lowpass(
    values: np.ndarray,
    t: np.ndarray,
    *,
    cutoff_hz: float = CUTOFF_HZ,
    order: int = FILTER_ORDER,
) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0, run separately on each finite run.

    Parameters
    ----------
    values : (T, ...) array
        Time series along axis 0, NaN where missing (NaN stays NaN).
    t : (T,) array
        Timestamps in seconds.
    cutoff_hz : float
        Cutoff of the Butterworth design. The signal passes the filter twice, forward and
        backward (`metrics.zero_phase`): no phase lag, and the gain at the cutoff is -6 dB
        rather than -3 dB.
    order : int
        Order of the design (the effective order is doubled by the two passes).

    Returns
    -------
    ndarray
        A filtered float copy. If the cutoff is at or above 95 % of the Nyquist frequency
        there is nothing to remove and the values come back unfiltered.

    Notes
    -----
    The filter is designed for the sample rate ``1 / median(diff(t))`` and applied to the
    samples as they are, without resampling. Phone video with a variable frame rate
    deviates from that rate by a few per cent at most, which moves the effective cutoff by
    the same few per cent; resampling would instead invent frames the camera never took.
    Runs shorter than 4 samples are left unfiltered; short runs use a shorter edge padding.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    n = out.shape[0]
    dt = median_dt(t)
    if n < _MIN_FILTER_RUN or not (np.isfinite(dt) and dt > 0):
        return out
    nyquist = 0.5 / dt
    if cutoff_hz >= 0.95 * nyquist:
        return out
    sos = butter_lowpass_sos(order, cutoff_hz, 1.0 / dt)
    default_pad = 3 * (2 * len(sos) + 1)
    flat = out.reshape(n, -1)
    finite = np.isfinite(flat)
    runs = [
        [(a, b) for a, b in _finite_runs(finite[:, col]) if b - a >= _MIN_FILTER_RUN]
        for col in range(flat.shape[1])
    ]
    return filtfilt_runs(sos, flat, runs, default_pad).reshape(out.shape)


def torso_length(points: np.ndarray) -> float:
    """Median shoulder-centre to hip-centre distance over a clip, in the points' units.

    `points` is a (T, 33, D) landmark array; the distance uses every coordinate given
    (pass ``image[..., :2]`` for pixels, ``world`` for metres). NaN if never measurable.
    """
    sh = 0.5 * (points[:, Landmark.LEFT_SHOULDER] + points[:, Landmark.RIGHT_SHOULDER])
    hp = 0.5 * (points[:, Landmark.LEFT_HIP] + points[:, Landmark.RIGHT_HIP])
    d = np.linalg.norm(sh - hp, axis=-1)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else float("nan")


def clean_track(
    track: PoseTrack,
    *,
    min_visibility: float = MIN_VISIBILITY,
    outlier_window_s: float = OUTLIER_WINDOW_S,
    outlier_torso_fraction: float = OUTLIER_TORSO_FRACTION,
    max_gap_s: float = MAX_GAP_S,
    cutoff_hz: float | None = CUTOFF_HZ,
    order: int = FILTER_ORDER,
) -> PoseTrack:
    """Gate, reject outliers, fill short gaps and low-pass a whole track (the file path).

    Parameters
    ----------
    track : PoseTrack
        Raw track from the pose model.
    min_visibility : float
        See `gate_by_visibility`.
    outlier_window_s, outlier_torso_fraction : float
        See `reject_outliers`; the threshold is this fraction of the clip's median torso
        length, in pixels for `image` and metres for `world`, so it scales with the person.
        A landmark rejected in either space is rejected in both.
    max_gap_s : float
        See `fill_gaps`.
    cutoff_hz : float or None
        See `lowpass`; None skips the filter.
    order : int
        Butterworth order.

    Returns
    -------
    PoseTrack
        A new track. `visibility`, `back_contour` and `others` are passed through
        unchanged (the back contour has its own cleaning in the spine analysis).
    """
    gated = gate_by_visibility(track, min_visibility=min_visibility)
    t = track.t
    image = gated.image.astype(np.float64)
    world = gated.world.astype(np.float64)
    if len(t) >= 3:
        bad = np.zeros(image.shape[:2], bool)
        for pts, dims in ((image, slice(0, 2)), (world, slice(0, 3))):
            scale = torso_length(pts[..., dims])
            if np.isfinite(scale) and scale > 0:
                checked = reject_outliers(
                    pts[..., dims],
                    t,
                    threshold=outlier_torso_fraction * scale,
                    window_s=outlier_window_s,
                    vector=True,
                )
                bad |= np.isnan(checked[..., 0]) & np.isfinite(pts[..., 0])
        image[bad] = np.nan
        world[bad] = np.nan
    image = fill_gaps(image, t, max_gap_s=max_gap_s)
    world = fill_gaps(world, t, max_gap_s=max_gap_s)
    if cutoff_hz is not None:
        image = lowpass(image, t, cutoff_hz=cutoff_hz, order=order)
        world = lowpass(world, t, cutoff_hz=cutoff_hz, order=order)
    return replace(track, image=image.astype(np.float32), world=world.astype(np.float32))


class OneEuroFilter:
    """Causal adaptive low-pass for live streams (Casiez, Roussel & Vogel, CHI 2012).

    The cutoff rises with speed, ``fc = min_cutoff + beta * |dx/dt|``: still landmarks are
    smoothed hard (no jitter), moving ones lightly (little lag). Works on arrays of any
    fixed shape, element by element, with true (possibly irregular) timestamps.

    Parameters
    ----------
    min_cutoff : float
        Cutoff in Hz when still. Lower removes more jitter and adds lag at rest.
    beta : float
        Cutoff increase per unit of speed (value units per second). The default suits
        pixel coordinates of a person a few hundred pixels tall, or angles in degrees.
    d_cutoff : float
        Cutoff in Hz for the speed estimate itself.
    reset_after_s : float
        An element that has been NaN for longer than this restarts from its next finite
        value instead of blending with a stale estimate.

    Notes
    -----
    NaN inputs give NaN outputs for those elements and leave their state untouched, so a
    short dropout resumes smoothly. A timestamp that does not increase returns the last
    estimate unchanged.
    """

    def __init__(
        self,
        *,
        min_cutoff: float = 1.0,
        beta: float = 0.01,
        d_cutoff: float = 1.0,
        reset_after_s: float = 0.5,
    ) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("min_cutoff and d_cutoff must be > 0 and beta >= 0")
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset_after_s = reset_after_s
        self._t: float | None = None
        self._x: np.ndarray | None = None  # filtered value per element
        self._dx: np.ndarray | None = None  # filtered speed per element
        self._seen: np.ndarray | None = None  # time each element was last finite
        self._last_out: np.ndarray | None = None

    def reset(self) -> None:
        """Forget all state (e.g. when a new person is being followed)."""
        self._t = self._x = self._dx = self._seen = self._last_out = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: np.ndarray) -> np.ndarray:
        """Smoothing factor of an exponential filter with this cutoff (Hz) and step (s)."""
        tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, np.float64))
        return 1.0 / (1.0 + tau / dt)

    def update(self, t: float, x: np.ndarray) -> np.ndarray:
        """Feed the value(s) `x` observed at time `t` (s); return the filtered value(s)."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._seen is None or self._dx is None or self._t is None:
            self._x = x.copy()
            self._dx = np.zeros_like(x)
            self._seen = np.where(np.isfinite(x), t, -np.inf)
            self._t = t
            self._last_out = x.copy()
            return x.copy()
        if x.shape != self._x.shape:
            raise ValueError(f"shape changed from {self._x.shape} to {x.shape}")
        if t <= self._t:
            assert self._last_out is not None
            return self._last_out.copy()
        finite = np.isfinite(x)
        # Elements without a usable previous estimate start afresh from this value.
        fresh = finite & (~np.isfinite(self._x) | (t - self._seen > self.reset_after_s + 1e-12))
        dt_el = np.where(np.isfinite(self._seen), t - self._seen, np.inf)
        dt_el = np.maximum(dt_el, 1e-9)
        with np.errstate(invalid="ignore"):
            speed = (x - self._x) / dt_el
            dx = self._dx + self._alpha(self.d_cutoff, dt_el) * (speed - self._dx)
            cutoff = self.min_cutoff + self.beta * np.abs(dx)
            new_x = self._x + self._alpha(cutoff, dt_el) * (x - self._x)
        upd = finite & ~fresh
        self._x = np.where(upd, new_x, np.where(fresh, x, self._x))
        self._dx = np.where(upd, dx, np.where(fresh, 0.0, self._dx))
        self._seen = np.where(finite, t, self._seen)
        self._t = t
        out = np.where(finite, self._x, np.nan)
        self._last_out = out
        return out.copy()
