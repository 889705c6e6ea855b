"""A short human summary of a report, for the terminal."""

from __future__ import annotations

from metrics.report import Flag, Report


def summary_text(report: Report) -> str:
    """A few lines: what was analysed, reps or hold, the view, and the cues."""
    src = report.source
    lines = [f"{src.file}: {report.exercise}, {src.duration_s:.1f} s"]
    if report.exercise == "plank":
        h = report.hold
        if h is None:
            lines.append("No steady plank hold was found.")
        elif h.in_tolerance_s is None or h.in_tolerance_s != h.in_tolerance_s:  # null / NaN
            # The line is not judged from this camera angle; the hold is still timed.
            lines.append(f"Hold {h.duration_s:.1f} s ({h.start_s:.1f}-{h.end_s:.1f} s)")
        else:
            lines.append(
                f"Hold {h.duration_s:.1f} s ({h.start_s:.1f}-{h.end_s:.1f} s), "
                f"{h.in_tolerance_s:.1f} s in a good line; "
                f"body line mean {h.mean_line_deg:+.0f} deg, worst {h.worst_line_deg:+.0f} deg"
            )
            lines.extend(_hold_unseen_lines(report))
    else:
        flagged = sum(1 for r in report.reps if r.flags)
        lines.append(f"{len(report.reps)} reps, {flagged} with something to work on")
        lines.extend(_flag_lines(report))
        if report.view.judgeable:
            lines.extend(_unseen_lines(report))
    v = report.view
    if not v.judgeable:
        lines.append(f"Camera: {v.camera}; can't judge the back from this angle. {v.reason}")
    for w in report.quality.warnings:
        lines.append(f"Note: {w}")
    for cue in report.cues:
        lines.append(f"- {cue.text}")
    return "\n".join(lines)


def _flag_lines(report: Report) -> list[str]:
    """Per flagged rep: what, and whether it is clear or borderline (its evidence)."""
    from backcheck.ui.verdicts import flag_name

    out = []
    after = (report.extra.get("after_last_rep") or {}).get("flag")
    extra = [Flag(**after)] if after else []
    for f in [*report.flags, *extra]:
        if report.exercise == "plank":
            continue
        call = (f.evidence or {}).get("call")
        how = f"{call}: " if call else ""
        when = f"rep {f.rep}" if f.rep is not None else f"set-down at {f.peak_s:.1f} s"
        out.append(
            f"  {when}: {flag_name(f.code)} ({how}{f.value:.0f} {f.unit}, limit {f.threshold:.0f})"
        )
    return out


def _unseen_lines(report: Report) -> list[str]:
    """The checks that could not be judged, grouped by check and reason."""
    from backcheck.ui.verdicts import flag_name

    groups: dict[tuple[str, str], list[int]] = {}
    for r in report.reps:
        for n in r.not_judged:
            groups.setdefault((n["check"], n["reason"]), []).append(r.index)
    out = []
    for (check, reason), reps in groups.items():
        which = f"rep {reps[0]}" if len(reps) == 1 else f"reps {', '.join(map(str, reps))}"
        out.append(f"Couldn't judge {flag_name(check)} on {which}: {reason}.")
    after = report.extra.get("after_last_rep") or {}
    for n in after.get("not_judged", []):
        out.append(
            f"Couldn't judge {flag_name(n['check'])} while setting the weight down: {n['reason']}."
        )
    return out


def _hold_unseen_lines(report: Report) -> list[str]:
    """The checks of a plank hold that could not be judged, grouped by reason."""
    from backcheck.ui.verdicts import flag_name

    if report.hold is None or not report.view.judgeable:
        return []
    groups: dict[str, list[str]] = {}
    for n in report.hold.not_judged:
        groups.setdefault(n["reason"], []).append(flag_name(n["check"]))
    return [
        f"Couldn't judge {' or '.join(names)} in the hold: {why}." for why, names in groups.items()
    ]
