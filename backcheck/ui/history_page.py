"""The client page: profile, neutral calibration, sessions over time and progress."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from backcheck.history import Client, HistoryStore, SessionSummary
from backcheck.ui import charts
from backcheck.ui.clients import client_form, pick_client, profile_caption
from backcheck.ui.results import render_session
from backcheck.ui.settings import Settings
from backcheck.ui.uploads import VIDEO_TYPES, neutral_from_clip
from metrics.errors import AnalysisError

OPEN_KEY = "history_open_session"
PROGRESS_HEIGHT = 360


def render(store: HistoryStore, settings: Settings) -> None:
    st.title("Clients and history")
    client = pick_client(store, key="history")
    st.caption(profile_caption(client))
    if not client.quick_check:  # the quick check has no profile of its own
        with st.expander("Profile"):
            client_form(store, key=f"edit_{client.id}", client=client)
        with st.expander("Neutral calibration"):
            _calibration(store, client, settings)
    sessions = store.sessions(client.id)
    if not sessions:
        who = "without a client" if client.quick_check else f"for {client.name}"
        st.info(f"No sessions {who} yet: analyse a video on the first page.")
        return
    with st.container(key="history-sessions"):
        st.subheader(f"Sessions ({len(sessions)})")
        st.table(_sessions_frame(sessions), hide_index=True)
    _progress(sessions)
    _open_session(store, sessions)


def _sessions_frame(sessions: list[SessionSummary]) -> pd.DataFrame:
    rows = []
    for n, s in enumerate(sessions, start=1):
        if s.exercise == "plank":
            result = (
                f"hold {s.hold_s:.1f} s, {s.in_tolerance_s or 0:.1f} s in line"
                if s.hold_s is not None
                else "no hold found"
            )
        else:
            result = f"{s.n_reps} reps, {s.n_flagged_reps} to work on"
        if not s.judgeable:
            result += " (angle not judgeable)"
        rows.append(
            {
                "No.": str(n),
                "Date": s.created_at[:16].replace("T", " "),
                "Video": s.source_file,
                "Exercise": s.exercise,
                "Result": result,
                "Worst rounding": _deg(s.worst_flexion_deg),
            }
        )
    return pd.DataFrame(rows)


def _deg(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}°"


def _progress(sessions: list[SessionSummary]) -> None:
    rows = [
        {
            "session": n,
            "date": s.created_at[:10],
            "file": s.source_file,
            "exercise": s.exercise,
            "worst_flexion_deg": s.worst_flexion_deg,
            "worst_extension_deg": s.worst_extension_deg,
            "hold_s": s.hold_s,
            "in_tolerance_s": s.in_tolerance_s,
        }
        for n, s in enumerate(sessions, start=1)
        if s.judgeable
    ]
    df = charts.progress_frame(rows)
    if df.empty:
        return
    with st.container(key="history-progress"):
        st.subheader("Progress")
        st.caption(
            "Per session: the worst back rounding and lean back of any rep (lower is "
            "better); for planks, the hold and how long the body line stayed in range."
        )
        hinge = df[(df["exercise"] == "hinge") & df["worst_flexion_deg"].notna()]
        plank = df[(df["exercise"] == "plank") & df["hold_s"].notna()]
        if not len(hinge) and not len(plank):
            st.caption("Progress charts appear once sessions have reps or holds measured.")
        if len(hinge):
            st.altair_chart(
                charts.progress_chart(
                    hinge,
                    {
                        "worst_flexion_deg": "worst rounding (°)",
                        "worst_extension_deg": "worst lean back (°)",
                    },
                    title="Hinge: worst rounding",
                ),
                width="stretch",
                height=PROGRESS_HEIGHT,
            )
        if len(plank):
            st.altair_chart(
                charts.progress_chart(
                    plank,
                    {"hold_s": "hold (s)", "in_tolerance_s": "in a good line (s)"},
                    title="Plank: hold and time in line",
                ),
                width="stretch",
                height=PROGRESS_HEIGHT,
            )


def _open_session(store: HistoryStore, sessions: list[SessionSummary]) -> None:
    ids = [s.id for s in reversed(sessions)]
    by_id = {s.id: (n, s) for n, s in enumerate(sessions, start=1)}
    st.subheader("Look at a session")
    picked = st.selectbox(
        "Session",
        ids,
        format_func=lambda i: (
            f"#{by_id[i][0]} · {by_id[i][1].created_at[:10]} · {by_id[i][1].source_file}"
        ),
        key=OPEN_KEY,
    )
    if picked is not None:
        render_session(store, picked, key="history")


def _calibration(store: HistoryStore, client: Client, settings: Settings) -> None:
    neutral = client.profile.neutral
    if neutral:
        st.write(
            "Own neutral: "
            + ", ".join(f"{charts.label(k)} {v:.0f}°" for k, v in sorted(neutral.items()))
        )
        if client.neutral_source:
            st.caption(f"From the {client.neutral_source}.")
    else:
        st.write("No neutral yet: flags are judged against the defaults.")
    st.caption(
        "Film the client standing tall and still, side-on, for 3-5 seconds, and upload it "
        "here. Or, after analysing a hinge, use its setup from the result page."
    )
    clip = st.file_uploader(
        "Standing clip", type=list(VIDEO_TYPES), key=f"neutral_clip_{client.id}"
    )
    if clip is not None and st.button("Calibrate", key=f"neutral_go_{client.id}"):
        from backcheck.ui.upload_page import progress_bar

        bar, progress = progress_bar()
        clip.seek(0)
        try:
            updated = neutral_from_clip(
                store,
                client,
                clip.name,
                clip,
                model=settings.model,
                progress=progress,
            )
        except AnalysisError as err:
            bar.empty()
            st.error(str(err))
        else:
            bar.empty()
            st.success(f"Neutral saved: {updated.neutral_source}.")
