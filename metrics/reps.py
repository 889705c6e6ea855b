"""Rep segmentation for hip hinges: the start, bottom and lockout of every rep.

A rep is counted when the lifter rises from a *bottom* (bent over) to a *top* (standing
tall). So the first pick-up of a kettlebell set is rep 1, the final set-down (a descent
with no rise after it) is not a rep, and a deadlift pulled from the floor is one rep.
Partial pulls that never reach the top, setup shuffles and pauses are not reps.

Zones, per frame, from the angles of `metrics.angles` (degrees):

- top: trunk within `top_trunk_max_deg` of upright (or leaning back) and the hip open past
  `top_hip_min_deg` on at least one side (one leg is often hidden behind a plate);
- bottom: trunk past `bottom_trunk_min_deg` (a hinge) or the near hip closed below
  `bottom_hip_max_deg` (a squat-like rep keeps the trunk upright but closes the hip);
- otherwise in between. A zone counts once it has lasted `min_dwell_s` (two frames at
  30 fps), so a one-frame glitch neither starts nor ends a rep.

A trunk no hinge makes (leaning back past `trunk_min_deg`, or tipped past `trunk_max_deg`:
a pose turned upside down as the lifter's upper body leaves the frame) is no zone: the
frame counts as the lifter not tracked.

Lost tracking is part of real clips: a lifter who rises out of the top of the frame, or a
pose model that only finds the lifter once standing. Two rules cover it, both marked on
the rep (`lockout_seen`, `pull_seen`): a rise of at least `gap_rise_deg` followed by a loss
of at least `gap_s` counts as a rep whose lockout was out of view, and a clip whose lifter
is first found (after at least `gap_s`) already standing tall counts one rep whose pull
was not seen. A lockout is only out of view when the lifter can have risen out of the
frame: when last seen the head was within `gap_head_room` torso lengths of the frame's
top edge (`RepRow.head_room`, the least over the last `room_window_s`; the rest of a rise
lifts it about that much), and then a
loss of `gap_near_top_s` is enough (the pose model may place a garbled body once the head
has left the frame, which must not pass for a lockout seen). A lifter lost
lower in the frame (the pose model missing a small or blurred lifter at the bottom) has
not been seen to stand up, so the visit stays open: found again still bent over, it is
the same rep; found standing, the rep ends there.

Off side-on (a front or oblique camera) trunk and hip angles are foreshortened: a bent
lifter can read upright. With `RepParams.shoulder_drop` the counter also reads how far
the shoulders have dropped below their standing height (the highest seen so far): a drop
of `drop_bottom` is a bottom, and shoulders back within `drop_top` of the standing height
(once a real descent has shown what standing is) are a top.

`RepCounter` is the streaming form (`update(t, row)` per frame, for the live path);
`segment_reps` runs the very same counter over a whole track, so batch and live agree by
construction.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from metrics.angles import ANGLE_SPECS, Angles, Side, angle_from_spec
from metrics.landmarks import Landmark
from metrics.track import PoseTrack

Zone = Literal["top", "mid", "bottom"]

# Per-frame phase codes in timeseries.csv.
PHASE_NONE, PHASE_DESCENT, PHASE_BOTTOM, PHASE_ASCENT, PHASE_LOCKOUT = 0, 1, 2, 3, 4
PHASE_NAMES = {
    PHASE_NONE: "",
    PHASE_DESCENT: "descent",
    PHASE_BOTTOM: "bottom",
    PHASE_ASCENT: "ascent",
    PHASE_LOCKOUT: "lockout",
}


@dataclass(frozen=True)
class RepParams:
    """Zone limits and timing of the rep counter (degrees, seconds)."""

    top_trunk_max_deg: float = 20.0
    # A trunk outside this range is no posture of a hinge: leaning back past horizontal
    # is lying down. No limit forward: a standing forward fold points the trunk down. (An
    # impossible lean back inside it, say 70 deg, is still a top: the extension check
    # then abstains on it, docs/ranges.md.)
    trunk_min_deg: float = -90.0
    trunk_max_deg: float = 180.0
    top_hip_min_deg: float = 145.0
    bottom_trunk_min_deg: float = 40.0
    bottom_hip_max_deg: float = 110.0
    min_dwell_s: float = 0.03  # two frames at 30 fps
    # The bottom of a rep is the last frame before the rise still this close to the
    # deepest point: max(bottom_tol_deg, bottom_tol_fraction × the rep's depth range).
    bottom_tol_deg: float = 3.0
    bottom_tol_fraction: float = 0.1
    gap_s: float = 0.5
    gap_rise_deg: float = 15.0
    gap_head_room: float = 1.0  # torso lengths between the head and the frame's top edge
    # ...and with the head that close to the edge, a loss this long is enough: the rise
    # was under way toward the edge (three frames at 15 fps, more than a dropout).
    gap_near_top_s: float = 0.2
    # The head room read is the least over the last this long before the loss.
    room_window_s: float = 0.3
    # Shoulder drop (fraction of the standing shoulder height), for views off side-on.
    shoulder_drop: bool = False
    drop_bottom: float = 0.3
    drop_top: float = 0.1


DEFAULT_PARAMS = RepParams()


class AngleRow(Protocol):
    """What the counter reads from one frame (e.g. `RepRow`, `metrics.live.FrameAngles`)."""

    @property
    def trunk(self) -> float: ...

    @property
    def hip(self) -> float: ...


@dataclass(frozen=True)
class RepRow:
    """One frame's angles for the counter; `hip_far` is the far side's hip,
    `shoulder_height` the shoulder above the ankle in leg lengths, and `head_room` the
    head's distance below the frame's top edge in torso lengths (NaN unknown)."""

    trunk: float = math.nan
    hip: float = math.nan
    knee: float = math.nan
    hip_far: float = math.nan
    shoulder_height: float = math.nan
    head_room: float = math.nan


@dataclass(frozen=True)
class RepSegment:
    """One rep as frame indices and times: start, bottom (where the rise begins), lockout.

    `start` is where the descent into the rep began (the last standing frame), or the
    first bottom frame when the rep was not preceded by standing (a pull from the floor).
    `from_top` says which. `lockout_seen` / `pull_seen` are False when tracking was lost
    over the lockout or the pull (see the module notes).
    """

    index: int
    start_i: int
    bottom_i: int
    end_i: int
    start_s: float
    bottom_s: float
    end_s: float
    from_top: bool
    lockout_seen: bool = True
    pull_seen: bool = True


def classify_zone(
    row: AngleRow, params: RepParams = DEFAULT_PARAMS, drop: float = math.nan
) -> Zone | None:
    """The zone of one frame, or None when the trunk is unknown.

    `drop` is how far the shoulders are below standing (a fraction), read only with
    `params.shoulder_drop`; NaN while standing height is not yet known.
    """
    trunk = float(row.trunk)
    if not params.trunk_min_deg <= trunk <= params.trunk_max_deg:
        return None  # unknown, or no posture a body makes
    hip = float(row.hip)
    hip_far = float(getattr(row, "hip_far", math.nan))
    # The more open of the hips seen (NaN if neither): one leg is often hidden behind the
    # plates and misread as flexed, so one open hip confirms a lockout and rules out a
    # squat-like bottom.
    open_hip = max((h for h in (hip, hip_far) if math.isfinite(h)), default=math.nan)
    bottom = trunk >= params.bottom_trunk_min_deg or open_hip <= params.bottom_hip_max_deg
    top = trunk <= params.top_trunk_max_deg and (
        math.isnan(open_hip) or open_hip >= params.top_hip_min_deg
    )
    if params.shoulder_drop and math.isfinite(drop):
        # the shoulders' drop outranks angles foreshortened by the camera
        low, high = drop >= params.drop_bottom, drop <= params.drop_top
        bottom, top = low or (bottom and not high), high or (top and not low)
    if top and bottom:
        return "mid"
    if top:
        return "top"
    return "bottom" if bottom else "mid"


def depth_of(row: AngleRow) -> float:
    """How deep a frame is, in degrees: hip flexion (180 − hip), or the trunk if unknown."""
    hip = float(row.hip)
    if math.isfinite(hip):
        return 180.0 - hip
    return float(row.trunk)


@dataclass
class _Run:
    zone: Zone
    first_i: int
    first_t: float
    last_i: int
    last_t: float


@dataclass
class _State:
    confirmed: Zone | None = None
    run: _Run | None = None
    last_top_i: int | None = None  # last frame of the latest confirmed top run
    visit_first_i: int | None = None  # first frame of the open bottom visit
    visit_from_top: bool = False
    last_valid_i: int | None = None
    last_valid_t: float | None = None
    last_head_room: float = math.nan
    recent_room: list[tuple[float, float]] = field(default_factory=list)
    first_t: float | None = None
    gap_handled: bool = False
    unseen_pull_pending: bool = False
    times: list[float] = field(default_factory=list)
    depths: list[float] = field(default_factory=list)
    zones: list[Zone | None] = field(default_factory=list)
    # shoulder drop: recent shoulder heights, the standing height and the lowest so far
    recent_sh: list[float] = field(default_factory=list)
    sh_stand: float = math.nan
    sh_low: float = math.nan


class RepCounter:
    """Streaming rep counter: feed every frame in time order with `update(t, row)`.

    Rows with an unknown trunk (NaN) are frames where the lifter was not tracked; feed
    them too, so that the counter can tell a loss of tracking from a pause. `update`
    returns the rep completed on this frame, if any; `reps` holds every rep so far and
    `finish()` closes the stream.
    """

    def __init__(self, params: RepParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self.reps: list[RepSegment] = []
        self._s = _State()

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def zone(self) -> Zone | None:
        """The confirmed zone now (None before the lifter is first seen)."""
        return self._s.confirmed

    @property
    def zones(self) -> list[Zone | None]:
        """Each frame's own zone so far (before the dwell confirms it)."""
        return list(self._s.zones)

    def _drop(self, row: AngleRow) -> float:
        """Shoulder drop below standing (fraction), NaN until a descent has shown both a
        standing height and a bottom (`drop_bottom` below it)."""
        s = self._s
        sh = float(getattr(row, "shoulder_height", math.nan))
        if not (math.isfinite(sh) and math.isfinite(row.trunk)):
            return math.nan
        s.recent_sh = (s.recent_sh + [sh])[-5:]
        level = float(np.median(s.recent_sh))  # a one-frame glitch is not a height
        s.sh_stand = level if not level <= s.sh_stand else s.sh_stand
        s.sh_low = level if not level >= s.sh_low else s.sh_low
        drop = 1.0 - level / s.sh_stand if s.sh_stand > 0 else math.nan
        seen_bottom = s.sh_low <= (1.0 - self.params.drop_bottom) * s.sh_stand
        if not self.params.shoulder_drop:
            # heights are followed anyway, so settings that change with the live view
            # find the same standing height an upload does
            return math.nan
        if drop <= self.params.drop_top and not seen_bottom:
            return math.nan  # standing, but not yet known to be the standing height
        return drop

    def _drop_decides(self) -> bool:
        """With `shoulder_drop`, once a descent has shown the standing height and a
        bottom, the shoulders' drop decides the zone: a frame without it (the ankle not
        found) is not read from the foreshortened angles alone."""
        s = self._s
        return bool(
            self.params.shoulder_drop
            and s.sh_stand > 0
            and s.sh_low <= (1.0 - self.params.drop_bottom) * s.sh_stand
        )

    def update(self, t: float, row: AngleRow) -> RepSegment | None:
        """Add the frame at `t` seconds; returns the rep that ended on it, if any."""
        s = self._s
        i = len(s.times)
        s.times.append(float(t))
        if s.first_t is None:
            s.first_t = float(t)
        drop = self._drop(row)
        zone = classify_zone(row, self.params, drop)
        if not math.isfinite(drop) and self._drop_decides():
            zone = None  # the shoulders' height decides here, and it is unknown
        s.zones.append(zone)
        depth = 100.0 * drop if math.isfinite(drop) else depth_of(row)
        s.depths.append(depth if zone is not None else math.nan)
        if zone is None:
            return self._on_missing(i, float(t))
        done = None
        gap_start = s.last_valid_t if s.last_valid_t is not None else s.first_t
        if float(t) - gap_start >= self.params.gap_s and s.last_valid_i is None:
            s.unseen_pull_pending = True  # first seen only now, after a long wait
        s.last_valid_i, s.last_valid_t = i, float(t)
        room = float(getattr(row, "head_room", math.nan))
        s.recent_room = [(u, r) for u, r in s.recent_room if t - u <= self.params.room_window_s]
        s.recent_room.append((float(t), room))
        # the least head room of the last moments: the pose garbles as the head leaves
        rooms = [r for _, r in s.recent_room if math.isfinite(r)]
        s.last_head_room = min(rooms) if rooms else math.nan
        s.gap_handled = False
        run = s.run
        if run is not None and run.zone == zone:
            run.last_i, run.last_t = i, float(t)
        else:
            run = s.run = _Run(zone, i, float(t), i, float(t))
        if run.last_t - run.first_t + 1e-9 >= self.params.min_dwell_s:
            done = self._confirm(run)
        return done

    def _confirm(self, run: _Run) -> RepSegment | None:
        s = self._s
        done = None
        if run.zone == "top":
            if s.visit_first_i is not None:
                done = self._close_visit(run.first_i, lockout_seen=True)
            elif s.unseen_pull_pending:
                done = self._emit(run.first_i, run.first_i, run.first_i, False, True, False)
            s.unseen_pull_pending = False
            s.last_top_i = run.last_i
        elif run.zone == "bottom" and s.visit_first_i is None:
            s.unseen_pull_pending = False  # the pull is seen from here: a normal rep
            s.visit_first_i = run.first_i
            s.visit_from_top = s.last_top_i is not None and s.confirmed == "top"
        if run.zone != "mid":
            s.confirmed = run.zone
        elif s.confirmed is None:
            s.confirmed = "mid"
        return done

    def _on_missing(self, i: int, t: float) -> RepSegment | None:
        """A frame without the lifter: maybe a lockout out of view (see module notes)."""
        s = self._s
        s.run = None
        if s.last_valid_t is None or s.gap_handled or s.visit_first_i is None:
            return None
        near_top = s.last_head_room <= self.params.gap_head_room
        gap_s = self.params.gap_near_top_s if near_top else self.params.gap_s
        if t - s.last_valid_t < gap_s:
            return None
        s.gap_handled = True
        last = s.last_valid_i
        assert last is not None
        visit = np.asarray(s.depths[s.visit_first_i : last + 1])
        deepest = float(np.nanmax(visit)) if np.isfinite(visit).any() else math.nan
        if not deepest - s.depths[last] >= self.params.gap_rise_deg:
            return None
        if s.last_head_room > self.params.gap_head_room:
            return None  # lost low in the frame, not risen out of it: the visit goes on
        done = self._close_visit(last, lockout_seen=False)
        s.confirmed = None
        return done

    def _close_visit(self, end_i: int, *, lockout_seen: bool) -> RepSegment:
        s = self._s
        assert s.visit_first_i is not None
        first = s.visit_first_i
        bottom_i = self._bottom(first, end_i)
        start_i = s.last_top_i if s.visit_from_top and s.last_top_i is not None else first
        done = self._emit(start_i, bottom_i, end_i, s.visit_from_top, lockout_seen, True)
        s.visit_first_i = None
        s.visit_from_top = False
        return done

    def _bottom(self, first: int, end_i: int) -> int:
        """The last frame before the rise that is still within tolerance of the deepest."""
        d = np.asarray(self._s.depths[first : end_i + 1], np.float64)
        if not np.isfinite(d).any():
            return first
        deepest = int(np.nanargmax(d))
        after = d[deepest:]
        rng = float(d[deepest] - np.nanmin(after)) if np.isfinite(after).any() else 0.0
        tol = max(self.params.bottom_tol_deg, self.params.bottom_tol_fraction * rng)
        k = deepest
        for j in range(deepest + 1, len(d)):
            if np.isnan(d[j]):
                continue
            if d[j] < d[deepest] - tol:
                break
            k = j
        return first + k

    def _emit(
        self,
        start_i: int,
        bottom_i: int,
        end_i: int,
        from_top: bool,
        lockout_seen: bool,
        pull_seen: bool,
    ) -> RepSegment:
        ts = self._s.times
        rep = RepSegment(
            index=len(self.reps) + 1,
            start_i=start_i,
            bottom_i=bottom_i,
            end_i=end_i,
            start_s=ts[start_i],
            bottom_s=ts[bottom_i],
            end_s=ts[end_i],
            from_top=from_top,
            lockout_seen=lockout_seen,
            pull_seen=pull_seen,
        )
        self.reps.append(rep)
        return rep

    def finish(self) -> list[RepSegment]:
        """Close the stream (nothing pending is counted) and return every rep."""
        return list(self.reps)


def far_hip(track: PoseTrack, angles: Angles) -> np.ndarray:
    """(T,) hip angle of the body side away from the camera, NaN where unknown."""
    spec = next(s for s in ANGLE_SPECS if s.name == "hip")
    other: Side = "right" if angles.side == "left" else "left"
    return angle_from_spec(track, spec, side=other, facing=angles.facing)


_HEAD = [
    int(getattr(Landmark, name.upper()))
    for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
]
_SHOULDERS = [int(Landmark.LEFT_SHOULDER), int(Landmark.RIGHT_SHOULDER)]
_HIPS = [int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]


def head_top_px(image: np.ndarray) -> np.ndarray:
    """How far below the frame's top edge the head is, in pixels, per frame: `image` is
    one frame's landmarks (33, 2+) or many (..., 33, 2+); the result has the leading
    shape (a 0-d array for one frame). NaN where neither head nor shoulders were placed.

    The head is the highest of the nose, eyes and ears placed in that frame (a head cut
    off by the frame's edge is still placed by the pose model, above it), else the
    higher shoulder.
    """
    image = np.asarray(image)
    ys = image[..., _HEAD, 1].astype(np.float64)
    sh = image[..., _SHOULDERS, 1].astype(np.float64)
    some = np.isfinite(ys).any(axis=-1)
    fall = ~some & np.isfinite(sh).any(axis=-1)
    top = np.full(some.shape, np.nan)
    top[some] = np.nanmin(ys[some], axis=-1)
    top[fall] = np.nanmin(sh[fall], axis=-1)
    return top


def torso_lengths_px(image: np.ndarray) -> np.ndarray:
    """Shoulder-to-hip distance of each body side, in pixels, per frame: (..., 2) for
    landmarks (..., 33, 2+), in the landmarks' own precision; NaN where unknown."""
    image = np.asarray(image)
    return np.linalg.norm(image[..., _SHOULDERS, :2] - image[..., _HIPS, :2], axis=-1)


def head_room(track: PoseTrack) -> np.ndarray:
    """(T,) how far below the frame's top edge the head is, in torso lengths (negative
    above it; NaN where neither head nor shoulders were placed).

    The head as `head_top_px`; a torso length is the clip's median shoulder-to-hip
    distance (either side, `torso_lengths_px`) in pixels. The live path divides the same
    head by the median of the set so far (`metrics.live`).
    """
    torso = torso_lengths_px(track.image).ravel()
    torso = torso[np.isfinite(torso) & (torso > 0)]
    if torso.size == 0:
        return np.full(len(track), np.nan)
    return head_top_px(track.image) / float(np.median(torso))


def rep_rows(
    angles: Angles, hip_far: np.ndarray | None = None, room: np.ndarray | None = None
) -> Iterator[RepRow]:
    """The counter's rows for every frame of a track's angles (`room`: `head_room`)."""
    n = len(angles)
    far = np.full(n, np.nan) if hip_far is None else np.asarray(hip_far, np.float64)
    up = np.full(n, np.nan) if room is None else np.asarray(room, np.float64)
    for i in range(n):
        yield RepRow(
            trunk=float(angles.trunk[i]),
            hip=float(angles.hip[i]),
            knee=float(angles.knee[i]),
            hip_far=float(far[i]),
            shoulder_height=float(angles.shoulder_height[i]),
            head_room=float(up[i]),
        )


def run_counter(
    angles: Angles,
    *,
    hip_far: np.ndarray | None = None,
    room: np.ndarray | None = None,
    params: RepParams = DEFAULT_PARAMS,
) -> RepCounter:
    """A `RepCounter` that has been fed every frame of a whole track (`room`: the head's
    room below the frame's top, `head_room`)."""
    counter = RepCounter(params)
    for t, row in zip(angles.t, rep_rows(angles, hip_far, room), strict=True):
        counter.update(float(t), row)
    return counter


def segment_reps(
    angles: Angles,
    *,
    hip_far: np.ndarray | None = None,
    room: np.ndarray | None = None,
    params: RepParams = DEFAULT_PARAMS,
) -> list[RepSegment]:
    """Every rep of a whole track: `RepCounter` run over all its frames."""
    return run_counter(angles, hip_far=hip_far, room=room, params=params).finish()


def rep_columns(
    segments: list[RepSegment],
    angles: Angles,
    params: RepParams = DEFAULT_PARAMS,
    zones: list[Zone | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame `rep` (1-based, 0 outside reps) and `phase` codes for timeseries.csv.

    A rep covers its start to its lockout, and the standing frames right after the
    lockout (phase lockout) until the lifter leaves the top or the next rep starts.
    `zones` are the counter's per-frame zones (`RepCounter.zones`), else recomputed.
    """
    n = len(angles)
    rep = np.zeros(n, np.int64)
    phase = np.zeros(n, np.int64)
    if zones is None:
        zones = [classify_zone(r, params) for r in rep_rows(angles)]
    for k, seg in enumerate(segments):
        nxt = segments[k + 1].start_i if k + 1 < len(segments) else n
        rep[seg.start_i : seg.end_i + 1] = seg.index
        # before lift-off a pull from the floor is set up at the bottom, not descending
        phase[seg.start_i : seg.bottom_i] = PHASE_DESCENT if seg.from_top else PHASE_BOTTOM
        phase[seg.bottom_i] = PHASE_BOTTOM
        phase[seg.bottom_i + 1 : seg.end_i] = PHASE_ASCENT
        j = seg.end_i
        while j < nxt and (j == seg.end_i or zones[j] == "top"):
            rep[j] = seg.index
            phase[j] = PHASE_LOCKOUT
            j += 1
    return rep, phase
