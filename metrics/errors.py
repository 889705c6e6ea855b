"""The one exception type a coach sees: a one-line reason, no traceback."""

from __future__ import annotations


class AnalysisError(Exception):
    """Input that cannot be analysed; `str()` is a one-line reason a coach understands."""
