"""`backcheck live`: clear one-line reasons, and a clip replayed as the camera, no window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backcheck.cli import main
from metrics.report import validate_report_dict


def test_missing_camera_is_a_one_line_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--camera", "97", "--no-window"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "backcheck: Camera 97 could not be opened: check it is connected."


def test_no_display_is_a_one_line_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["live", "--camera", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "backcheck: No display for the camera window: run it on a desktop, or pass --no-window."
    )


@pytest.mark.clips
def test_a_clip_replayed_frame_by_frame_gives_the_uploads_reps_and_flags(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = shared_data / "clips" / "deadlift" / "yfgd_good_02.mp4"  # 1 rep, leans back, 4 s
    out = tmp_path / "set"
    args = ["live", "--camera", str(clip), "--no-window", "--every-frame", "--model", "full"]
    code = main([*args, "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    validate_report_dict(report)
    assert report["exercise"] == "hinge"
    assert report["live"] is True
    assert report["source"]["duration_s"] == pytest.approx(4.0, abs=0.5)
    assert len(report["reps"]) == 1
    assert {f["code"] for f in report["flags"]} == {"spine_extension"}  # labelled lean-back
    assert (out / "timeseries.csv").exists() and (out / "track.npz").exists()
    assert "hinge" in capsys.readouterr().out
