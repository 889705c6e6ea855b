"""Joining a Ray cluster that is not there: one line at once, not minutes of waiting."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def _serve_once(reply: bytes | None) -> tuple[int, threading.Thread, socket.socket]:
    """A local server that accepts one connection and sends `reply` (None: says nothing)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            if reply is not None:
                conn.sendall(reply)
            time.sleep(1.5)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return server.getsockname()[1], thread, server


@pytest.mark.parametrize(
    "reply",
    [None, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", b"SSH-2.0-OpenSSH_9\r\n"],
)
def test_a_port_that_answers_but_is_not_ray_is_refused(reply: bytes | None) -> None:
    """Ray's own join waits minutes on such an address; backcheck says so at once."""
    port, thread, server = _serve_once(reply)
    started = time.monotonic()
    with server, pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{port} answers, but"):
        check_reachable(f"127.0.0.1:{port}", timeout_s=1.0)
    assert time.monotonic() - started < 3.0
    thread.join(timeout=5)


def test_a_server_that_speaks_http2_passes() -> None:
    settings = bytes([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100])  # SETTINGS frame
    port, thread, server = _serve_once(settings)
    with server:
        check_reachable(f"127.0.0.1:{port}", timeout_s=2.0)
    thread.join(timeout=5)


def test_a_real_ray_head_passes() -> None:
    """`ray start --head` on a free port: its GCS answers the HTTP/2 preface."""
    port = _closed_port()
    temp = tempfile.mkdtemp(prefix="bc-ray-")  # short: Ray's socket paths have a limit
    ray_cli = Path(sys.executable).parent / "ray"
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
         "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                check_reachable(f"127.0.0.1:{port}", timeout_s=2.0)
                break
            except ConnectionError:
                assert head.poll() is None, "ray start --head exited"
                assert time.monotonic() < deadline, "the Ray head never answered"
                time.sleep(1.0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


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
