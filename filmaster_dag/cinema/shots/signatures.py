"""Tiny colour signatures of every frame: what the fade, dissolve and flash tests look at.

A 16x9 area-averaged picture is enough to tell one shot from another, a picture from black, and
frame ``t`` from the mix of ``t-k`` and ``t+k``, and a whole film's worth fits in memory
(432 floats a frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import FrameDetector
from .scores import FrameScores

if TYPE_CHECKING:  # pragma: no cover
    from ..media import DecodedFrame

LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float32)
"""Rec. 601 luma weights, in OpenCV's BGR channel order."""


@dataclass(frozen=True)
class Signatures:
    """The film's frames as signatures, and the signals every transition test shares.

    ``flat``: (frames, cells x 3) float32 BGR grey levels 0-255; ``luma``/``luma_std``: mean and
    spread of each frame's grey; ``diff``: mean absolute change from the previous frame (0 for the
    first frame), the size of a frame-to-frame step; ``edges``: each frame's fine detail (mean
    absolute grey gradient of a 128x72 picture, see :func:`edge_energy`), or ``None`` when only the
    signatures were kept. Two unrelated pictures mixed half and half have about 0.7 of their
    detail, so the detail dips in the middle of a dissolve, where a pan keeps it.
    """

    flat: np.ndarray
    luma: np.ndarray
    luma_std: np.ndarray
    diff: np.ndarray
    edges: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return len(self.flat)

    @classmethod
    def from_pictures(cls, pictures: np.ndarray, edges: np.ndarray | None = None) -> Signatures:
        """Signals of ``pictures`` (frames, h, w, 3) BGR (``edges``: their :func:`edge_energy`)."""
        sig = np.asarray(pictures).astype(np.float32)
        n = len(sig)
        luma = (sig @ LUMA_BGR).reshape(n, -1)
        flat = sig.reshape(n, -1)
        diff = np.zeros(n, np.float32)
        if n > 1:
            diff[1:] = np.abs(flat[1:] - flat[:-1]).mean(axis=1)
        edges = None if edges is None else np.asarray(edges, np.float32)
        return cls(flat=flat, luma=luma.mean(axis=1), luma_std=luma.std(axis=1), diff=diff, edges=edges)


class SignatureRecorder(FrameDetector):
    """Keeps each frame's colour signature; ``post_process`` returns the film's :class:`Signatures`
    and publishes ``luma``, ``luma_std`` and ``diff`` per frame.

    Args:
        size: ``(width, height)`` of the signature in cells.
    """

    columns = ("luma", "luma_std", "diff", "edges")

    def __init__(self, size: tuple[int, int] = (16, 9), scores: FrameScores | None = None):
        super().__init__(scores)
        self.size = tuple(size)
        self._pictures: list[np.ndarray] = []
        self._edges: list[float] = []

    def process_frame(self, frame: DecodedFrame) -> None:
        self.add(frame.bgr)

    def add(self, bgr: np.ndarray) -> None:
        """Record one BGR picture (any size: it is area-averaged down to the signature)."""
        import cv2

        self._pictures.append(cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA))
        self._edges.append(edge_energy(bgr))
        self.frames += 1

    def post_process(self) -> Signatures:
        if not self._pictures:
            empty = np.zeros(0, np.float32)
            return Signatures(np.zeros((0, 3 * self.size[0] * self.size[1]), np.float32), empty, empty, empty)
        edges = np.asarray(self._edges, np.float32)
        signatures = Signatures.from_pictures(np.stack(self._pictures), edges)
        self._pictures, self._edges = [], []  # free the per-frame lists; the signatures hold the film now
        self.frame_scores.set_column("luma", signatures.luma)
        self.frame_scores.set_column("luma_std", signatures.luma_std)
        self.frame_scores.set_column("diff", signatures.diff)
        self.frame_scores.set_column("edges", edges)
        return signatures


EDGE_SIZE = (128, 72)
"""The picture whose grey gradient measures a frame's detail: fine enough for texture (grass,
fur, brickwork), coarse enough to ignore compression noise."""


def edge_energy(bgr: np.ndarray) -> float:
    """A picture's fine detail: the mean absolute difference of neighbouring grey levels (0-255)
    of its 128x72 copy, across and down."""
    import cv2

    # grey first: shrinking one channel by a fractional factor costs a third of shrinking three
    g = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), EDGE_SIZE, interpolation=cv2.INTER_AREA)
    h, w = g.shape
    across = cv2.sumElems(cv2.absdiff(g[:, 1:], g[:, :-1]))[0] / (h * (w - 1))
    down = cv2.sumElems(cv2.absdiff(g[1:], g[:-1]))[0] / ((h - 1) * w)
    return float(across + down)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` index runs where ``mask`` is true."""
    if not len(mask):
        return []
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two signatures: how different two pictures look."""
    return float(np.mean(np.abs(a - b)))
