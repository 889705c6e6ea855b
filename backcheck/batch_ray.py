"""backcheck on Ray: joining or starting Ray, the batch worker actor, and the app's remote
analysis. Imported only when Ray is used (`pip install "backcheck[scale]"`).

- `connect(address)` joins a running cluster (`auto`, `host:port`, `ray://host:port`) or,
  with no address, starts Ray inside this process (the embedded default).
- `ClipWorker` is a Ray actor owning one core: it keeps its pose model loaded from clip to
  clip. Ray restarts an actor whose process dies and re-runs the call it was running, up to
  `MAX_RETRIES` times; after that the clip is reported as failed.
- `analyze_on_ray` runs one `analyze_video` as a Ray task, for the app's shared-server mode.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray

from backcheck.batch_index import Row
from backcheck.batch_inputs import Job
from metrics.errors import AnalysisError

if TYPE_CHECKING:
    from backcheck.pipeline import AnalysisResult, Progress

# Times a clip is tried again after its worker process died on it.
MAX_RETRIES = 2
# How long a named cluster address may take to accept a connection before we give up:
# Ray's own join waits minutes on an address where nothing answers.
REACH_TIMEOUT_S = 5.0
_connect_lock = threading.Lock()
# The session folder of the Ray this process started itself, removed at `disconnect`
# (Ray leaves one in /tmp/ray per start otherwise).
_own_temp_dir: list[str] = []


def cluster_endpoint(address: str) -> tuple[str, int] | None:
    """(host, port) of an explicit cluster address (`host:port`, `ray://host:port`); None
    for `auto`/`local` and anything Ray resolves itself."""
    rest = address.strip()
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme != "ray":
            return None
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout_s: float = REACH_TIMEOUT_S) -> None:
    """Raise ConnectionError at once when nothing accepts a connection at `address`, or
    when what does is not a Ray cluster (Ray's own join would wait on it for minutes)."""
    endpoint = cluster_endpoint(address)
    if endpoint is None:
        return
    where = f"{endpoint[0]}:{endpoint[1]}"
    try:
        with socket.create_connection(endpoint, timeout=timeout_s) as sock:
            grpc = _speaks_grpc(sock, timeout_s)
    except OSError as err:
        reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise ConnectionError(f"nothing answers at {where} ({reason.lower()})") from err
    if not grpc and os.environ.get("RAY_USE_TLS", "0").lower() not in ("1", "true"):
        raise ConnectionError(f"{where} answers, but it is not a Ray cluster (no gRPC reply)")


# The client's HTTP/2 connection preface and an empty SETTINGS frame (RFC 9113, 3.4).
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_HTTP2_SETTINGS = 4


def _speaks_grpc(sock: socket.socket, timeout_s: float) -> bool:
    """Whether the server on `sock` answers an HTTP/2 preface with its SETTINGS frame, as
    every gRPC server (Ray's GCS and its client server) must first; plain TCP or HTTP/1
    answers otherwise or not at all."""
    sock.settimeout(timeout_s)
    try:
        sock.sendall(_HTTP2_PREFACE)
        head = b""
        while len(head) < 9:  # a frame header: length (3), type (1), flags (1), stream (4)
            chunk = sock.recv(9 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:  # a timeout included: nothing a gRPC server would do
        return False
    return head[3] == _HTTP2_SETTINGS


def connect(address: str | None = None, *, num_cpus: int | None = None) -> bool:
    """Join the Ray cluster at `address`, or start Ray here when `address` is None.

    Returns True when this call started or joined Ray (the caller then shuts it down),
    False when this process was already connected.
    """
    with _connect_lock:
        if ray.is_initialized():
            return False
        quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if address:
            check_reachable(address)
            try:
                ray.init(address=address, **quiet)
            except ValueError as err:  # e.g. ray:// without the `ray[client]` extra
                raise ConnectionError(str(err)) from err
        else:
            temp = tempfile.mkdtemp(prefix="backcheck-ray-")
            _own_temp_dir.append(temp)
            ray.init(num_cpus=num_cpus, include_dashboard=False, _temp_dir=temp, **quiet)
        return True


def disconnect() -> None:
    """Leave Ray; a Ray this process started is stopped and its session folder removed."""
    with _connect_lock:
        ray.shutdown()
        while _own_temp_dir:
            shutil.rmtree(_own_temp_dir.pop(), ignore_errors=True)


def cluster_cpus() -> int:
    """Cores the cluster offers (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _load_model(model: str) -> None:
    """Keep pose models in this process and load `model` now, not at the first clip."""
    from models.provision import resolve_model
    from vision.pose_reuse import keep_estimators, open_estimator

    keep_estimators()
    try:
        with open_estimator(resolve_model(model).path, num_poses=_upload_num_poses()):
            pass
    except Exception:  # reported per clip, with the clip's row
        logging.getLogger(__name__).warning("pose model %s not loaded", model, exc_info=True)


def _upload_num_poses() -> int:
    from backcheck.pipeline import UPLOAD_NUM_POSES

    return UPLOAD_NUM_POSES


@ray.remote(num_cpus=1, max_restarts=MAX_RETRIES, max_task_retries=MAX_RETRIES)
class ClipWorker:
    """One core's worth of batch work, with its pose model loaded once."""

    def __init__(self, model: str, load: bool = True) -> None:
        self.model = model
        if load:
            _load_model(model)

    def pid(self) -> int:
        import os

        return os.getpid()

    def run(self, job: Job, out_root: str, settings: str) -> Row:
        from backcheck.batch_work import run_job

        return run_job(job, Path(out_root), self.model, settings)


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES)
def _analyze_task(video: str, options: dict[str, Any]) -> tuple[str, Any]:
    """`analyze_video` in a Ray worker; bad input comes back as ("error", reason)."""
    from backcheck.pipeline import analyze_video
    from vision.pose_reuse import keep_estimators

    keep_estimators()  # the worker process serves upload after upload
    try:
        return "ok", analyze_video(video, workers=1, **options)
    except AnalysisError as err:
        return "error", str(err)


def analyze_on_ray(
    address: str, video: Path, *, progress: Progress | None = None, **options: Any
) -> AnalysisResult:
    """`analyze_video(video, **options)` run by the Ray cluster at `address`.

    The video and its output folder must be on storage the cluster's nodes share (one
    gym server: its own disk). Raises `AnalysisError` for bad input, as locally.
    """
    try:
        connect(address)
    except (ConnectionError, RuntimeError) as err:
        logging.getLogger(__name__).error("cannot join Ray at %s: %s", address, err)
        raise AnalysisError(
            f"The shared analysis server (Ray at {address}) cannot be reached; "
            "ask whoever runs it to start it, or unset BACKCHECK_RAY_ADDRESS."
        ) from err
    say = progress or (lambda fraction, label: None)
    say(0.0, "sent to the shared server")
    ref = _analyze_task.remote(str(video), options)
    started = time.monotonic()
    while True:
        ready, _ = ray.wait([ref], timeout=0.5)
        if ready:
            break
        waited = time.monotonic() - started
        say(min(0.95, waited / (waited + 30.0)), f"analysing on the shared server ({waited:.0f} s)")
    try:
        status, value = ray.get(ref)
    except ray.exceptions.RayError as err:
        logging.getLogger(__name__).error("remote analysis failed: %s", err)
        raise AnalysisError(
            "The shared server could not analyse this video (its worker stopped); try again."
        ) from err
    if status == "error":
        raise AnalysisError(value)
    say(1.0, "done")
    return value  # type: ignore[no-any-return]
