"""MediaPipe imported without pyplot and sounddevice (vision.mediapipe_import).

Each check runs in a fresh interpreter: what is in `sys.modules` is the behaviour tested.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ALONE = """
import json, sys
from vision.mediapipe_import import import_mediapipe
mp = import_mediapipe()
from mediapipe.tasks.python.vision import PoseLandmarker, drawing_utils
left_out = sorted(n for n in ("matplotlib", "matplotlib.pyplot", "sounddevice") if n in sys.modules)
stub_plt = drawing_utils.plt
import matplotlib.pyplot as plt
print(json.dumps({
    "left_out": left_out,
    "image": hasattr(mp, "Image"),
    "landmarker": hasattr(PoseLandmarker, "create_from_options"),
    "stub_has_figure": hasattr(stub_plt, "figure"),
    "real_has_figure": callable(getattr(plt, "figure", None)),
    "same": import_mediapipe() is mp,
}))
"""

_AFTER_PYPLOT = """
import json
import matplotlib.pyplot as plt
from vision.mediapipe_import import import_mediapipe
import_mediapipe()
from mediapipe.tasks.python.vision import drawing_utils
print(json.dumps({"shared": drawing_utils.plt is plt}))
"""


_AFTER_MATPLOTLIB = """
import json, sys
import matplotlib
from vision.mediapipe_import import import_mediapipe
import_mediapipe()
print(json.dumps({
    "pyplot_loaded": "matplotlib.pyplot" in sys.modules,
    "attribute_left": hasattr(matplotlib, "pyplot"),
}))
"""


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_mediapipe_loads_without_pyplot_and_later_imports_get_the_real_one() -> None:
    """After the import, neither pyplot nor sounddevice is loaded, MediaPipe's pose task
    is there, and a later `import matplotlib.pyplot` (anyone else's) is the real library."""
    found = _run(_ALONE)
    assert found == {
        "left_out": [],
        "image": True,
        "landmarker": True,
        "stub_has_figure": False,
        "real_has_figure": True,
        "same": True,
    }


def test_pyplot_loaded_before_is_left_as_it_is() -> None:
    """If the process already has pyplot, MediaPipe gets that one: nothing is replaced."""
    assert _run(_AFTER_PYPLOT) == {"shared": True}


def test_matplotlib_loaded_before_keeps_no_empty_pyplot() -> None:
    """matplotlib itself loaded before, its pyplot not: MediaPipe's pyplot is the empty
    one, and afterwards neither `sys.modules` nor the real package refers to it."""
    assert _run(_AFTER_MATPLOTLIB) == {"pyplot_loaded": False, "attribute_left": False}
