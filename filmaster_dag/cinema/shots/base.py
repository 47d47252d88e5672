"""The two shapes of shot detector, after PySceneDetect's ``SceneDetector``.

* :class:`FrameDetector` watches the film go by: ``process_frame`` once per decoded frame, in
  order, then ``post_process`` once at the end (hard cuts, TransNetV2, the colour signatures).
* :class:`TransitionDetector` looks at the whole film's signatures afterwards (fades, dissolves),
  because a gradual transition is only recognisable from the frames on both sides of it.

Both publish their per-frame measurements into a shared :class:`~.scores.FrameScores`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from .boundary import ShotBoundary
from .scores import FrameScores

if TYPE_CHECKING:  # pragma: no cover
    from ..media import DecodedFrame
    from ..timecode import FrameTime
    from .signatures import Signatures


class FrameDetector(ABC):
    """A detector fed one decoded frame at a time.

    ``columns`` names the per-frame scores it publishes into ``frame_scores`` (declared at construction,
    so the score table's column order does not depend on which detector speaks first).
    """

    columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, scores: FrameScores | None = None):
        self.frame_scores = scores if scores is not None else FrameScores()
        self.frame_scores.declare(*self.columns)
        self.frames = 0

    @abstractmethod
    def process_frame(self, frame: DecodedFrame) -> None:
        """Look at the next frame (presentation order); keep only what ``post_process`` needs."""

    @abstractmethod
    def post_process(self) -> object:
        """Called once after the last frame: finish the measurements, return what was found."""


class TransitionDetector(ABC):
    """A detector of transitions that span frames, run on the whole film's colour signatures."""

    columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, scores: FrameScores | None = None):
        self.frame_scores = scores if scores is not None else FrameScores()
        self.frame_scores.declare(*self.columns)

    @abstractmethod
    def detect(self, signatures: Signatures, frame_times: Sequence[FrameTime]) -> list[ShotBoundary]:
        """The transitions found, in film order, each placed on ``frame_times``."""
