"""Hinge clips against their labels: reps, the four hinge flags and the camera view.

- reps: counted versus labelled, and the share counted exactly on side-view hinge clips
  with a labelled count and on all clips with a count;
- per hinge flag and clip: hit (labelled mild/marked/yes and raised), miss, false flag
  (labelled none/no and raised), ok (correctly quiet), abstained (the view is not
  judgeable), not judged (the view is, but a rep said it could not judge this check:
  `not_judged`), or unscored (labels "unclear" or blank);
- the camera view and judgeability against the labelled view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backcheck.evaluation.labels import NEGATIVE, POSITIVE, label_int, read_labels
from backcheck.evaluation.tracks import Analyses
from backcheck.evaluation.verdict import not_judged
from metrics.analysis import TrackAnalysis
from metrics.errors import AnalysisError
from metrics.track import PoseTrack

HINGE_FLAGS = ("spine_flexion", "spine_extension", "knee_dominant", "hips_rise_early")
SHORT = {
    "spine_flexion": "flexion",
    "spine_extension": "extension",
    "knee_dominant": "knee dom.",
    "hips_rise_early": "hips early",
}


@dataclass(frozen=True)
class FlagOutcome:
    """One flag on one clip: hit, miss, false, ok, abstained, not_judged or unscored."""

    code: str
    label: str
    raised: bool
    severity: str | None
    outcome: str
    reason: str | None = None  # why it was not judged


@dataclass(frozen=True)
class HingeRow:
    """One hinge clip's result against its labels."""

    clip: str
    view_label: str
    exercise: str
    camera: str
    judgeable: bool
    reason: str | None
    reps_label: int | None
    reps_found: int
    flags: list[FlagOutcome] = field(default_factory=list)

    @property
    def reps_exact(self) -> bool | None:
        return None if self.reps_label is None else self.reps_label == self.reps_found

    @property
    def view_ok(self) -> bool:
        """Judged when labelled side-on; abstained when labelled oblique or front."""
        return self.judgeable == (self.view_label == "side")


def flag_outcome(code: str, label: str, analysis: TrackAnalysis) -> FlagOutcome:
    """Score one flag code of one clip against its label."""
    label = (label or "").strip().lower()
    mine = [f for f in analysis.result.flags if f.code == code]
    raised = bool(mine)
    severity = None
    if mine:
        severity = "marked" if any(f.severity == "marked" for f in mine) else "mild"
    unjudged = [f"rep {r}: {why}" for r, check, why in not_judged(analysis) if check == code]
    reason = None
    if not analysis.view.judgeable:
        outcome, reason = "abstained", analysis.view.reason
    elif unjudged and not raised:
        outcome, reason = "not_judged", "; ".join(unjudged)
    elif label in POSITIVE:
        outcome = "hit" if raised else "miss"
    elif label in NEGATIVE:
        outcome = "false" if raised else "ok"
    else:
        outcome = "unscored"
    return FlagOutcome(code, label or "-", raised, severity, outcome, reason)


def compare(label: dict[str, str], analysis: TrackAnalysis) -> HingeRow:
    """One clip's `HingeRow` from its clips.csv row and its analysis."""
    return HingeRow(
        clip=Path(label["file"]).stem,
        view_label=label.get("view", ""),
        exercise=analysis.exercise,
        camera=analysis.view.camera,
        judgeable=analysis.view.judgeable,
        reason=analysis.view.reason,
        reps_label=label_int(label.get("reps")),
        reps_found=len(analysis.result.reps),
        flags=[flag_outcome(c, label.get(c, ""), analysis) for c in HINGE_FLAGS],
    )


def evaluate_hinge(
    clips_dir: Path, source: Callable[[Path], PoseTrack] | Analyses
) -> list[HingeRow]:
    """Analyse every hinge clip of ``clips_dir/clips.csv`` (exercise chosen automatically)."""
    analyses = source if isinstance(source, Analyses) else Analyses(source)
    rows = []
    for label in read_labels(clips_dir / "clips.csv", "hinge"):
        analysis = analyses(clips_dir / label["file"])
        if isinstance(analysis, AnalysisError):
            raise analysis
        rows.append(compare(label, analysis))
    return rows


def _mark(outcome: FlagOutcome) -> str:
    sev = f" ({outcome.severity})" if outcome.severity else ""
    return {
        "hit": f"hit{sev}",
        "miss": "**miss**",
        "false": f"**false**{sev}",
        "ok": "ok",
        "abstained": "abstained",
        "not_judged": "not judged",
        "unscored": f"raised{sev}" if outcome.raised else "-",
    }[outcome.outcome]


def pct(n: int, d: int) -> str:
    """``n/d (p%)``."""
    return f"{n}/{d} ({100.0 * n / d:.0f}%)" if d else "0/0"


def format_hinge(rows: list[HingeRow]) -> str:
    """Markdown: the per-clip table, then rep, flag and view totals."""
    head = ["clip", "view (label → found)", "reps (label/found)"]
    head += [SHORT[c] for c in HINGE_FLAGS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        judged = "judged" if r.judgeable else "abstained"
        view = f"{r.view_label} → {r.camera}, {judged}" + ("" if r.view_ok else " (!)")
        if r.exercise != "hinge":
            view += f"; auto chose {r.exercise}"
        label = "-" if r.reps_label is None else str(r.reps_label)
        exact = {True: "", False: " **x**", None: ""}[r.reps_exact]
        cells = [r.clip, view, f"{label}/{r.reps_found}{exact}"]
        cells += [_mark(f) for f in r.flags]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    side = [r for r in rows if r.view_label == "side" and r.reps_label is not None]
    counted = [r for r in rows if r.reps_label is not None]
    lines.append(
        "- Reps exact, side-view hinge clips with a labelled count: "
        + pct(sum(bool(r.reps_exact) for r in side), len(side))
    )
    lines.append(
        "- Reps exact, every hinge clip with a labelled count: "
        + pct(sum(bool(r.reps_exact) for r in counted), len(counted))
    )
    lines.append("")
    lines.append(
        "| flag | hits | misses | false flags | correctly quiet | abstained | not judged |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    kinds = ("hit", "miss", "false", "ok", "abstained", "not_judged")
    for i, code in enumerate(HINGE_FLAGS):
        outs = [r.flags[i].outcome for r in rows]
        lines.append(f"| {code} | " + " | ".join(str(outs.count(k)) for k in kinds) + " |")
    lines.append("")
    views = sum(r.view_ok for r in rows)
    lines.append(
        f"- View judgeability as labelled (side → judged, oblique/front → abstained): "
        f"{pct(views, len(rows))}"
    )
    for r in rows:
        if not r.view_ok:
            lines.append(f"  - {r.clip}: labelled {r.view_label}, not judged: {r.reason}")
    return "\n".join(lines)
