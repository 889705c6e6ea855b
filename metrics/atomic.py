"""Write a file so that readers only ever see the old one or the complete new one.

The one atomic writer of every layer (reports, time series, tracks, the model cache): it
sits in metrics/, the bottom layer every other package may import, and needs only the
standard library.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(
    final: Path, write: Callable[[Path], object], *, suffix: str | None = None
) -> None:
    """Have `write` fill a temporary file beside `final`, then move it into place.

    The temporary file is named ``.<final name>.<random><suffix>``; `suffix` defaults to
    `final`'s own (writers such as `numpy.savez` add theirs otherwise). It is removed on
    any failure, so a crash never leaves half a file.
    """
    final = Path(final)
    end = final.suffix if suffix is None else suffix
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=end, dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
