"""Picking, adding and editing clients: the widgets both pages share."""

from __future__ import annotations

import streamlit as st

from backcheck.history import Client, HistoryError, HistoryStore
from metrics.profile import ClientProfile, Strictness

CLIENT_KEY = "client_id"
_VERSION = "client_picker_version"
STRICTNESS: tuple[Strictness, ...] = ("relaxed", "standard", "strict")
STRICTNESS_HELP = "How early a fault is pointed out: strict flags smaller deviations."


def pick_client(store: HistoryStore, *, key: str) -> Client | None:
    """A client selectbox bound to the shared selection, with an add-client form below."""
    clients = store.clients()
    ids = [c.id for c in clients]
    by_id = {c.id: c for c in clients}
    chosen = st.session_state.get(CLIENT_KEY)
    if chosen not in by_id:
        chosen = ids[0] if ids else None
    if clients:
        picked = st.selectbox(
            "Client",
            ids,
            index=ids.index(chosen) if chosen in ids else 0,
            format_func=lambda i: by_id[i].name,
            # A new key after a client is added, so the new client shows as picked.
            key=f"{key}_select_{st.session_state.get(_VERSION, 0)}",
        )
        st.session_state[CLIENT_KEY] = picked
        chosen = picked
    with st.expander("Add a new client", expanded=not clients):
        added = client_form(store, key=f"{key}_add")
        if added is not None:
            st.session_state[CLIENT_KEY] = added.id
            st.session_state[_VERSION] = st.session_state.get(_VERSION, 0) + 1
            st.rerun()
    return by_id.get(chosen) if chosen is not None else None


def client_form(store: HistoryStore, *, key: str, client: Client | None = None) -> Client | None:
    """Name, intolerances and strictness; adds a client, or edits `client` when given."""
    p = client.profile if client else ClientProfile()
    with st.form(key, clear_on_submit=client is None):
        name = st.text_input("Name", value=client.name if client else "", max_chars=80)
        flex = st.checkbox(
            "Flexion-intolerant (rounding the back aggravates it)",
            value=p.flexion_intolerant,
        )
        ext = st.checkbox(
            "Extension-intolerant (arching the back aggravates it)",
            value=p.extension_intolerant,
        )
        strictness = st.radio(
            "Strictness",
            STRICTNESS,
            index=STRICTNESS.index(p.strictness),
            horizontal=True,
            help=STRICTNESS_HELP,
        )
        label = "Save changes" if client else "Add client"
        if not st.form_submit_button(label, type="primary"):
            return None
    profile = ClientProfile(
        name=name,
        flexion_intolerant=flex,
        extension_intolerant=ext,
        strictness=strictness or "standard",
        neutral=p.neutral,
    )
    try:
        if client is None:
            saved = store.add_client(profile)
        else:
            saved = store.update_client(client.id, profile)
    except HistoryError as err:
        st.error(str(err))
        return None
    st.toast(f"Saved {saved.name}.")
    return saved


def profile_caption(client: Client) -> str:
    """One line on what the profile changes, for under the client picker."""
    bits = []
    if client.profile.flexion_intolerant:
        bits.append("flexion-intolerant")
    if client.profile.extension_intolerant:
        bits.append("extension-intolerant")
    bits.append(f"{client.profile.strictness} strictness")
    bits.append("own neutral on file" if client.profile.neutral else "no neutral calibration yet")
    return " · ".join(bits)
