"""Run an iterator in a background thread, a few items ahead of its consumer.

Decoding (FFmpeg) and inference (MediaPipe) both release the GIL, so reading the next
frames while the model works on this one uses the second core. The queue is bounded:
memory stays flat however long the video.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(source: Iterator[T], depth: int = 4) -> Generator[T, None, None]:
    """Yield the items of `source`, produced in a worker thread at most `depth` ahead.

    An exception in the worker is raised in the consumer at the point it happened. Closing
    the returned generator early stops the worker and closes `source`.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put(item):
                    break
        except BaseException as exc:  # handed to the consumer
            put(_Failure(exc))
            return
        finally:
            close = getattr(source, "close", None)
            if close is not None and stop.is_set():
                close()
        put(_DONE)

    worker = threading.Thread(target=work, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5.0)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
