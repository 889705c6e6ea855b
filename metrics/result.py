"""What an exercise's rules return to `metrics.analysis`: one type, its own module.

metrics.hinge and metrics.plank build it and metrics.analysis reads it; keeping it here
lets analysis import the exercise rules at the top without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metrics.report import Flag, Hold, Rep


@dataclass(frozen=True, eq=False)
class ExerciseResult:
    """What an exercise's rules found: reps or a hold, flags, and per-frame columns."""

    reps: list[Rep]
    hold: Hold | None
    flags: list[Flag]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
