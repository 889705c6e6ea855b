"""A client's profile: which direction of spinal movement to judge more strictly, and their
own neutral, so flags are relative to the person and not to a textbook picture."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Strictness = Literal["relaxed", "standard", "strict"]


@dataclass(frozen=True)
class ClientProfile:
    """What the coach knows about the client.

    `neutral` holds the client's own baseline measures (e.g. ``{"spine_bend_deg": 6.0}``)
    from a standing clip or the setup frames of an earlier upload; rules subtract it.
    """

    name: str = ""
    flexion_intolerant: bool = False
    extension_intolerant: bool = False
    strictness: Strictness = "standard"
    neutral: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "flexion_intolerant": self.flexion_intolerant,
            "extension_intolerant": self.extension_intolerant,
            "strictness": self.strictness,
            "neutral": dict(self.neutral),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClientProfile:
        strictness = d.get("strictness", "standard")
        if strictness not in ("relaxed", "standard", "strict"):
            raise ValueError(f"strictness must be relaxed, standard or strict, not {strictness!r}")
        return cls(
            name=str(d.get("name", "")),
            flexion_intolerant=bool(d.get("flexion_intolerant", False)),
            extension_intolerant=bool(d.get("extension_intolerant", False)),
            strictness=strictness,
            neutral={str(k): float(v) for k, v in dict(d.get("neutral", {})).items()},
        )

    @classmethod
    def load(cls, path: str | Path) -> ClientProfile:
        """Read a profile from a TOML file (see samples/profile.toml).

        Raises `AnalysisError` with a one-line reason for a missing, unreadable or
        malformed file.
        """
        from metrics.errors import AnalysisError

        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as err:
            raise AnalysisError(f"Profile {path} not found.") from err
        except IsADirectoryError as err:
            raise AnalysisError(f"Profile {path} is a folder, not a .toml file.") from err
        except OSError as err:
            raise AnalysisError(f"Profile {path} can't be read: {err.strerror or err}.") from err
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise AnalysisError(
                f"Profile {path} is not valid TOML ({err}); see samples/profile.toml."
            ) from err
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError, AttributeError) as err:
            raise AnalysisError(
                f"Profile {path} is malformed: {err}; see samples/profile.toml."
            ) from err
