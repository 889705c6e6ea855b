"""Flag thresholds as data (thresholds.toml), tightened or relaxed by a client profile."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
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
    scale: float = 1.0  # the profile's multiplier already applied to mild and marked

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


@cache
def _default_flags() -> dict[str, Any]:
    return load_defaults()["flags"]


def flag_direction(code: str) -> Direction:
    """Which way of moving the spine a flag guards (thresholds.toml `direction`)."""
    spec = _default_flags().get(code, {})
    return spec.get("direction", "none")  # type: ignore[no-any-return]


def intolerant_of(profile: ClientProfile, direction: str) -> bool:
    """Whether the client does not tolerate that direction (flexion or extension)."""
    return (direction == "flexion" and profile.flexion_intolerant) or (
        direction == "extension" and profile.extension_intolerant
    )


def profile_scale(profile: ClientProfile, direction: str, table: dict[str, Any]) -> float:
    """The profile's multiplier for a flag guarding `direction`: strictness for all, and
    the table's `intolerant` factor more for a direction the client does not tolerate."""
    scales = table.get("profile", {})
    k = float(scales.get(profile.strictness, 1.0))
    if intolerant_of(profile, direction):
        k *= float(scales.get("intolerant", 1.0))
    return k


def thresholds_for(
    profile: ClientProfile | None = None, table: dict[str, Any] | None = None
) -> Thresholds:
    """Thresholds scaled for a client: strictness for all, and more for an intolerance."""
    table = table if table is not None else load_defaults()
    profile = profile or ClientProfile()
    out: dict[str, Threshold] = {}
    for code, spec in table["flags"].items():
        direction: Direction = spec.get("direction", "none")
        k = profile_scale(profile, direction, table)
        out[code] = Threshold(
            code=code,
            mild=float(spec["mild"]) * k,
            marked=float(spec["marked"]) * k,
            unit=str(spec.get("unit", "deg")),
            direction=direction,
            scale=k,
        )
    extra = {k: v for k, v in table.items() if k not in ("flags", "profile")}
    return Thresholds(out, extra)
