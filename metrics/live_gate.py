"""Plausibility for the live path: the upload's gate (`metrics.plausibility`), causal.

The upload gate sees a whole clip, so it can tell a burst (out and back) from a real
move and repair a swap from both sides. Live, only the past is known. Per frame, against
the last frame the gate accepted:

- **left/right swap** (side view): a pair (shoulder, hip, knee, ankle) whose labels are
  nearer the last accepted frame's crossed than as given, by the upload's margins;
- **direction burst**: a torso, thigh, shank or head segment whose direction left the
  last accepted one by at least `burst_min_deg`, faster than `max_deg_s`, and every
  frame after it that is still that far away (it has not come back yet);
- **bone length**: a torso, thigh or shank longer than `max_length_ratio` × its median
  over the set so far;
- **joint range** (side view): a knee or hip bent past its range, either way;
- **two torsos** (side view): the left and right torsos, both seen, pointing far apart.

The landmarks found so are dropped (NaN) before smoothing, so the smoother never takes
them in and every angle made of them reads "unknown" on that frame. A suspect state that
lasts longer than `max_burst_s` is taken as real (the upload keeps such a run too: a
swap or a burst lasts at most that long), and becomes the new reference.

`readout_in_range` then blanks any shown angle a body cannot make (ranges.toml via
`metrics.evidence.in_range`, and the joint limits of docs/ranges.md).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from metrics.evidence import in_range
from metrics.landmarks import N_LANDMARKS, SIDE_PARTS
from metrics.live_frame import FrameAngles
from metrics.plausibility import (
    BURST,
    DEFAULT_PARAMS,
    LENGTH,
    RANGE,
    SEGMENTS,
    SIDES,
    SWAP,
    SWAP_PARTS,
    TORSOS,
    PlausibilityParams,
    _range_checks,
    _torsos_apart,
)

# Lengths kept per segment for its running median (about 10 s at 30 fps), and how many
# it takes before lengths are judged.
_LENGTH_HISTORY = 300
_MIN_LENGTHS = 10


@dataclass
class _Suspect:
    """When the current suspect run of one check began (None: nothing suspect)."""

    since: float | None = None

    def still_suspect(self, t: float, limit_s: float) -> bool:
        """Count this frame into the run; False once it has lasted past `limit_s`."""
        if self.since is None:
            self.since = t
        if t - self.since > limit_s + 1e-9:
            self.since = None
            return False
        return True


class LiveGate:
    """Per frame, the landmarks no body could have put there (see the module docs)."""

    def __init__(self, params: PlausibilityParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self._pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._swap = {part: _Suspect() for part in SWAP_PARTS}
        self._dirs: dict[tuple[str, int], tuple[float, float, np.ndarray, np.ndarray]] = {}
        self._burst = {(seg[1], k): _Suspect() for seg in SEGMENTS for k in (0, 1)}
        self._lengths: dict[tuple[str, int], deque[float]] = {
            (seg[1], k): deque(maxlen=_LENGTH_HISTORY) for seg in SEGMENTS for k in (0, 1)
        }

    def check(
        self, t: float, image: np.ndarray, *, side_view: bool, facing: str | None
    ) -> tuple[np.ndarray, str]:
        """(33,) bool of the landmarks to drop in this frame's `image` ((33, 3) px, NaN
        where not seen), and what was found ("swap+burst", "" when nothing)."""
        p = self.params
        pts = np.asarray(image, np.float64)[:, :2]
        bad = np.zeros(N_LANDMARKS, bool)
        codes: set[str] = set()
        if side_view:
            for part in SWAP_PARTS:
                left, right = SIDE_PARTS[part]
                if self._swapped(t, part, pts[left], pts[right]):
                    bad[[left, right]] = True
                    codes.add(SWAP)
        for proximal, distal in SEGMENTS:
            for k in (0, 1):
                a, b = SIDE_PARTS[proximal][k], SIDE_PARTS[distal][k]
                if bad[a] or bad[b]:
                    continue
                found = self._segment(t, (distal, k), pts[a], pts[b], rigid=distal != "ear")
                for code, ends in found:
                    codes.add(code)
                    for end in ends:
                        bad[(a, b)[end]] = True
        if side_view and _torsos_apart(pts[None], p)[0]:
            bad[TORSOS] = True
            codes.add(SIDES)
        if side_view and facing in ("left", "right"):
            for lm, frames in _range_checks(pts[None], facing, p):
                if frames[0]:
                    bad[lm] = True
                    codes.add(RANGE)
        return bad, "+".join(sorted(codes))

    # ------------------------------------------------------------------ checks

    def _swapped(self, t: float, part: str, lp: np.ndarray, rp: np.ndarray) -> bool:
        if not (np.isfinite(lp).all() and np.isfinite(rp).all()):
            return False
        last = self._pairs.get(part)
        torso = self._torso()
        if last is not None and np.isfinite(torso):
            keep = np.linalg.norm(lp - last[0]) + np.linalg.norm(rp - last[1])
            cross = np.linalg.norm(lp - last[1]) + np.linalg.norm(rp - last[0])
            margin = self.params.swap_margin_torso * torso
            crossed = cross < keep - margin and cross < 0.5 * keep
            if crossed and self._swap[part].still_suspect(t, self.params.max_burst_s):
                return True
        self._swap[part].since = None
        self._pairs[part] = (lp.copy(), rp.copy())
        return False

    def _segment(
        self, t: float, key: tuple[str, int], a: np.ndarray, b: np.ndarray, *, rigid: bool
    ) -> list[tuple[str, list[int]]]:
        """What is wrong with segment a→b now, each with the ends (0 = a, 1 = b) to drop."""
        p = self.params
        v = b - a
        length = float(np.hypot(v[0], v[1]))
        if not (np.isfinite(length) and length > 0):
            return []
        direction = math.degrees(math.atan2(v[1], v[0]))
        found: list[tuple[str, list[int]]] = []
        last = self._dirs.get(key)
        if last is not None:
            t0, d0, a0, b0 = last
            dev = abs((direction - d0 + 180.0) % 360.0 - 180.0)
            # A run starts with a jump faster than a body turns, and lasts while the
            # segment stays away from where it was (it has not come back yet).
            run = self._burst[key]
            jumped = dev / max(t - t0, 1e-9) > p.max_deg_s or run.since is not None
            if dev >= p.burst_min_deg and jumped and run.still_suspect(t, p.max_burst_s):
                found.append((BURST, _blame(a, b, a0, b0)))
        history = self._lengths[key]
        if rigid and len(history) >= _MIN_LENGTHS:
            median = float(np.median(np.asarray(history)))
            if length > p.max_length_ratio * median:
                ends = _blame(a, b, last[2], last[3]) if last is not None else [0, 1]
                found.append((LENGTH, ends))
        if not found:
            self._burst[key].since = None
            self._dirs[key] = (t, direction, a.copy(), b.copy())
            history.append(length)
        return found

    def _torso(self) -> float:
        torso = [v for (part, _), d in self._lengths.items() if part == "shoulder" for v in d]
        return float(np.median(torso)) if torso else math.nan


def _blame(a: np.ndarray, b: np.ndarray, a0: np.ndarray, b0: np.ndarray) -> list[int]:
    """The end(s) that moved at least half as far as the other since the last accepted
    frame: the one that strayed (both when unsure)."""
    moved = [float(np.linalg.norm(a - a0)), float(np.linalg.norm(b - b0))]
    top = max(moved)
    if not np.isfinite(top) or top <= 0:
        return [0, 1]
    return [k for k in (0, 1) if moved[k] >= 0.5 * top]


def readout_in_range(
    angles: FrameAngles,
    params: PlausibilityParams = DEFAULT_PARAMS,
    neutral_neck_deg: float = 180.0,
) -> FrameAngles:
    """`angles` with every value a body cannot make set to NaN (shown as unknown).

    Trunk: leaning back no further than `spine_extension` allows; body line within
    `hip_sag` (below the line) and `hip_pike` (above it); neck bent no further than
    `head_drop` allows from `neutral_neck_deg`; hip and knee within the joint limits of
    the plausibility gate (docs/ranges.md). Values are blanked, never clipped.
    """
    nan = math.nan
    trunk, hip, knee, neck, line = (
        angles.trunk,
        angles.hip,
        angles.knee,
        angles.neck,
        angles.plank_line,
    )
    if math.isfinite(trunk) and not in_range("spine_extension", -trunk):
        trunk = nan
    if math.isfinite(line) and not (in_range("hip_sag", line) and in_range("hip_pike", -line)):
        line = nan
    if math.isfinite(neck) and not in_range("head_drop", neutral_neck_deg - neck):
        neck = nan
    if math.isfinite(hip) and not params.hip_min_deg <= hip <= params.hip_max_deg:
        hip = nan
    if math.isfinite(knee) and not params.knee_min_deg <= knee <= params.knee_max_deg:
        knee = nan
    return replace(angles, trunk=trunk, hip=hip, knee=knee, neck=neck, plank_line=line)
