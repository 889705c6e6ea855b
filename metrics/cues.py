"""Turn flags into the few cues that matter: praise first, then at most two big cues.

Cue text is data (cues.toml) keyed by flag code, written in the spirit of
../shared/docs/coaching.md: positive, physical, and saying when and where. Each fault's
`priority` there ranks it, for uploads here and for the live screen
(metrics.cue_ration) alike; its direction is the flag's in thresholds.toml.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

from metrics.profile import ClientProfile
from metrics.report import Cue, Exercise, Flag, Hold, Rep, ViewInfo
from metrics.thresholds import flag_direction, intolerant_of

MAX_FAULT_CUES = 2
# A fault on at least this many reps (or on every rep of a short set) counts as repeating,
# and the cue then offers options from the trainable menu instead of only repeating itself.
REPEAT_MIN_REPS = 3


@cache
def cue_table() -> dict[str, Any]:
    """The cue text shipped with the package."""
    text = resources.files("metrics").joinpath("cues.toml").read_text("utf-8")
    return tomllib.loads(text)


def fault_priority(code: str, table: dict[str, Any] | None = None) -> int:
    """A fault's rank from cues.toml (1 first); a code without one comes last."""
    spec = (table if table is not None else cue_table()).get(code)
    if isinstance(spec, dict) and "priority" in spec:
        return int(spec["priority"])
    return 1 << 16


def cue_line(
    code: str, profile: ClientProfile | None = None, table: dict[str, Any] | None = None
) -> str:
    """The short cue for a flag code from cues.toml: its `intolerant` wording when the
    client does not tolerate the direction the flag guards."""
    spec = (table if table is not None else cue_table()).get(code)
    if not isinstance(spec, dict) or "cue" not in spec:
        return code.replace("_", " ").capitalize()
    if intolerant_of(profile or ClientProfile(), flag_direction(code)):
        return str(spec.get("intolerant", spec["cue"]))
    return str(spec["cue"])


def choose_cues(
    exercise: Exercise,
    reps: list[Rep],
    hold: Hold | None,
    flags: list[Flag],
    view: ViewInfo,
    profile: ClientProfile | None = None,
) -> list[Cue]:
    """Praise first (priority 0), then up to two fault cues, most important first."""
    table = cue_table()
    praise = table["praise"]
    profile = profile or ClientProfile()
    if not view.judgeable:
        cues = [Cue("praise", 0, praise["not_judgeable"])]
        if view.reason:
            cues.append(Cue("camera", 1, view.reason))
        return cues
    cues = [Cue("praise", 0, _praise(exercise, reps, hold, flags, praise))]
    ranked = _rank(flags)
    for priority, code in enumerate(ranked[:MAX_FAULT_CUES], start=1):
        spec = table.get(code)
        if spec is None:
            continue
        spec = _by_region(spec, code, flags, reps)
        cues.append(Cue(code, priority, _fault_text(code, spec, flags, len(reps), profile)))
    return cues


def _praise(
    exercise: Exercise, reps: list[Rep], hold: Hold | None, flags: list[Flag], praise: dict
) -> str:
    if exercise == "plank":
        if hold is None:
            return str(praise.get("plank_no_hold", praise["plank_some"]))
        return praise["plank_some"] if flags else praise["plank_clean"]
    if not flags:
        return praise["hinge_clean"]
    # Praise only what the flags leave true: the back, or the reps without a fault.
    flagged = {f.rep for f in flags if f.rep is not None}
    clean = [r.index for r in reps if r.index not in flagged]
    back_ok = not any(flag_direction(f.code) != "none" for f in flags)
    if back_ok:
        return str(praise.get("hinge_back", praise["hinge_some"]))
    if reps and clean:
        which = f"rep {clean[0]}" if len(clean) == 1 else f"reps {_join(clean)}"
        return f"Good work: {which} looked the way we want."
    return str(praise.get("hinge_effort", praise["hinge_some"]))


def _by_region(spec: dict[str, Any], code: str, flags: list[Flag], reps: list[Rep]) -> dict:
    """The cue for where the fault sits, when every flagged rep says the same place
    (`Rep.flexion_region`); the plain cue otherwise. The intolerant cue still wins."""
    regions = spec.get("by_region")
    flagged = {f.rep for f in flags if f.code == code and f.rep is not None}
    where = {r.flexion_region for r in reps if r.index in flagged}
    if not regions or len(where) != 1:
        return spec
    (region,) = where
    if region not in regions:
        return spec
    return {**spec, "cue": regions[region]}


def _rank(flags: list[Flag]) -> list[str]:
    """Flag codes by importance: their cues.toml priority, then (for equal priorities)
    marked before mild and by how often they happened."""
    score: Counter[str] = Counter()
    for f in flags:
        score[f.code] += 10 if f.severity == "marked" else 1
    return sorted(score, key=lambda code: (fault_priority(code), -score[code]))


def _fault_text(
    code: str, spec: dict[str, Any], flags: list[Flag], n_reps: int, profile: ClientProfile
) -> str:
    text = cue_line(code, profile, {code: spec})  # `spec` may carry the region's cue
    mine = [f for f in flags if f.code == code]
    rep_numbers = sorted({f.rep for f in mine if f.rep is not None})
    if rep_numbers:
        which = (
            "on every rep"
            if len(rep_numbers) == n_reps and n_reps > 1
            else (
                f"on rep {rep_numbers[0]}"
                if len(rep_numbers) == 1
                else f"on reps {_join(rep_numbers)}"
            )
        )
        where = f"{which}, {spec.get('where', '')}".rstrip(", ")
    else:
        times = ", ".join(f"{f.start_s:.1f} s" for f in mine[:3])
        where = f"{spec.get('where', '')} (from {times})"
    repeating = len(rep_numbers) >= min(REPEAT_MIN_REPS, max(n_reps, 1)) and n_reps > 1
    text = f"{text} Watch for it {where}."
    if repeating and spec.get("options"):
        text += " If it keeps showing up, try: " + "; ".join(spec["options"]) + "."
    return text


def _join(numbers: list[int]) -> str:
    """1, 2, 3, 5 → "1 to 3 and 5": runs of three or more consecutive reps as ranges."""
    words: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            words.append(f"{numbers[i]} to {numbers[j]}")
        else:
            words.extend(str(n) for n in numbers[i : j + 1])
        i = j + 1
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
