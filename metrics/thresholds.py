"""Flag thresholds as data (thresholds.toml), tightened or relaxed by a client profile."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from metrics.profile import ClientProfile

Direction = Literal["flexion", "extension", "none"]


@dataclass(frozen=True)
class Threshold:
    """When a flag is raised: `mild` and `marked` levels in `unit`."""

    code: str
    mild: float
    marked: float
    unit: str
    direction: Direction

    def severity(self, value: float) -> Literal["mild", "marked"] | None:
        """The severity of a measured value, or None below the mild level."""
        if not value >= self.mild:  # NaN is never a flag
            return None
        return "marked" if value >= self.marked else "mild"


@dataclass(frozen=True)
class Thresholds:
    """All flag thresholds for one client; `[code]` gives one `Threshold`."""

    by_code: dict[str, Threshold]
    extra: dict[str, Any]

    def __getitem__(self, code: str) -> Threshold:
        return self.by_code[code]


def load_defaults() -> dict[str, Any]:
    """The raw default table shipped with the package."""
    text = resources.files("metrics").joinpath("thresholds.toml").read_text("utf-8")
    return tomllib.loads(text)


def thresholds_for(
    profile: ClientProfile | None = None, table: dict[str, Any] | None = None
) -> Thresholds:
    """Thresholds scaled for a client: strictness for all, and more for an intolerance."""
    table = table if table is not None else load_defaults()
    profile = profile or ClientProfile()
    scales = table.get("profile", {})
    base = float(scales.get(profile.strictness, 1.0))
    intolerant = float(scales.get("intolerant", 1.0))
    out: dict[str, Threshold] = {}
    for code, spec in table["flags"].items():
        direction: Direction = spec.get("direction", "none")
        k = base
        if (direction == "flexion" and profile.flexion_intolerant) or (
            direction == "extension" and profile.extension_intolerant
        ):
            k *= intolerant
        out[code] = Threshold(
            code=code,
            mild=float(spec["mild"]) * k,
            marked=float(spec["marked"]) * k,
            unit=str(spec.get("unit", "deg")),
            direction=direction,
        )
    extra = {k: v for k, v in table.items() if k not in ("flags", "profile")}
    return Thresholds(out, extra)
