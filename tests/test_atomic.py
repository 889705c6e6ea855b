"""The one atomic writer: readers see the old file or the whole new one, never half."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics.atomic import atomic_write


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    final = tmp_path / "report.json"
    final.write_text("old", "utf-8")

    def half(p: Path) -> None:
        p.write_text("half of the new", "utf-8")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(final, half)
    assert final.read_text("utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    atomic_write(final, lambda p: p.write_text("new", "utf-8"))
    assert final.read_text("utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_the_temporary_keeps_the_suffix_a_writer_needs(tmp_path: Path) -> None:
    final = tmp_path / "track.npz"
    atomic_write(final, lambda p: np.savez(p, x=np.arange(3)))  # savez adds .npz otherwise
    assert np.load(final)["x"].tolist() == [0, 1, 2]
    seen: list[str] = []
    atomic_write(
        tmp_path / "m.task", lambda p: seen.append(p.name) or p.write_bytes(b"1"), suffix=".part"
    )
    assert seen[0].startswith(".m.task.") and seen[0].endswith(".part")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.task", "track.npz"]
