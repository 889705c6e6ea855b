"""Plausibility before measurement: landmarks no body could produce never reach a measure.

The cleaning in `metrics.clean` removes a landmark that strays from its rolling median for
less than half the median's window. A pose lost for a few frames (a facing flip as the
lifter passes lockout, a leg taken for the other one) can last longer than that, and then
it reads as angles no human makes (a trunk at 118° between frames at 60° and −2°, a lean
back of 150°). This gate runs on the raw track, before cleaning, and checks each frame
against what a body can do:

- **left/right swaps**: a left/right landmark pair whose labels swapped between frames is
  swapped back (repaired);
- **segment directions that burst**: a torso, thigh, shank or head segment whose direction
  leaves the line between its neighbours by more than `burst_min_deg`, faster than
  `max_deg_s`, and comes back within `max_burst_s` (dropped);
- **segment lengths**: a segment far longer than its own median length over the clip
  (a projection can shorten a bone, never lengthen it), or a length that jumps and comes
  back like a burst (dropped);
- **joint range**: on a side view, a knee bent back or a hip opened past what the joint
  allows, or either folded shut past what the body's thickness allows (docs/ranges.md)
  (dropped);
- **two torsos**: on a side view, the left and right torsos (hip→shoulder), both seen,
  pointing far apart: they are parallel in the body, so in any picture of it (dropped).

Dropped landmarks become NaN; `clean_track` then fills short gaps from the neighbours
(repaired) and leaves long ones as gaps. `Plausibility.codes` says per frame what was
found, for timeseries.csv. Every constant is argued in docs/ranges.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from metrics.angles import signed_angle, to_body_frame
from metrics.clean import _finite_runs
from metrics.landmarks import SIDE_PARTS
from metrics.track import PoseTrack

# Per-frame reason codes (several join with "+").
SWAP = "swap"  # left/right labels swapped back
BURST = "burst"  # a segment's direction jumped and came back
LENGTH = "length"  # a segment's length impossible for this lifter
RANGE = "range"  # a joint angle outside its range of motion
SIDES = "sides"  # the left and right torsos point different ways

# Both torsos' ends (shoulders, hips): what a frame loses when the two point apart.
TORSOS = np.array([*SIDE_PARTS["shoulder"], *SIDE_PARTS["hip"]], dtype=np.intp)


@dataclass(frozen=True)
class PlausibilityParams:
    """Limits of a body in motion (docs/ranges.md says where each comes from)."""

    min_visibility: float = 0.5  # landmarks below are not checked (the gate drops them)
    # Segment directions: fastest a body segment turns in these lifts (deg/s), the least
    # deviation that counts (deg, well above landmark jitter) and the longest burst (s).
    max_deg_s: float = 600.0
    burst_min_deg: float = 25.0
    max_burst_s: float = 0.5
    # Lengths: longest a segment may look against its median length over the clip, and
    # the jump in log length that counts as a burst (0.35: 1.42x or 0.70x).
    max_length_ratio: float = 1.6
    # Side view only: the torso turns in the image plane, so its seen length hardly
    # changes; shorter than this against its median, however long it lasts, is a lost pose.
    min_torso_ratio_side: float = 0.6
    burst_min_log_length: float = 0.35
    # Swaps: how much closer (in torso lengths) the swapped labels must be to the last
    # frame than the labels as given.
    swap_margin_torso: float = 0.15
    # Joint range on a side view (deg, 180 = straight, body frame of metrics.angles).
    knee_max_deg: float = 220.0
    hip_max_deg: float = 245.0
    # Folded shut: calf against thigh, chest against thighs; thickness stops both here.
    knee_min_deg: float = 20.0
    hip_min_deg: float = 20.0
    # The left and right torsos are parallel in the body and so in its picture: seen
    # both, further apart than this in the image is a fit gone wrong (deg).
    max_torsos_apart_deg: float = 30.0


DEFAULT_PARAMS = PlausibilityParams()

# Segments checked per side, as (proximal part, distal part) of `SIDE_PARTS`.
SEGMENTS: tuple[tuple[str, str], ...] = (
    ("hip", "shoulder"),
    ("hip", "knee"),
    ("knee", "ankle"),
    ("shoulder", "ear"),
)

# Left/right pairs checked for swaps: the points the angles are made of. Feet are left
# out: heel and toe jitter by a third of a torso from frame to frame on some clips, so a
# "swap" there is noise, not a crossed label.
SWAP_PARTS: tuple[str, ...] = ("shoulder", "hip", "knee", "ankle")


@dataclass(frozen=True, eq=False)
class Plausibility:
    """The gated track and, per frame, what was found ("" when nothing)."""

    track: PoseTrack
    codes: np.ndarray  # (T,) object array of str

    @property
    def flagged(self) -> np.ndarray:
        """(T,) bool: frames where something implausible was found."""
        return np.array([bool(c) for c in self.codes], bool)


def check_track(
    track: PoseTrack,
    *,
    facing: str | None = None,
    side_view: bool = False,
    params: PlausibilityParams = DEFAULT_PARAMS,
) -> Plausibility:
    """Swap back, or drop as NaN, every landmark a body could not have put there.

    Parameters
    ----------
    track : PoseTrack
        The raw track from the pose model; left unchanged.
    facing : "left", "right" or None
        The way the lifter faces (`metrics.view.classify_view`); the joint-range check
        needs it and is skipped without it.
    side_view : bool
        Joint angles in the image equal the body's only side-on; the joint-range check
        and the swap repair run only then.
    """
    n = len(track)
    codes = [set[str]() for _ in range(n)]
    if n < 3:
        return Plausibility(track, np.array(["" for _ in range(n)], object))
    image = track.image.astype(np.float64)
    world = track.world.astype(np.float64)
    vis = track.visibility.astype(np.float64)
    seen = vis >= params.min_visibility
    # Swaps are put back on a side view only: off side-on, at low resolution, the two
    # sides' landmarks jitter across each other and "crossings" were mostly noise (an
    # oblique plank at 480 px lost 4 s of its hold to them).
    swaps = _swap_back(image, world, vis, seen, track.t, params) if side_view else []
    for i in swaps:
        codes[i].add(SWAP)
    bad = np.zeros(image.shape[:2], bool)
    pts = np.where(seen[..., None], image[..., :2], np.nan)
    # A lost pose hits every segment at once. Frames already found bursting (the torso
    # first: the longest, steadiest segment) cannot be a later series' neighbours, so a
    # lost frame never serves as the "steady" bracket that makes real frames between two
    # lost ones look like a burst (they can still be found bursting there too).
    lost = np.zeros(n, bool)
    for proximal, distal in SEGMENTS:
        for k in (0, 1):
            a, b = SIDE_PARTS[proximal][k], SIDE_PARTS[distal][k]
            found = _segment_checks(
                pts[:, a],
                pts[:, b],
                track.t,
                params,
                rigid=distal != "ear",
                lost=lost,
                min_ratio=params.min_torso_ratio_side
                if side_view and (proximal, distal) == ("hip", "shoulder")
                else None,
            )
            lost_here = found[BURST].copy() if BURST in found else np.zeros(n, bool)
            for code, frames in found.items():
                for lm in _blame(pts[:, a], pts[:, b], frames, track.t):
                    bad[frames, (a, b)[lm]] = True
                for f in np.flatnonzero(frames):
                    codes[int(f)].add(code)
            lost |= lost_here
    if side_view:
        # Which end of which torso went wrong can't be told: the frame loses both torsos.
        apart = _torsos_apart(pts, params)
        bad[np.ix_(apart, TORSOS)] = True
        for f in np.flatnonzero(apart):
            codes[int(f)].add(SIDES)
    if side_view and facing in ("left", "right"):
        for lm, frames in _range_checks(pts, facing, params):
            bad[frames, lm] = True
            for f in np.flatnonzero(frames):
                codes[int(f)].add(RANGE)
    image[bad] = np.nan
    world[bad] = np.nan
    gated = replace(
        track,
        image=image.astype(np.float32),
        world=world.astype(np.float32),
        visibility=vis.astype(np.float32),
    )
    labels = np.array(["+".join(sorted(c)) for c in codes], object)
    return Plausibility(gated, labels)


def _swap_back(
    image: np.ndarray,
    world: np.ndarray,
    vis: np.ndarray,
    seen: np.ndarray,
    t: np.ndarray,
    params: PlausibilityParams,
) -> list[int]:
    """Swap each left/right pair back where the labels crossed over; the frames swapped.

    Against the last frame where both were seen, keeping the labels costs
    ``|l - l'| + |r - r'|`` and swapping them ``|l - r'| + |r - l'|``; a pair is swapped
    when that is smaller by more than `swap_margin_torso` torso lengths and less than half
    of it (a clear crossing, not two overlapping legs' jitter). Works in place,
    frame by frame, so a swap that lasts several frames is undone on all of them. A swap
    is a glitch: a run of swapped frames longer than `max_burst_s` means the labels were
    right and the first "crossing" was not, so that run is put back as it was.
    """
    torso = _torso_px(image, seen)
    if not np.isfinite(torso):
        return []
    margin = params.swap_margin_torso * torso
    swapped: set[int] = set()
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    for part in SWAP_PARTS:
        left, right = SIDE_PARTS[part]
        last: tuple[np.ndarray, np.ndarray] | None = None
        mine = np.zeros(len(image), bool)
        for i in range(len(image)):
            if not (seen[i, left] and seen[i, right]):
                continue
            lp, rp = image[i, left, :2], image[i, right, :2]
            if last is not None:
                keep = np.linalg.norm(lp - last[0]) + np.linalg.norm(rp - last[1])
                cross = np.linalg.norm(lp - last[1]) + np.linalg.norm(rp - last[0])
                if cross < keep - margin and cross < 0.5 * keep:
                    for arr in (image, world, vis):
                        arr[i, [left, right]] = arr[i, [right, left]]
                    mine[i] = True
            last = (image[i, left, :2].copy(), image[i, right, :2].copy())
        for start, stop in _finite_runs(mine):
            if t[stop - 1] - t[start] + dt > params.max_burst_s + 1e-9:
                for arr in (image, world, vis):
                    arr[start:stop, [left, right]] = arr[start:stop, [right, left]]
                mine[start:stop] = False
        swapped.update(int(i) for i in np.flatnonzero(mine))
    return sorted(swapped)


def _torso_px(image: np.ndarray, seen: np.ndarray) -> float:
    d = []
    for k in (0, 1):
        s, h = SIDE_PARTS["shoulder"][k], SIDE_PARTS["hip"][k]
        ok = seen[:, s] & seen[:, h]
        d.append(np.linalg.norm(image[ok, s, :2] - image[ok, h, :2], axis=1))
    all_d = np.concatenate(d)
    all_d = all_d[np.isfinite(all_d) & (all_d > 0)]
    return float(np.median(all_d)) if all_d.size else float("nan")


def _blame(a: np.ndarray, b: np.ndarray, frames: np.ndarray, t: np.ndarray) -> list[int]:
    """Which end of a segment (0 = `a`, 1 = `b`) went astray over `frames`: each end's
    distance from where it would be, interpolated from the frames around; an end is
    blamed when it strayed at least half as far as the other (both when unsure)."""
    dev = []
    for pts in (a, b):
        ok = np.isfinite(pts[:, 0]) & ~frames
        if ok.sum() < 2:
            return [0, 1]
        expect = np.stack([np.interp(t, t[ok], pts[ok, c]) for c in (0, 1)], axis=1)
        d = np.linalg.norm(pts[frames] - expect[frames], axis=1)
        dev.append(float(np.nanmax(d)) if np.isfinite(d).any() else 0.0)
    top = max(dev)
    if top <= 0:
        return [0, 1]
    return [k for k in (0, 1) if dev[k] >= 0.5 * top]


def _segment_checks(
    a: np.ndarray,
    b: np.ndarray,
    t: np.ndarray,
    params: PlausibilityParams,
    *,
    rigid: bool,
    lost: np.ndarray | None = None,
    min_ratio: float | None = None,
) -> dict[str, np.ndarray]:
    """Frames where the segment a→b bursts in direction or (`rigid`: a bone, whose seen
    length only a projection changes) has a length no view could give it."""
    n = len(t)
    v = b - a
    length = np.hypot(v[:, 0], v[:, 1])
    ok = np.isfinite(length) & (length > 0)
    out: dict[str, np.ndarray] = {}
    if ok.sum() < 3:
        return out
    idx = np.flatnonzero(ok)
    direction = np.degrees(np.unwrap(np.arctan2(v[idx, 1], v[idx, 0])))
    burst = np.zeros(n, bool)
    no_bracket = lost[idx] if lost is not None else None
    burst[idx[_bursts(direction, t[idx], params.burst_min_deg, params, no_bracket=no_bracket)]] = (
        True
    )
    med = float(np.median(length[idx]))
    log_len = np.log(length[idx] / med)
    too_long = np.zeros(n, bool)
    too_long[idx[log_len > np.log(params.max_length_ratio)]] = True
    if min_ratio is not None:
        too_long[idx[log_len < np.log(min_ratio)]] = True
    rate = params.burst_min_log_length * params.max_deg_s / params.burst_min_deg
    jump = _bursts(
        log_len, t[idx], params.burst_min_log_length, params, max_rate=rate, no_bracket=no_bracket
    )
    too_long[idx[jump]] = True
    if burst.any():
        out[BURST] = burst
    if rigid and too_long.any():
        out[LENGTH] = too_long
    return out


def _bursts(
    x: np.ndarray,
    t: np.ndarray,
    min_dev: float,
    params: PlausibilityParams,
    *,
    max_rate: float | None = None,
    no_bracket: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) bool: samples of `x` that leave the line between their neighbours and return.

    For a run of samples ``i..j`` bracketed by samples ``p = i-1`` and ``q = j+1``, the
    run is a burst when the bracket itself is a plausible movement
    (``|x_q - x_p| / (t_q - t_p) <= max_rate``), every sample of the run lies at least
    `min_dev` outside the range of ``x_p`` and ``x_q`` (it went out and came back: a step
    stays level with one bracket), and reaching the farthest one from the straight line
    between the brackets, from the nearer bracket, would take more than `max_rate`. Runs
    last at most `max_burst_s`; where explanations overlap, the calmest bridge wins.
    Samples marked in `no_bracket` (found lost in another series) are never brackets.
    """
    rate = params.max_deg_s if max_rate is None else max_rate
    n = len(x)
    out = np.zeros(n, bool)
    if n < 3:
        return out
    dt = float(np.median(np.diff(t)))
    max_len = max(1, int(params.max_burst_s / dt)) if dt > 0 else 1
    found: list[tuple[float, int, int]] = []  # (bridge rate, p, q)
    for length in range(1, min(max_len, n - 2) + 1):
        p = np.arange(0, n - length - 1)
        q = p + length + 1
        span = t[q] - t[p]
        with np.errstate(invalid="ignore", divide="ignore"):
            bridge = np.abs(x[q] - x[p]) / span
            ok = (span > 0) & (span <= params.max_burst_s + 2 * dt + 1e-9) & (bridge <= rate)
            worst = np.zeros(len(p))
            smallest = np.full(len(p), np.inf)
            for j in range(1, length + 1):
                tt = t[p + j]
                line = x[p] + (x[q] - x[p]) * (tt - t[p]) / span
                dev = np.abs(x[p + j] - line)
                near = np.maximum(np.minimum(tt - t[p], t[q] - tt), 1e-9)
                worst = np.maximum(worst, dev / near)
                # how far outside the brackets' range: a burst goes out and comes back,
                # a step (a cut in the video, a fast real move) stays with one bracket
                outside = np.maximum(
                    x[p + j] - np.maximum(x[p], x[q]), np.minimum(x[p], x[q]) - x[p + j]
                )
                smallest = np.minimum(smallest, outside)
        for h in np.flatnonzero(ok & (smallest >= min_dev) & (worst > rate)):
            found.append((float(bridge[h]), int(p[h]), int(q[h])))
    # The explanation whose bracket is the calmest movement wins: a glitch frame next to
    # a longer burst can itself look like a bracket, but only with a fast bridge.
    for _, p0, q0 in sorted(found):
        if out[p0 : q0 + 1].any():
            continue
        if no_bracket is not None and (no_bracket[p0] or no_bracket[q0]):
            continue
        out[p0 + 1 : q0] = True
    return out


def _torsos_apart(pts: np.ndarray, params: PlausibilityParams) -> np.ndarray:
    """Frames where the left and right torsos, both seen, point more than
    `max_torsos_apart_deg` apart in the image (NaN landmarks: never)."""
    (ls, rs), (lh, rh) = SIDE_PARTS["shoulder"], SIDE_PARTS["hip"]
    with np.errstate(invalid="ignore"):
        apart = np.abs(signed_angle(pts[:, ls] - pts[:, lh], pts[:, rs] - pts[:, rh]))
        return np.asarray(apart > params.max_torsos_apart_deg)


def _range_checks(
    pts: np.ndarray, facing: str, params: PlausibilityParams
) -> list[tuple[int, np.ndarray]]:
    """(landmark, frames) where a knee or hip is bent past its range, either way (side
    view)."""
    found: list[tuple[int, np.ndarray]] = []
    for k in (0, 1):
        hip, knee, ankle, shoulder = (
            to_body_frame(pts[:, SIDE_PARTS[p][k]], facing)  # type: ignore[arg-type]
            for p in ("hip", "knee", "ankle", "shoulder")
        )
        with np.errstate(invalid="ignore"):
            knee_deg = np.mod(signed_angle(hip - knee, ankle - knee), 360.0)
            hip_deg = np.mod(signed_angle(knee - hip, shoulder - hip), 360.0)
            knee_bad = (knee_deg > params.knee_max_deg) | (knee_deg < params.knee_min_deg)
            hip_bad = (hip_deg > params.hip_max_deg) | (hip_deg < params.hip_min_deg)
        if knee_bad.any():
            found.append((int(SIDE_PARTS["knee"][k]), knee_bad))
        if hip_bad.any():
            found.append((int(SIDE_PARTS["hip"][k]), hip_bad))
    return found


def frame_labels(codes: np.ndarray, cleaned: PoseTrack, side: str) -> np.ndarray:
    """Per-frame `plausibility` column: each code with ":repaired" when the near side's
    key landmarks are back after cleaning (filled from neighbours, or swapped back), else
    ":gap"; "" for frames where nothing was found."""
    k = 0 if side == "left" else 1
    key = [int(SIDE_PARTS[p][k]) for p in ("shoulder", "hip", "knee")]
    present = np.isfinite(cleaned.image[:, key, 0]).all(axis=1)
    out = []
    for i, c in enumerate(codes):
        if not c:
            out.append("")
            continue
        parts = c.split("+")
        if parts == [SWAP] or present[i]:
            out.append(c + ":repaired")
        else:
            out.append(c + ":gap")
    return np.array(out, object)
