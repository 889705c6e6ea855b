"""One saved session on screen: cues, annotated video, frame scrubber, rep table or hold
summary, angle charts and downloads. Used right after an analysis and from the history."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from backcheck.history import HistoryError, HistoryStore, SessionRecord
from backcheck.ui import charts
from backcheck.ui.verdicts import (
    FILMING_ADVICE,
    flag_rows,
    hold_rows,
    praise_and_cues,
    rep_rows,
    set_down_text,
    worst_moments,
)
from metrics.atomic import atomic_write
from metrics.errors import AnalysisError

# Streamlit sizes the whole chart element (title, axes and legend included) to this.
CHART_HEIGHT = 340


def render_session(store: HistoryStore, session_id: int, *, key: str) -> None:
    """Everything about one saved session; `key` keeps widget keys unique per page."""
    try:
        record = store.session(session_id)
    except HistoryError as err:
        st.error(str(err))
        return
    report = record.report
    s = record.summary
    client = store.client(s.client_id)
    what = "Plank" if report.exercise == "plank" else "Hip hinge"
    st.subheader(f"{client.name}: {what}")  # "Quick check: Hip hinge" without a client
    st.caption(
        f"{s.source_file} · {report.source.duration_s:.1f} s · analysed {s.created_at[:16]} UTC"
        f" · camera: {report.view.camera}"
        + (f", facing {report.view.facing}" if report.view.facing else "")
    )
    if client.quick_check:
        from backcheck.ui.clients import move_to_client

        move_to_client(store, session_id, key=key)
    _cues(record, key=key)
    for w in report.quality.warnings:
        st.caption(f"Note: {w}")
    ts = _timeseries(record.folder / "timeseries.csv")
    video = record.folder / "annotated.mp4"
    left, right = st.columns([3, 2], gap="medium")
    with left, st.container(key=f"{key}-video"):
        if video.exists():
            st.video(str(video))
        else:
            st.info("No annotated video was kept for this session.")
    with right:
        _scrubber(record, video, ts, key=key)
    _reps_or_hold(record, key=key)
    _charts(record, ts, key=key)
    _downloads(record, client.name, key=key)


def _cues(record: SessionRecord, *, key: str) -> None:
    report = record.report
    praise, cues = praise_and_cues(report)
    with st.container(key=f"{key}-cues"):
        for c in praise:
            st.success(c.text, icon=":material/thumb_up:")
        if not report.view.judgeable:
            st.warning(
                "**Can't judge the back from this angle.** "
                + (report.view.reason or "The camera was not side-on.")
                + "\n\nFor the next video:\n"
                + "\n".join(f"- {tip}" for tip in FILMING_ADVICE),
                icon=":material/videocam:",
            )
            return
        for i, c in enumerate(cues, start=1):
            st.info(f"**Cue {i}.** {c.text}", icon=":material/sports_gymnastics:")
        if not cues and not praise:
            st.info("Nothing to add: keep going.")


@st.cache_data(show_spinner=False, max_entries=32)
def _timeseries(path: Path) -> pd.DataFrame | None:
    return charts.load_timeseries(path) if path.exists() else None


@st.cache_data(show_spinner=False, max_entries=256)
def _still(video: str, t: float, mtime: float) -> np.ndarray:
    from vision.still import frame_at

    return frame_at(video, t, max_side=720)


def _scrubber(record: SessionRecord, video: Path, ts: pd.DataFrame | None, *, key: str) -> None:
    report = record.report
    if not video.exists():
        return
    moments = worst_moments(report)
    end = max(float(report.source.duration_s or 0.0), 0.1)
    slider_key = f"{key}-scrub-{record.summary.id}"
    fps = report.source.analysed_fps or report.source.fps or 30.0
    step = max(round(1.0 / fps, 2), 0.01)
    if slider_key not in st.session_state:
        st.session_state[slider_key] = round(moments[0].t, 2) if moments else 0.0

    def jump(t: float) -> None:
        st.session_state[slider_key] = round(min(max(t, 0.0), end), 2)

    with st.container(key=f"{key}-scrubber"):
        st.markdown("**Frame by frame**")
        if moments:
            st.caption("Jump to the worst frame of each rep:")
            with st.container(horizontal=True, gap="small"):
                for i, m in enumerate(moments):
                    st.button(
                        m.label,
                        key=f"{key}-jump-{record.summary.id}-{i}",
                        on_click=jump,
                        args=(m.t,),
                        help=f"{m.t:.2f} s",
                    )
        t = st.slider("Time (s)", 0.0, round(end, 2), step=step, key=slider_key, format="%.2f s")
        try:
            frame = _still(str(video), float(t), video.stat().st_mtime)
        except AnalysisError as err:
            st.warning(f"Can't show that frame: {err}")
            return
        st.image(frame, caption=_angles_at(ts, float(t)), width="stretch")


def _angles_at(ts: pd.DataFrame | None, t: float) -> str:
    if ts is None or not len(ts):
        return f"{t:.2f} s"
    i = int(np.argmin(np.abs(ts["t_s"].to_numpy() - t)))
    bits = [f"{t:.2f} s"]
    for col in ("trunk_deg", "hip_deg", "knee_deg", "plank_line_deg"):
        if col in ts.columns and pd.notna(ts[col].iloc[i]):
            bits.append(f"{charts.label(col)} {ts[col].iloc[i]:.0f}°")
    return " · ".join(bits)


def _reps_or_hold(record: SessionRecord, *, key: str) -> None:
    report = record.report
    with st.container(key=f"{key}-reps"):
        if report.exercise == "plank":
            st.markdown("**The hold**")
            hold = hold_rows(report)
            if hold:
                st.table(pd.DataFrame(hold, columns=["", "Value"]), hide_index=True)
            else:
                st.info("No steady plank hold was found in this clip.")
            fl = flag_rows(report)
            if fl:
                st.table(pd.DataFrame(fl), hide_index=True)
            return
        st.markdown("**Rep by rep**")
        if not report.view.judgeable:
            st.caption("No verdicts: the back can't be judged from this angle.")
        rows = rep_rows(report, compact=True)
        if rows:
            st.table(pd.DataFrame(rows), hide_index=True)
            after = set_down_text(report)
            if after:
                st.caption(after)
            with st.expander("All measures per rep"):
                st.table(pd.DataFrame(rep_rows(report)), hide_index=True)
        else:
            st.info(
                "No complete reps were found in this clip. Film the whole set from the "
                "first pull to the last lockout."
            )


def _charts(record: SessionRecord, ts: pd.DataFrame | None, *, key: str) -> None:
    if ts is None or not len(ts):
        return
    report = record.report
    bands = charts.bands_for(list(ts.columns), record.profile, report)
    with st.container(key=f"{key}-charts"):
        st.markdown("**Angles over time**")
        st.caption(
            "Dashed lines: rep boundaries. Red: flagged moments. Green: the range the "
            "client's profile allows. Drag or scroll to zoom in time."
        )
        for i, (title, cols) in enumerate(charts.chart_groups(report, ts)):
            chart = charts.angle_chart(ts, report, cols, bands, title=title)
            st.altair_chart(
                chart,
                width="stretch",
                height=CHART_HEIGHT,
                key=f"{key}-chart-{record.summary.id}-{i}",
            )


def _downloads(record: SessionRecord, client: str, *, key: str) -> None:
    folder = record.folder
    sid = record.summary.id
    stem = Path(record.summary.source_file).stem or "session"
    html = folder / "report.html"
    if not html.exists():
        from backcheck.ui.printable import moment_frames, report_html

        video = folder / "annotated.mp4"
        page = report_html(
            record.report,
            client=client,
            when=record.summary.created_at,
            frames=moment_frames(record.report, video if video.exists() else None),
        )
        # kept in the session folder: a half-written page would be served from then on
        atomic_write(html, lambda p: p.write_text(page, "utf-8"))
    files = [
        ("Printable report", html, "text/html", f"{stem}-report.html"),
        ("report.json", folder / "report.json", "application/json", "report.json"),
        ("timeseries.csv", folder / "timeseries.csv", "text/csv", "timeseries.csv"),
        ("annotated.mp4", folder / "annotated.mp4", "video/mp4", f"{stem}-annotated.mp4"),
    ]
    with st.container(key=f"{key}-downloads", horizontal=True, gap="small"):
        for i, (label, path, mime, name) in enumerate(files):
            if path.exists():
                st.download_button(
                    label,
                    data=partial(path.read_bytes),  # read on click, not on every rerun
                    file_name=name,
                    mime=mime,
                    key=f"{key}-dl-{sid}-{i}",
                    icon=":material/download:",
                    on_click="ignore",
                )
