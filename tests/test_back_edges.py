"""The back's outline from the hip to the neck: vision.pose.back_edges on drawn masks, and
the neck stations in a saved track (additive: old tracks load with NaN there).

A lifter bent over with the trunk horizontal, facing image-left: hip at x = 500, shoulder
at x = 300 on the line y = 300, so stations s sit at x = 500 − 200 s and the back is up
(side 1, smaller y). Every expected edge is read off the drawing's own formulas.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from metrics.landmarks import Landmark
from metrics.track import BACK_STATIONS, SHOULDER_STATION, TRUNK_STATIONS, PoseTrack
from vision.pose import back_edges

H, W = 600, 800
HIP_X, SH_X, LINE_Y = 500.0, 300.0, 300.0
BACK_Y = 260.0  # a flat back 40 px above the hip–shoulder line
NECK_TOP, NECK_BOTTOM = 275.0, 320.0
# The rays are sampled every ~2.5 px here (0.6 and 1.1 torso lengths in 48 and 88 steps)
# and a drawn mask is sharp, so an edge is placed to within one step.
STEP = 2.6


def _landmarks() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((33, 3), np.nan, np.float32)
    vis = np.zeros(33, np.float32)
    image[Landmark.LEFT_HIP] = (HIP_X, LINE_Y, 0.0)
    image[Landmark.LEFT_SHOULDER] = (SH_X, LINE_Y, 0.0)
    vis[[Landmark.LEFT_HIP, Landmark.LEFT_SHOULDER]] = 1.0
    return image, vis


def _station_x(s: np.ndarray | float) -> np.ndarray:
    return HIP_X - (HIP_X - SH_X) * np.asarray(s, np.float64)


def _back_y(x: np.ndarray, hump: float) -> np.ndarray:
    s = np.clip((HIP_X - x) / (HIP_X - SH_X), 0.0, 1.0)
    return BACK_Y - hump * 4.0 * s * (1.0 - s)


def _mask(hump: float, head: str, neck: tuple[float, float] = (NECK_TOP, NECK_BOTTOM)):
    """Trunk from the hip to the shoulder (dorsal edge `_back_y`, belly at y = 340), a neck
    band from the shoulder on toward the head, and a head disc: "up" (raised above the
    line, looking ahead) or "down" (hanging below it)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64) + 0.5
    trunk = (xx >= 295) & (xx <= 520) & (yy >= _back_y(xx, hump)) & (yy <= 340)
    neckband = (xx >= 190) & (xx < 300) & (yy >= neck[0]) & (yy <= neck[1])
    cx, cy, r = HEAD[head]
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
    return (trunk | neckband | disc).astype(np.float32)


HEAD = {"up": (215.0, 240.0, 30.0), "down": (255.0, 350.0, 35.0)}


def _head_top(x: np.ndarray, head: str) -> np.ndarray:
    cx, cy, r = HEAD[head]
    inside = np.abs(x - cx) < r
    return np.where(inside, cy - np.sqrt(np.maximum(r**2 - (x - cx) ** 2, 0.0)), np.inf)


@pytest.mark.parametrize("hump", [0.0, 30.0])
@pytest.mark.parametrize("head", ["up", "down"])
def test_edges_follow_the_drawn_back_and_neck(hump: float, head: str) -> None:
    image, vis = _landmarks()
    edges = back_edges(_mask(hump, head), image, vis)
    assert edges.shape == (len(BACK_STATIONS), 2, 2)
    back = edges[:, 1]  # facing image-left: the back is on side 1
    x = _station_x(BACK_STATIONS)
    np.testing.assert_allclose(back[:, 0], x, atol=1e-3)  # on each station's normal
    # hip … shoulder: the first crossing above the line, the back's drawn edge
    trunk = slice(0, TRUNK_STATIONS)
    np.testing.assert_allclose(back[trunk, 1], _back_y(x[trunk], hump), atol=STEP)
    # past the shoulder: the outermost crossing, the neck's top or a raised head above it
    neck = slice(TRUNK_STATIONS, None)
    expected = np.minimum(NECK_TOP, _head_top(x[neck], head))
    np.testing.assert_allclose(back[neck, 1], expected, atol=STEP)
    if head == "up":
        assert back[-1, 1] < NECK_TOP - 20.0  # station 1.4 is on the back of the raised head
    else:
        np.testing.assert_allclose(back[neck, 1], NECK_TOP, atol=STEP)


def test_a_neck_below_the_line_is_found_on_the_chest_side() -> None:
    # A hanging head and neck: the hip→shoulder line's extension runs over the neck,
    # outside the body, so the edge lies on the other side of the line (y > 300).
    image, vis = _landmarks()
    edges = back_edges(_mask(0.0, "down", neck=(315.0, 345.0)), image, vis)
    np.testing.assert_allclose(edges[TRUNK_STATIONS:, 1, 1], 315.0, atol=STEP)


def test_the_trunk_stations_read_as_before_and_misses_are_nan() -> None:
    image, vis = _landmarks()
    mask = _mask(0.0, "down")
    edges = back_edges(mask, image, vis)
    # the chest side (side 0, down) of the trunk: the belly at y = 340
    np.testing.assert_allclose(edges[:TRUNK_STATIONS, 0, 1], 340.0, atol=STEP)
    assert SHOULDER_STATION == TRUNK_STATIONS - 1
    assert BACK_STATIONS[SHOULDER_STATION] == 1.0
    # no neck or head: the rays past the shoulder meet nothing
    bare = mask.copy()
    bare[:, :295] = 0.0
    edges = back_edges(bare, image, vis)
    assert np.isnan(edges[TRUNK_STATIONS + 1 :]).all()
    assert np.isfinite(edges[:TRUNK_STATIONS, 1]).all()
    # a body that runs on past the search (the ray ends inside it) is no edge
    solid = mask.copy()
    solid[:, :300] = 1.0
    edges = back_edges(solid, image, vis)
    assert np.isnan(edges[TRUNK_STATIONS:, 1]).all()


# --- the neck stations in a saved track ---------------------------------------------------

OLD_TRACK = Path(__file__).resolve().parent / "data" / "tracks" / "hinge" / "0016c_1.npz"


def test_a_track_saved_before_the_neck_stations_loads_with_nan_there() -> None:
    track = PoseTrack.load(OLD_TRACK)
    assert track.back_contour is not None
    assert track.back_contour.shape == (len(track), len(BACK_STATIONS), 2)
    assert np.isnan(track.back_contour[:, TRUNK_STATIONS:]).all()
    with np.load(OLD_TRACK) as z:
        np.testing.assert_array_equal(track.back_contour[:, :TRUNK_STATIONS], z["back_contour"])


def test_the_neck_stations_survive_a_save_and_old_readers_still_find_the_trunk(
    tmp_path: Path,
) -> None:
    n = 4
    contour = np.arange(n * len(BACK_STATIONS) * 2, dtype=np.float32).reshape(n, -1, 2)
    track = PoseTrack(
        t=np.arange(n) / 30.0,
        image=np.zeros((n, 33, 3), np.float32),
        world=np.zeros((n, 33, 3), np.float32),
        visibility=np.ones((n, 33), np.float32),
        width=64,
        height=64,
        back_contour=contour,
    )
    path = tmp_path / "t.npz"
    track.save(path)
    back = PoseTrack.load(path)
    assert back.back_contour is not None
    np.testing.assert_array_equal(back.back_contour, contour)
    # the file keeps hip … shoulder under the original key and shape
    with np.load(path) as z:
        assert z["back_contour"].shape == (n, TRUNK_STATIONS, 2)
        assert z["back_contour_neck"].shape == (n, len(BACK_STATIONS) - TRUNK_STATIONS, 2)
    # a contour of the trunk stations only is padded, as from an old track
    short = replace(track, back_contour=contour[:, :TRUNK_STATIONS])
    assert short.back_contour is not None
    assert short.back_contour.shape == contour.shape
    assert np.isnan(short.back_contour[:, TRUNK_STATIONS:]).all()
