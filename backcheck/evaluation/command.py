"""The `backcheck evaluate` command: every table, the issue's checks, and the markdown file.

Tracks come from the cache (`tracks.TrackCache`): the first run makes them (the pose pass
over each clip and each transformed copy: many minutes), later runs only re-run the rules.
"""

from __future__ import annotations

import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from backcheck.evaluation.hinge import HingeRow, evaluate_hinge, format_hinge, pct
from backcheck.evaluation.invariance import (
    TARGET,
    TransformResult,
    check_invariance,
    format_invariance,
)
from backcheck.evaluation.labels import default_clips_dir, read_labels
from backcheck.evaluation.loso import TARGET as LOSO_TARGET
from backcheck.evaluation.loso import Decision, format_loso, leave_one_source_out, summarise
from backcheck.evaluation.plank import PlankScore, evaluate_plank, format_plank_table
from backcheck.evaluation.tracks import ORIGINAL, Analyses, TrackCache, default_tracks_dir
from metrics.errors import AnalysisError
from metrics.track import PoseTrack
from vision.transforms import TRANSFORMS

# What a body can do, per flag (docs/ranges.md), as data; the check is skipped without it.
RANGES_FILE = Path(str(resources.files("metrics").joinpath("ranges.toml")))
ALL_TRANSFORMS = TRANSFORMS  # every invariance copy (vision.transforms)
CONTROL = "reencode"  # no transform: the noise floor the others are read against


@dataclass(frozen=True)
class Range:
    """What a body can do for one flag (metrics/ranges.toml), and the rep metric carrying it."""

    low: float
    high: float
    metric: str | None


def _range_table(path: Path) -> dict[str, Range] | None:
    """flag code → `Range` from ``[flags.<code>]`` tables with ``min``/``max`` (and an
    optional ``metric``), or None when there is no such file."""
    if not path.exists():
        return None
    data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    out = {}
    for code, spec in data.get("flags", {}).items():
        lo, hi = spec.get("min"), spec.get("max")
        if isinstance(lo, int | float) and isinstance(hi, int | float):
            metric = spec.get("metric")
            out[code] = Range(float(lo), float(hi), metric if isinstance(metric, str) else None)
    return out


def _values_out_of_range(
    analyses: Analyses, clips: list[Path], ranges: dict[str, Range]
) -> list[str]:
    """Every flag value, and every rep metric that carries a flag, outside its range."""
    out = []
    for clip in clips:
        a = analyses(clip)
        if isinstance(a, AnalysisError):
            continue
        for f in a.result.flags:
            r = ranges.get(f.code)
            if r is not None and not r.low <= f.value <= r.high:
                out.append(f"{clip.stem} {f.code} {f.value:g} (range {r.low:g} to {r.high:g})")
        for rep in a.result.reps:
            for code, r in ranges.items():
                v = rep.metrics.get(r.metric) if r.metric else None
                if v is not None and not r.low <= v <= r.high:
                    out.append(
                        f"{clip.stem} rep {rep.index} {r.metric} {v:g} "
                        f"(range of {code} {r.low:g} to {r.high:g})"
                    )
    return out


def _couldnt_judge(rows: list[HingeRow], planks: list[PlankScore]) -> list[str]:
    """Every clip and check that could not be judged, with the reason given."""
    out = [
        f"{p.clip}: the plank line: {p.reason or '(no reason given)'}"
        for p in planks
        if not p.judgeable
    ]
    for r in rows:
        if not r.judgeable:
            out.append(f"{r.clip}: every form flag: {r.reason or '(no reason given)'}")
            continue
        for f in r.flags:
            if f.outcome == "not_judged":
                out.append(f"{r.clip}: {f.code}: {f.reason or '(no reason given)'}")
    return out


def _checks(
    invariance: list[TransformResult],
    decisions: list[Decision],
    ranges: dict[str, Range] | None,
    out_of_range: list[str],
    unjudged: list[str],
) -> list[str]:
    def yes(ok: bool) -> str:
        return "**yes**" if ok else "**no**"

    lines = []
    for r in invariance:
        if r.transform == CONTROL:
            lines.append(
                f"- control ({r.transform}, no transform): verdict unchanged on "
                f"{pct(r.unchanged, len(r.compared))} (no target: the noise floor)"
                + (f"; {len(r.missing)} clips not compared (no cached track)" if r.missing else "")
            )
            continue
        verdict = yes(bool(r.compared) and r.share >= TARGET)
        if r.missing:
            verdict = f"**incomplete**: {len(r.missing)} clips not compared (no cached track)"
        lines.append(
            f"- {r.transform}: verdict unchanged on {pct(r.unchanged, len(r.compared))} "
            f"(target ≥{TARGET:.0%}): {verdict}"
        )
    for code, name in (("spine_flexion", "rounding"), ("spine_extension", "over-extension")):
        s = summarise(decisions, code)
        lines.append(
            f"- leave-one-source-out {name}: marked caught {pct(*s.marked)}, "
            f"none passed {pct(*s.negative)}, couldn't judge {s.not_judged} "
            f"(target ≥{LOSO_TARGET:.0%} each): {yes(s.meets_target())}"
        )
    if ranges is None:
        lines.append(
            "- flag values within the documented ranges: not checked, no range table "
            "(metrics/ranges.toml) in this tree"
        )
    else:
        lines.append(
            f"- flag values within the documented ranges: {yes(not out_of_range)}"
            + (f" (outside: {'; '.join(out_of_range)})" if out_of_range else "")
        )
    missing = [u for u in unjudged if u.endswith("(no reason given)")]
    lines.append(
        f'- every "couldn\'t judge" given with its reason: {yes(not missing)} '
        f"({len(unjudged) - len(missing)}/{len(unjudged)})"
    )
    return lines


class _CachedCopies:
    """A track cache that makes the clips' own tracks but never a transformed copy's."""

    def __init__(self, cache: TrackCache) -> None:
        self.cache = cache

    def __call__(self, clip: Path, transform: str = ORIGINAL) -> PoseTrack:
        if transform != ORIGINAL and not self.cache.has(clip, transform):
            raise FileNotFoundError(f"no cached track {self.cache.path(clip, transform)}")
        return self.cache(clip, transform)


def run(
    clips_dir: Path,
    source: Callable[..., PoseTrack],
    transforms: Sequence[str] = ALL_TRANSFORMS,
) -> str:
    """The whole evaluation as markdown: checks, hinge, plank, invariance, LOSO."""
    analyses = Analyses(source)
    hinge = evaluate_hinge(clips_dir, analyses)
    plank = evaluate_plank(clips_dir, analyses)
    clips = [clips_dir / r["file"] for r in read_labels(clips_dir / "clips.csv")]
    invariance = check_invariance(clips, list(transforms), analyses) if transforms else []
    decisions = leave_one_source_out(clips_dir, analyses)
    ranges = _range_table(RANGES_FILE)
    out_of_range = _values_out_of_range(analyses, clips, ranges) if ranges else []
    unjudged = _couldnt_judge(hinge, plank)
    parts = ["## Checks (the issue's targets)", ""]
    parts += _checks(invariance, decisions, ranges, out_of_range, unjudged)
    parts += ["", "## Hinge clips", "", format_hinge(hinge), ""]
    parts += ["## Plank clips", "", "```", format_plank_table(plank), "```", ""]
    if unjudged:
        parts += ["## Couldn't judge, with the reason given", ""]
        parts += [f"- {u}" for u in unjudged] + [""]
    if invariance:
        parts += ["## Invariance", "", format_invariance(invariance), ""]
    parts += [
        "## Leave-one-source-out",
        "",
        "Each source's hinge clips analysed with thresholds chosen on the other sources' "
        "clips only (rule: docs/evaluation-thresholds.md). Thresholds chosen, per held-out "
        "source:",
        "",
        format_loso(decisions),
        "",
    ]
    return "\n".join(parts)


def evaluate_command(
    clips: Path | None,
    tracks: Path | None,
    out: Path | None,
    model: str,
    source: Callable[..., PoseTrack] | None = None,
    transforms: Sequence[str] | None = None,
    cached_only: bool = False,
    *,
    follow_one: bool = False,
) -> int:
    """`backcheck evaluate`: print the evaluation and write it to `out` (markdown).

    `source` overrides where tracks come from (tests); `transforms` limits the invariance
    copies (default: all; empty: none). With `cached_only`, a transformed copy whose track
    is not in the cache is left out of the invariance table (and listed) instead of made."""
    clips_dir = clips or default_clips_dir()
    if not (clips_dir / "clips.csv").exists():
        print(f"backcheck: no clips.csv in {clips_dir}", file=sys.stderr)
        return 1
    chosen = ALL_TRANSFORMS if transforms is None else tuple(transforms)
    unknown = [t for t in chosen if t not in ALL_TRANSFORMS]
    if unknown:
        print(
            f"backcheck: unknown transform {', '.join(unknown)}; "
            f"choose from {', '.join(ALL_TRANSFORMS)} or none",
            file=sys.stderr,
        )
        return 2
    get = source or TrackCache(tracks or default_tracks_dir(), model, follow_one=follow_one)
    if cached_only and isinstance(get, TrackCache):
        get = _CachedCopies(get)
    started = time.monotonic()
    try:
        body = run(clips_dir, get, chosen)
    except AnalysisError as err:
        print(f"backcheck: {err}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    options: list[tuple[str, object]] = [("--clips", clips), ("--tracks", tracks)]
    if transforms is not None and tuple(transforms) != ALL_TRANSFORMS:
        options.append(("--transforms", ",".join(transforms) or "none"))
    if cached_only:
        options.append(("--cached-only", ""))
    if model != "full":
        options.append(("--model", model))
    if follow_one:
        options.append(("--fast", ""))
    options.append(("--out", out))
    command = "backcheck evaluate" + "".join(
        f" {flag} {value}".rstrip() for flag, value in options if value is not None
    )
    text = (
        "# Evaluation on the labelled clips\n\n"
        f"Made with `{command}` (from the repository root). Tracks come from the pose "
        f"pass over each clip and each transformed copy (model `{model}`, as `backcheck "
        f"analyze{' --fast' if follow_one else ''}` runs it), cached per (clip, transform, "
        "model) in `--tracks DIR` "
        "(default ~/.cache/backcheck/eval-tracks), so a re-run after a rule change only "
        "re-runs the rules. Labels: ../shared/data/clips.csv. A flag counts as raised on a "
        "clip when any rep has it; labels mild/marked/yes are positives, none/no "
        "negatives, unclear/blank unscored; clips whose view is not judgeable abstain from "
        "form flags.\n\n" + body
    )
    print(text)
    print(f"(evaluated in {took:.0f} s)", file=sys.stderr)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0
