"""A client's neutral from the first steady frames of a clip (a standing clip or a setup).

The neutral is a set of *shape* measures (how the back and neck are held), not posture
measures like trunk inclination: ``neck_deg`` (ear-shoulder-hip; the plank rules' head
neutral) and ``spine_bend_deg`` (the bend of the back's outline, `metrics.spine`; the
hinge rules' neutral). Each is stored under that key in `ClientProfile.neutral`, the key
the rules look up and subtract.

Steady means: for at least `window_s` seconds the trunk and hip angles move less than
`tol_deg` (max minus min) and the body side in view is clearly visible. The shape measures
are not part of that test (face landmarks and the mask edge jitter by several degrees
while the person is still); their medians over the window are the neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metrics.errors import AnalysisError

if TYPE_CHECKING:
    from metrics.analysis import TrackAnalysis

SPINE_KEY = "spine_bend_deg"  # = metrics.spine.NEUTRAL_KEY
NEUTRAL_COLUMNS = ("neck_deg", SPINE_KEY)
# Columns that must be still for a moment to count as steady (posture, not stored).
STEADY_COLUMNS = ("trunk_deg", "hip_deg")
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Neutral:
    """Median shape measures over the steady window [start_s, end_s]."""

    values: dict[str, float]
    start_s: float
    end_s: float


def shape_columns(columns: Mapping[str, np.ndarray]) -> list[str]:
    """Names of the shape columns present, in a stable order."""
    return [name for name in NEUTRAL_COLUMNS if name in columns]


def neutral_from_columns(
    columns: Mapping[str, np.ndarray],
    *,
    window_s: float = 0.5,
    tol_deg: float = 5.0,
    search_s: float | None = None,
) -> Neutral:
    """The neutral from the first steady `window_s` of a clip's per-frame columns.

    `columns` are those of timeseries.csv (``t_s``, angles in degrees, ``visibility``).
    ``search_s`` limits the search to the clip's first seconds (the setup of a lift).
    Raises `AnalysisError` with advice when no steady, well-seen moment is found.
    """
    t = np.asarray(columns["t_s"], np.float64)
    shapes = shape_columns(columns)
    if not shapes:
        raise AnalysisError("This clip has no back or neck measures to calibrate from.")
    watched = [c for c in STEADY_COLUMNS if c in columns]
    if not watched:
        raise AnalysisError("This clip has no trunk or hip angles to find a still moment in.")
    data = np.stack([np.asarray(columns[c], np.float64) for c in watched], axis=1)
    shape_data = np.stack([np.asarray(columns[c], np.float64) for c in shapes], axis=1)
    ok = np.asarray(np.isfinite(data).all(axis=1), bool)
    if "visibility" in columns:
        vis = np.asarray(columns["visibility"], np.float64)
        ok = ok & (np.nan_to_num(vis, nan=0.0) >= MIN_VISIBILITY)
    limit = t[0] + search_s if search_s is not None and len(t) else np.inf
    n = len(t)
    j = 0
    for i in range(n):
        if t[i] > limit:
            break
        if not ok[i]:
            continue
        j = max(j, i)
        # Grow the window while every frame in it is usable and the spread stays small.
        while j + 1 < n and ok[j + 1] and t[j + 1] - t[i] <= window_s + 1e-9:
            j += 1
        if t[j] - t[i] < window_s - 1e-9 - _frame_gap(t):
            continue
        seg = data[i : j + 1]
        if not np.all(seg.max(axis=0) - seg.min(axis=0) <= tol_deg):
            continue
        shape = shape_data[i : j + 1]
        seen = np.isfinite(shape).mean(axis=0) >= 0.5  # a measure needs half the window
        if seen.any():
            values = {
                c: round(float(np.nanmedian(shape[:, k])), 2)
                for k, c in enumerate(shapes)
                if seen[k]
            }
            return Neutral(values, float(t[i]), float(t[j]))
    where = f"the first {search_s:.0f} s of the clip" if search_s is not None else "the clip"
    raise AnalysisError(
        f"No steady moment was found in {where}: film from the side and hold the start "
        "position (or stand tall) still for a second."
    )


def _frame_gap(t: np.ndarray) -> float:
    """Typical time between frames: a window one frame short of `window_s` still counts."""
    return float(np.median(np.diff(t))) if len(t) > 1 else 0.0


def analysis_columns(analysis: TrackAnalysis) -> dict[str, np.ndarray]:
    """The analysis's per-frame columns, with the raw back bend added when the spine
    measure is available (`metrics.spine`) and the rules did not already export it."""
    cols = dict(analysis.columns())
    if SPINE_KEY not in cols:
        try:
            from metrics.spine import spine_shape
        except ImportError:  # the spine measure is not there yet: neck only
            return cols
        shape = spine_shape(analysis.track, analysis.angles)
        cols[SPINE_KEY] = shape.smooth_deg
    return cols


def neutral_from_analysis(
    analysis: TrackAnalysis,
    *,
    window_s: float = 0.5,
    tol_deg: float = 5.0,
    search_s: float | None = None,
) -> Neutral:
    """`neutral_from_columns` on an analysed track (a standing clip, or a lift's setup)."""
    return neutral_from_columns(
        analysis_columns(analysis), window_s=window_s, tol_deg=tol_deg, search_s=search_s
    )
