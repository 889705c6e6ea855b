"""`PoseTrack`: one person's landmarks over time, the input to every analysis."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from metrics.landmarks import N_LANDMARKS

# Stations along the back where vision/ samples the dorsal edge of the person-segmentation
# mask, in hip→shoulder lengths along the near side's hip→shoulder line: from the hip (0)
# to the shoulder landmark (1, index `SHOULDER_STATION`), then on past it over the upper
# thoracic spine and the back of the neck (1.1–1.4, the "neck" stations, added later:
# tracks saved before them read NaN there).
BACK_STATIONS = np.concatenate([np.linspace(0.0, 1.0, 11), np.linspace(1.1, 1.4, 4)])
SHOULDER_STATION = 10
# How many stations a track saved before the neck stations has (hip … shoulder).
TRUNK_STATIONS = SHOULDER_STATION + 1

_FORMAT = "backcheck.track/1"

# One frame for `PoseTrack.from_rows`: (t, image, world, visibility, back_contour, others).
Row = tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int]


@dataclass(frozen=True, eq=False)
class PoseTrack:
    """Landmarks of one person, a row per analysed frame.

    Attributes
    ----------
    t : (T,) float64
        Presentation time of each frame in seconds, from the container, strictly increasing.
    image : (T, 33, 3) float32
        x, y in pixels of the upright frame (y down); z on the same scale as x, relative
        to the hips (MediaPipe's depth estimate). NaN where a landmark is missing.
    world : (T, 33, 3) float32
        Metric coordinates in metres, origin between the hips (MediaPipe world landmarks).
    visibility : (T, 33) float32
        0..1 likelihood that the landmark is visible; NaN where the person was not found.
    width, height : int
        Size of the upright frame the pixels refer to.
    back_contour : (T, K, 2) float32 or None
        Dorsal edge of the segmentation mask at `BACK_STATIONS` (hip to shoulder, then on
        to the back of the neck), in pixels; NaN where the mask gave no edge. None when
        masks were not computed. A contour of the first `TRUNK_STATIONS` only (hip to
        shoulder, as tracks had before the neck stations) is padded with NaN.
    others : (T,) int16
        How many other people were detected in each frame.
    crop : (x0, y0, x1, y1) or None
        The part of the frame (pixels) the lifter was found in by a second, closer look
        (`vision.second_look`: a far, small lifter); None when the whole frame was used.
    followed : (T,) bool
        Frames whose landmarks come from following the lifter through a stretch the pose
        pass lost (`vision.gap_follow`), not from the pass itself.
    """

    t: np.ndarray
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    width: int
    height: int
    back_contour: np.ndarray | None = None
    others: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    crop: tuple[int, int, int, int] | None = None
    followed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        n = len(self.t)
        if self.others.shape == (0,) and n:
            object.__setattr__(self, "others", np.zeros(n, np.int16))
        if self.followed.shape == (0,) and n:
            object.__setattr__(self, "followed", np.zeros(n, bool))
        _expect(self.t, (n,), "t")
        _expect(self.image, (n, N_LANDMARKS, 3), "image")
        _expect(self.world, (n, N_LANDMARKS, 3), "world")
        _expect(self.visibility, (n, N_LANDMARKS), "visibility")
        _expect(self.others, (n,), "others")
        _expect(self.followed, (n,), "followed")
        if self.back_contour is not None:
            object.__setattr__(self, "back_contour", _full_contour(self.back_contour))
            _expect(self.back_contour, (n, len(BACK_STATIONS), 2), "back_contour")
        if n > 1 and not np.all(np.diff(self.t) > 0):
            raise ValueError("PoseTrack.t must be strictly increasing")

    def __len__(self) -> int:
        return len(self.t)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame."""
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0

    @property
    def found(self) -> np.ndarray:
        """(T,) bool: frames in which the person was found at all."""
        return np.isfinite(self.image[:, :, 0]).any(axis=1)

    @classmethod
    def empty(cls, width: int, height: int, with_contour: bool = True) -> PoseTrack:
        """A track with no frames (for a video in which nobody was analysed)."""
        return cls.from_rows([], width, height, with_contour=with_contour)

    @classmethod
    def from_rows(
        cls,
        rows: list[Row],
        width: int,
        height: int,
        with_contour: bool = True,
    ) -> PoseTrack:
        """Stack per-frame rows `(t, image, world, visibility, back_contour, others)`."""
        n = len(rows)
        k = len(BACK_STATIONS)
        t = np.array([r[0] for r in rows], np.float64)
        image = np.full((n, N_LANDMARKS, 3), np.nan, np.float32)
        world = np.full((n, N_LANDMARKS, 3), np.nan, np.float32)
        vis = np.full((n, N_LANDMARKS), np.nan, np.float32)
        contour = np.full((n, k, 2), np.nan, np.float32) if with_contour else None
        others = np.zeros(n, np.int16)
        for i, (_, im, wo, vi, bc, ot) in enumerate(rows):
            image[i], world[i], vis[i] = im, wo, vi
            if contour is not None and bc is not None:
                contour[i, : len(bc)] = bc
            others[i] = ot
        return cls(t, image, world, vis, width, height, contour, others)

    def select(self, index: np.ndarray | slice) -> PoseTrack:
        """The frames picked by a boolean mask, an index array or a slice."""
        bc = None if self.back_contour is None else self.back_contour[index]
        return replace(
            self,
            t=self.t[index],
            image=self.image[index],
            world=self.world[index],
            visibility=self.visibility[index],
            back_contour=bc,
            others=self.others[index],
            followed=self.followed[index],
        )

    def save(self, path: str | Path) -> None:
        """Write the track to a compressed `.npz` so an analysis can be re-run without video."""
        arrays = {
            "format": np.array(_FORMAT),
            "t": self.t,
            "image": self.image,
            "world": self.world,
            "visibility": self.visibility,
            "size": np.array([self.width, self.height], np.int32),
            "others": self.others,
        }
        if self.back_contour is not None:
            # hip … shoulder under the original key, so a reader that predates the neck
            # stations still loads the file; the neck stations under a key of their own
            arrays["back_contour"] = self.back_contour[:, :TRUNK_STATIONS]
            arrays["back_contour_neck"] = self.back_contour[:, TRUNK_STATIONS:]
        if self.crop is not None:
            arrays["crop"] = np.array(self.crop, np.int32)
        if self.followed.any():
            arrays["followed"] = self.followed
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> PoseTrack:
        """Read a track written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            if str(z["format"]) != _FORMAT:
                raise ValueError(f"{path}: not a backcheck track ({z['format']})")
            w, h = (int(v) for v in z["size"])
            contour = None
            if "back_contour" in z.files:
                contour = z["back_contour"].astype(np.float32)
                if "back_contour_neck" in z.files:
                    neck = z["back_contour_neck"].astype(np.float32)
                    contour = np.concatenate([contour, neck], axis=1)
            return cls(
                t=z["t"].astype(np.float64),
                image=z["image"].astype(np.float32),
                world=z["world"].astype(np.float32),
                visibility=z["visibility"].astype(np.float32),
                width=w,
                height=h,
                back_contour=contour,
                others=z["others"].astype(np.int16),
                crop=_box(z["crop"]) if "crop" in z.files else None,
                followed=z["followed"].astype(bool) if "followed" in z.files else np.zeros(0, bool),
            )


def _box(a: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in a)
    return x0, y0, x1, y1


def _full_contour(contour: np.ndarray) -> np.ndarray:
    """`contour` with NaN neck stations added when it stops at the shoulder."""
    c = np.asarray(contour)
    k = len(BACK_STATIONS)
    if c.ndim == 3 and c.shape[1] == TRUNK_STATIONS and c.shape[2] == 2:
        pad = np.full((c.shape[0], k - TRUNK_STATIONS, 2), np.nan, np.float32)
        return np.concatenate([c.astype(np.float32, copy=False), pad], axis=1)
    return contour


def _expect(a: np.ndarray, shape: tuple[int, ...], name: str) -> None:
    if a.shape != shape:
        raise ValueError(f"PoseTrack.{name} has shape {a.shape}, expected {shape}")
