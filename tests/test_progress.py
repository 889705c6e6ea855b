"""The stage and time-left line the CLI bar and the app's progress bar show."""

from __future__ import annotations

import pytest

from backcheck.progress import ProgressClock, format_time_left


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_is_said_as_a_person_would() -> None:
    assert format_time_left(0.4) == "almost done"
    assert format_time_left(7.2) == "about 7 s left"
    assert format_time_left(23.0) == "about 25 s left"
    assert format_time_left(80.0) == "about 1 min left"
    assert format_time_left(200.0) == "about 3 min left"
    assert format_time_left(1900.0) == "about 30 min left"


def test_no_estimate_until_enough_is_done() -> None:
    t = FakeClock()
    clock = ProgressClock(clock=t)
    assert clock.line(0.0, "loading the pose model") == "Loading the pose model"
    t.now += 0.5
    assert clock.line(0.2, "finding the lifter (1.0 s)") == "Finding the lifter (1.0 s)"
    t.now += 3.0
    assert clock.time_left_s(0.01) is None  # under 5 % done


def test_steady_pace_gives_the_true_time_left() -> None:
    t = FakeClock()
    clock = ProgressClock(clock=t)
    # 40 s of work at a steady pace, reported every half second.
    for step in range(1, 41):
        t.now += 0.5
        left = clock.time_left_s(step / 80)
    assert left == pytest.approx(20.0, rel=0.01)
    assert clock.line(0.5, "finding the lifter") == "Finding the lifter · about 20 s left"
    assert clock.line(1.0, "done") == "Done"


def test_a_slower_stage_is_followed_within_a_few_seconds() -> None:
    """The bar gives drawing 10 % of its width; when drawing is as slow as the pose pass
    the estimate follows the recent pace, not the average since the start."""
    t = FakeClock()
    clock = ProgressClock(clock=t)
    for step in range(1, 91):  # the pose pass: 0 → 90 % in 9 s
        t.now += 0.1
        clock.time_left_s(step / 100)
    for step in range(1, 61):  # drawing: 90 → 96 % in 6 s (1 % a second)
        t.now += 0.1
        left = clock.time_left_s(0.9 + step / 1000)
    assert left == pytest.approx(4.0, rel=0.05)  # 4 % left at 1 % a second
    # The average since the start would have said 15 s x 4/96 = 0.6 s.
