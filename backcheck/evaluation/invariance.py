"""Invariance: does a clip's verdict survive its transformed copies (`vision.transforms`)?

For each transform and each labelled clip it applies to, the verdict of the copy
(`verdict.Verdict`: exercise, judgeability, reps, flag codes per rep with values within
`verdict.value_tolerance`, checks not judged, plank hold) is compared with the clip's
own. A flag read close to its threshold in both copies (borderline in one, a near pass in
the other) is the same verdict; those are listed apart (`TransformResult.close`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from backcheck.evaluation.hinge import pct
from backcheck.evaluation.tracks import Analyses
from backcheck.evaluation.verdict import (
    HOLD_TOLERANCE_S,
    VALUE_TOLERANCE,
    VALUE_TOLERANCE_FRACTION,
    Verdict,
    close_to_line,
    differences,
)

TARGET = 0.95  # the target: at least this share of verdicts unchanged


@dataclass(frozen=True)
class Change:
    """One clip whose copy under `transform` got another verdict."""

    clip: str
    transform: str
    before: str
    after: str
    what: list[str]


@dataclass(frozen=True)
class TransformResult:
    transform: str
    compared: list[str]
    changes: list[Change]
    missing: list[str] = field(default_factory=list)  # no cached track (--cached-only)
    # clip → flags close to the line in both copies (counted as unchanged)
    close: dict[str, list[str]] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return len(self.compared) - len(self.changes)

    @property
    def share(self) -> float:
        return self.unchanged / len(self.compared) if self.compared else 1.0


def check_invariance(
    clips: list[Path], transforms: list[str], analyses: Analyses
) -> list[TransformResult]:
    """Every clip's verdict against its copy under each transform that applies to it."""
    from vision.transforms import applies
    from vision.video import probe

    fps = {clip: probe(clip).fps for clip in clips} if "fps30" in transforms else {}
    out = []
    for transform in transforms:
        compared, changes, missing = [], [], []
        close: dict[str, list[str]] = {}
        for clip in clips:
            if transform == "fps30" and not applies(transform, fps[clip]):
                continue
            before = Verdict.of(analyses(clip))
            try:
                after = Verdict.of(analyses(clip, transform))
            except FileNotFoundError:
                missing.append(clip.stem)
                continue
            compared.append(clip.stem)
            what = differences(before, after)
            near = close_to_line(before, after)
            if near:
                close[clip.stem] = near
            if what:
                change = Change(clip.stem, transform, before.summary(), after.summary(), what)
                changes.append(change)
        out.append(TransformResult(transform, compared, changes, missing, close))
    return out


def format_invariance(results: list[TransformResult]) -> str:
    """Markdown: clips unchanged per transform, then every change."""
    lines = [
        "| transform | clips | verdict unchanged | changed |",
        "|---|---|---|---|",
    ]
    for r in results:
        changed = ", ".join(c.clip for c in r.changes) or "-"
        lines.append(
            f"| {r.transform} | {len(r.compared)} | {pct(r.unchanged, len(r.compared))} | "
            f"{changed} |"
        )
    lines.append("")
    lines.append(
        "The copies (vision/transforms.py): mirror, left and right swapped; small480, long "
        "side 480 px at libx264 CRF 35; short480, short side 480 px (854×480 from 1080p, "
        "the size a messaging app sends) at CRF 35; rotated, the pixels stored turned 90° "
        "with the MP4 display matrix turning them back (so it shows the clip itself, "
        "re-encoded); fps30, every other frame; reencode, the control: the clip itself "
        "decoded and encoded again. The copies other than small480 and short480 are encoded "
        "at CRF 18 at the clip's own size, so the control's changes are the pose pass's and "
        "the rules' sensitivity to coding "
        "noise alone, the floor the other rows are read against."
    )
    lines.append("")
    lines.append(
        f"Unchanged means the same exercise, view judgeability, rep count, flag codes on each "
        f"rep and checks not judged, each flag's value within ±{VALUE_TOLERANCE:g} (deg or %) "
        f"or for an angle ±{VALUE_TOLERANCE_FRACTION * 100:.0f}% of the larger value, "
        "whichever is wider, "
        f"and a plank hold's ends within {HOLD_TOLERANCE_S:g} s. A flag close to the line in "
        "both copies (borderline in one: its margin under twice the measure's frame noise, "
        "4° or 4 points; a near pass within the same band under the threshold in the other) "
        'is the same verdict: both tell the coach "close to the line" '
        "(docs/evaluation-thresholds.md). fps30 applies only to clips filmed at 45 fps or more."
    )
    for r in results:
        if r.missing:
            lines.append("")
            lines.append(
                f"{r.transform}: not compared, no cached track ({len(r.missing)} clips): "
                + ", ".join(r.missing)
            )
    closes = [(r.transform, clip, what) for r in results for clip, what in r.close.items()]
    if closes:
        lines.append("")
        lines.append("Close to the line in both copies (counted as unchanged):")
        lines.append("")
        for transform, clip, what in closes:
            lines.append(f"- {transform}, {clip}: {'; '.join(what)}")
    changes = [c for r in results for c in r.changes]
    if changes:
        lines.append("")
        for c in changes:
            lines.append(f"- {c.transform}, {c.clip}: {'; '.join(c.what)} ({c.before} → {c.after})")
    return "\n".join(lines)
