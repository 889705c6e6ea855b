"""`backcheck evaluate`: the analysis over the labelled clips, scored against clips.csv.

For every hinge clip in ``<clips>/clips.csv`` the track comes from ``<tracks>/<stem>.npz``
when `--tracks` names a folder holding it, else from a fresh pose pass over the video
(and is then saved there, when `--tracks` is given, for the next run). The report:

- reps: counted versus labelled, and the share counted exactly on side-view hinge clips
  with a labelled count (the issue's target) and on all clips with a count;
- per hinge flag and clip: hit (labelled mild/marked/yes and raised), miss, false flag
  (labelled none/no and raised), or abstained (not judgeable, so not judged); labels
  "unclear" or blank are not scored;
- the camera view and judgeability against the labelled view;
- the plank rows (hold window, plank flags) from `backcheck.evaluate_plank`.

Output is markdown: printed, and written to `--out` with the command that made it.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backcheck.pipeline import DEFAULT_MAX_FPS
from metrics.analysis import TrackAnalysis, analyze_track
from metrics.track import PoseTrack

HINGE_FLAGS = ("spine_flexion", "spine_extension", "knee_dominant", "hips_rise_early")
POSITIVE = {"mild", "marked", "yes"}
NEGATIVE = {"none", "no"}

TrackSource = Callable[[Path], PoseTrack]


def default_clips_dir() -> Path:
    """../shared/data beside the repository."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class FlagOutcome:
    """One flag on one clip: hit, miss, false, ok (correctly quiet), abstained or unscored."""

    code: str
    label: str
    raised: bool
    severity: str | None
    outcome: str


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


def _label_int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def hinge_labels(clips_csv: Path) -> list[dict[str, str]]:
    """The hinge rows of clips.csv."""
    with open(clips_csv, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r.get("kind") == "hinge"]


def flag_outcome(code: str, label: str, analysis: TrackAnalysis) -> FlagOutcome:
    """Score one flag code of one clip against its label."""
    label = (label or "").strip().lower()
    mine = [f for f in analysis.result.flags if f.code == code]
    raised = bool(mine)
    severity = None
    if mine:
        severity = "marked" if any(f.severity == "marked" for f in mine) else "mild"
    if not analysis.view.judgeable:
        outcome = "abstained"
    elif label in POSITIVE:
        outcome = "hit" if raised else "miss"
    elif label in NEGATIVE:
        outcome = "false" if raised else "ok"
    else:
        outcome = "unscored"
    return FlagOutcome(code, label or "-", raised, severity, outcome)


def compare(label: dict[str, str], analysis: TrackAnalysis) -> HingeRow:
    """One clip's `HingeRow` from its clips.csv row and its analysis."""
    return HingeRow(
        clip=Path(label["file"]).stem,
        view_label=label.get("view", ""),
        exercise=analysis.exercise,
        camera=analysis.view.camera,
        judgeable=analysis.view.judgeable,
        reason=analysis.view.reason,
        reps_label=_label_int(label.get("reps", "")),
        reps_found=len(analysis.result.reps),
        flags=[flag_outcome(c, label.get(c, ""), analysis) for c in HINGE_FLAGS],
    )


def track_source(tracks_dir: Path | None, model: str) -> TrackSource:
    """Saved tracks where present, else a pose pass (saved to `tracks_dir` if given)."""

    def get(clip: Path) -> PoseTrack:
        saved = tracks_dir / f"{clip.stem}.npz" if tracks_dir is not None else None
        if saved is not None and saved.exists():
            return PoseTrack.load(saved)
        from backcheck.pipeline import extract_track
        from models.provision import resolve_model

        track = extract_track(clip, resolve_model(model).path)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            track.save(saved)
        return track

    return get


def evaluate_hinge(clips_dir: Path, source: TrackSource) -> list[HingeRow]:
    """Analyse every hinge clip of ``clips_dir/clips.csv`` (exercise chosen automatically)."""
    rows = []
    for label in hinge_labels(clips_dir / "clips.csv"):
        analysis = analyze_track(source(clips_dir / label["file"]), exercise="auto")
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
        "unscored": f"raised{sev}" if outcome.raised else "-",
    }[outcome.outcome]


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100.0 * n / d:.0f}%)" if d else "0/0"


def format_hinge(rows: list[HingeRow]) -> str:
    """Markdown: the per-clip table, then rep, flag and view totals."""
    short = {
        "spine_flexion": "flexion",
        "spine_extension": "extension",
        "knee_dominant": "knee dom.",
        "hips_rise_early": "hips early",
    }
    head = ["clip", "view (label → found)", "reps (label/found)"]
    head += [f"{short[c]}" for c in HINGE_FLAGS]
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
        + _pct(sum(bool(r.reps_exact) for r in side), len(side))
    )
    lines.append(
        "- Reps exact, every hinge clip with a labelled count: "
        + _pct(sum(bool(r.reps_exact) for r in counted), len(counted))
    )
    lines.append("")
    lines.append("| flag | hits | misses | false flags | correctly quiet | abstained |")
    lines.append("|---|---|---|---|---|---|")
    for i, code in enumerate(HINGE_FLAGS):
        outs = [r.flags[i].outcome for r in rows]
        n = {k: outs.count(k) for k in ("hit", "miss", "false", "ok", "abstained")}
        lines.append(
            f"| {code} | {n['hit']} | {n['miss']} | {n['false']} | {n['ok']} | {n['abstained']} |"
        )
    lines.append("")
    views = sum(r.view_ok for r in rows)
    lines.append(
        f"- View judgeability as labelled (side → judged, oblique/front → abstained): "
        f"{_pct(views, len(rows))}"
    )
    for r in rows:
        if not r.view_ok:
            lines.append(f"  - {r.clip}: labelled {r.view_label}, not judged: {r.reason}")
    return "\n".join(lines)


def run(
    clips_dir: Path, tracks_dir: Path | None, model: str, source: TrackSource | None = None
) -> str:
    """The whole evaluation as markdown (hinge, then plank)."""
    from backcheck.evaluate_plank import evaluate_plank, format_plank_table

    get = source or track_source(tracks_dir, model)
    parts = ["## Hinge clips", "", format_hinge(evaluate_hinge(clips_dir, get)), ""]
    # Plank rows: owned by the plank rules (backcheck/evaluate_plank.py).
    plank = evaluate_plank(clips_dir, source=get)
    parts += ["## Plank clips", "", "```", format_plank_table(plank), "```", ""]
    return "\n".join(parts)


def evaluate_command(
    clips: Path | None,
    tracks: Path | None,
    out: Path | None,
    model: str,
    source: TrackSource | None = None,
) -> int:
    """`backcheck evaluate`: print the evaluation and write it to `out` (markdown).

    `source` overrides where tracks come from (tests)."""
    clips_dir = clips or default_clips_dir()
    if not (clips_dir / "clips.csv").exists():
        print(f"backcheck: no clips.csv in {clips_dir}", file=sys.stderr)
        return 1
    body = run(clips_dir, tracks, model, source)
    command = "backcheck evaluate" + "".join(
        f" {flag} {value}"
        for flag, value in (("--clips", clips), ("--tracks", tracks), ("--out", out))
        if value is not None
    )
    text = (
        "# Evaluation on the labelled clips\n\n"
        f"Made with `{command}` (from the repository root). Tracks come from the pose "
        f"pass over each clip (model `full`, at most {DEFAULT_MAX_FPS:g} analysed frames a "
        "second, as `backcheck analyze` runs it); `--tracks DIR` saves them there and reuses "
        "them on the next run. Labels: "
        "../shared/data/clips.csv. A flag counts as raised on a clip when any rep has it; "
        "labels mild/marked/yes are positives, none/no negatives, unclear/blank unscored; "
        "clips whose view is not judgeable abstain from form flags.\n\n" + body
    )
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0
