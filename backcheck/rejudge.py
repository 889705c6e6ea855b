"""Moving a saved session to a client, judged again as that client's own upload would be.

A quick check is judged with the default profile; once it belongs to a client whose profile
is stricter, or intolerant of one direction, the same lift may deserve other flags. The
session's saved track is judged again with the client's profile (no new pose pass), and
the move and the new report land in one transaction. The annotated video keeps the
overlay it was drawn with; the printable page is made again from the new report.
"""

from __future__ import annotations

import logging

from backcheck.batch_work import rescore_track
from backcheck.history import HistoryStore, SessionSummary
from metrics.errors import AnalysisError


def move_and_rejudge(store: HistoryStore, session_id: int, client_id: int) -> SessionSummary:
    """Move session `session_id` into client `client_id`'s history, judged with their
    profile. A session whose track cannot be read (saved before tracks were kept) moves
    as it was judged. Raises `HistoryError` for an unknown session or client."""
    from backcheck.pipeline import write_judgement

    record = store.session(session_id)
    client = store.client(client_id)
    folder = record.folder
    try:
        report, analysis = rescore_track(folder, profile=client.profile)
    except AnalysisError as err:
        logging.getLogger(__name__).warning("moved as judged: %s", err)
        return store.move_session(session_id, client_id)
    summary = store.move_session(session_id, client_id, rejudged=report, profile=client.profile)
    # The database is the record; the folder's files follow it for downloads. Each is
    # written whole or not at all, so a full disk here leaves the old files readable.
    try:
        write_judgement(folder, report, analysis)
        (folder / "report.html").unlink(missing_ok=True)  # made again, with the client's name
    except OSError as err:
        logging.getLogger(__name__).error(
            "session %s moved; files not rewritten: %s", session_id, err
        )
    return summary
