"""Plank rules: find the hold, time it, measure the body line, flag sag, pike and head drop.

One causal state machine, `HoldTimer`, does all of it a frame at a time, so the live path
(`HoldTimer.update` per frame) and the upload path (`analyze_plank`, which feeds the whole
track through the same timer) agree by construction.

A frame is *in plank position* (`plank_posture`, in metrics.plank_posture) when the
shoulder–ankle line is near horizontal and the hip bends less than `MAX_ABS_LINE_DEG` off
it, both knees are straight (the far knee counts only where it is seen), the hips are low
and the shoulders are held up on the arms. That leaves out walking in (standing: no
horizontal line), tabletop, kneeling and stepping back (a bent knee), child's pose and
lying down (bent knees, or no weight on the arms), and title cards (no person). The hold
starts once the position has been held `enter_s` (dated back to when it began) and ends at
the last plank frame once it has been lost for longer than `exit_s`.

Within the hold, the signed body line (`Angles.plank_line`: + hips below the line, − a
pike) is compared with the plank neutral (thresholds.toml ``[plank]``, or the client's own
``plank_line_deg``): within ``line_tolerance_deg`` it is in tolerance; `hip_sag` and
`hip_pike` are flagged when it stays past the profile-scaled thresholds for
``min_flag_s``, `head_drop` when the neck bends down past its neutral. Fatigue compares
the last third of the hold with the first.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from metrics.angles import Angles
from metrics.evidence import DEFINING_PARTS, SEEN_VISIBILITY, stretch
from metrics.landmarks import SIDE_PARTS
from metrics.plank_posture import PlankInputs, PlankRow, plank_posture, row_posture
from metrics.profile import ClientProfile
from metrics.report import Flag, Hold, ViewInfo
from metrics.result import ExerciseResult
from metrics.thresholds import Threshold, Thresholds
from metrics.track import PoseTrack

PLANK_CODES = ("hip_sag", "hip_pike", "head_drop")
# A check of the hold is judged when its landmarks are clearly seen on at least this
# share of the hold's frames (docs/ranges.md): a verdict should speak for most of the hold.
MIN_SEEN_SHARE = 0.5
NOT_SIDE_ON = "the camera was not side-on enough to see the body line"
_PART_WORDS = {"ear": "head", "hip": "hips", "shoulder": "shoulders", "ankle": "ankles"}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class PlankSettings:
    """Everything the plank rules judge by, for one client (degrees and seconds).

    `sag_level` / `pike_level` / `head_level` are the absolute values at which each flag
    turns mild, in the flag's value units: the body line in degrees below the line (sag),
    degrees above it (pike, positive), and degrees of neck bend past neutral (head drop).
    """

    neutral_line_deg: float
    tolerance_sag_deg: float
    tolerance_pike_deg: float
    neutral_neck_deg: float
    sag: Threshold
    pike: Threshold
    head: Threshold
    min_flag_s: float = 0.5
    flag_gap_s: float = 0.3
    enter_s: float = 1.0
    exit_s: float = 0.5
    fatigue_min_deg: float = 5.0
    fatigue_min_hold_s: float = 6.0
    judge_line: bool = True

    @classmethod
    def from_thresholds(
        cls,
        thresholds: Thresholds,
        profile: ClientProfile | None = None,
        *,
        judge_line: bool = True,
    ) -> PlankSettings:
        """Settings from thresholds.toml (`[plank]` and the plank flags) and a profile."""
        profile = profile or ClientProfile()
        data: dict[str, Any] = dict(thresholds.extra.get("plank", {}))
        tol = float(data.get("line_tolerance_deg", 15.0))
        neutral = float(profile.neutral.get("plank_line_deg", data.get("neutral_line_deg", -5.0)))
        neck = float(profile.neutral.get("neck_deg", data.get("neutral_neck_deg", 180.0)))
        return cls(
            neutral_line_deg=neutral,
            # scaled as the client's hip_sag and hip_pike thresholds are
            tolerance_sag_deg=tol * thresholds["hip_sag"].scale,
            tolerance_pike_deg=tol * thresholds["hip_pike"].scale,
            neutral_neck_deg=neck,
            sag=thresholds["hip_sag"],
            pike=thresholds["hip_pike"],
            head=thresholds["head_drop"],
            min_flag_s=float(data.get("min_flag_s", 0.5)),
            flag_gap_s=float(data.get("flag_gap_s", 0.3)),
            enter_s=float(data.get("enter_s", 1.0)),
            exit_s=float(data.get("exit_s", 0.5)),
            fatigue_min_deg=float(data.get("fatigue_min_deg", 5.0)),
            fatigue_min_hold_s=float(data.get("fatigue_min_hold_s", 6.0)),
            judge_line=judge_line,
        )

    @property
    def tolerance_band(self) -> tuple[float, float]:
        """(lowest, highest) body line in degrees that counts as in tolerance."""
        n = self.neutral_line_deg
        return n - self.tolerance_pike_deg, n + self.tolerance_sag_deg

    def in_tolerance(self, line: float) -> bool | None:
        """Whether a body line (degrees) is in tolerance; None when unknown."""
        if not math.isfinite(line):
            return None
        lo, hi = self.tolerance_band
        return lo <= line <= hi


# --------------------------------------------------------------------------- flags


class _Episodes:
    """Causal runs of a per-frame value at or past a level: the flags of one code.

    A run starts at the first frame at or past `level`, survives dips (or unknown frames)
    no longer than `gap_s`, and becomes a flag when its first-to-last time at or past the
    level reaches `min_s`.
    """

    def __init__(
        self,
        code: str,
        level: float,
        marked: float,
        threshold: Threshold,
        min_s: float,
        gap_s: float,
    ) -> None:
        self.code = code
        self.level = level
        self.marked = marked
        self.unit = threshold.unit
        self.min_s = min_s
        self.gap_s = gap_s
        self.flags: list[Flag] = []
        self._start: float | None = None
        self._last = math.nan
        self._peak = -math.inf
        self._peak_t = math.nan

    def update(self, t: float, value: float) -> None:
        above = math.isfinite(value) and value >= self.level
        if self._start is not None and not above and t - self._last > self.gap_s:
            self.close()
        if not above:
            return
        if self._start is None:
            self._start = t
            self._peak = -math.inf
        self._last = t
        if value > self._peak:
            self._peak, self._peak_t = value, t

    def active(self) -> bool:
        """Whether a run long enough to flag is going on now."""
        return self._start is not None and self._last - self._start >= self.min_s

    def close(self) -> None:
        """End the current run (at its last frame past the level), flagging it if long."""
        if self._start is not None and self._last - self._start >= self.min_s:
            self.flags.append(
                Flag(
                    code=self.code,
                    severity="marked" if self._peak >= self.marked else "mild",
                    rep=None,
                    start_s=round(self._start, 3),
                    peak_s=round(self._peak_t, 3),
                    end_s=round(self._last, 3),
                    value=round(float(self._peak), 1),
                    threshold=round(self.level, 1),
                    unit=self.unit,
                )
            )
        self._start = None


# --------------------------------------------------------------------------- the hold


@dataclass(frozen=True, eq=False)
class HoldSummary:
    """A closed hold: its `Hold`, flags, fatigue measure and per-frame line values."""

    hold: Hold
    flags: list[Flag]
    fatigue: dict[str, Any] | None
    t: np.ndarray
    line: np.ndarray


class _HoldBuilder:
    """Accumulates one (candidate) hold frame by frame."""

    def __init__(self, settings: PlankSettings) -> None:
        s = settings
        self.settings = s
        n = s.neutral_line_deg
        self.episodes: list[_Episodes] = []
        if s.judge_line:
            sag_lvl, sag_mk = n + s.sag.mild, n + s.sag.marked
            pike_lvl, pike_mk = s.pike.mild - n, s.pike.marked - n
            self.episodes = [
                _Episodes("hip_sag", sag_lvl, sag_mk, s.sag, s.min_flag_s, s.flag_gap_s),
                _Episodes("hip_pike", pike_lvl, pike_mk, s.pike, s.min_flag_s, s.flag_gap_s),
                _Episodes(
                    "head_drop", s.head.mild, s.head.marked, s.head, s.min_flag_s, s.flag_gap_s
                ),
            ]
        self.t: list[float] = []
        self.line: list[float] = []
        self.in_tolerance_s = 0.0

    @property
    def start(self) -> float:
        return self.t[0]

    @property
    def end(self) -> float:
        return self.t[-1]

    def add(self, row: PlankRow) -> None:
        s = self.settings
        line = row.plank_line if s.judge_line else math.nan
        inside = s.in_tolerance(line) is True
        if self.t and inside:
            self.in_tolerance_s += row.t - self.t[-1]
        self.t.append(row.t)
        self.line.append(line)
        if s.judge_line:
            neck_bend = s.neutral_neck_deg - row.neck
            for ep, value in zip(self.episodes, (line, -line, neck_bend), strict=True):
                ep.update(row.t, value)

    def active(self) -> tuple[str, ...]:
        return tuple(ep.code for ep in self.episodes if ep.active())

    def flags_so_far(self) -> list[Flag]:
        return [f for ep in self.episodes for f in ep.flags]

    def close(self) -> HoldSummary:
        for ep in self.episodes:
            ep.close()
        flags = sorted(self.flags_so_far(), key=lambda f: f.start_s)
        t = np.asarray(self.t, np.float64)
        line = np.asarray(self.line, np.float64)
        finite = line[np.isfinite(line)]
        mean = float(finite.mean()) if finite.size else math.nan
        worst = math.nan
        if finite.size:
            worst = float(finite[np.argmax(np.abs(finite - self.settings.neutral_line_deg))])
        judged = self.settings.judge_line
        hold = Hold(
            start_s=round(self.start, 3),
            end_s=round(self.end, 3),
            duration_s=round(self.end - self.start, 3),
            in_tolerance_s=round(self.in_tolerance_s, 3) if judged else math.nan,
            mean_line_deg=round(mean, 1),
            worst_line_deg=round(worst, 1),
        )
        fatigue = fatigue_measure(t, line, self.settings) if judged else None
        return HoldSummary(hold, flags, fatigue, t, line)


def fatigue_measure(
    t: np.ndarray, line: np.ndarray, settings: PlankSettings
) -> dict[str, Any] | None:
    """Early vs late body line: the first and last third of a hold (None if too short).

    `change_deg` is late minus early (+: the hips sank), `drift_deg` how much further from
    the neutral the late line sits than the early one. `degraded` when the hips sank by
    ``fatigue_min_deg`` or more (the usual way a tiring plank goes, even from a slight
    pike), when the line drifted that far away from the neutral either way, or when the
    share of time in tolerance fell by a quarter or more.
    """
    if len(t) < 3 or t[-1] - t[0] < settings.fatigue_min_hold_s:
        return None
    third = (t[-1] - t[0]) / 3.0
    early = line[(t <= t[0] + third) & np.isfinite(line)]
    late = line[(t >= t[-1] - third) & np.isfinite(line)]
    if early.size < 2 or late.size < 2:
        return None
    n = settings.neutral_line_deg
    e, lt = float(np.mean(early)), float(np.mean(late))
    drift = abs(lt - n) - abs(e - n)
    lo, hi = settings.tolerance_band
    e_tol = float(np.mean((early >= lo) & (early <= hi)))
    l_tol = float(np.mean((late >= lo) & (late <= hi)))
    sink = lt - e
    degraded = (
        sink >= settings.fatigue_min_deg
        or drift >= settings.fatigue_min_deg
        or l_tol <= e_tol - 0.25
    )
    direction = None
    if degraded:
        direction = "sag" if sink > 0 else "pike"
    return {
        "early_line_deg": round(e, 1),
        "late_line_deg": round(lt, 1),
        "change_deg": round(sink, 1),
        "drift_deg": round(drift, 1),
        "early_in_tolerance": round(e_tol, 3),
        "late_in_tolerance": round(l_tol, 3),
        "window_s": round(third, 2),
        "degraded": bool(degraded),
        "direction": direction,
    }


@dataclass(frozen=True)
class HoldState:
    """The live readout after one frame.

    `holding` once the plank has been held `enter_s`; `hold_s` the time since it began
    (None when not holding); `line_deg` this frame's body line and `in_tolerance` whether
    it is in tolerance (None when not judged); `active` the faults going on now and
    `flags` those judged so far in this hold.
    """

    t: float
    posture: bool
    holding: bool
    hold_s: float | None
    in_tolerance_s: float
    line_deg: float
    in_tolerance: bool | None
    active: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class PlankOutcome:
    """What the timer found in a whole set: every hold, and the longest as *the* hold."""

    holds: list[HoldSummary] = field(default_factory=list)

    @property
    def main(self) -> HoldSummary | None:
        """The longest hold (the first of equals), or None when there was none."""
        if not self.holds:
            return None
        return max(self.holds, key=lambda h: (h.hold.duration_s, -h.hold.start_s))


class HoldTimer:
    """Streaming plank rules: feed `PlankRow`s in time order with `update`.

    `result()` gives the holds found so far (an open hold is closed at its last plank
    frame, as it would be if the set ended now); `analyze_plank` is exactly this timer run
    over a whole track.
    """

    def __init__(self, settings: PlankSettings) -> None:
        self.settings = settings
        self._current: _HoldBuilder | None = None
        self._holding = False
        self._pending: list[PlankRow] = []  # frames since the last plank frame
        self._done: list[HoldSummary] = []

    def update(self, row: PlankRow) -> HoldState:
        """Take one frame; return the readout after it."""
        s = self.settings
        posture = row_posture(row)
        cur = self._current
        if cur is not None and not posture and row.t - cur.end > s.exit_s:
            self._close()
            cur = None
        if posture:
            if cur is None:
                cur = self._current = _HoldBuilder(s)
            for p in self._pending:
                cur.add(p)
            self._pending.clear()
            cur.add(row)
            if not self._holding and cur.end - cur.start >= s.enter_s:
                self._holding = True
        elif cur is not None:
            self._pending.append(row)
        line = row.plank_line if s.judge_line else math.nan
        holding = self._holding and cur is not None
        return HoldState(
            t=row.t,
            posture=posture,
            holding=holding,
            hold_s=(row.t - cur.start) if holding and cur is not None else None,
            in_tolerance_s=cur.in_tolerance_s if holding and cur is not None else 0.0,
            line_deg=line,
            in_tolerance=s.in_tolerance(line) if s.judge_line else None,
            active=cur.active() if holding and cur is not None else (),
            flags=tuple(cur.flags_so_far()) if holding and cur is not None else (),
        )

    def _close(self) -> None:
        if self._current is not None and self._holding:
            self._done.append(self._current.close())
        self._current = None
        self._holding = False
        self._pending.clear()

    def result(self) -> PlankOutcome:
        """Every hold so far, the open one closed as if the set ended now."""
        done = list(self._done)
        if self._current is not None and self._holding:
            done.append(copy.deepcopy(self._current).close())
        return PlankOutcome(done)


# --------------------------------------------------------------------------- batch


def analyze_plank(
    track: PoseTrack, angles: Angles, view: ViewInfo, thresholds: Thresholds, profile: ClientProfile
) -> ExerciseResult:
    """The hold, its line and flags for a cleaned track, via the streaming `HoldTimer`.

    When the view is not judgeable the hold is still timed, but the line is not read:
    its tolerance and line values are NaN (null in report.json) and nothing is flagged.
    """
    settings = PlankSettings.from_thresholds(thresholds, profile, judge_line=view.judgeable)
    inputs = PlankInputs.from_track(track, angles)
    outcome = run_timer(inputs, settings)
    main = outcome.main
    posture = plank_posture(
        inputs.plank_line, inputs.knee, inputs.far_knee, inputs.hip_height, inputs.arm_support
    )
    columns = plank_columns(inputs.t, angles.plank_line, posture, main, settings)
    lo, hi = settings.tolerance_band
    extra: dict[str, Any] = {
        "line_tolerance_deg": [round(lo, 1), round(hi, 1)] if settings.judge_line else None,
        "fatigue": main.fatigue if main is not None else None,
    }
    if len(outcome.holds) > 1:
        extra["holds"] = [
            {"start_s": h.hold.start_s, "end_s": h.hold.end_s, "duration_s": h.hold.duration_s}
            for h in sorted(outcome.holds, key=lambda h: h.hold.start_s)
        ]
    hold = None
    if main is not None:
        unseen = hold_not_judged(main.hold, track, angles, main.flags, settings.judge_line)
        hold = replace(main.hold, not_judged=unseen)
    return ExerciseResult(
        reps=[],
        hold=hold,
        flags=list(main.flags) if main is not None else [],
        columns=columns,
        extra=extra,
    )


def hold_not_judged(
    hold: Hold, track: PoseTrack, angles: Angles, flags: list[Flag], judge_line: bool
) -> list[dict[str, str]]:
    """The checks of `hold` that could not be judged, and why (`Hold.not_judged`).

    Off side-on, none of them (the view's reason). Otherwise a check that raised no flag
    is not judged when the landmarks that define it (`metrics.evidence.DEFINING_PARTS`,
    the near side) were clearly seen, with a measured value, on under `MIN_SEEN_SHARE` of
    the hold's frames: a pass would then speak for frames nobody saw (the line there is
    filled in or read off poorly seen landmarks). A flagged check was judged on the
    frames that showed it.
    """
    if not judge_line:
        return [{"check": code, "reason": NOT_SIDE_ON} for code in PLANK_CODES]
    t = np.asarray(angles.t, np.float64)
    frames = np.flatnonzero((t >= hold.start_s - 1e-6) & (t <= hold.end_s + 1e-6))
    if frames.size == 0:
        return []
    flagged = {f.code for f in flags}
    k = 0 if angles.side == "left" else 1
    out: list[dict[str, str]] = []
    for code in PLANK_CODES:
        if code in flagged:
            continue
        value = angles.neck if code == "head_drop" else angles.plank_line
        s = stretch(code, frames, track.visibility, t, angles.side, np.isfinite(value))
        if s.seen >= MIN_SEEN_SHARE * frames.size:
            continue
        unseen = 1.0 - s.seen / frames.size
        by_part = {
            part: float(
                np.mean(~(track.visibility[frames, SIDE_PARTS[part][k]] >= SEEN_VISIBILITY))
            )
            for part in DEFINING_PARTS[code]
        }
        worst = max(by_part.values())
        if worst < 0.05:  # every landmark seen; the value itself was not measured
            reason = f"it could not be measured for {unseen:.0%} of the hold"
        else:
            parts = [p for p, u in by_part.items() if u >= worst - 0.05]
            names = " and ".join(_PART_WORDS.get(p, p + "s") for p in parts)
            verb = "was" if names == "head" else "were"
            reason = f"the {names} {verb} not seen clearly for {unseen:.0%} of the hold"
        out.append({"check": code, "reason": reason})
    return out


def run_timer(inputs: PlankInputs, settings: PlankSettings) -> PlankOutcome:
    """Feed every frame of `inputs` through a `HoldTimer`."""
    timer = HoldTimer(settings)
    for i in range(len(inputs)):
        timer.update(inputs.row(i))
    return timer.result()


def plank_columns(
    t: np.ndarray,
    line: np.ndarray,
    posture: np.ndarray,
    main: HoldSummary | None,
    settings: PlankSettings,
) -> dict[str, np.ndarray]:
    """Per-frame columns for timeseries.csv: plank position, in the hold, line in tolerance."""
    in_hold = np.zeros(len(t), bool)
    if main is not None:
        in_hold = (t >= main.hold.start_s - 1e-6) & (t <= main.hold.end_s + 1e-6)
    lo, hi = settings.tolerance_band
    tol = np.full(len(t), np.nan)
    if settings.judge_line:
        with np.errstate(invalid="ignore"):
            ok = in_hold & np.isfinite(line)
            tol[ok] = ((line[ok] >= lo) & (line[ok] <= hi)).astype(float)
    elapsed = np.full(len(t), np.nan)
    if main is not None:
        elapsed[in_hold] = t[in_hold] - main.hold.start_s
    return {
        "plank_position": posture.astype(np.int8),
        "in_hold": in_hold.astype(np.int8),
        "hold_s": elapsed,
        "line_in_tolerance": tol,
    }
