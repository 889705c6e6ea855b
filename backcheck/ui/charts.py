"""Interactive angle charts (Altair / Vega-Lite, which ships with Streamlit).

Each chart draws angle lines over time with the rep boundaries, the flagged windows and,
where a flag guards that measure, the threshold band (the client's own neutral plus or
minus the profile's mild thresholds). Drag to pan, scroll to zoom the time axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd

from backcheck.ui.verdicts import flag_name
from metrics.profile import ClientProfile
from metrics.report import Report
from metrics.thresholds import thresholds_for

LABELS = {
    "trunk_deg": "Trunk lean",
    "hip_deg": "Hip angle",
    "knee_deg": "Knee angle",
    "neck_deg": "Neck angle",
    "plank_line_deg": "Body line",
    "spine_flexion_deg": "Back rounding",
    "lean_back_deg": "Lean back",
}


@dataclass(frozen=True)
class BandSpec:
    """Where a column's good range comes from.

    The report's own band (`report_key` in report.json, e.g. the plank rules'
    ``line_tolerance_deg: [low, high]``) wins. Otherwise the band is the neutral (the
    profile's value for the column, else `default_neutral` from thresholds.toml's extra
    tables) minus the `below` flag's mild threshold to plus the `above` flag's.
    """

    column: str
    below: str | None
    above: str | None
    label: str
    report_key: str | None = None
    default_neutral: tuple[str, str] | None = None
    exercise: str | None = None  # only for this exercise's reports


BAND_SPECS = (
    BandSpec(
        "plank_line_deg",
        "hip_pike",
        "hip_sag",
        "good body line",
        report_key="line_tolerance_deg",
        default_neutral=("plank", "neutral_line_deg"),
        exercise="plank",
    ),
    # The hinge rules flag rounding (spine curve past the lifter's neutral) and leaning
    # back past the upright trunk at lockout; both columns are 0 at neutral.
    BandSpec("spine_flexion_deg", None, "spine_flexion", "back held", exercise="hinge"),
    BandSpec("lean_back_deg", None, "spine_extension", "tall finish", exercise="hinge"),
    BandSpec(
        "neck_deg",
        "head_drop",
        None,
        "head in line",
        default_neutral=("plank", "neutral_neck_deg"),
        exercise="plank",
    ),
)


@dataclass(frozen=True)
class Band:
    column: str
    low: float | None
    high: float | None
    label: str


def load_timeseries(path: str | Path) -> pd.DataFrame:
    """timeseries.csv as a DataFrame (empty cells are NaN)."""
    return pd.read_csv(path)


def label(column: str) -> str:
    return LABELS.get(column, column.removesuffix("_deg").replace("_", " ").capitalize())


def bands_for(
    columns: list[str], profile: ClientProfile | None, report: Report | None = None
) -> list[Band]:
    """Threshold bands for the columns present; a side whose threshold is 0 is left open."""
    th = thresholds_for(profile)
    neutral = (profile or ClientProfile()).neutral
    extra = report.extra if report is not None else {}
    out = []
    for spec in BAND_SPECS:
        if spec.column not in columns:
            continue
        if spec.exercise and (report is None or report.exercise != spec.exercise):
            continue
        given = extra.get(spec.report_key) if spec.report_key else None
        if isinstance(given, list | tuple) and len(given) == 2:
            low, high = (float(v) if v is not None else None for v in given)
            out.append(Band(spec.column, low, high, spec.label))
            continue
        centre = 0.0
        if spec.default_neutral:
            table, key = spec.default_neutral
            centre = float(th.extra.get(table, {}).get(key, 0.0))
        centre = float(neutral.get(spec.column, centre))
        low = high = None
        if spec.below and spec.below in th.by_code and th[spec.below].mild > 0:
            low = centre - th[spec.below].mild
        if spec.above and spec.above in th.by_code and th[spec.above].mild > 0:
            high = centre + th[spec.above].mild
        if low is not None or high is not None:
            out.append(Band(spec.column, low, high, spec.label))
    return out


def chart_groups(report: Report, ts: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Which columns go in which chart, for this exercise, among those with data."""
    have = {c for c in ts.columns if c.endswith("_deg") and ts[c].notna().any()}
    if report.exercise == "plank":
        groups = [
            ("Body line (+ sag, − pike)", ["plank_line_deg"]),
            ("Neck (lower: head dropping)", ["neck_deg"]),
        ]
    else:
        groups = [
            ("Trunk, hip and knee", ["trunk_deg", "hip_deg", "knee_deg"]),
            ("Back rounding vs own neutral", ["spine_flexion_deg"]),
            ("Lean back at lockout", ["lean_back_deg"]),
        ]
    out = []
    for title, cols in groups:
        present = [c for c in cols if c in have]
        if present:
            out.append((title, present))
    return out


def angle_chart(
    ts: pd.DataFrame,
    report: Report,
    columns: list[str],
    bands: list[Band],
    *,
    title: str = "",
    height: int = 260,
) -> alt.LayerChart | alt.FacetChart:
    """Lines of `columns` over time, with rep boundaries, flagged windows and bands."""
    long = ts[["t_s", *columns]].melt("t_s", var_name="column", value_name="degrees")
    long["angle"] = long["column"].map(label)
    long = long.dropna(subset=["degrees"])
    x = alt.X("t_s:Q", title="time (s)", scale=alt.Scale(domain=[0, _end(ts, report)]))
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    layers: list[alt.Chart] = []

    my_bands = [b for b in bands if b.column in columns]
    if my_bands:
        lo = float(long["degrees"].min()) if len(long) else 0.0
        hi = float(long["degrees"].max()) if len(long) else 1.0
        rows = [
            {
                "low": b.low if b.low is not None else min(lo, b.high or lo),
                "high": b.high if b.high is not None else max(hi, b.low or hi),
                "band": f"{b.label}: {label(b.column)} {_fmt_limit(b.low)} to {_fmt_limit(b.high)}",
            }
            for b in my_bands
        ]
        layers.append(
            alt.Chart(pd.DataFrame(rows))
            .mark_rect(color="#2ca02c", opacity=0.12)
            .encode(y="low:Q", y2="high:Q", tooltip=alt.Tooltip("band:N", title="band"))
        )

    flags = pd.DataFrame(
        [
            {
                "start": f.start_s,
                "end": f.end_s,
                "what": flag_name(f.code),
                "how": f"{f.severity}, {f.value:.0f} {f.unit} (limit {f.threshold:.0f})",
                "rep": f.rep if f.rep is not None else "",
            }
            for f in report.flags
        ]
    )
    if len(flags):
        layers.append(
            alt.Chart(flags)
            .mark_rect(color="#d62728", opacity=0.15)
            .encode(
                x="start:Q",
                x2="end:Q",
                tooltip=[alt.Tooltip("what:N"), alt.Tooltip("how:N"), alt.Tooltip("rep:N")],
            )
        )

    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y(
                "degrees:Q",
                title="degrees",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format=".0f"),
            ),
            color=alt.Color("angle:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("angle:N"),
                alt.Tooltip("t_s:Q", title="time (s)", format=".2f"),
                alt.Tooltip("degrees:Q", format=".0f"),
            ],
        )
        .add_params(zoom)
    )
    layers.append(lines)

    reps = pd.DataFrame(
        [
            {"t": r.start_s, "rep": f"Rep {r.index}", "n": str(r.index), "kind": "start"}
            for r in report.reps
        ]
        + [
            {"t": r.end_s, "rep": f"Rep {r.index}", "n": str(r.index), "kind": "end"}
            for r in report.reps
        ]
    )
    if len(reps):
        layers.append(
            alt.Chart(reps)
            .mark_rule(color="#555", strokeDash=[4, 3])
            .encode(x="t:Q", tooltip=[alt.Tooltip("rep:N"), alt.Tooltip("kind:N")])
        )
        starts = reps[reps["kind"] == "start"]
        layers.append(
            alt.Chart(starts)
            .mark_text(align="left", baseline="top", dx=3, dy=3, color="#555", fontSize=11)
            .encode(x="t:Q", y=alt.value(0), text="n:N")  # rep numbers stay legible on phones
        )
    if report.hold is not None:
        hold = pd.DataFrame([{"start": report.hold.start_s, "end": report.hold.end_s}])
        layers.append(
            alt.Chart(hold).mark_rule(color="#555", strokeDash=[4, 3]).encode(x="start:Q")
        )
        layers.append(alt.Chart(hold).mark_rule(color="#555", strokeDash=[4, 3]).encode(x="end:Q"))
    return alt.layer(*layers).properties(title=title, height=height)


def _end(ts: pd.DataFrame, report: Report) -> float:
    last = float(ts["t_s"].max()) if len(ts) else 0.0
    return max(last, float(report.source.duration_s or 0.0), 0.1)


def _fmt_limit(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}°"


def progress_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Sessions as a DataFrame for the progress charts (one row per session)."""
    return pd.DataFrame([dict(r) for r in rows])


def progress_chart(df: pd.DataFrame, columns: dict[str, str], *, title: str) -> alt.Chart:
    """Points and lines per session for `columns` ({column: legend label})."""
    long = df.melt(
        id_vars=["session", "date", "file"], value_vars=list(columns), value_name="value"
    ).dropna(subset=["value"])
    long["measure"] = long["variable"].map(columns)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("session:O", title="session"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=True)),
            color=alt.Color("measure:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=["date:N", "file:N", "measure:N", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(title=title, height=220)
    )
