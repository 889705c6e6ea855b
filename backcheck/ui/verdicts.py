"""What the pages say about a report, as plain data: rep verdicts, the hold summary, the
moments worth scrubbing to, and the filming advice. No Streamlit here, so it is testable
and shared by the pages and the printable report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from metrics.cues import cue_table
from metrics.report import Cue, Flag, Report

SEVERITY_WORDS = {"mild": "slight", "marked": "clear"}

FILMING_ADVICE = (
    "Film from the side, at right angles to the lifter, with the camera at hip height.",
    "Stand the phone 3-4 m away so the whole body, bar and floor stay in frame.",
    "Use good light and keep other people out of the line between camera and lifter.",
    "Landscape or portrait both work; keep the phone still (a tripod or a bench).",
)

# Per-rep metrics shown in the table, in order, with their column titles.
REP_METRICS = (
    ("trunk_max_deg", "Trunk lean (max)"),
    ("hip_min_deg", "Hip angle (min)"),
    ("knee_min_deg", "Knee angle (min)"),
    ("spine_flexion_deg", "Back rounding"),
    ("spine_extension_deg", "Lean back"),
)


def flag_name(code: str) -> str:
    """A coach's name for a flag code, e.g. ``spine_flexion`` → "rounded back"."""
    spec = cue_table().get(code)
    if isinstance(spec, dict) and "name" in spec:
        return str(spec["name"])
    return code.replace("_", " ")


def praise_and_cues(report: Report) -> tuple[list[Cue], list[Cue]]:
    """Praise (priority 0) and the other cues, each list in priority order."""
    cues = sorted(report.cues, key=lambda c: c.priority)
    return [c for c in cues if c.priority == 0], [c for c in cues if c.priority > 0]


def _worst(flags: list[Flag]) -> Flag:
    return max(flags, key=lambda f: (f.severity == "marked", abs(f.value)))


def rep_verdict(report: Report, rep_index: int) -> str:
    """ "Good" or "Check: rounded back (clear)…" for one rep, from its flags."""
    flags = [f for f in report.flags if f.rep == rep_index]
    rep = next((r for r in report.reps if r.index == rep_index), None)
    codes = [f.code for f in flags] or (list(rep.flags) if rep else [])
    unseen = not_judged_text(rep.not_judged) if rep and report.view.judgeable else ""
    if not codes:
        return f"Good; couldn't judge {unseen}" if unseen else "Good"
    parts = []
    for code in dict.fromkeys(codes):
        mine = [f for f in flags if f.code == code]
        words = [SEVERITY_WORDS[_worst(mine).severity]] if mine else []
        if mine and (_worst(mine).evidence or {}).get("call") == "borderline":
            words.append("borderline")
        if code == "spine_flexion" and rep is not None and rep.flexion_region:
            words.append(rep.flexion_region)
        parts.append(flag_name(code) + (f" ({', '.join(words)})" if words else ""))
    text = "Check: " + ", ".join(parts)
    return f"{text}; couldn't judge {unseen}" if unseen else text


def not_judged_text(not_judged: list[dict[str, str]]) -> str:
    """ "over-arching (the lockout was not seen)" for a rep's checks it could not judge."""
    return "; ".join(f"{flag_name(n['check'])} ({n['reason']})" for n in not_judged)


def _fmt(v: Any, unit: str = "°") -> str:
    if isinstance(v, int | float) and v == v:
        return f"{v:.0f}{unit}"
    return "–"


# The columns of the compact rep table (phones): the verdict and the back's numbers.
COMPACT = ("Rep", "Time", "Verdict", "Back rounding", "Lean back")


def rep_rows(report: Report, *, compact: bool = False) -> list[dict[str, str]]:
    """One row per rep for the table: number, time, verdict and the metrics present
    (`compact`: only the `COMPACT` columns)."""
    # Only the metrics a coach reads at a glance; the rest stay in report.json.
    present = [(k, title) for k, title in REP_METRICS if any(k in r.metrics for r in report.reps)]
    rows = []
    for r in report.reps:
        row = {
            "Rep": str(r.index),
            "Time": f"{r.start_s:.1f}-{r.end_s:.1f} s",
            "Verdict": rep_verdict(report, r.index),
        }
        for k, title in present:
            if not compact or title in COMPACT:
                row[title] = _fmt(r.metrics.get(k))
        rows.append(row)
    return rows


def hold_rows(report: Report) -> list[tuple[str, str]]:
    """The plank hold summary as (label, value) pairs; empty when no hold was found."""
    h = report.hold
    if h is None:
        return []
    rows = [("Hold", f"{h.duration_s:.1f} s ({h.start_s:.1f}-{h.end_s:.1f} s)")]
    if not _measured(h.in_tolerance_s):
        # Off side-on the line is not judged: the report holds null (NaN before saving).
        return rows + [("Body line", "not judged from this camera angle")]
    share = h.in_tolerance_s / h.duration_s * 100 if h.duration_s > 0 else 0.0
    rows += [
        ("In a good line", f"{h.in_tolerance_s:.1f} s ({share:.0f}%)"),
        ("Body line, average", f"{h.mean_line_deg:+.0f}° (+ sag, − pike)"),
        ("Body line, worst", f"{h.worst_line_deg:+.0f}°"),
    ]
    if h.not_judged and report.view.judgeable:
        rows.append(("Couldn't judge", not_judged_text(h.not_judged)))
    return rows


def _measured(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def set_down_text(report: Report) -> str | None:
    """One line on the descent after the last rep (the weight set down), when there was
    one and the view could judge it."""
    after = report.extra.get("after_last_rep")
    if not after or not report.view.judgeable:
        return None
    when = f"Setting the weight down ({after['start_s']:.1f} s)"
    flag = after.get("flag")
    if flag:
        words = SEVERITY_WORDS[flag["severity"]]
        if (flag.get("evidence") or {}).get("call") == "borderline":
            words += ", borderline"
        return f"{when}: {flag_name(flag['code'])} ({words})."
    if after.get("not_judged"):
        n = after["not_judged"][0]
        return f"{when}: couldn't judge {flag_name(n['check'])} ({n['reason']})."
    return f"{when}: the back held its shape."


def flag_rows(report: Report) -> list[dict[str, str]]:
    """Flags not tied to a rep (a plank's), for a small table."""
    return [
        {
            "When": f"{f.start_s:.1f}-{f.end_s:.1f} s",
            "What": flag_name(f.code),
            "How much": f"{SEVERITY_WORDS[f.severity]}: {f.value:.0f} {f.unit} "
            f"(limit {f.threshold:.0f})",
        }
        for f in report.flags
        if f.rep is None
    ]


@dataclass(frozen=True)
class Moment:
    """A time worth looking at: the worst frame of a rep, or a flagged moment of a hold."""

    label: str
    t: float
    rep: int | None = None


def worst_moments(report: Report) -> list[Moment]:
    """The worst frame of each rep (its worst flag's peak, else its bottom), then the peaks
    of flags outside reps, in time order."""
    out = []
    for r in report.reps:
        flags = [f for f in report.flags if f.rep == r.index]
        if flags:
            f = _worst(flags)
            out.append(Moment(f"Rep {r.index}: {flag_name(f.code)}", f.peak_s, r.index))
        else:
            out.append(Moment(f"Rep {r.index}: bottom", r.bottom_s, r.index))
    for f in report.flags:
        if f.rep is None:
            out.append(Moment(f"{flag_name(f.code).capitalize()} at {f.peak_s:.1f} s", f.peak_s))
    return sorted(out, key=lambda m: m.t)
