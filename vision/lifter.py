"""Follow everyone in the clip and keep the lifter: the person doing the exercise.

The one home of lifter choice, upload and live: `LifterTracker` sees the whole clip and
picks afterwards (uploads); `pick_lifter` decides frame by frame from where the lifter was
(the live camera, which can't wait for the end). Both measure people apart by
`torso_distance`.

Gyms have other people in frame. Each detection is linked to the nearest open trail from
earlier frames (torso centre distance relative to torso size, and a torso length within
2.5-fold of the trail's: a fit of the plates or the legs alone is not the body a frame
later); at the end of the clip the trail that is present longest and largest is the
lifter, extended by trails that continue it after a short loss, or that start near where
it was a moment before (its last poses may have been poor fits). Where two of the lifter's
trails overlap, the pose of the lifter's usual size is kept. The lifter never jumps to
another person: a detection joins a trail only when it is close to where that trail was
last seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from metrics.landmarks import N_LANDMARKS, Landmark
from metrics.track import PoseTrack, Row
from vision.pose import PersonPose

# A detection joins a trail when its torso centre is within this many torso lengths of
# where the trail was last seen (plus a margin that grows with the time since).
_LINK_DISTANCE = 0.6
_LINK_GROWTH_PER_S = 1.0
# ...and when its torso length is within this factor of the trail's (its last pose's or its
# recent median): no body grows or shrinks 2.5-fold between analysed frames, but a fit of
# the plates or the legs alone does, and would pull the trail away from the lifter.
_LINK_SIZE_FACTOR = 2.5
_TRAIL_TIMEOUT_S = 1.0
# A trail that starts while another is still open continues it when it starts near where
# the other was within this long before (the other may have gone astray on poor fits).
_START_LOOKBACK_S = 0.5
# Two fits whose torso lengths are within this factor are the same size.
_SIZE_TIE = 1.25
# Two detections closer than this (in torso lengths) are one person found twice.
_DUPLICATE_DISTANCE = 0.25
# Frames over which a trail's torso length is taken.
_SIZE_FRAMES = 15
# Overlapping trails this close (median, in torso lengths) follow the same body.
_SAME_BODY_DISTANCE = 0.5
# Score floor for someone who barely moves (a plank, a bystander): size then decides.
_MIN_ACTIVITY = 0.1
# Live: a person this far (in torso lengths) from where the lifter was is someone else...
_SAME_PERSON = 0.8
# ...and after this long without the lifter, the next person found is taken for the lifter.
LIFTER_LOST_S = 2.0


def torso_distance(a: PersonPose, b: PersonPose, size: float) -> float:
    """Distance between two people's torso centres, in torso lengths of `size` px."""
    return float(np.hypot(*(a.torso_center - b.torso_center))) / size


def link_distance(
    person: PersonPose, last: PersonPose, size: float, since_s: float
) -> float | None:
    """How far (torso lengths of `size` px) `person` is from `last`, the pose of the same
    body `since_s` earlier, or None when it cannot be that body: farther than
    `_LINK_DISTANCE` plus `_LINK_GROWTH_PER_S` a second, or not of a similar size
    (`similar_size`) to `last` or to `size`."""
    d = torso_distance(person, last, size)
    allowed = _LINK_DISTANCE + _LINK_GROWTH_PER_S * since_s
    if not (np.isfinite(d) and d <= allowed):
        return None
    if not similar_size(person.torso_size, last.torso_size, size):
        return None
    return d


def pick_lifter(people: list[PersonPose], previous: PersonPose | None) -> PersonPose | None:
    """The lifter among this frame's people (live): whoever is nearest where the lifter was.

    With no lifter yet, the person with the largest torso (nearest the camera). A
    person further than `_SAME_PERSON` torso lengths from the last position is not taken
    for the lifter, so the readout never jumps to someone walking past.
    """
    people = [p for p in people if np.isfinite(p.torso_size)]
    if not people:
        return None
    if previous is None:
        return max(people, key=lambda p: p.torso_size)
    size = max(previous.torso_size, 1.0)
    best = min(people, key=lambda p: torso_distance(p, previous, size))
    if torso_distance(best, previous, size) <= _SAME_PERSON or len(people) == 1:
        return best
    return None


@dataclass
class _Trail:
    frames: list[int] = field(default_factory=list)
    poses: list[PersonPose] = field(default_factory=list)
    last_t: float = 0.0

    @property
    def last(self) -> PersonPose:
        return self.poses[-1]

    @property
    def size(self) -> float:
        """Torso length over the last few frames: one poor fit doesn't shrink it."""
        recent = [p.torso_size for p in self.poses[-_SIZE_FRAMES:]]
        return max(float(np.nanmedian(recent)), 1.0)


class LifterTracker:
    """Collects detections frame by frame; `lifter_track` picks and returns the lifter."""

    def __init__(self) -> None:
        self._times: list[float] = []
        self._counts: list[int] = []
        self._open: list[_Trail] = []
        self._closed: list[_Trail] = []
        self._pinned: dict[int, PersonPose] = {}

    def pin(self, frame: int, person: PersonPose) -> None:
        """Make `person` the lifter's pose on analysed frame `frame` whoever the choice
        of the lifter finds there (`vision.gap_follow`: the lifter followed through a
        loss); the choice itself is made without it."""
        self._pinned[frame] = person

    def update(self, t: float, people: Sequence[PersonPose]) -> None:
        """Add the detections of the next analysed frame (at `t` seconds)."""
        frame = len(self._times)
        people = _drop_duplicates(people)
        self._times.append(t)
        self._counts.append(len(people))
        still_open: list[_Trail] = []
        for trail in self._open:
            (self._closed if t - trail.last_t > _TRAIL_TIMEOUT_S else still_open).append(trail)
        self._open = still_open
        pairs = []
        for ti, trail in enumerate(self._open):
            since = t - trail.last_t
            for pi, person in enumerate(people):
                d = link_distance(person, trail.last, trail.size, since)
                if d is not None:
                    # A trail seen a moment ago beats one last seen a while back.
                    pairs.append((d + _LINK_GROWTH_PER_S * since, ti, pi))
        used_t: set[int] = set()
        used_p: set[int] = set()
        for _, ti, pi in sorted(pairs):
            if ti in used_t or pi in used_p:
                continue
            used_t.add(ti)
            used_p.add(pi)
            self._extend(self._open[ti], frame, t, people[pi])
        extended = [self._open[ti] for ti in used_t]
        for pi, person in enumerate(people):
            if pi in used_p or not np.isfinite(person.torso_size):
                continue
            twin = _same_body(person, extended)
            if twin is not None:
                # A second, overlapping fit of a body already followed in this frame: keep
                # whichever fit is better seen, and start no trail for the copy.
                if np.nansum(person.visibility) > np.nansum(twin.poses[-1].visibility):
                    twin.poses[-1] = person
                continue
            trail = _Trail()
            self._extend(trail, frame, t, person)
            self._open.append(trail)

    @staticmethod
    def _extend(trail: _Trail, frame: int, t: float, person: PersonPose) -> None:
        trail.frames.append(frame)
        trail.poses.append(person)
        trail.last_t = t

    def lifter_frames(self) -> dict[int, PersonPose]:
        """Frame index → the lifter's pose, for the frames where the lifter was found."""
        return {**self._chosen(), **self._pinned}

    def _chosen(self) -> dict[int, PersonPose]:
        """The lifter's poses among the frames' detections (pins aside)."""
        trails = self._closed + self._open
        if not trails:
            return {}
        best = max(trails, key=_trail_score)
        chain = [best]
        rest = [tr for tr in trails if tr is not best]
        # Extend forward and backward with trails that continue the lifter after a loss.
        for forward in (True, False):
            while True:
                end = chain[-1] if forward else chain[0]
                nxt = _continuation(end, rest, forward, self._times)
                if nxt is None:
                    break
                rest.remove(nxt)
                if forward:
                    chain.append(nxt)
                else:
                    chain.insert(0, nxt)
        sizes = [p.torso_size for tr in chain for p in tr.poses]
        typical = float(np.nanmedian(sizes)) if np.isfinite(sizes).any() else np.nan
        chosen: dict[int, PersonPose] = {}
        for tr in chain:
            for f, p in zip(tr.frames, tr.poses, strict=True):
                # Where two trails of the same body overlap, keep the pose of the body's
                # size, and of two such the better seen.
                if f not in chosen or _better_fit(p, chosen[f], typical):
                    chosen[f] = p
        return chosen

    def lifter_track(self, width: int, height: int, facing: str | None = None) -> PoseTrack:
        """The lifter as a `PoseTrack`, with NaN rows where the lifter was not found.

        `facing` ("left"/"right", the direction the lifter faces in the image) picks which
        mask edge is the back; None leaves `back_contour` empty (all NaN).
        """
        detected = self._chosen()
        chosen = {**detected, **self._pinned}
        side = 0 if facing == "right" else 1
        rows: list[Row] = []
        nan33 = np.full((N_LANDMARKS, 3), np.nan, np.float32)
        nanvis = np.full(N_LANDMARKS, np.nan, np.float32)
        for i, t in enumerate(self._times):
            p = chosen.get(i)
            others = self._counts[i] - (1 if i in detected else 0)
            if p is None:
                rows.append((t, nan33, nan33, nanvis, None, others))
                continue
            contour = None
            if p.edges is not None and facing is not None:
                contour = p.edges[:, side, :]
            rows.append((t, p.image, p.world, p.visibility, contour, others))
        return PoseTrack.from_rows(rows, width, height, with_contour=True)


def similar_size(own: float, *refs: float) -> bool:
    """Whether a torso `own` px long could be, a moment later, the body whose torso was any
    of `refs` px long (`_LINK_SIZE_FACTOR`)."""
    return any(
        np.isfinite(ref) and ref > 0 and 1.0 / _LINK_SIZE_FACTOR <= own / ref <= _LINK_SIZE_FACTOR
        for ref in refs
    )


def _trail_score(trail: _Trail) -> float:
    """Presence × size × activity: the lifter stays in shot, near the camera, and moves.

    Activity is how much the trunk tilts and the hips rise and fall relative to the
    person's own size, so a bigger bystander who stands still loses to the person lifting.
    """
    sizes = np.array([p.torso_size for p in trail.poses])
    size = float(np.nanmedian(sizes)) if len(sizes) else 0.0
    return len(trail.frames) * size * (_MIN_ACTIVITY + _activity(trail))


def _activity(trail: _Trail) -> float:
    if len(trail.poses) < 3:
        return 0.0
    pts = np.array([p.image[:, :2] for p in trail.poses])  # (n, 33, 2)
    sh = pts[:, [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]].mean(axis=1)
    hp = pts[:, [Landmark.LEFT_HIP, Landmark.RIGHT_HIP]].mean(axis=1)
    an = pts[:, [Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE]].mean(axis=1)
    trunk = sh - hp
    size = np.hypot(trunk[:, 0], trunk[:, 1])
    tilt = np.arctan2(np.abs(trunk[:, 0]), -trunk[:, 1])  # radians from upright
    hip_rise = (an[:, 1] - hp[:, 1]) / np.nanmedian(size)
    return float(np.nan_to_num(np.nanstd(tilt)) + np.nan_to_num(np.nanstd(hip_rise)))


def _continuation(
    end: _Trail, rest: list[_Trail], forward: bool, times: list[float]
) -> _Trail | None:
    """The trail that picks up where `end` stops (forward) or leads into where it starts.

    Either after a gap, starting close to where `end` was last seen, or overlapping it in
    time while following the same body (the model sometimes finds one person twice while
    it re-detects, and the copy goes on as its own trail).
    """
    best, best_d = None, np.inf
    for tr in rest:
        if forward:
            gap = times[tr.frames[0]] - times[end.frames[-1]]
            a, b = end.poses[-1], tr.poses[0]
            extends = tr.frames[-1] > end.frames[-1]
        else:
            gap = times[end.frames[0]] - times[tr.frames[-1]]
            a, b = end.poses[0], tr.poses[-1]
            extends = tr.frames[0] < end.frames[0]
        if gap > 0:
            d = torso_distance(a, b, max(a.torso_size, 1.0))
            linked = d <= _LINK_DISTANCE + _LINK_GROWTH_PER_S * gap
        elif extends:
            d = _overlap_distance(end, tr)
            linked = d <= _SAME_BODY_DISTANCE
        else:
            continue
        if not linked:
            # The earlier trail may have gone astray on a few poor fits (the plates, the
            # legs alone) just as the body started a trail of its own: the later one then
            # starts near where the earlier one was a moment before.
            early, late = (end, tr) if forward else (tr, end)
            d = _start_distance(early, late, times)
            if d > _LINK_DISTANCE:
                continue
        if d < best_d:
            best, best_d = tr, d
    return best


def _same_body(person: PersonPose, trails: list[_Trail]) -> _Trail | None:
    """The trail whose pose in this frame is close enough to be the same body, if any."""
    for trail in trails:
        mine = trail.poses[-1]
        d = torso_distance(person, mine, trail.size)
        if d <= _SAME_BODY_DISTANCE:
            return trail
    return None


def _better_fit(p: PersonPose, q: PersonPose, typical: float) -> bool:
    """Whether `p` fits the lifter better than `q` in the same frame: nearer the lifter's
    `typical` torso length (when the two differ by more than `_SIZE_TIE`), else better
    seen (the larger sum of visibilities)."""
    if np.isfinite(typical) and typical > 0:
        off_p = abs(np.log(max(p.torso_size, 1.0) / typical))
        off_q = abs(np.log(max(q.torso_size, 1.0) / typical))
        if abs(off_p - off_q) > np.log(_SIZE_TIE):
            return bool(off_p < off_q)
    return bool(np.nansum(p.visibility) > np.nansum(q.visibility))


def _start_distance(early: _Trail, late: _Trail, times: list[float]) -> float:
    """Torso lengths from `late`'s first pose to the nearest of `early`'s poses in the
    `_START_LOOKBACK_S` before `late` starts, less the margin the time between them allows
    (`_LINK_GROWTH_PER_S`); only poses of a similar size count (`similar_size`)."""
    start = late.frames[0]
    b = late.poses[0]
    best = np.inf
    for f, a in zip(early.frames, early.poses, strict=True):
        gap = times[start] - times[f]
        if f >= start or gap > _START_LOOKBACK_S:
            continue
        if not similar_size(b.torso_size, a.torso_size):
            continue
        d = torso_distance(a, b, max(a.torso_size, 1.0)) - _LINK_GROWTH_PER_S * gap
        best = min(best, d)
    return best


def _overlap_distance(a: _Trail, b: _Trail) -> float:
    """Median torso-centre distance, in torso lengths, over the frames both trails share."""
    where_b = {f: i for i, f in enumerate(b.frames)}
    d = [
        torso_distance(pa, b.poses[where_b[f]], max(pa.torso_size, 1.0))
        for f, pa in zip(a.frames, a.poses, strict=True)
        if f in where_b
    ]
    return float(np.median(d)) if d else np.inf


def _drop_duplicates(people: Sequence[PersonPose]) -> list[PersonPose]:
    kept: list[PersonPose] = []
    for p in sorted(people, key=lambda q: -float(np.nansum(q.visibility))):
        if not np.isfinite(p.torso_size):
            continue
        dup = any(torso_distance(p, k, max(k.torso_size, 1.0)) < _DUPLICATE_DISTANCE for k in kept)
        if not dup:
            kept.append(p)
    return kept
