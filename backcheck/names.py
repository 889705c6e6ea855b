"""Which files backcheck takes as video, and the safe label made from a file's name: for
uploads (backcheck.ui.uploads) and batch inputs (backcheck.batch_inputs) alike."""

from __future__ import annotations

import re
import unicodedata

from metrics.errors import AnalysisError

VIDEO_TYPES = ("mp4", "mov", "m4v", "webm", "avi")
MAX_NAME = 80


def safe_filename(name: str, default: str = "video") -> str:
    """A display name safe anywhere: no folders, ASCII letters, digits, ``._-`` only.

    ``"../../etc/passwd"`` → ``"passwd"``; ``"Kim's squat (1).MOV"`` → ``"Kim_s_squat_1.MOV"``.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = re.sub(r"\.{2,}", ".", stem).strip("._-")
    ext = ext.strip("._-")[:8]
    if not stem:
        stem, ext = (ext, "") if ext else (default, "")
    stem = stem[: MAX_NAME - len(ext) - 1].rstrip("._-") or default
    return f"{stem}.{ext}" if ext else stem


def video_suffix(name: str) -> str:
    """The lower-case suffix of an accepted video name, or `AnalysisError`."""
    stem, dot, ext = safe_filename(name).rpartition(".")
    ext = ext.lower()
    if not (stem and dot) or ext not in VIDEO_TYPES:
        raise AnalysisError(
            f"{safe_filename(name)} is not a video backcheck reads; "
            f"upload one of: {', '.join(VIDEO_TYPES)}."
        )
    return "." + ext
