"""A client's own neutral for `ClientProfile.neutral`, from a standing clip or a lift's setup.

The neutral is the back's *shape* the rules measure flexion from: ``spine_curve_deg``
(`metrics.spine.NEUTRAL_CURVE_KEY`, the curve of the back outline and head). Two sources:

- A standing clip: `metrics.spine.calibrate_neutral` (the hinge rules' own reading of the
  standing frames; it also gives ``standing_trunk_deg``, the upright trunk that leaning
  back is measured from).
- The setup of an upload (or a clip with no standing frames: a coach-approved flat-backed
  position held still): the median curve over the first *steady* `window_s` seconds,
  where the trunk and hip angles move less than `tol_deg` and the side in view is clearly
  visible. The curve itself is not part of the stillness test: the mask edge and the head
  jitter by several degrees while the person is still; the median absorbs that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metrics.errors import AnalysisError
from metrics.spine import calibrate_neutral, spine_shape

if TYPE_CHECKING:
    from metrics.analysis import TrackAnalysis

CURVE_KEY = "spine_curve_deg"  # = metrics.spine.NEUTRAL_CURVE_KEY, a timeseries column too
# The back fold and head fold (`metrics.spine.NEUTRAL_BACK_KEY`, `NEUTRAL_HEAD_KEY`): the
# flexion's neutrals on tracks with the neck stations (NaN columns on older tracks).
NEUTRAL_COLUMNS = (CURVE_KEY, "spine_back_fold_deg", "spine_head_fold_deg")
# Columns that must be still for a moment to count as steady (posture, not stored).
STEADY_COLUMNS = ("trunk_deg", "hip_deg")
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Neutral:
    """Neutral values for `ClientProfile.neutral`, and how they were found."""

    values: dict[str, float]
    how: str


def shape_columns(columns: Mapping[str, np.ndarray]) -> list[str]:
    """Names of the neutral columns present, in a stable order."""
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
        raise AnalysisError("This clip has no measure of the back's shape to calibrate from.")
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
        # Grow the window while every frame in it is usable.
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
            return Neutral(values, f"still at {t[i]:.1f}-{t[j]:.1f} s")
    where = f"the first {search_s:.0f} s of the clip" if search_s is not None else "the clip"
    raise AnalysisError(
        f"No steady moment was found in {where}: film from the side and hold the start "
        "position (or stand tall) still for a second."
    )


def _frame_gap(t: np.ndarray) -> float:
    """Typical time between frames: a window one frame short of `window_s` still counts."""
    return float(np.median(np.diff(t))) if len(t) > 1 else 0.0


def analysis_columns(analysis: TrackAnalysis) -> dict[str, np.ndarray]:
    """The analysis's per-frame columns, with the back's curve added (`metrics.spine`)
    when the exercise's rules did not export it (a plank)."""
    cols = dict(analysis.columns())
    if CURVE_KEY not in cols:
        cols[CURVE_KEY] = spine_shape(analysis.track, analysis.angles).curve_deg
    return cols


def neutral_from_standing(analysis: TrackAnalysis) -> Neutral:
    """A standing clip's neutral: the spine module's standing reading when the clip has
    standing frames, else the first steady position (held still, flat-backed)."""
    values = calibrate_neutral(analysis.track, analysis.angles)
    if CURVE_KEY in values:
        return Neutral(dict(values), "standing frames")
    return neutral_from_setup(analysis)


def neutral_from_setup(analysis: TrackAnalysis, *, search_s: float | None = None) -> Neutral:
    """A lift's setup as the neutral: the first steady frames (within `search_s`)."""
    return neutral_from_columns(analysis_columns(analysis), search_s=search_s)
