"""Joining a Ray cluster that is not there: one line at once, not minutes of waiting."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from backcheck.batch_ray import check_reachable, cluster_endpoint  # noqa: E402


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("address", "endpoint"),
    [
        ("10.0.0.5:6379", ("10.0.0.5", 6379)),
        ("ray://head.gym.lan:10001", ("head.gym.lan", 10001)),
        ("[::1]:6379", ("::1", 6379)),
        ("auto", None),
        ("local", None),
        ("http://10.0.0.5:8265", None),
    ],
)
def test_explicit_addresses_are_checked_and_ray_resolves_the_rest(
    address: str, endpoint: tuple[str, int] | None
) -> None:
    assert cluster_endpoint(address) == endpoint


def test_a_closed_port_is_refused_at_once() -> None:
    port = _closed_port()
    with pytest.raises(ConnectionError, match=rf"nothing answers at 127\.0\.0\.1:{port}"):
        check_reachable(f"127.0.0.1:{port}")


def test_a_listening_port_passes() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        check_reachable(f"127.0.0.1:{server.getsockname()[1]}")


def test_batch_with_an_unreachable_cluster_says_so_in_one_line(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    port = _closed_port()
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backcheck.cli",
            "batch",
            str(clip),
            "--out",
            str(tmp_path / "o"),
            "--ray",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    waited = time.monotonic() - started
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"backcheck: cannot join the Ray cluster at 127.0.0.1:{port}: "
        f"nothing answers at 127.0.0.1:{port} (connection refused)"
    ]
    assert waited < 60, waited  # Ray's own join would wait minutes


@pytest.mark.ray
def test_a_ray_started_here_leaves_no_session_folder_behind() -> None:
    import ray

    from backcheck import batch_ray

    if ray.is_initialized():
        pytest.skip("this process is already connected to Ray")
    assert batch_ray.connect(None, num_cpus=1)
    try:
        (temp,) = batch_ray._own_temp_dir
        assert any(Path(temp).glob("session_*")), "Ray's session folder is in our own temp dir"
    finally:
        batch_ray.disconnect()
    assert not ray.is_initialized()
    assert not Path(temp).exists()
