"""Make a short clip to try backcheck on, when no video of a lift is at hand.

    python samples/make_clip.py                      # try_hinge.mp4: 3 Romanian deadlifts
    python samples/make_clip.py --rounded try_round.mp4  # the back rounds more each rep

The clip is drawn, not filmed: a flat-coloured figure (blue shirt, dark trousers, bare
arms and head) seen from the side, hinging at the hips with soft knees, on a plain wall
and floor. MediaPipe's pose model finds it as a person, so the whole analysis runs on it:
reps, angles, the annotated video and, with --rounded, a rounded-back flag. It is a
cartoon: use it to see what the tool does, and a real side-on phone video to judge a
lift (see README.md, "Using the app").

Needs backcheck installed (`pip install -e .`): numpy, OpenCV and its video writer.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

SIZE = 720  # square frame, pixels
FPS = 30
PX_PER_M = 300.0
# Segment lengths (metres) and the pose at the bottom of a Romanian deadlift.
TRUNK_M, THIGH_M, SHANK_M, NECK_M = 0.50, 0.45, 0.43, 0.22
BOTTOM = {"trunk": 75.0, "hip": 85.0, "knee": 150.0}
# At the top: tall, hips a touch back and knees soft. MediaPipe loses a dead-upright
# cartoon figure in video mode, and gives its straight knees a visibility of 0.2-0.4
# (the view check then can't judge the clip); soft knees read 0.7.
STAND = {"trunk": 10.0, "hip": 168.0, "knee": 166.0}
# Colours (RGB).
WALL, FLOOR = (200, 205, 210), (120, 100, 80)
SKIN, SHIRT, TROUSERS, SHOES = (224, 172, 140), (40, 90, 170), (45, 45, 55), (240, 240, 240)
HAIR, EYE, EAR = (70, 50, 35), (30, 30, 30), (205, 150, 120)


def _unit(deg: float) -> np.ndarray:
    r = math.radians(deg)
    return np.array([math.cos(r), math.sin(r)])


def hinge_points(
    trunk: float, hip: float, knee: float, round_deg: float = 0.0
) -> dict[str, np.ndarray]:
    """Side-view joint positions (metres, x forward, y up, hip at the origin).

    trunk: lean of hip→shoulder from vertical; hip, knee: 180 = straight. `round_deg`
    bends the upper back forward about the middle of the trunk (a rounded back).
    """
    p = {"hip": np.zeros(2)}
    up = 90.0 - trunk
    p["mid"] = 0.5 * TRUNK_M * _unit(up)
    p["shoulder"] = p["mid"] + 0.5 * TRUNK_M * _unit(up - round_deg)
    thigh = up - hip
    p["knee"] = THIGH_M * _unit(thigh)
    p["ankle"] = p["knee"] + SHANK_M * _unit(thigh + 180.0 + knee)
    p["head"] = p["shoulder"] + NECK_M * _unit(up - 1.5 * round_deg - 10.0)
    p["elbow"] = p["shoulder"] + np.array([0.02, -0.28])  # arms hang
    p["wrist"] = p["elbow"] + np.array([0.02, -0.25])
    shin_up = (p["knee"] - p["ankle"]) / SHANK_M
    forward = np.array([shin_up[1], -shin_up[0]])
    p["heel"] = p["ankle"] - 0.05 * forward - 0.06 * shin_up
    p["toe"] = p["ankle"] + 0.17 * forward - 0.07 * shin_up
    return p


def plank_points(sag_deg: float) -> dict[str, np.ndarray]:
    """A forearm plank facing right, toes at the origin: the hips `sag_deg` below the
    shoulder-ankle line (0: a straight line)."""
    line = 12.0  # the body's rise from the feet to the shoulders
    p = {"toe": np.zeros(2), "ankle": np.array([0.04, 0.09])}
    p["hip"] = p["ankle"] + (THIGH_M + SHANK_M) * _unit(line - 0.6 * sag_deg)
    p["shoulder"] = p["hip"] + TRUNK_M * _unit(line + 0.4 * sag_deg)
    p["knee"] = (p["ankle"] + p["hip"]) / 2
    p["mid"] = (p["hip"] + p["shoulder"]) / 2
    p["heel"] = p["ankle"] + np.array([-0.02, 0.05])
    p["head"] = p["shoulder"] + NECK_M * _unit(line + 0.4 * sag_deg + 8.0)
    p["elbow"] = np.array([p["shoulder"][0], 0.05])  # under the shoulder, on the floor
    p["wrist"] = p["elbow"] + np.array([0.26, 0.0])
    return p


def draw(p: dict[str, np.ndarray], *, feet_x: float = 0.42) -> np.ndarray:
    """One frame (SIZE x SIZE RGB, C-contiguous uint8) of the figure at points `p`
    (metres, y up): on the floor, the feet (ankle) at `feet_x` of the width."""
    img = np.empty((SIZE, SIZE, 3), np.uint8)
    img[:] = WALL
    floor_y = int(SIZE * 0.82)
    img[floor_y:] = FLOOR
    lowest = min(v[1] for v in p.values())
    origin = np.array([SIZE * feet_x - PX_PER_M * p["ankle"][0], floor_y - 8])
    origin[1] += PX_PER_M * lowest
    px = {
        k: (int(x), int(y))
        for k, (x, y) in ((k, origin + PX_PER_M * v * (1, -1)) for k, v in p.items())
    }

    def limb(a: str, b: str, colour: tuple[int, int, int], width: int) -> None:
        cv2.line(img, px[a], px[b], colour, width, cv2.LINE_AA)
        for end in (a, b):
            cv2.circle(img, px[end], width // 2, colour, -1, cv2.LINE_AA)

    limb("heel", "toe", SHOES, 22)
    limb("knee", "ankle", TROUSERS, 40)
    limb("hip", "knee", TROUSERS, 52)
    limb("hip", "mid", SHIRT, 80)
    limb("mid", "shoulder", SHIRT, 76)
    cv2.line(img, px["shoulder"], px["head"], SKIN, 26, cv2.LINE_AA)
    _head(img, np.array(px["head"], float), p["head"] - p["shoulder"])
    limb("shoulder", "elbow", SHIRT, 30)
    limb("elbow", "wrist", SKIN, 24)
    cv2.circle(img, px["wrist"], 14, SKIN, -1, cv2.LINE_AA)
    return img


def _head(img: np.ndarray, centre: np.ndarray, up_m: np.ndarray) -> None:
    """A head with hair at the back, an ear, an eye and a nose, facing right."""
    up = up_m * (1, -1) / np.linalg.norm(up_m)  # image coordinates, y down
    face = np.array([-up[1], up[0]])  # "up" turned a quarter clockwise on screen
    if face[0] < 0:
        face = -face

    def at(fwd: float, upward: float) -> tuple[int, int]:
        x, y = centre + fwd * face + upward * up
        return int(x), int(y)

    angle = math.degrees(math.atan2(up[1], up[0]))
    cv2.circle(img, at(0, 0), 34, SKIN, -1, cv2.LINE_AA)
    # In the ellipse's frame 0 degrees is "up" and +90 the face: hair from the back over
    # the top.
    cv2.ellipse(img, at(-3, 3), (36, 35), angle, -115, 35, HAIR, -1, cv2.LINE_AA)
    cv2.circle(img, at(30, -4), 9, SKIN, -1, cv2.LINE_AA)  # nose
    cv2.circle(img, at(16, 8), 4, EYE, -1, cv2.LINE_AA)
    cv2.circle(img, at(-6, 0), 8, EAR, -1, cv2.LINE_AA)


def depth_curve(reps: int, fps: int = FPS) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, how deep in the hinge (0 standing, 1 bottom) and which rep (0-based):
    a second standing, then each rep 1.2 s down, 0.3 s at the bottom, 1.0 s up and
    0.8 s standing."""
    depth, rep = [np.zeros(fps)], [np.zeros(fps, int)]
    down = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0.0, 1.0, int(1.2 * fps)))
    up = 0.5 - 0.5 * np.cos(np.pi * np.linspace(1.0, 0.0, int(1.0 * fps)))
    one = np.concatenate([down, np.ones(int(0.3 * fps)), up, np.zeros(int(0.8 * fps))])
    for r in range(reps):
        depth.append(one)
        rep.append(np.full(len(one), r))
    return np.concatenate(depth), np.concatenate(rep)


def _write(out: Path, frames: Iterator[np.ndarray]) -> Path:
    from vision.video_write import VideoWriter

    with VideoWriter(out, max_side=None, fps=FPS) as writer:
        n = 0
        for n, rgb in enumerate(frames):
            writer.write(rgb, n / FPS)
        writer.close(end_t=(n + 1) / FPS)
    return out


def make_clip(out: Path, *, reps: int = 3, rounded: bool = False) -> Path:
    """Write an H.264 MP4 of `reps` hinges to `out`; with `rounded` the back rounds more
    on each rep (up to 35 degrees at the bottom of the last)."""
    depth, rep = depth_curve(reps)

    def frames() -> Iterator[np.ndarray]:
        for d, r in zip(depth, rep, strict=True):
            round_deg = 35.0 * d * (r + 1) / reps if rounded else 0.0
            pose = {k: STAND[k] + d * (BOTTOM[k] - STAND[k]) for k in STAND}
            yield draw(hinge_points(**pose, round_deg=round_deg))

    return _write(out, frames())


def make_plank_clip(out: Path, *, hold_s: float = 12.0, sag: bool = False) -> Path:
    """Write an H.264 MP4 of a forearm plank held `hold_s`; with `sag` the hips sink 25
    degrees below the line from halfway on (a sagging plank)."""

    def frames() -> Iterator[np.ndarray]:
        for i in range(int(hold_s * FPS)):
            t = i / FPS
            sink = min(max((t - hold_s / 2) / 1.0, 0.0), 1.0) if sag else 0.0
            yield draw(plank_points(25.0 * sink), feet_x=0.14)

    return _write(out, frames())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw a short clip to try backcheck on.")
    parser.add_argument("out", nargs="?", type=Path, default=None, help="the .mp4 to write")
    parser.add_argument("--reps", type=int, default=3, choices=range(1, 11), metavar="1-10")
    parser.add_argument("--rounded", action="store_true", help="the back rounds more each rep")
    parser.add_argument("--plank", action="store_true", help="a plank held 12 s, not hinges")
    parser.add_argument("--sag", action="store_true", help="with --plank: the hips sag halfway")
    args = parser.parse_args(argv)
    if args.plank:
        out = make_plank_clip(args.out or Path("try_plank.mp4"), sag=args.sag)
    else:
        out = make_clip(args.out or Path("try_hinge.mp4"), reps=args.reps, rounded=args.rounded)
    print(f"Wrote {out}: try `backcheck analyze {out}` or upload it in the app.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
