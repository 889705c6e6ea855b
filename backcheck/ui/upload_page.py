"""The upload page: pick or add a client, upload a video, watch it being analysed, then
see the result. The analysis is the same `analyze_video` call the CLI makes."""

from __future__ import annotations

from typing import Any, Literal, cast

import streamlit as st

from backcheck.history import HistoryError, HistoryStore
from backcheck.ui.clients import pick_client, profile_caption
from backcheck.ui.results import render_session
from backcheck.ui.settings import Settings
from backcheck.ui.uploads import VIDEO_TYPES, Progress, analyse_upload, neutral_from_session
from metrics.errors import AnalysisError

RESULT_KEY = "last_session_id"
ERROR_KEY = "last_upload_error"
EXERCISES = {"auto": "Work it out", "hinge": "Hip hinge", "plank": "Plank"}


def render(store: HistoryStore, settings: Settings) -> None:
    st.title("Check a lift")
    st.caption(
        "Film a hip hinge (deadlift, RDL, kettlebell swing or deadlift) or a plank from the "
        "side, upload it, and get the few cues that matter, rep by rep."
    )
    client = pick_client(store, key="upload")
    st.caption(profile_caption(client))
    exercise = st.radio(
        "Exercise",
        list(EXERCISES),
        format_func=EXERCISES.__getitem__,
        horizontal=True,
        key="upload_exercise",
    )
    uploaded = st.file_uploader(
        "Video (MP4, MOV, M4V, WebM or AVI, up to a few hundred MB)",
        type=list(VIDEO_TYPES),
        key=f"upload_file_{st.session_state.get('upload_round', 0)}",
    )
    go = st.button("Analyse", type="primary", disabled=uploaded is None, key="upload_analyse")
    if go and uploaded is not None:
        st.session_state.pop(ERROR_KEY, None)
        bar, progress = progress_bar()
        uploaded.seek(0)
        try:
            summary = analyse_upload(
                store,
                client,
                uploaded.name,
                uploaded,
                exercise=cast(Literal["auto", "hinge", "plank"], exercise),
                model=settings.model,
                progress=progress,
            )
        except (AnalysisError, HistoryError) as err:
            headline = (
                "Not saved." if isinstance(err, HistoryError) else "This video can't be analysed."
            )
            st.session_state[ERROR_KEY] = (headline, str(err))
            st.session_state.pop(RESULT_KEY, None)
        else:
            st.session_state[RESULT_KEY] = summary.id
            # A fresh uploader, so the saved video is not analysed twice by accident.
            st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        bar.empty()
        st.rerun()
    if problem := st.session_state.get(ERROR_KEY):
        headline, reason = problem
        st.error(f"**{headline}** {reason}", icon=":material/block:")
    session_id = st.session_state.get(RESULT_KEY)
    if session_id is None:
        return
    st.divider()
    render_session(store, session_id, key="latest")
    _calibrate_button(store, client.id, session_id)


def progress_bar() -> tuple[Any, Progress]:
    """A progress bar and the callback that moves it: the stage and the time left."""
    from backcheck.progress import ProgressClock

    bar = st.progress(0.0, text="Starting…")
    clock = ProgressClock()

    def progress(fraction: float, label: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=clock.line(fraction, label)[:90])

    return bar, progress


def _calibrate_button(store: HistoryStore, client_id: int, session_id: int) -> None:
    try:
        record = store.session(session_id)
    except HistoryError:
        return
    if record.summary.client_id != client_id or record.report.exercise != "hinge":
        return
    client = store.client(client_id)
    if client.quick_check:  # a neutral belongs to a person
        return
    with st.expander("Use this clip's setup as the client's neutral"):
        st.caption(
            "Takes the back and neck shape from the first steady second of the clip (the "
            "setup) as this client's own neutral; later sessions are judged against it."
        )
        if st.button("Calibrate from this setup", key=f"calibrate_{session_id}"):
            try:
                updated = neutral_from_session(store, client, session_id)
            except AnalysisError as err:
                st.error(str(err))
            else:
                st.success(f"Neutral saved for {updated.name}: {updated.neutral_source}.")
