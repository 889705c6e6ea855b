"""The Live page: the camera through streamlit-webrtc, with the readout drawn on the video.

Threads: streamlit-webrtc calls `_FrameHandler.__call__` for each camera frame on its own
thread. It never calls `st.*`: it hands the frame to the `LiveSession` worker (which drops
frames when the CPU falls behind) and draws the newest result on the frame it returns.
The page's script thread reads the session's bounded result queue and updates the text.

No STUN or TURN server is configured (``iceServers: []``): the browser and this server
connect directly, which works on localhost and on the same network.
"""

from __future__ import annotations

import queue
import time
from typing import TYPE_CHECKING, Any

from metrics.live import LiveExercise
from metrics.profile import ClientProfile
from models.registry import MODE_DEFAULTS

if TYPE_CHECKING:
    from backcheck.history import HistoryStore
    from backcheck.ui.settings import Settings
    from vision.live import LiveResult, LiveSession

RTC_CONFIGURATION: dict[str, Any] = {"iceServers": []}
MEDIA_CONSTRAINTS: dict[str, Any] = {
    "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
    "audio": False,
}
VIDEO_ATTRS: dict[str, Any] = {
    "autoPlay": True,
    "controls": False,
    "muted": True,
    "style": {"width": "100%", "maxHeight": "720px", "objectFit": "contain"},
}
# How often the page text is refreshed while the camera runs.
REFRESH_S = 0.25
_STATE_KEY = "backcheck_live_session"


class _FrameHandler:
    """The WebRTC frame callback: submit the frame, return it with the readout drawn on."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session

    def __call__(self, frame: Any) -> Any:
        import av

        rgb = frame.to_ndarray(format="rgb24")
        self.session.submit(rgb)
        out = av.VideoFrame.from_ndarray(self.session.annotate(rgb), format="rgb24")
        return out


def _session(exercise: LiveExercise, profile: ClientProfile, model: str, key: str) -> LiveSession:
    """The page's `LiveSession`, kept across reruns until the exercise or client changes."""
    import streamlit as st

    from vision.live import LiveSession

    held = st.session_state.get(_STATE_KEY)
    if held is not None and held[0] == key:
        return held[1]  # type: ignore[no-any-return]
    if held is not None:
        held[1].close()
    session = LiveSession(exercise, profile=profile, model=model)
    st.session_state[_STATE_KEY] = (key, session)
    return session


def _hold_text(result: LiveResult) -> str:
    s = result.state
    return "--" if s.hold_s is None else f"{s.hold_s:.1f} s"


def render(store: HistoryStore | None, settings: Settings | None = None) -> None:
    """The Live page: camera, readout, cue and frame rate; save the set to a client."""
    import streamlit as st
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    st.title("Live check")
    st.caption(
        "Point the camera at the lifter from the side, hips at the middle of the frame, "
        "whole body in view. Press START, then lift."
    )
    client = None
    if store is not None:
        from backcheck.ui.clients import pick_client

        client = pick_client(store, key="live")
    profile = client.profile if client is not None else ClientProfile()
    exercise: LiveExercise = st.radio(  # type: ignore[assignment]
        "Exercise",
        ["hinge", "plank"],
        format_func={"hinge": "Hip hinge", "plank": "Plank"}.__getitem__,
        horizontal=True,
        key="live_exercise",
    )
    # The page's model setting names the upload model; live uses its own default
    # (models.registry.MODE_DEFAULTS) unless another model was asked for by name or path.
    model = (
        "auto" if settings is None or settings.model == MODE_DEFAULTS["upload"] else settings.model
    )
    set_no = st.session_state.setdefault("live_set_no", 0)
    client_key = client.id if client is not None else "-"
    session = _session(exercise, profile, model, f"{exercise}|{client_key}|{set_no}|{model}")

    video_col, info_col = st.columns([3, 2])
    with video_col:
        ctx = webrtc_streamer(
            key="live",
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=RTC_CONFIGURATION,
            media_stream_constraints=MEDIA_CONSTRAINTS,
            video_frame_callback=_FrameHandler(session),
            async_processing=True,
            video_html_attrs=VIDEO_ATTRS,
        )
    with info_col:
        count_box = st.empty()
        cue_box = st.empty()
        state_box = st.empty()
        fps_box = st.empty()
    label = "Hold" if exercise == "plank" else "Reps"

    def show(result: LiveResult | None) -> None:
        if result is None:
            count_box.markdown(f"### {label}: --")
            cue_box.info("The cue shows here when something needs attention.")
            state_box.caption("Waiting for the camera.")
            fps_box.empty()
            return
        s = result.state
        count = _hold_text(result) if exercise == "plank" else s.reps
        count_box.markdown(f"### {label}: {count}")
        if s.cue is not None:
            cue_box.markdown(
                f"<div id='live-cue' data-code='{s.cue.code}' style='font-size:1.3em;"
                f"padding:0.6em;border-radius:0.4em;background:#1e5aa0;color:white'>"
                f"{s.cue.text}</div>",
                unsafe_allow_html=True,
            )
        else:
            cue_box.markdown("<div id='live-nocue'>Looking steady.</div>", unsafe_allow_html=True)
        if not s.found:
            state_box.warning("Nobody in view: step into the frame, side-on to the camera.")
        elif s.view is not None and not s.view.judgeable and s.view.reason:
            state_box.warning(s.view.reason)
        else:
            state_box.caption(f"Lifter in view{', ' + s.phase if s.phase else ''}.")
        fps_box.caption(
            f"Analysed: {result.analysed_fps:.1f} fps (camera {result.input_fps:.0f} fps, "
            f"{result.dropped} frames skipped while busy)"
        )

    if ctx.state.playing:
        session.start()
        show(session.latest())
        while ctx.state.playing:
            latest = None
            try:
                while True:
                    latest = session.results.get_nowait()
            except queue.Empty:
                pass
            if latest is not None:
                show(latest)
            time.sleep(REFRESH_S)
        return

    session.stop()
    show(session.latest())
    if session.analyzer.n_frames == 0:
        return
    st.divider()
    b = st.columns(2)
    if b[1].button("Start a new set", key="live_new_set"):
        st.session_state["live_set_no"] = set_no + 1
        st.rerun()
    if client is None or store is None:
        b[0].caption("Choose a client above to save this set to their history.")
        return
    saved_key = f"live_saved_{set_no}"
    if saved := st.session_state.get(saved_key):
        b[0].success(saved)
        return
    where = "as a quick check" if client.quick_check else f"to {client.name}'s history"
    if b[0].button(f"Save this set {where}", key="live_save"):
        from backcheck.history import HistoryError
        from backcheck.live import save_live_set
        from metrics.errors import AnalysisError

        try:
            with st.spinner("Analysing the set…"):
                summary = save_live_set(store, client.id, session, profile=profile)
        except (AnalysisError, HistoryError) as err:
            st.error(str(err))
            return
        what = f"{summary.n_reps} reps" if exercise == "hinge" else "the hold"
        st.session_state[saved_key] = f"Saved: {what} {where.replace('to ', 'in ', 1)}."
        st.rerun()
