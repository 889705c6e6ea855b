"""MediaPipe's import, without the plotting and sound libraries it loads and we never use.

`import mediapipe` runs its package's `__init__`, which imports every task: the vision
tasks' drawing utilities import matplotlib.pyplot (about 0.3 s) and the audio tasks import
sounddevice (PortAudio). Nothing here draws with MediaPipe or records sound, and this
import sits on the path to the first analysed frame of every analysis. While MediaPipe
is being imported, those imports made *by MediaPipe's own modules* get an empty module;
afterwards the empty modules leave `sys.modules`, so anything else that imports
matplotlib or sounddevice, before or after, gets the real one. (MediaPipe's
`drawing_utils` keeps its empty `plt`: its plotting helpers are not usable in this
process, and nothing here calls them.)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import FrameType, ModuleType

# Imported by MediaPipe at import time, used only by helpers this project never calls.
UNUSED_BY_US = frozenset({"matplotlib", "matplotlib.pyplot", "sounddevice"})

# MediaPipe's package imports itself in a circle (mediapipe → tasks → core → mediapipe):
# two threads importing it at once can each meet the other's half-made module and fail.
_IMPORT_LOCK = threading.Lock()


class _EmptyModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `UNUSED_BY_US` as empty modules, only when a MediaPipe module asks."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in UNUSED_BY_US or not _importer().startswith("mediapipe"):
            return None
        package = any(name.startswith(fullname + ".") for name in UNUSED_BY_US)
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=package)
        if package:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default: an empty module

    def exec_module(self, module: ModuleType) -> None:
        module.__doc__ = "Left empty while MediaPipe was imported (vision.mediapipe_import)."


def _importer() -> str:
    """The module whose code is running the import being resolved now."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__") == __name__
    ):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "")) if frame is not None else ""


def import_mediapipe() -> ModuleType:
    """`mediapipe`, imported once, one thread at a time, without `UNUSED_BY_US`."""
    with _IMPORT_LOCK:
        loaded = sys.modules.get("mediapipe")
        if loaded is not None:
            return loaded
        finder = _EmptyModules()
        sys.meta_path.insert(0, finder)
        try:
            import mediapipe
            import mediapipe.tasks.python.vision  # noqa: F401  (PoseLandmarker and friends)
        finally:
            sys.meta_path.remove(finder)
            for name in UNUSED_BY_US:
                module = sys.modules.get(name)
                if module is not None and getattr(module.__spec__, "loader", None) is finder:
                    del sys.modules[name]
                    # A real parent package (matplotlib imported before) forgets it too.
                    parent, _, child = name.rpartition(".")
                    if parent and getattr(sys.modules.get(parent), child, None) is module:
                        delattr(sys.modules[parent], child)
        return mediapipe
