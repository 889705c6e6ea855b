"""Leave-one-source-out: each source's clips scored with thresholds chosen without them.

A *source* is the repository a clip came from (`labels.source_of`). For each hinge flag
and each source S, the flag's `mild` threshold is chosen on the labelled, judged clips of
the other sources only, by this rule (docs/evaluation-thresholds.md):

1. each clip's *score* is the largest value any of its reps measured for the flag (the
   rep metric in `METRIC`); a clip is raised at threshold T when its score is >= T;
2. the candidates are the default threshold, the midpoints between consecutive distinct
   scores of the training clips, and one unit beyond the lowest and the highest score;
3. the chosen T maximises the balanced accuracy on the training clips: the mean, over the
   label classes present (positive: mild/marked/yes; negative: none/no), of the share of
   that class decided right; ties go to the candidate nearest the default.

S's clips are then analysed again with every flag's `mild` set to its chosen T (`marked`
scaled by the same factor), and that analysis decides raised or not. Each decision's
*margin* is the clip's score minus T (positive: raised by that much; negative: passed by
that much). A clip that could not be judged for the flag (view not judgeable, a rep's
`not_judged` for that check, or no rep that measured it) is counted apart, with its reason,
and takes no part in choosing or scoring.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backcheck.evaluation.hinge import HINGE_FLAGS, pct
from backcheck.evaluation.labels import NEGATIVE, POSITIVE, read_labels, source_of
from backcheck.evaluation.tracks import Analyses
from backcheck.evaluation.verdict import not_judged
from metrics.analysis import TrackAnalysis, analyze_track
from metrics.errors import AnalysisError
from metrics.thresholds import load_defaults, thresholds_for

# The rep metric (report.json `reps[].metrics`) each hinge flag is decided on.
METRIC = {
    "spine_flexion": "spine_flexion_deg",
    "spine_extension": "spine_extension_deg",
    "knee_dominant": "thigh_share_pct",
    "hips_rise_early": "hips_rise_deg",
}
TARGET = 0.90  # the target for marked caught and flat/neutral passed


@dataclass(frozen=True)
class Decision:
    """One clip, one flag, under the thresholds chosen without the clip's source."""

    clip: str
    source: str
    code: str
    label: str  # the clips.csv label, lower case ("-" when blank)
    threshold: float | None  # the chosen mild threshold
    default: float
    score: float | None  # the largest rep value under the held-out analysis
    raised: bool | None  # None: could not be judged
    reason: str | None = None  # why not judged

    @property
    def positive(self) -> bool | None:
        if self.label in POSITIVE:
            return True
        if self.label in NEGATIVE:
            return False
        return None

    @property
    def margin(self) -> float | None:
        if self.score is None or self.threshold is None:
            return None
        return self.score - self.threshold

    @property
    def right(self) -> bool | None:
        if self.raised is None or self.positive is None:
            return None
        return self.raised == self.positive


def clip_score(analysis: TrackAnalysis, code: str) -> tuple[float | None, str | None]:
    """(score, reason not judged) of one clip for one flag; see the module docs."""
    if not analysis.view.judgeable:
        return None, f"view: {analysis.view.reason or analysis.view.camera}"
    raised = any(f.code == code for f in analysis.result.flags)
    unjudged = [f"rep {r}: {why}" for r, check, why in not_judged(analysis) if check == code]
    if unjudged and not raised:
        return None, "; ".join(unjudged)
    raw = [rep.metrics.get(METRIC[code]) for rep in analysis.result.reps]
    values = [float(v) for v in raw if v is not None and math.isfinite(float(v))]
    if not values:
        return None, "no rep measured it" if analysis.result.reps else "no complete rep"
    return max(values), None


def choose_threshold(scores: list[tuple[float, bool]], default: float) -> float:
    """The training rule of the module docs: best balanced accuracy, ties nearest default."""
    if not scores:
        return default
    values = sorted({s for s, _ in scores})
    candidates = {default, values[0] - 1.0, values[-1] + 1.0}
    candidates |= {(a + b) / 2 for a, b in zip(values, values[1:], strict=False)}

    def balanced(t: float) -> float:
        rates = []
        for cls in (True, False):
            members = [s for s, p in scores if p is cls]
            if members:
                rates.append(sum((s >= t) is cls for s in members) / len(members))
        return sum(rates) / len(rates)

    return max(sorted(candidates), key=lambda t: (round(balanced(t), 9), -abs(t - default)))


def _table_with(mild: dict[str, float]) -> dict[str, Any]:
    table = copy.deepcopy(load_defaults())
    for code, value in mild.items():
        spec = table["flags"][code]
        scale = value / float(spec["mild"]) if float(spec["mild"]) else 1.0
        spec["marked"] = float(spec["marked"]) * scale
        spec["mild"] = value
    return table


def leave_one_source_out(clips_dir: Path, analyses: Analyses) -> list[Decision]:
    """Every hinge clip's decision on every hinge flag with thresholds chosen without its
    source (see the module docs)."""
    defaults = thresholds_for()
    rows = read_labels(clips_dir / "clips.csv", "hinge")
    clip_of = {r["file"]: clips_dir / r["file"] for r in rows}
    base: dict[str, TrackAnalysis] = {}
    for r in rows:
        a = analyses(clip_of[r["file"]])
        if isinstance(a, AnalysisError):
            raise a
        base[r["file"]] = a
    scores = {(r["file"], c): clip_score(base[r["file"]], c) for r in rows for c in HINGE_FLAGS}
    out = []
    for source in sorted({source_of(r) for r in rows}):
        held = [r for r in rows if source_of(r) == source]
        train = [r for r in rows if source_of(r) != source]
        chosen = {}
        for code in HINGE_FLAGS:
            pairs = []
            for r in train:
                label = (r.get(code) or "").strip().lower()
                score = scores[(r["file"], code)][0]
                if score is not None and (label in POSITIVE or label in NEGATIVE):
                    pairs.append((score, label in POSITIVE))
            chosen[code] = choose_threshold(pairs, defaults[code].mild)
        held_thresholds = thresholds_for(None, _table_with(chosen))
        for r in held:
            track = analyses.track(clip_of[r["file"]])
            a = analyze_track(track, exercise="auto", thresholds=held_thresholds)
            for code in HINGE_FLAGS:
                score, reason = clip_score(a, code)
                raised = None if reason else any(f.code == code for f in a.result.flags)
                out.append(
                    Decision(
                        clip=Path(r["file"]).stem,
                        source=source,
                        code=code,
                        label=(r.get(code) or "").strip().lower() or "-",
                        threshold=chosen[code],
                        default=defaults[code].mild,
                        score=score,
                        raised=raised,
                        reason=reason,
                    )
                )
    return out


@dataclass(frozen=True)
class FlagSummary:
    code: str
    marked: tuple[int, int]  # caught, of
    mild: tuple[int, int]  # yes/mild caught, of
    negative: tuple[int, int]  # passed, of
    not_judged: int

    def meets_target(self) -> bool:
        """Marked (or yes) caught and negatives passed, both at TARGET or better."""
        caught, of = self.marked
        passed, neg = self.negative
        return of > 0 and neg > 0 and caught / of >= TARGET and passed / neg >= TARGET


def summarise(decisions: list[Decision], code: str) -> FlagSummary:
    mine = [d for d in decisions if d.code == code]
    judged = [d for d in mine if d.raised is not None]
    strong = [d for d in judged if d.label in ("marked", "yes")]
    mild = [d for d in judged if d.label == "mild"]
    neg = [d for d in judged if d.positive is False]
    return FlagSummary(
        code,
        (sum(bool(d.raised) for d in strong), len(strong)),
        (sum(bool(d.raised) for d in mild), len(mild)),
        (sum(not d.raised for d in neg), len(neg)),
        sum(d.raised is None for d in mine),
    )


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def format_loso(decisions: list[Decision]) -> str:
    """Markdown: thresholds chosen per held-out source, totals per flag, every decision."""
    lines = ["| held-out source | clips | " + " | ".join(HINGE_FLAGS) + " |"]
    lines.append("|---|---|" + "---|" * len(HINGE_FLAGS))
    for source in sorted({d.source for d in decisions}):
        mine = [d for d in decisions if d.source == source]
        n = len({d.clip for d in mine})
        cells = []
        for code in HINGE_FLAGS:
            d = next(x for x in mine if x.code == code)
            cells.append(f"{_num(d.threshold)} (default {d.default:g})")
        lines.append(f"| {source} | {n} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "| flag | marked/yes caught | mild caught | none/no passed | couldn't judge "
        "| closest raise | closest pass |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for code in HINGE_FLAGS:
        s = summarise(decisions, code)
        margins = [d.margin for d in decisions if d.code == code and d.raised is not None]
        up = min((m for m in margins if m is not None and m >= 0), default=None)
        down = max((m for m in margins if m is not None and m < 0), default=None)
        lines.append(
            f"| {code} | {pct(*s.marked)} | {pct(*s.mild)} | {pct(*s.negative)} | "
            f"{s.not_judged} | {_num(up, True)} | {_num(down, True)} |"
        )
    lines.append("")
    lines.append("Every decision, with its margin (score − threshold, in the flag's unit):")
    lines.append("")
    lines.append("| clip | source | flag | label | threshold | score | margin | decision |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for d in decisions:
        if d.raised is None:
            decision = f"couldn't judge: {d.reason}"
        else:
            decision = "raised" if d.raised else "passed"
            if d.right is False:
                decision = f"**{decision} (wrong)**"
        lines.append(
            f"| {d.clip} | {d.source} | {d.code} | {d.label} | {_num(d.threshold)} | "
            f"{_num(d.score)} | {_num(d.margin, True)} | {decision} |"
        )
    return "\n".join(lines)
