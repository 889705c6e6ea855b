"""Draw the evidence on video frames: skeleton, back line, angle readouts, flagged moments."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metrics.landmarks import SKELETON

_GOOD = (80, 200, 120)
_ALERT = (235, 70, 60)
_BACK = (255, 200, 40)
_TEXT = (255, 255, 255)
_PANEL = (20, 20, 20)


@dataclass(frozen=True)
class FrameNotes:
    """What to write on one frame: readout lines, and an alert while a flag is active."""

    readouts: tuple[str, ...]
    alert: str | None = None


def readout_panel(
    exercise: str,
    head: str | None = None,
    *,
    trunk: float = math.nan,
    hip: float = math.nan,
    knee: float = math.nan,
    plank_line: float = math.nan,
    neck: float = math.nan,
    back_bend: float = math.nan,
) -> list[str]:
    """The readout lines on a frame, for uploads (vision.render) and live alike: `head`
    (the rep or hold), then the exercise's angles in whole degrees ("--" unknown), then
    the back's bend when known."""

    def deg(v: float) -> str:
        return "--" if not np.isfinite(v) else f"{v:.0f}"

    lines = [head] if head else []
    if exercise == "plank":
        lines += [f"Body line {deg(plank_line)} deg", f"Neck {deg(neck)} deg"]
    else:
        lines += [f"Trunk {deg(trunk)} deg", f"Hip {deg(hip)} deg", f"Knee {deg(knee)} deg"]
    if np.isfinite(back_bend):
        lines.append(f"Back bend {back_bend:+.0f} deg")
    return lines


class SkeletonAnnotator:
    """Draws one person's skeleton, their back edge and the readouts onto an RGB frame."""

    def __init__(self, min_visibility: float = 0.5, scale: float | None = None) -> None:
        self.min_visibility = min_visibility
        self.scale = scale

    def annotate(
        self,
        rgb: np.ndarray,
        image_xy: np.ndarray | None,
        visibility: np.ndarray | None,
        back: np.ndarray | None,
        notes: FrameNotes,
        *,
        in_place: bool = False,
    ) -> np.ndarray:
        """Return `rgb` drawn on; coordinates are in the frame's pixels.

        Draws on a copy unless `in_place` (for frames nobody else holds).
        """
        import cv2

        out = rgb if in_place and rgb.flags.c_contiguous and rgb.flags.writeable else rgb.copy()
        h, w = out.shape[:2]
        s = self.scale or max(h, w) / 720.0
        thick = max(1, int(round(2 * s)))
        colour = _ALERT if notes.alert else _GOOD
        if image_xy is not None and visibility is not None:
            ok = np.isfinite(image_xy[:, 0]) & (np.nan_to_num(visibility) >= self.min_visibility)
            for a, b in SKELETON:
                if ok[a] and ok[b]:
                    pa = tuple(int(v) for v in image_xy[a, :2])
                    pb = tuple(int(v) for v in image_xy[b, :2])
                    cv2.line(out, pa, pb, colour, thick, cv2.LINE_AA)
            for i in np.flatnonzero(ok):
                c = tuple(int(v) for v in image_xy[i, :2])
                cv2.circle(out, c, thick + 1, _TEXT, -1, cv2.LINE_AA)
        if back is not None:
            pts = back[np.isfinite(back).all(axis=1)]
            if len(pts) >= 2:
                cv2.polylines(out, [pts.astype(np.int32)], False, _BACK, thick, cv2.LINE_AA)
        font = cv2.FONT_HERSHEY_SIMPLEX
        fs = 0.55 * s
        line_h = int(24 * s)
        lines = list(notes.readouts)
        if lines:
            width = max(cv2.getTextSize(t, font, fs, 1)[0][0] for t in lines) + int(16 * s)
            cv2.rectangle(out, (0, 0), (width, line_h * len(lines) + int(8 * s)), _PANEL, -1)
            for k, text in enumerate(lines):
                y = int(line_h * (k + 1))
                cv2.putText(out, text, (int(8 * s), y), font, fs, _TEXT, 1, cv2.LINE_AA)
        if notes.alert:
            cv2.rectangle(out, (0, 0), (w - 1, h - 1), _ALERT, max(3, int(6 * s)))
            tw, th = cv2.getTextSize(notes.alert, font, fs * 1.1, 2)[0]
            y0 = h - int(12 * s) - th
            cv2.rectangle(out, (0, y0 - int(8 * s)), (tw + int(16 * s), h), _ALERT, -1)
            cv2.putText(
                out,
                notes.alert,
                (int(8 * s), h - int(12 * s)),
                font,
                fs * 1.1,
                _TEXT,
                2,
                cv2.LINE_AA,
            )
        return out


_CUE_BG = (30, 90, 160)
_CUE_TEXT = (255, 255, 255)


def draw_cue(out: np.ndarray, text: str) -> None:
    """Write `text` in a calm banner across the bottom of `out`, wrapped to fit (in place)."""
    import cv2

    h, w = out.shape[:2]
    s = max(h, w) / 720.0
    font, fs, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.6 * s, max(1, int(round(1.5 * s)))
    pad = int(10 * s)
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(trial, font, fs, thick)[0][0] <= w - 2 * pad:
            lines[-1] = trial
        else:
            lines.append(word)
    line_h = int(cv2.getTextSize("Ag", font, fs, thick)[0][1] * 1.8)
    top = h - pad - line_h * len(lines)
    cv2.rectangle(out, (0, top - pad), (w - 1, h - 1), _CUE_BG, -1)
    for k, line in enumerate(lines):
        y = top + line_h * (k + 1) - line_h // 4
        cv2.putText(out, line, (pad, y), font, fs, _CUE_TEXT, thick, cv2.LINE_AA)
