"""What an analysis concluded, reduced to what a coach is told: the verdict.

A verdict is the exercise chosen, whether the view could be judged, the reps and the flag
codes of each rep (with their values), the checks each rep could not judge, and for a
plank the timed hold. Two verdicts are "the same" when all of that matches, flag values
within `value_tolerance` and hold ends within `HOLD_TOLERANCE_S`; `differences` says what
changed, in words.

A check close to its threshold is not a different verdict on either side of it: a flag
the report calls "borderline" (its margin under twice the measure's frame noise,
`metrics.evidence.close_band`) in one copy and a "near pass" (the same band under the
threshold, the report's ``close_calls``) in the other tell a coach the same thing, "close
to the line", and are counted as the same (`close_to_line` lists them). A flag that is
clear in one copy and missing in the other, or borderline in one and passed with room in
the other, is still a change (docs/evaluation-thresholds.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metrics.analysis import TrackAnalysis
from metrics.errors import AnalysisError

# A flag's value may move this much (in its unit: degrees or %) between two copies of one
# clip before the verdicts count as different, or this share of the larger value when
# that is more (a severity change within it is not counted). Relative for large values:
# the landmarks that make a 45-degree rounding move as much in pixels as those of a 15
# degree one, but the angle's error grows with the bend (a hidden far side, a
# foreshortened torso); 30% is well inside the factor of 2 between a flag's mild and
# marked levels, so a mild reading can never pass for a marked one.
VALUE_TOLERANCE = 10.0
VALUE_TOLERANCE_FRACTION = 0.3
# A plank hold's start and end may move this much between two copies.
HOLD_TOLERANCE_S = 1.0


def value_tolerance(a: float, b: float, unit: str = "deg") -> float:
    """How far two readings of one flag may differ and still count the same (relative
    only for angles: a share in % has a fixed scale, 0 to 100)."""
    if unit != "deg":
        return VALUE_TOLERANCE
    return max(VALUE_TOLERANCE, VALUE_TOLERANCE_FRACTION * max(abs(a), abs(b)))


def _field(item: Any, name: str) -> str:
    value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
    return str(value) if value is not None else ""


def not_judged(analysis: TrackAnalysis) -> list[tuple[int, str, str]]:
    """(rep, check, reason) for every check a rep says it could not judge (`not_judged`)."""
    out = []
    for rep in analysis.result.reps:
        for item in getattr(rep, "not_judged", None) or []:
            out.append((rep.index, _field(item, "check"), _field(item, "reason")))
    return out


@dataclass(frozen=True)
class Verdict:
    """One analysis as a coach would hear it (see the module docs)."""

    exercise: str
    judgeable: bool
    reps: tuple[tuple[str, ...], ...]  # flag codes of each rep, sorted
    values: dict[tuple[int, str], float]  # (rep position, code) → flag value
    unjudged: tuple[tuple[int, str], ...]  # (rep position, check)
    hold: tuple[float, float] | None
    plank_flags: tuple[str, ...]
    error: str | None = None
    # (rep position, check) read close to the threshold: a borderline flag or a near pass
    close: frozenset[tuple[int, str]] = frozenset()
    units: dict[str, str] = field(default_factory=dict)  # flag code → unit (default deg)

    @classmethod
    def of(cls, analysis: TrackAnalysis | AnalysisError) -> Verdict:
        if isinstance(analysis, AnalysisError):
            return cls("-", False, (), {}, (), None, (), error=str(analysis))
        result = analysis.result
        position = {rep.index: i for i, rep in enumerate(result.reps)}
        values: dict[tuple[int, str], float] = {}
        for f in result.flags:
            if f.rep is not None and f.rep in position:
                key = (position[f.rep], f.code)
                values[key] = max(values.get(key, f.value), f.value)
        close = {
            (position[f.rep], f.code)
            for f in result.flags
            if f.rep in position and (f.evidence or {}).get("call") == "borderline"
        }
        for c in result.extra.get("close_calls", None) or []:
            if c.get("rep") in position:
                close.add((position[c["rep"]], str(c["check"])))
        hold = result.hold
        return cls(
            exercise=analysis.exercise,
            judgeable=analysis.view.judgeable,
            reps=tuple(tuple(sorted(set(rep.flags))) for rep in result.reps),
            values=values,
            unjudged=tuple(sorted((position[r], check) for r, check, _ in not_judged(analysis))),
            hold=(hold.start_s, hold.end_s) if hold is not None else None,
            plank_flags=tuple(sorted({f.code for f in result.flags if f.rep is None})),
            close=frozenset(close),
            units={f.code: f.unit for f in result.flags},
        )

    def summary(self) -> str:
        """Short text: "3 reps: spine_flexion ×3" or the error."""
        if self.error:
            return f"error: {self.error}"
        if self.exercise == "plank":
            hold = f"{self.hold[0]:.1f}-{self.hold[1]:.1f} s" if self.hold else "no hold"
            flags = f": {', '.join(self.plank_flags)}" if self.plank_flags else ""
            return f"plank {hold}{flags}"
        counts: dict[str, int] = {}
        for codes in self.reps:
            for c in codes:
                counts[c] = counts.get(c, 0) + 1
        flags = ", ".join(f"{c} ×{n}" for c, n in sorted(counts.items()))
        judged = "" if self.judgeable else " (view not judged)"
        return f"{len(self.reps)} reps{judged}" + (f": {flags}" if flags else "")


def differences(a: Verdict, b: Verdict) -> list[str]:
    """What changed from verdict `a` to `b`, one short phrase each; empty when the same."""
    if a.error or b.error:
        return [] if a.error == b.error else [f"{a.summary()} → {b.summary()}"]
    out = []
    if a.exercise != b.exercise:
        out.append(f"exercise {a.exercise} → {b.exercise}")
    if a.judgeable != b.judgeable:
        out.append("view judged → not judged" if a.judgeable else "view not judged → judged")
    if len(a.reps) != len(b.reps):
        out.append(f"reps {len(a.reps)} → {len(b.reps)}")
    else:
        for i, (fa, fb) in enumerate(zip(a.reps, b.reps, strict=True)):
            for code in sorted(set(fb) - set(fa)):
                if not _both_close(a, b, i, code):
                    out.append(f"rep {i + 1} gains {code}")
            for code in sorted(set(fa) - set(fb)):
                if not _both_close(a, b, i, code):
                    out.append(f"rep {i + 1} loses {code}")
            for code in sorted(set(fa) & set(fb)):
                va, vb = a.values.get((i, code)), b.values.get((i, code))
                unit = a.units.get(code, b.units.get(code, "deg"))
                if (
                    va is not None
                    and vb is not None
                    and abs(vb - va) > value_tolerance(va, vb, unit)
                ):
                    out.append(f"rep {i + 1} {code} {va:.0f} → {vb:.0f}")
        for r, check in sorted(set(b.unjudged) - set(a.unjudged)):
            out.append(f"rep {r + 1} {check} no longer judged")
        for r, check in sorted(set(a.unjudged) - set(b.unjudged)):
            out.append(f"rep {r + 1} {check} now judged")
    if (a.hold is None) != (b.hold is None):
        out.append("hold found → none" if a.hold else "hold none → found")
    elif (
        a.hold is not None
        and b.hold is not None
        and max(abs(a.hold[0] - b.hold[0]), abs(a.hold[1] - b.hold[1])) > HOLD_TOLERANCE_S
    ):
        out.append(f"hold {a.hold[0]:.1f}-{a.hold[1]:.1f} → {b.hold[0]:.1f}-{b.hold[1]:.1f} s")
    for code in sorted(set(b.plank_flags) - set(a.plank_flags)):
        out.append(f"gains {code}")
    for code in sorted(set(a.plank_flags) - set(b.plank_flags)):
        out.append(f"loses {code}")
    return out


def _both_close(a: Verdict, b: Verdict, rep: int, code: str) -> bool:
    return (rep, code) in a.close and (rep, code) in b.close


def close_to_line(a: Verdict, b: Verdict) -> list[str]:
    """The flags raised in one verdict and not the other that both call close to the line
    (borderline on one side, a near pass on the other): counted as the same verdict."""
    if a.error or b.error or len(a.reps) != len(b.reps):
        return []
    out = []
    for i, (fa, fb) in enumerate(zip(a.reps, b.reps, strict=True)):
        for code in sorted(set(fa) ^ set(fb)):
            if _both_close(a, b, i, code):
                side = "borderline → near pass" if code in fa else "near pass → borderline"
                out.append(f"rep {i + 1} {code} {side}")
    return out
