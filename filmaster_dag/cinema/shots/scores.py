"""Per-frame scores: the one table every shot detector publishes its measurements into.

Like PySceneDetect's ``StatsManager`` (a detector writes ``content_val`` for a frame, an editor
plots it later to see why a cut was or was not found), but columnar: one float column per score,
one row per decoded frame, read back as a DataFrame indexed by ``frame``.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class FrameScores:
    """Named per-frame score columns (``content_val``, ``diff``, ``dissolve``, ``transnet``...).

    A detector declares its columns when it is built (:meth:`declare`, which fixes the column
    order of :meth:`table`), then publishes either one frame at a time while the film is decoded
    (:meth:`set`) or a whole column at the end (:meth:`set_column`). Frames a detector skipped
    read as ``fill`` (0.0: "no change measured").
    """

    def __init__(self, fill: float = 0.0):
        self.fill = fill
        self._columns: dict[str, array | np.ndarray] = {}

    def declare(self, *names: str) -> None:
        """Reserve columns (in this order) that a detector will fill."""
        for name in names:
            self._columns.setdefault(name, array("d"))

    def set(self, name: str, frame: int, value: float) -> None:
        """Record ``value`` as the ``name`` score of ``frame`` (frames arrive in order; gaps are filled)."""
        col = self._columns.get(name)
        if not isinstance(col, array):
            col = self._columns[name] = array("d", [] if col is None else np.asarray(col, np.float64).tolist())
        if frame == len(col):  # the per-frame path: append
            col.append(value)
            return
        if frame > len(col):
            col.extend([self.fill] * (frame - len(col)))
            col.append(value)
            return
        col[frame] = value

    def set_column(self, name: str, values: np.ndarray) -> None:
        """Publish a score for every frame at once (scores computed at the end of the film)."""
        self._columns[name] = np.asarray(values)

    def get(self, name: str) -> np.ndarray | None:
        """The ``name`` column as a float32 array (``None`` when no detector published it)."""
        col = self._columns.get(name)
        if col is None or not len(col):
            return None
        return np.asarray(col, np.float32) if isinstance(col, array) else col.astype(np.float32, copy=False)

    @property
    def names(self) -> list[str]:
        """Columns that hold at least one frame, in declaration order."""
        return [n for n, c in self._columns.items() if len(c)]

    def table(self, frames: int | None = None) -> pd.DataFrame:
        """The scores as a float32 DataFrame indexed by ``frame``.

        With ``frames``, only columns covering exactly that many frames are kept (a detector that
        stopped early would otherwise misalign the rows)."""
        import pandas as pd

        cols = {n: self.get(n) for n in self.names}
        if frames is not None:
            cols = {n: v for n, v in cols.items() if v is not None and len(v) == frames}
        df = pd.DataFrame(cols)
        df.index.name = "frame"
        return df
