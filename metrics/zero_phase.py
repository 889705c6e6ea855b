"""Zero-phase Butterworth low-pass in numpy: the design and the forward–backward pass.

The same arithmetic as SciPy's `butter(..., output="sos")` and `sosfiltfilt` with odd
padding (tests/test_zero_phase.py holds them equal), without importing `scipy.signal`:
that import alone costs about half a second, a seventh of a command-line run on a short
clip. Each run of finite samples is filtered on its own (`filtfilt_runs`); the runs of
every column are laid end to end in one lane per column and all lanes step together, so
the Python loop is as long as the longest lane, not as the sum of the runs.
"""

from __future__ import annotations

import math

import numpy as np


def butter_lowpass_sos(order: int, cutoff_hz: float, fs: float) -> np.ndarray:
    """Second-order sections (n, 6) of a digital Butterworth low-pass of even `order`,
    cutoff `cutoff_hz` at sample rate `fs`: the analogue prototype's poles, prewarped and
    mapped by the bilinear transform, the pair nearest the unit circle last, the gain in
    the first section (as `scipy.signal.butter(order, cutoff_hz, fs=fs, output="sos")`)."""
    if order < 2 or order % 2:
        raise ValueError(f"order must be a positive even number, got {order}")
    if not 0 < cutoff_hz < fs / 2:
        raise ValueError(f"cutoff must be between 0 and {fs / 2:g} Hz, got {cutoff_hz:g}")
    wn = 2.0 * cutoff_hz / fs
    warped = 4.0 * np.tan(math.pi * wn / 2.0)  # the prototype's cutoff, prewarped (fs 2)
    m = np.arange(-order + 1, order, 2)
    poles = -np.exp(1j * math.pi * m / (2 * order)) * warped
    gain = warped**order
    z_poles = (4.0 + poles) / (4.0 - poles)  # bilinear transform at fs 2
    gain = gain * np.real(1.0 / np.prod(4.0 - poles))
    upper = z_poles[z_poles.imag > 0]  # one of each conjugate pair
    upper = upper[np.argsort(-np.abs(1.0 - np.abs(upper)), kind="stable")]
    sos = np.zeros((len(upper), 6))
    for s, p in enumerate(upper):
        sos[s] = (1.0, 2.0, 1.0, 1.0, -2.0 * p.real, p.real**2 + p.imag**2)
    sos[0, :3] *= gain
    return sos


def _section_zi(sos: np.ndarray) -> np.ndarray:
    """(n, 2) initial states for a step input of 1: each section's steady state, scaled
    by the gain of the sections before it."""
    zi = np.empty((len(sos), 2))
    scale = 1.0
    for s, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        i_minus_a = np.array([[1.0 + a1, -1.0], [a2, 1.0]])
        zi[s] = scale * np.linalg.solve(i_minus_a, np.array([b1 - a1 * b0, b2 - a2 * b0]))
        scale *= (b0 + b1 + b2) / (1.0 + a1 + a2)
    return zi


def _run_lanes(
    sos: np.ndarray, lanes: np.ndarray, starts: dict[int, np.ndarray], zi: np.ndarray
) -> np.ndarray:
    """The sections applied down axis 0 of `lanes` (L, K), direct form II transposed; at
    step n the lanes `starts[n]` begin a new run, their state set to `zi` times the run's
    first sample."""
    n_sections = len(sos)
    state = np.zeros((n_sections, 2, lanes.shape[1]))
    out = np.empty_like(lanes)
    b0, b1, b2, a1, a2 = (sos[:, k] for k in (0, 1, 2, 4, 5))
    for n in range(lanes.shape[0]):
        x = lanes[n]
        cols = starts.get(n)
        if cols is not None:
            state[:, :, cols] = zi[:, :, None] * x[cols]
        for s in range(n_sections):
            y = b0[s] * x + state[s, 0]
            state[s, 0] = b1[s] * x - a1[s] * y + state[s, 1]
            state[s, 1] = b2[s] * x - a2[s] * y
            x = y
        out[n] = x
    return out


def filtfilt_runs(
    sos: np.ndarray, flat: np.ndarray, runs: list[list[tuple[int, int]]], pad: int
) -> np.ndarray:
    """`flat` (T, K) with each run ``(start, stop)`` of ``runs[k]`` in column k filtered
    forward and backward (odd extension of up to `pad` samples at each end, one fewer
    than the run's length at most), as `scipy.signal.sosfiltfilt` does a run at a time;
    samples outside the runs are returned as they were."""
    out = np.array(flat, dtype=np.float64, copy=True)
    # each run's place in its column's lane: (lane offset, start, stop, padding)
    where: list[list[tuple[int, int, int, int]]] = []
    length = 0  # the longest lane
    for col_runs in runs:
        at, placed = 0, []
        for a, b in col_runs:
            p = min(pad, b - a - 1)
            placed.append((at, a, b, p))
            at += b - a + 2 * p
        where.append(placed)
        length = max(length, at)
    if length == 0:
        return out
    lanes = np.zeros((length, len(runs)))
    starts: dict[int, list[int]] = {}
    for col, placed in enumerate(where):
        for at, a, b, p in placed:
            x = out[a:b, col]
            ext = np.concatenate((2 * x[0] - x[p:0:-1], x, 2 * x[-1] - x[-2 : -(p + 2) : -1]))
            lanes[at : at + len(ext), col] = ext
            starts.setdefault(at, []).append(col)
    zi = _section_zi(sos)
    begin = {n: np.array(c) for n, c in starts.items()}
    forward = _run_lanes(sos, lanes, begin, zi)
    # backward: each run's forward output reversed in place, started from its last value
    backward_in = np.zeros_like(lanes)
    for col, placed in enumerate(where):
        for at, a, b, p in placed:
            size = b - a + 2 * p
            backward_in[at : at + size, col] = forward[at : at + size, col][::-1]
    backward = _run_lanes(sos, backward_in, begin, zi)
    for col, placed in enumerate(where):
        for at, a, b, p in placed:
            size = b - a + 2 * p
            y = backward[at : at + size, col][::-1]
            out[a:b, col] = y[p : size - p]
    return out
