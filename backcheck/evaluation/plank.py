"""Plank clips against their labels: hold windows and plank flags.

For every plank clip in clips.csv the analysis is compared with the labels: the timed hold
against ``hold_start`` / ``hold_end`` (within `HOLD_TOLERANCE_S` at each end), the plank
flags against ``fault_windows`` (a labelled window is found when a flag of that code
overlaps it; any other sag or pike is a false alarm), whether `--exercise auto` chose
"plank", and whether the view was judged when the label says it can be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backcheck.evaluation.labels import label_float, read_labels
from backcheck.evaluation.tracks import Analyses
from metrics.analysis import TrackAnalysis, analyze_track
from metrics.errors import AnalysisError
from metrics.report import Flag
from metrics.track import PoseTrack

HOLD_TOLERANCE_S = 1.0
PLANK_FLAGS = ("hip_sag", "hip_pike", "head_drop")
# Labels that say the line can be read from the clip's camera position.
_SIDE_OBLIQUE = re.compile(r"side-oblique", re.IGNORECASE)
_WINDOW = re.compile(r"\b(hip_sag|hip_pike|head_drop)\s+(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class FaultWindow:
    code: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class PlankScore:
    """One plank clip's result against its labels."""

    clip: str
    exercise_auto: str
    view_label: str
    judgeable: bool
    label_start_s: float | None
    label_end_s: float | None
    start_s: float | None
    end_s: float | None
    faults: list[FaultWindow]
    flags: list[Flag]
    found: list[FaultWindow] = field(default_factory=list)
    missed: list[FaultWindow] = field(default_factory=list)
    false_alarms: list[Flag] = field(default_factory=list)
    reason: str | None = None  # why the line was not judged

    @property
    def start_error_s(self) -> float | None:
        if self.start_s is None or self.label_start_s is None:
            return None
        return self.start_s - self.label_start_s

    @property
    def end_error_s(self) -> float | None:
        if self.end_s is None or self.label_end_s is None:
            return None
        return self.end_s - self.label_end_s

    @property
    def hold_ok(self) -> bool:
        errs = (self.start_error_s, self.end_error_s)
        return all(e is not None and abs(e) <= HOLD_TOLERANCE_S for e in errs)

    @property
    def view_ok(self) -> bool:
        """Judged when the label says side (or side-oblique), abstained otherwise."""
        return self.judgeable == expect_judgeable(self.view_label)

    @property
    def flags_ok(self) -> bool:
        return not self.missed and not self.false_alarms

    @property
    def ok(self) -> bool:
        return self.hold_ok and self.view_ok and self.flags_ok and self.exercise_auto == "plank"


def expect_judgeable(view_label: str) -> bool:
    """clips.csv `view` (with its notes folded in by `plank_labels`) → line judgeable?"""
    return view_label == "side" or bool(_SIDE_OBLIQUE.search(view_label))


def parse_fault_windows(text: str) -> list[FaultWindow]:
    """Plank fault windows from a clips.csv ``fault_windows`` cell, e.g.
    ``hip_sag 16.2-17.8 (demonstrated; ...)``."""
    return [FaultWindow(c, float(a), float(b)) for c, a, b in _WINDOW.findall(text or "")]


def plank_labels(clips_csv: Path) -> list[dict[str, str]]:
    """The plank rows of clips.csv, with `view` marked side-oblique where the notes say so."""
    rows = read_labels(clips_csv, "plank")
    for r in rows:
        if _SIDE_OBLIQUE.search(r.get("notes", "")):
            r["view"] = "side-oblique"
    return rows


def compare(label: dict[str, str], auto: TrackAnalysis, plank: TrackAnalysis) -> PlankScore:
    """One clip's `PlankScore` from its label, the auto-exercise and the plank analysis."""
    faults = parse_fault_windows(label.get("fault_windows", ""))
    flags = [f for f in plank.result.flags if f.code in PLANK_FLAGS]
    hold = plank.result.hold

    def overlaps(f: Flag, w: FaultWindow) -> bool:
        return f.code == w.code and f.start_s <= w.end_s and f.end_s >= w.start_s

    found = [w for w in faults if any(overlaps(f, w) for f in flags)]
    missed = [w for w in faults if w not in found]
    false_alarms = [f for f in flags if not any(overlaps(f, w) for w in faults)]
    return PlankScore(
        clip=Path(label["file"]).stem,
        exercise_auto=auto.exercise,
        view_label=label.get("view", ""),
        judgeable=plank.view.judgeable,
        label_start_s=label_float(label.get("hold_start")),
        label_end_s=label_float(label.get("hold_end")),
        start_s=hold.start_s if hold else None,
        end_s=hold.end_s if hold else None,
        faults=faults,
        flags=flags,
        found=found,
        missed=missed,
        false_alarms=false_alarms,
        reason=plank.view.reason,
    )


def evaluate_plank(
    clips_dir: Path, source: Callable[[Path], PoseTrack] | Analyses
) -> list[PlankScore]:
    """Analyse every plank clip of ``clips_dir/clips.csv`` and compare it with the labels.

    When `--exercise auto` does not choose plank, the clip is analysed as a plank too, so
    the hold and flags are still scored."""
    analyses = source if isinstance(source, Analyses) else Analyses(source)
    rows = []
    for label in plank_labels(clips_dir / "clips.csv"):
        clip = clips_dir / label["file"]
        auto = analyses(clip)
        if isinstance(auto, AnalysisError):
            raise auto
        if auto.exercise == "plank":
            plank = auto
        else:
            plank = analyze_track(analyses.track(clip), exercise="plank")
        rows.append(compare(label, auto, plank))
    return rows


def _s(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.2f}" if signed else f"{v:.2f}"


def _windows(ws: list[FaultWindow]) -> str:
    return ", ".join(f"{w.code} {w.start_s:.1f}-{w.end_s:.1f}" for w in ws) or "-"


def format_plank_table(rows: list[PlankScore]) -> str:
    """A plain-text table of the plank rows and a one-line total."""
    head = (
        f"{'plank clip':26} {'auto':6} {'view':>10} {'hold (label)':>16} {'hold (found)':>14} "
        f"{'err start/end':>14} {'labelled faults':>22} {'flags':>28} ok"
    )
    lines = [head]
    for r in rows:
        label = f"{_s(r.label_start_s)}-{_s(r.label_end_s)}"
        found = f"{_s(r.start_s)}-{_s(r.end_s)}"
        err = f"{_s(r.start_error_s, True)}/{_s(r.end_error_s, True)}"
        view = ("judged" if r.judgeable else "abstained") + ("" if r.view_ok else "!")
        flags = (
            ", ".join(f"{f.code} {f.start_s:.1f}-{f.end_s:.1f} {f.value:.0f}deg" for f in r.flags)
            or "-"
        )
        lines.append(
            f"{r.clip:26} {r.exercise_auto:6} {view:>10} {label:>16} {found:>14} {err:>14} "
            f"{_windows(r.faults):>22} {flags:>28} {'yes' if r.ok else 'NO'}"
        )
    holds = sum(r.hold_ok for r in rows)
    faults = sum(len(r.faults) for r in rows)
    found_n = sum(len(r.found) for r in rows)
    alarms = sum(len(r.false_alarms) for r in rows)
    auto = sum(r.exercise_auto == "plank" for r in rows)
    views = sum(r.view_ok for r in rows)
    lines.append(
        f"plank: hold within {HOLD_TOLERANCE_S:.0f} s at both ends {holds}/{len(rows)}; "
        f"labelled faults flagged {found_n}/{faults}; false plank flags {alarms}; "
        f"auto chose plank {auto}/{len(rows)}; view right {views}/{len(rows)}"
    )
    return "\n".join(lines)
