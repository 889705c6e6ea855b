"""The live cue rationer: one cue at a time, held long enough to read, never flickering."""

from __future__ import annotations

import numpy as np

from metrics.cue_ration import CueRationer, live_cue_text
from metrics.cues import choose_cues, cue_line, cue_table, fault_priority
from metrics.profile import ClientProfile
from metrics.report import Flag, Rep, ViewInfo
from metrics.thresholds import flag_direction, load_defaults

FPS = 30.0


def _run(rationer: CueRationer, t_end: float, events=None, active=None):  # type: ignore[no-untyped-def]
    """Feed frames at 30 fps; `events(t)` / `active(t)` give the codes raised at t."""
    shown = []
    for i in range(int(round(t_end * FPS)) + 1):
        t = i / FPS
        cue = rationer.update(
            t, events=events(t) if events else (), active=active(t) if active else ()
        )
        shown.append((t, None if cue is None else cue.code))
    return shown


def _spans(shown: list[tuple[float, str | None]]) -> list[tuple[str, float, float]]:
    """(code, first t, last t) of each uninterrupted stretch a cue was on screen."""
    spans: list[tuple[str, float, float]] = []
    for t, code in shown:
        if code is None:
            continue
        if spans and spans[-1][0] == code and abs(spans[-1][2] - (t - 1 / FPS)) < 1e-6:
            spans[-1] = (code, spans[-1][1], t)
        else:
            spans.append((code, t, t))
    return spans


def test_one_frame_event_is_held_for_the_minimum_time() -> None:
    shown = _run(
        CueRationer(), 8.0, events=lambda t: ["spine_flexion"] if abs(t - 1.0) < 1e-6 else []
    )
    spans = _spans(shown)
    assert len(spans) == 1
    code, start, end = spans[0]
    assert code == "spine_flexion"
    assert start == 1.0
    # On screen for min_show_s (its last frame is one frame before 4.0 s), then gone.
    assert abs(end + 1 / FPS - start - 3.0) < 1e-6


def test_flickering_state_gives_one_steady_cue() -> None:
    rng = np.random.default_rng(3)
    flicker = rng.random(10_000) < 0.5

    def active(t: float) -> list[str]:
        i = int(round(t * FPS))
        if t < 2.0:
            return ["hip_sag"]  # a clear sag, then on/off every frame or two
        return ["hip_sag"] if t < 6.0 and flicker[i] else []

    spans = _spans(_run(CueRationer(), 12.0, active=active))
    assert len(spans) == 1, spans
    code, start, end = spans[0]
    assert code == "hip_sag"
    assert abs(start - 0.5) < 1.5 / FPS  # counted after 0.5 s of a steady sag
    # The flicker itself never counts (it never lasts 0.5 s), so the cue goes 3 s after
    # the steady stretch ended, and stays on without a gap until then.
    assert abs(end - 5.0) < 1.5 / FPS


def test_short_glitch_is_never_shown() -> None:
    spans = _spans(
        _run(CueRationer(), 6.0, active=lambda t: ["hip_pike"] if 1.0 <= t < 1.3 else [])
    )
    assert spans == []


def test_second_fault_waits_for_the_first_to_finish() -> None:
    def events(t: float) -> list[str]:
        if abs(t - 1.0) < 1e-6:
            return ["knee_dominant"]
        if abs(t - 2.0) < 1e-6:
            return ["hips_rise_early"]
        return []

    spans = _spans(_run(CueRationer(), 10.0, events=events))
    assert [s[0] for s in spans] == ["knee_dominant", "hips_rise_early"]
    assert spans[0][1] == 1.0
    # The first gets its full three seconds; the second follows at once and gets its own.
    assert abs(spans[1][1] - 4.0) < 1.5 / FPS
    assert spans[1][2] + 1 / FPS - spans[1][1] >= 3.0 - 1e-6


def test_most_important_fault_first_and_stale_faults_dropped() -> None:
    def events(t: float) -> list[str]:
        if abs(t - 1.0) < 1e-6:
            return ["knee_dominant", "spine_flexion"]
        return []

    spans = _spans(_run(CueRationer(), 12.0, events=events))
    # Rounding is shown first; the knee cue was raised once, 3 s before it could be shown,
    # and is dropped rather than shown late.
    assert [s[0] for s in spans] == ["spine_flexion"]


def test_fault_that_keeps_happening_keeps_its_cue() -> None:
    spans = _spans(
        _run(
            CueRationer(),
            15.0,
            events=lambda t: ["spine_flexion"] if abs(t % 2.0) < 1e-6 and t <= 10 else [],
        )
    )
    assert len(spans) == 1
    assert spans[0][1] == 0.0
    assert abs(spans[0][2] - 13.0) < 1.5 / FPS


def test_cue_text_comes_from_the_table_and_the_profile() -> None:
    table = cue_table()
    assert live_cue_text("spine_flexion") == table["spine_flexion"]["cue"]
    strict = ClientProfile(flexion_intolerant=True)
    assert live_cue_text("spine_flexion", strict) == table["spine_flexion"]["intolerant"]
    assert live_cue_text("hip_sag", ClientProfile(extension_intolerant=True)) == (
        table["hip_sag"].get("intolerant", table["hip_sag"]["cue"])
    )
    cue = CueRationer(profile=strict).update(0.0, events=["spine_flexion"])
    assert cue is not None and cue.text == table["spine_flexion"]["intolerant"]
    # Words that lead with what to do, never a verdict on the person.
    for code in ("spine_flexion", "spine_extension", "knee_dominant", "hip_sag", "hip_pike"):
        text = live_cue_text(code).lower()
        assert not any(w in text for w in ("bad", "wrong", "ugly", "broken"))


def _flag(code: str, rep: int, severity: str) -> Flag:
    return Flag(code, severity, rep, rep * 3.0, rep * 3.0 + 1.0, rep * 3.0 + 2.0, 25.0, 10.0)  # type: ignore[arg-type]


def test_upload_and_live_rank_faults_the_same_way() -> None:
    """cues.toml's `priority` orders both: a rounded back on one mild rep comes before a
    squatted hinge marked on every rep, in the report's cues and on the live screen."""
    table = cue_table()
    codes = load_defaults()["flags"]
    # every flag has a cue, a priority and a direction, and no two share a priority
    assert set(codes) <= set(table)
    priorities = [fault_priority(code) for code in codes]
    assert len(set(priorities)) == len(priorities) and max(priorities) < 100
    order = sorted(codes, key=fault_priority)
    assert order[0] == "spine_flexion"  # the back first (coaching.md)
    hinge = ["knee_dominant", "hips_rise_early", "spine_extension", "spine_flexion"]
    flags = [_flag("knee_dominant", r, "marked") for r in range(1, 6)]
    flags += [_flag("hips_rise_early", 2, "marked"), _flag("spine_extension", 3, "mild")]
    flags += [_flag("spine_flexion", 4, "mild")]
    reps = [Rep(r, 3.0 * r, 3.0 * r + 1, 3.0 * r + 2, {}, []) for r in range(1, 6)]
    cues = choose_cues("hinge", reps, None, flags, ViewInfo("side", "left", True, None))
    upload = [c.code for c in cues[1:]]
    assert upload == [c for c in order if c in hinge][:2] == ["spine_flexion", "spine_extension"]
    # Live: all four raised at once; the screen shows them one after another, in rank.
    shown = _spans(_run(CueRationer(), 30.0, events=lambda t: hinge if t < 2.5 else []))
    assert [s[0] for s in shown][:1] == upload[:1]
    rationer = CueRationer()
    rationer.update(0.0, events=["knee_dominant", "spine_extension"])
    assert rationer.current is not None and rationer.current.code == "spine_extension"


def test_direction_comes_from_thresholds_toml() -> None:
    flags = load_defaults()["flags"]
    for code, spec in flags.items():
        assert flag_direction(code) == spec["direction"]
    # the intolerant wording follows the flag's direction, upload and live alike
    strict = ClientProfile(extension_intolerant=True)
    assert cue_line("spine_extension", strict) == cue_table()["spine_extension"]["intolerant"]
    assert cue_line("spine_flexion", strict) == cue_table()["spine_flexion"]["cue"]
