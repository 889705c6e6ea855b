"""The error raised when no pose model can be had."""

from __future__ import annotations

from metrics.errors import AnalysisError


class ModelUnavailable(AnalysisError):
    """No usable pose model; `str()` is one line saying why and what to do about it.

    A subclass of `AnalysisError` so the CLI and the app report it like any other input
    problem: one line, no traceback.
    """
