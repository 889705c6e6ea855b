"""The one exception type a coach sees: a one-line reason, no traceback.

It lives in metrics/, the bottom layer that imports no other first-party package, so every
layer may raise it: models.errors.ModelUnavailable and vision's BadVideo subclass it.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Input that cannot be analysed; `str()` is a one-line reason a coach understands."""
