"""`backcheck evaluate`: scoring against clips.csv rows, on saved real tracks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from backcheck.evaluation.hinge import HINGE_FLAGS, evaluate_hinge, format_hinge
from metrics.track import PoseTrack

TRACKS = Path(__file__).resolve().parent / "data" / "tracks" / "hinge"
FIELDS = ["file", "kind", "view", "reps", *HINGE_FLAGS]


def _clips(tmp_path: Path, rows: list[dict[str, str]], fields: list[str] = FIELDS) -> Path:
    """A clips.csv of `rows` (only `fields`) in `tmp_path`."""
    with open(tmp_path / "clips.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    return tmp_path


def _source(clip: Path) -> PoseTrack:
    return PoseTrack.load(TRACKS / f"{clip.stem}.npz")


def _row(stem: str, view: str, reps: str, **flags: str) -> dict[str, str]:
    return {"file": f"clips/x/{stem}.mp4", "kind": "hinge", "view": view, "reps": reps, **flags}


def test_scores_reps_flags_and_views(tmp_path: Path) -> None:
    rows = [
        # the saved cuts hold 3 reps of these 10-rep sets
        _row("0016r_1", "side", "3", spine_flexion="marked", spine_extension="none"),
        _row("0016c_1", "side", "3", spine_flexion="none", knee_dominant="no"),
        # a deliberately wrong label: a miss, and a false flag
        _row("0016k_1", "side", "4", knee_dominant="no", hips_rise_early="yes"),
        _row("0016c_2", "oblique", "3", spine_flexion="none"),
        _row("yfgd_good_02", "side", "1", spine_extension="marked", spine_flexion="unclear"),
    ]
    results = evaluate_hinge(_clips(tmp_path, rows), _source)
    by = {r.clip: r for r in results}
    assert by["0016r_1"].reps_exact and by["0016c_1"].reps_exact
    assert by["0016k_1"].reps_exact is False
    outcome = {(r.clip, f.code): f.outcome for r in results for f in r.flags}
    assert outcome[("0016r_1", "spine_flexion")] == "hit"
    assert outcome[("0016r_1", "spine_extension")] == "ok"
    assert outcome[("0016c_1", "spine_flexion")] == "ok"
    assert outcome[("0016k_1", "knee_dominant")] == "false"
    assert outcome[("0016k_1", "hips_rise_early")] == "miss"
    assert outcome[("0016c_2", "spine_flexion")] == "abstained"
    assert outcome[("yfgd_good_02", "spine_extension")] == "hit"
    # label "unclear", and the rep says it could not see its bottom (`not_judged`)
    assert outcome[("yfgd_good_02", "spine_flexion")] == "not_judged"
    assert all(r.view_ok for r in results)
    text = format_hinge(results)
    assert "side-view hinge clips with a labelled count: 3/4 (75%)" in text
    assert "| spine_flexion | 1 | 0 | 0 | 1 | 1 |" in text
    assert "| knee_dominant | 0 | 0 | 1 | 1 | 1 |" in text


def test_the_command_writes_markdown_with_its_command_line(tmp_path: Path) -> None:
    from backcheck.evaluation.command import evaluate_command

    clips = _clips(tmp_path, [_row("posereader_bad", "side", "", spine_flexion="marked")])
    out = tmp_path / "docs" / "evaluation.md"
    assert evaluate_command(clips, None, out, "full", source=_source, transforms=[]) == 0
    text = out.read_text(encoding="utf-8")
    assert f"`backcheck evaluate --clips {clips} --transforms none --out {out}`" in text
    assert "| posereader_bad | side → side, judged | -/1 | hit (marked) |" in text
    assert "## Plank clips" in text


def test_a_folder_without_clips_csv_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from backcheck.evaluation.command import evaluate_command

    assert evaluate_command(tmp_path, None, None, "full") == 1
    assert "no clips.csv" in capsys.readouterr().err


@pytest.mark.parametrize("label", ["mild", "marked", "yes"])
def test_positive_labels(label: str) -> None:
    from backcheck.evaluation.labels import POSITIVE

    assert label in POSITIVE


def test_flag_values_outside_the_range_table_are_listed(tmp_path: Path) -> None:
    from backcheck.evaluation.command import _range_table, _values_out_of_range
    from backcheck.evaluation.tracks import Analyses

    table = tmp_path / "ranges.toml"
    table.write_text(
        '[flags.spine_extension]\nmin = -90.0\nmax = 12.0\nmetric = "spine_extension_deg"\n'
        "[flags.spine_flexion]\nmin = -70.0\nmax = 125.0\n",
        encoding="utf-8",
    )
    ranges = _range_table(table)
    assert ranges is not None and set(ranges) == {"spine_extension", "spine_flexion"}
    assert ranges["spine_extension"].metric == "spine_extension_deg"
    assert _range_table(tmp_path / "missing.toml") is None
    clips = [Path(f"clips/x/{s}.mp4") for s in ("yfgd_good_02", "0016r_1")]
    out = _values_out_of_range(Analyses(_source), clips, ranges)
    # yfgd_good_02 leans back well past 12 deg at lockout: its flag and its rep metric
    assert any(o.startswith("yfgd_good_02 spine_extension ") for o in out), out
    assert any(o.startswith("yfgd_good_02 rep 1 spine_extension_deg ") for o in out), out
    assert not any(o.startswith("0016r_1") for o in out), out


def test_cached_copies_are_compared_and_missing_ones_listed(tmp_path: Path) -> None:
    import shutil

    from backcheck.evaluation.command import evaluate_command

    clips = _clips(
        tmp_path,
        [
            _row("posereader_bad", "side", "", spine_flexion="marked"),
            _row("yfgd_good_02", "side", "1", spine_extension="marked"),
            _row("posereader_good", "side", "1", spine_flexion="none"),
        ],
    )
    tracks = tmp_path / "tracks"
    tracks.mkdir()
    for stem in ("posereader_bad", "yfgd_good_02"):
        shutil.copy(TRACKS / f"{stem}.npz", tracks / f"{stem}.npz")
    # a "mirror" track identical to the clip's own: the verdict cannot change
    shutil.copy(TRACKS / "posereader_bad.npz", tracks / "posereader_bad.mirror.npz")
    # and one whose "mirror" is another lift: a changed verdict, named
    shutil.copy(TRACKS / "posereader_good.npz", tracks / "posereader_good.npz")
    shutil.copy(TRACKS / "posereader_bad.npz", tracks / "posereader_good.mirror.npz")
    out = tmp_path / "evaluation.md"
    code = evaluate_command(clips, tracks, out, "full", transforms=["mirror"], cached_only=True)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert f"--tracks {tracks} --transforms mirror --cached-only --out {out}`" in text
    assert "| mirror | 2 | 1/2 (50%) | posereader_good |" in text
    assert "- mirror, posereader_good: rep 1 gains spine_flexion (1 reps → 1 reps: " in text
    assert "mirror: not compared, no cached track (1 clips): yfgd_good_02" in text
    assert "- mirror: verdict unchanged on 1/2 (50%) (target ≥95%): **incomplete**" in text
    assert sorted(p.name for p in tracks.iterdir()) == [
        "posereader_bad.mirror.npz",
        "posereader_bad.npz",
        "posereader_good.mirror.npz",
        "posereader_good.npz",
        "yfgd_good_02.npz",
    ]
