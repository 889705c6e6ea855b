"""The analysis result as typed, frozen dataclasses, serialised as `backcheck.report/1`.

Field names follow ../shared/docs/design.md exactly; other tools read report.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA = "backcheck.report/1"

Exercise = Literal["hinge", "plank"]
Severity = Literal["mild", "marked"]


@dataclass(frozen=True)
class SourceInfo:
    """What the video container says about the input."""

    file: str
    duration_s: float
    frames: int
    fps: float
    vfr: bool
    width: int
    height: int
    rotation_deg: int
    codec: str
    analysed_fps: float | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    sha256: str
    # The pose pass followed one pose with a headcount each second (`analyze --fast`)
    # instead of looking for everyone on every frame.
    fast: bool = False


@dataclass(frozen=True)
class ViewInfo:
    """Camera view; `judgeable` is False (with a coach-readable reason) when not side-on."""

    camera: Literal["side", "oblique", "front", "unknown"]
    facing: Literal["left", "right"] | None
    judgeable: bool
    reason: str | None = None


@dataclass(frozen=True)
class Quality:
    tracked_fraction: float
    mean_visibility: float
    warnings: list[str] = field(default_factory=list)
    # [x0, y0, x1, y1]: the part of the frame the lifter was found in by a second, closer
    # look (a far, small lifter; `PoseTrack.crop`), null when the whole frame was used
    second_look_crop: list[int] | None = None


@dataclass(frozen=True)
class Rep:
    index: int
    start_s: float
    bottom_s: float
    end_s: float
    metrics: dict[str, float | None]
    flags: list[str] = field(default_factory=list)
    # Checks this rep could not judge, and why: [{"check": code, "reason": words}].
    not_judged: list[dict[str, str]] = field(default_factory=list)
    # Where a flagged rounding sits: "low back", "whole back" or "upper back/neck"
    # (metrics.hinge, docs/spine.md); None when not flagged or not readable.
    flexion_region: str | None = None


@dataclass(frozen=True)
class Hold:
    start_s: float
    end_s: float
    duration_s: float
    in_tolerance_s: float
    mean_line_deg: float
    worst_line_deg: float
    # Checks of the hold that could not be judged, and why: [{"check": code, "reason":
    # words}] (metrics.plank.hold_not_judged), as a rep's `not_judged`. Not part of the
    # hold's identity: the live timer's hold equals the upload's before it is attached.
    not_judged: list[dict[str, str]] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class Flag:
    code: str
    severity: Severity
    rep: int | None
    start_s: float
    peak_s: float
    end_s: float
    value: float
    threshold: float
    unit: str = "deg"
    # What the flag rests on (metrics.evidence): frames, unseen_frames, span_s,
    # min_visibility, margin, margin_fraction, call ("clear" or "borderline"). Not part
    # of a flag's identity: a live monitor's flag equals the upload's one before the
    # evidence is attached.
    evidence: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Cue:
    code: str
    priority: int
    text: str


@dataclass(frozen=True)
class Report:
    """Everything one analysis found; `to_json` gives report.json."""

    source: SourceInfo
    model: ModelInfo
    exercise: Exercise
    view: ViewInfo
    quality: Quality
    reps: list[Rep]
    hold: Hold | None
    flags: list[Flag]
    cues: list[Cue]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"schema": SCHEMA}
        d.update(asdict(self))
        extra = d.pop("extra")
        d.update(extra)  # added fields sit beside the schema's, never replacing them
        return _finite(d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        known = {
            "schema",
            "source",
            "model",
            "exercise",
            "view",
            "quality",
            "reps",
            "hold",
            "flags",
            "cues",
        }
        return cls(
            source=SourceInfo(**d["source"]),
            model=ModelInfo(**d["model"]),
            exercise=d["exercise"],
            view=ViewInfo(**d["view"]),
            quality=Quality(**d["quality"]),
            reps=[Rep(**r) for r in d["reps"]],
            hold=Hold(**d["hold"]) if d.get("hold") else None,
            flags=[Flag(**f) for f in d["flags"]],
            cues=[Cue(**c) for c in d["cues"]],
            extra={k: v for k, v in d.items() if k not in known},
        )


def _finite(obj: Any) -> Any:
    """NaN and inf become null: JSON has no NaN and other tools must parse the file."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def validate_report_dict(d: dict[str, Any]) -> list[str]:
    """Problems with a report.json document against the schema; empty when it conforms."""
    problems: list[str] = []

    def need(obj: Any, key: str, types: tuple[type, ...], where: str) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            problems.append(f"{where}.{key} missing")
            return None
        v = obj[key]
        if not isinstance(v, types) or isinstance(v, bool) and bool not in types:
            problems.append(f"{where}.{key} has type {type(v).__name__}")
        return v

    num = (int, float)
    opt_num = (int, float, type(None))
    if d.get("schema") != SCHEMA:
        problems.append("schema is not " + SCHEMA)
    src = need(d, "source", (dict,), "")
    for k, ty in [
        ("file", (str,)),
        ("duration_s", num),
        ("frames", (int,)),
        ("fps", num),
        ("vfr", (bool,)),
        ("width", (int,)),
        ("height", (int,)),
        ("rotation_deg", (int,)),
        ("codec", (str,)),
    ]:
        need(src, k, ty, "source")
    model = need(d, "model", (dict,), "")
    need(model, "name", (str,), "model")
    need(model, "sha256", (str,), "model")
    ex = need(d, "exercise", (str,), "")
    if ex not in ("hinge", "plank"):
        problems.append(f"exercise {ex!r} not hinge/plank")
    view = need(d, "view", (dict,), "")
    need(view, "camera", (str,), "view")
    need(view, "facing", (str, type(None)), "view")
    need(view, "judgeable", (bool,), "view")
    need(view, "reason", (str, type(None)), "view")
    q = need(d, "quality", (dict,), "")
    need(q, "tracked_fraction", num, "quality")
    need(q, "mean_visibility", opt_num, "quality")
    need(q, "warnings", (list,), "quality")
    if isinstance(q, dict) and q.get("second_look_crop") is not None:
        crop = q["second_look_crop"]
        if not (isinstance(crop, list) and len(crop) == 4 and all(type(v) is int for v in crop)):
            problems.append("quality.second_look_crop is not [x0, y0, x1, y1]")
    for i, r in enumerate(need(d, "reps", (list,), "") or []):
        w = f"reps[{i}]"
        for k in ("start_s", "bottom_s", "end_s"):
            need(r, k, num, w)
        need(r, "index", (int,), w)
        need(r, "metrics", (dict,), w)
        need(r, "flags", (list,), w)
        for j, nj in enumerate(r.get("not_judged", []) if isinstance(r, dict) else []):
            need(nj, "check", (str,), f"{w}.not_judged[{j}]")
            need(nj, "reason", (str,), f"{w}.not_judged[{j}]")
    hold = d.get("hold", "missing")
    if hold == "missing":
        problems.append(".hold missing")
    elif hold is not None:
        for k in (
            "start_s",
            "end_s",
            "duration_s",
            "in_tolerance_s",
            "mean_line_deg",
            "worst_line_deg",
        ):
            need(hold, k, opt_num, "hold")
        for j, nj in enumerate(hold.get("not_judged", []) if isinstance(hold, dict) else []):
            need(nj, "check", (str,), f"hold.not_judged[{j}]")
            need(nj, "reason", (str,), f"hold.not_judged[{j}]")
        if d.get("reps"):
            problems.append("reps must be [] when hold is set")
    for i, f in enumerate(need(d, "flags", (list,), "") or []):
        w = f"flags[{i}]"
        need(f, "code", (str,), w)
        if isinstance(f, dict) and f.get("severity") not in ("mild", "marked"):
            problems.append(f"{w}.severity not mild/marked")
        need(f, "rep", (int, type(None)), w)
        for k in ("start_s", "peak_s", "end_s", "value", "threshold"):
            need(f, k, num, w)
        need(f, "unit", (str,), w)
        ev = f.get("evidence") if isinstance(f, dict) else None
        if ev is not None:
            we = f"{w}.evidence"
            need(ev, "frames", (int,), we)
            need(ev, "min_visibility", opt_num, we)
            need(ev, "margin", num, we)
            need(ev, "margin_fraction", opt_num, we)
            if isinstance(ev, dict) and ev.get("call") not in ("clear", "borderline"):
                problems.append(f"{we}.call not clear/borderline")
    for i, c in enumerate(need(d, "cues", (list,), "") or []):
        w = f"cues[{i}]"
        need(c, "code", (str,), w)
        need(c, "priority", (int,), w)
        need(c, "text", (str,), w)
    return problems
