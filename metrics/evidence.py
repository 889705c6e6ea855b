"""What a flag rests on, and when a check must say it could not judge.

Every flag carries its evidence (`Flag.evidence`): the analysed frames it rests on, the
lowest visibility of the landmarks that define it among them, and its margin over the
threshold, so a coach can tell a clear fault from a borderline one. A flag needs a
sustained stretch of clearly seen frames; a value outside what a body can do
(ranges.toml, docs/ranges.md) is never reported. When a check cannot be made the rep
says so (`Rep.not_judged`, entries ``{"check": code, "reason": words}``).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from metrics.clean import MAX_GAP_S
from metrics.landmarks import SIDE_PARTS
from metrics.report import Flag

# The landmarks (near side) each flag's value is made of.
DEFINING_PARTS: dict[str, tuple[str, ...]] = {
    "spine_flexion": ("ear", "shoulder", "hip"),
    "spine_extension": ("shoulder", "hip"),
    "knee_dominant": ("shoulder", "hip", "knee"),
    "hips_rise_early": ("shoulder", "hip", "knee"),
    "hip_sag": ("shoulder", "hip", "ankle"),
    "hip_pike": ("shoulder", "hip", "ankle"),
    "head_drop": ("ear", "shoulder", "hip"),
}

# A flag rests on at least this many clearly seen frames spanning at least this long
# (docs/ranges.md: a position a coach can see is held for a fifth of a second or so).
MIN_FRAMES = 3
MIN_SPAN_S = 0.1
# A frame supports a flag when its reading is within the measurement's frame-to-frame
# noise of the threshold (docs/ranges.md): one frame a hair above it and its neighbours
# a hair below is a plateau at the threshold, not a one-frame spike.
NOISE = {"deg": 2.0, "%": 2.0}
# A landmark counts as seen at this visibility (the cleaning gate's level).
SEEN_VISIBILITY = 0.5
# A flag is "borderline" when its margin over the threshold is under this many times the
# measure's frame noise (`NOISE`): a retake could read it on the other side. For a unit
# without a known noise, when the margin is under this fraction of the threshold.
BORDERLINE_NOISES = 2.0
BORDERLINE_FRACTION = 0.2


@cache
def ranges() -> dict[str, dict[str, Any]]:
    """The physiological range of each flag code (ranges.toml)."""
    text = resources.files("metrics").joinpath("ranges.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["flags"])


def in_range(code: str, value: float) -> bool:
    """True when `value` is something a body can do for flag `code` (unknown codes and
    finite values pass; NaN never does)."""
    if not math.isfinite(value):
        return False
    spec = ranges().get(code)
    if spec is None:
        return True
    return float(spec["min"]) <= value <= float(spec["max"])


def out_of_range_reason(value: float, unit: str) -> str:
    return (
        f"the reading ({value:.0f} {unit}) is more than a body can do: "
        "the pose was not tracked reliably there"
    )


@dataclass(frozen=True)
class Stretch:
    """The frames a flag rests on, how many were clearly seen, and the lowest visibility
    among those (the others are counted apart: filled gaps, landmarks seen poorly)."""

    frames: np.ndarray  # frame indices, in order
    seen: int
    min_visibility: float | None
    span_s: float

    @property
    def sustained(self) -> bool:
        return self.seen >= MIN_FRAMES and self.span_s >= MIN_SPAN_S - 1e-9


def stretch(
    code: str,
    frames: np.ndarray,
    visibility: np.ndarray,
    t: np.ndarray,
    side: str,
    finite: np.ndarray | None = None,
) -> Stretch:
    """How well `frames` show flag `code`: frames whose defining landmarks are all seen
    (and whose value is finite, `finite` per frame) count."""
    frames = np.asarray(frames, int)
    if frames.size == 0:
        return Stretch(frames, 0, None, 0.0)
    k = 0 if side == "left" else 1
    parts = DEFINING_PARTS.get(code, ("shoulder", "hip"))
    lms = [int(SIDE_PARTS[p][k]) for p in parts]
    vis = np.nan_to_num(visibility[np.ix_(frames, np.array(lms, int))].astype(np.float64), nan=0.0)
    low = vis.min(axis=1)
    ok = low >= SEEN_VISIBILITY
    if finite is not None:
        ok &= finite[frames]
    seen_frames = frames[ok]
    span = float(t[seen_frames[-1]] - t[seen_frames[0]]) if seen_frames.size else 0.0
    lowest = round(float(low[ok].min()), 3) if ok.any() else None
    return Stretch(frames, int(ok.sum()), lowest, span)


def close_band(threshold: float, unit: str) -> float:
    """How far from `threshold` (either side, in `unit`) a reading is "close to the line":
    `BORDERLINE_NOISES` times the measure's frame noise, or `BORDERLINE_FRACTION` of the
    threshold for a unit without a known noise."""
    if unit in NOISE:
        return BORDERLINE_NOISES * NOISE[unit]
    return BORDERLINE_FRACTION * abs(threshold)


def near_pass(value: float, threshold: float, unit: str) -> bool:
    """True when a reading under `threshold` is within `close_band` of it: the check
    passed, but a retake could read it on the other side (the mirror of a "borderline"
    flag, so two copies of one lift either side of the line both say "close")."""
    return bool(threshold - close_band(threshold, unit) <= value < threshold)


def close_call(code: str, value: float, threshold: float, unit: str) -> dict[str, Any]:
    """A near pass as reported beside a rep (`after` the rules: report extra
    ``close_calls``): the check, its reading, the threshold and the (negative) margin."""
    return {
        "check": code,
        "value": round(value, 1),
        "threshold": round(threshold, 1),
        "unit": unit,
        "margin": round(value - threshold, 1),
        "call": "near pass",
    }


def evidence(s: Stretch, value: float, threshold: float, unit: str = "deg") -> dict[str, Any]:
    """The `Flag.evidence` object."""
    margin = value - threshold
    fraction = margin / abs(threshold) if threshold else None
    close = margin < close_band(threshold, unit)
    call = "borderline" if close else "clear"
    return {
        "frames": s.seen,
        "unseen_frames": int(len(s.frames) - s.seen),
        "span_s": round(s.span_s, 3),
        "min_visibility": s.min_visibility,
        "margin": round(margin, 1),
        "margin_fraction": None if fraction is None else round(fraction, 2),
        "call": call,
    }


def not_sustained_reason(s: Stretch) -> str:
    if s.seen == 0:
        return "the frames that show it were not seen clearly"
    frames = "frame" if s.seen == 1 else "frames"
    return f"it showed on only {s.seen} clearly seen {frames}, too few to call"


def support_level(threshold: float, unit: str) -> float:
    """The level a frame's reading must reach to support a flag at `threshold`."""
    return threshold - NOISE.get(unit, 0.0)


def run_around(
    values: np.ndarray,
    window: np.ndarray,
    at: int,
    level: float,
    t: np.ndarray,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """The run of `window` frames (sorted indices) around frame `at` where `values` stays
    at or above `level`; just `at` when it is not in the window.

    The run steps over frames where the value is unknown (NaN: a mask edge or landmark
    not found) for up to `max_gap_s`, the gap the cleaning would fill (design.md: short
    gaps are filled, long ones stay gaps); a known value below `level`, a longer gap or a
    frame outside the window ends it.
    """
    window = np.asarray(window, int)
    # frames of the window whose value is unknown are stepped over like frames outside
    # it whose value is unknown (the gap rule below), not taken as ends of the run
    window = window[np.isfinite(values[window]) | (window == at)]
    pos = np.flatnonzero(window == at)
    if pos.size == 0:
        return np.array([at])

    def joins(a: int, b: int, new: int) -> bool:
        """Frame `new` (`a` or `b`, with `a` < `b` next to each other in the window)
        extends the run that holds the other."""
        if not values[new] >= level:
            return False
        if b == a + 1:
            return True
        between = values[a + 1 : b]
        return bool(t[b] - t[a] <= max_gap_s + 1e-9 and not np.isfinite(between).any())

    j = int(pos[0])
    lo = hi = j
    while lo > 0 and joins(int(window[lo - 1]), int(window[lo]), int(window[lo - 1])):
        lo -= 1
    while hi < len(window) - 1 and joins(int(window[hi]), int(window[hi + 1]), int(window[hi + 1])):
        hi += 1
    return window[lo : hi + 1]


def complete_flags(
    flags: list[Flag], visibility: np.ndarray, t: np.ndarray, side: str
) -> tuple[list[Flag], list[str]]:
    """Every flag with its evidence, and none outside what a body can do.

    Flags that already carry evidence (the hinge's) pass as they are; the others (a
    plank's episodes, which need `min_flag_s` past the threshold already) get evidence
    from their own span. A flag whose value is out of range is dropped; the second list
    says, in a coach's words, which were.
    """
    out: list[Flag] = []
    dropped: list[str] = []
    for f in flags:
        if not in_range(f.code, f.value):
            dropped.append(
                f"A {f.code.replace('_', ' ')} reading at {f.peak_s:.1f} s was not reported: "
                + out_of_range_reason(f.value, f.unit)
                + "."
            )
            continue
        if f.evidence is None:
            frames = np.flatnonzero((t >= f.start_s - 1e-6) & (t <= f.end_s + 1e-6))
            s = stretch(f.code, frames, visibility, t, side)
            f = replace(f, evidence=evidence(s, f.value, f.threshold, f.unit))
        out.append(f)
    return out, dropped
