"""Picking, adding and editing clients: the widgets both pages share."""

from __future__ import annotations

import streamlit as st

from backcheck.history import Client, HistoryError, HistoryStore
from metrics.profile import ClientProfile, Strictness

CLIENT_KEY = "client_id"
_VERSION = "client_picker_version"
STRICTNESS: tuple[Strictness, ...] = ("relaxed", "standard", "strict")
STRICTNESS_HELP = "How early a fault is pointed out: strict flags smaller deviations."
QUICK_LABEL = "Quick check (no client)"


def pick_client(store: HistoryStore, *, key: str) -> Client:
    """A client selectbox bound to the shared selection, with an add-client form below.

    "Quick check" is always there, first: with no client yet it is the one picked, so a
    coach can analyse at once; its sessions stay apart and move to a client later.
    """
    quick = store.quick_check()
    clients = store.clients()
    by_id = {c.id: c for c in (quick, *clients)}
    ids = list(by_id)
    chosen = st.session_state.get(CLIENT_KEY)
    if chosen not in by_id:
        chosen = clients[0].id if clients else quick.id
    picked = st.selectbox(
        "Client",
        ids,
        index=ids.index(chosen),
        format_func=lambda i: QUICK_LABEL if by_id[i].quick_check else by_id[i].name,
        # A new key after a client is added, so the new client shows as picked.
        key=f"{key}_select_{st.session_state.get(_VERSION, 0)}",
    )
    st.session_state[CLIENT_KEY] = picked
    with st.expander("Add a new client"):
        added = client_form(store, key=f"{key}_add")
        if added is not None:
            st.session_state[CLIENT_KEY] = added.id
            st.session_state[_VERSION] = st.session_state.get(_VERSION, 0) + 1
            st.rerun()
    return by_id[picked if picked is not None else chosen]


def move_to_client(store: HistoryStore, session_id: int, *, key: str) -> None:
    """Under a quick check's result: move it into a real client's history."""
    clients = store.clients()
    if not clients:
        st.caption(
            "A quick check, kept apart from clients. Add a client above to move it into "
            "their history."
        )
        return
    with st.container(key=f"{key}-move"):
        cols = st.columns([3, 2], vertical_alignment="bottom")
        by_id = {c.id: c for c in clients}
        target = cols[0].selectbox(
            "Move this quick check to",
            list(by_id),
            help="It is judged again with their profile, as their own upload would be.",
            format_func=lambda i: by_id[i].name,
            key=f"{key}_move_to_{session_id}",
        )
        if cols[1].button("Move to their history", key=f"{key}_move_{session_id}"):
            from backcheck.rejudge import move_and_rejudge

            try:
                move_and_rejudge(store, session_id, target)
            except HistoryError as err:
                st.error(str(err))
                return
            st.session_state[CLIENT_KEY] = target
            st.session_state[_VERSION] = st.session_state.get(_VERSION, 0) + 1
            st.toast(f"Moved to {by_id[target].name}'s history.")
            st.rerun()


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
    if client.quick_check:
        return (
            "Default settings, saved apart from clients; a result can be moved to a "
            "client's history afterwards."
        )
    bits = []
    if client.profile.flexion_intolerant:
        bits.append("flexion-intolerant")
    if client.profile.extension_intolerant:
        bits.append("extension-intolerant")
    bits.append(f"{client.profile.strictness} strictness")
    bits.append("own neutral on file" if client.profile.neutral else "no neutral calibration yet")
    return " · ".join(bits)
