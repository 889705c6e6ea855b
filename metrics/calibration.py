"""A client's neutral from the first steady frames of a clip (a standing clip or a setup).

The neutral is a set of *shape* measures (how the back and neck are held), not posture
measures like trunk inclination: ``neck_deg`` and any per-frame spine column a rule adds
(``spine_*_deg``, ``back_*_deg``, ``lumbar_*_deg``, ``thoracic_*_deg``). Each is stored
under its column name in `ClientProfile.neutral`, the key the rules look up and subtract.

Steady means: for at least `window_s` seconds, the trunk, hip and every shape column move
less than `tol_deg` (max minus min) and the body side in view is clearly visible.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from metrics.errors import AnalysisError

SHAPE_COLUMN = re.compile(r"^(neck|(spine|back|lumbar|thoracic)_\w+)_deg$")
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
    return sorted(name for name in columns if SHAPE_COLUMN.match(name))


def neutral_from_columns(
    columns: Mapping[str, np.ndarray],
    *,
    window_s: float = 0.5,
    tol_deg: float = 4.0,
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
    watched = [c for c in (*STEADY_COLUMNS, *shapes) if c in columns]
    data = np.stack([np.asarray(columns[c], np.float64) for c in watched], axis=1)
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
        if np.all(seg.max(axis=0) - seg.min(axis=0) <= tol_deg):
            values = {c: round(float(np.median(columns[c][i : j + 1])), 2) for c in shapes}
            return Neutral(values, float(t[i]), float(t[j]))
    where = f"the first {search_s:.0f} s of the clip" if search_s is not None else "the clip"
    raise AnalysisError(
        f"No steady moment was found in {where}: film from the side and hold the start "
        "position (or stand tall) still for a second."
    )


def _frame_gap(t: np.ndarray) -> float:
    """Typical time between frames: a window one frame short of `window_s` still counts."""
    return float(np.median(np.diff(t))) if len(t) > 1 else 0.0
