"""Hard cuts: PySceneDetect's ``AdaptiveDetector`` (or ``ContentDetector``) fed our decoded frames.

PySceneDetect decides where the cuts are. We keep its per-frame content score ourselves (the
same number, computed the same way, see :class:`ContentScore`) rather than read it from the
detector's private state, because the public route, a ``StatsManager``, makes the detector also
trace edges on every frame: several times the cost of the cut detection itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..vocabulary import TransitionKind
from .base import FrameDetector
from .boundary import ShotBoundary
from .config import DEFAULTS, ShotDetectionConfig
from .flash import FlashFilter
from .scores import FrameScores

if TYPE_CHECKING:  # pragma: no cover
    from ..media import DecodedFrame
    from ..timecode import FrameTime
    from .signatures import Signatures

CutMethod = Literal["adaptive", "content"]


class ContentScore:
    """PySceneDetect's ``content_val`` of each picture against the one before (0 for the first).

    The mean absolute change of hue, saturation and value between consecutive pictures, weighted
    by ``ContentDetector``'s component weights (all three, or value alone for ``luma_only``):
    0 for a still shot, tens for a cut. Bit-for-bit the score PySceneDetect compares with its
    thresholds (a test holds the two together through PySceneDetect's public ``StatsManager``).
    """

    def __init__(self, luma_only: bool = False):
        from scenedetect.detectors import ContentDetector

        weights = ContentDetector.LUMA_ONLY_WEIGHTS if luma_only else ContentDetector.DEFAULT_COMPONENT_WEIGHTS
        if weights.delta_edges:
            raise ValueError("edge-weighted content scores are not supported")  # we trace no edges
        self.weights = tuple(weights)
        self._norm = sum(abs(w) for w in weights)
        self._last: np.ndarray | None = None

    def __call__(self, bgr: np.ndarray) -> float:
        import cv2

        hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
        last, self._last = self._last, hsv
        if last is None:
            return 0.0
        pixels = float(bgr.shape[0] * bgr.shape[1])
        # integer sums (exact in float64) over the same pixels: the same value as PySceneDetect's
        hue, sat, lum, _ = cv2.sumElems(cv2.absdiff(hsv, last))
        components = (hue / pixels, sat / pixels, lum / pixels, 0.0)
        return sum(c * w for c, w in zip(components, self.weights, strict=True)) / self._norm


_SCORED: dict[type, type] = {}


def _scored(detector: type) -> type:
    """``detector`` (PySceneDetect's ``ContentDetector`` or a subclass) made to take each frame's
    content score from ``given_score`` instead of computing it again from the picture.

    The score is :class:`ContentScore`'s, bit for bit PySceneDetect's own (its HSV conversion and
    three mean distances cost as much as the rest of the cut detection); everything else, the
    thresholds, the adaptive window, the minimum shot length, stays PySceneDetect's code.
    """
    if detector not in _SCORED:

        def _calculate_frame_score(self, timecode, frame_img) -> float:
            return self.given_score

        _SCORED[detector] = type(
            f"Scored{detector.__name__}", (detector,), {"given_score": 0.0, "_calculate_frame_score": _calculate_frame_score}
        )
    return _SCORED[detector]


class CutDetector(FrameDetector):
    """Hard cuts, found by PySceneDetect on a small copy of each analysis picture.

    Per frame it feeds the picture to PySceneDetect and publishes ``content_val``; at the end
    :meth:`post_process` gives the frames PySceneDetect cut at and :meth:`boundaries` keeps the
    real ones: a visible change of the colour signature, and not a flash.

    Args:
        rate: the film's frame rate (PySceneDetect's timecodes).
        method: ``adaptive`` (score against the rolling mean of its neighbours; steadier on camera
            moves) or ``content`` (fixed threshold).
        adaptive_threshold: frame score / mean of neighbours' scores needed for a cut.
        adaptive_window: frames either side in the rolling mean.
        adaptive_min_content: minimum content score for an adaptive cut.
        content_threshold: content score threshold for a ``content`` cut.
        min_shot_frames: no cut within this many frames of the previous one.
        cut_width: width (px) at most of the picture scored; its HSV cost grows with pixels, and
            a cut changes every pixel.
        luma_only: score brightness alone (black-and-white films).
        min_change: minimum mean change of the colour signature at a cut (drops codec glitches
            the HSV score flags).
        flash: the flash filter applied to the cuts.
        source: the ``source`` written on the boundaries found.
    """

    columns = ("content_val",)

    def __init__(
        self,
        rate: Fraction | float = 24,
        method: CutMethod = "adaptive",
        *,
        adaptive_threshold: float = DEFAULTS.adaptive_threshold,
        adaptive_window: int = DEFAULTS.adaptive_window,
        adaptive_min_content: float = DEFAULTS.adaptive_min_content,
        content_threshold: float = DEFAULTS.content_threshold,
        min_shot_frames: int = DEFAULTS.min_frames(24),
        cut_width: int = DEFAULTS.cut_width,
        luma_only: bool = DEFAULTS.luma_only,
        min_change: float = DEFAULTS.cut_min_change,
        flash: FlashFilter | None = None,
        source: str | None = None,
        scores: FrameScores | None = None,
    ):
        super().__init__(scores)
        self.rate = Fraction(rate).limit_denominator(100000)
        self.method = method
        self.adaptive_threshold = adaptive_threshold
        self.adaptive_window = adaptive_window
        self.adaptive_min_content = adaptive_min_content
        self.content_threshold = content_threshold
        self.cut_width = cut_width
        self.min_change = min_change
        self.flash = flash if flash is not None else FlashFilter()
        self.source = source or method
        if method == "adaptive":
            from scenedetect.detectors import AdaptiveDetector

            self._detector = _scored(AdaptiveDetector)(
                adaptive_threshold=adaptive_threshold,
                min_scene_len=min_shot_frames,
                window_width=adaptive_window,
                min_content_val=adaptive_min_content,
                luma_only=luma_only,
            )
        elif method == "content":
            from scenedetect.detectors import ContentDetector

            self._detector = _scored(ContentDetector)(threshold=content_threshold, min_scene_len=min_shot_frames, luma_only=luma_only)
        else:
            raise ValueError(f"cut method {method!r}: expected 'adaptive' or 'content'")
        self._score = ContentScore(luma_only)
        self._cuts: list[int] = []

    @classmethod
    def from_config(cls, config: ShotDetectionConfig, rate: Fraction | float, scores: FrameScores | None = None) -> CutDetector:
        """The cut detector of ``config`` (``adaptive`` for the adaptive and hybrid detectors)."""
        return cls(
            rate,
            "content" if config.detector == "content" else "adaptive",
            adaptive_threshold=config.adaptive_threshold,
            adaptive_window=config.adaptive_window,
            adaptive_min_content=config.adaptive_min_content,
            content_threshold=config.content_threshold,
            min_shot_frames=config.min_frames(rate),
            cut_width=config.cut_width,
            luma_only=config.luma_only,
            min_change=config.cut_min_change,
            flash=FlashFilter(config.flash_max_frames, config.flash_return_ratio),
            source=config.detector,
            scores=scores,
        )

    def process_frame(self, frame: DecodedFrame) -> None:
        self.add(frame.bgr)

    def add(self, bgr: np.ndarray) -> None:
        """Score one BGR analysis picture (the next frame of the film)."""
        from scenedetect.common import FrameTimecode

        picture = self.cut_picture(bgr)
        # PySceneDetect decides on our score: the same number it would compute from the picture
        # (see ContentScore), measured once instead of twice.
        score = self._detector.given_score = self._score(picture)
        cuts = self._detector.process_frame(FrameTimecode(self.frames, self.rate), picture)
        if cuts:
            self._cuts.extend(c.frame_num for c in cuts)
        self.frame_scores.set("content_val", self.frames, score)
        self.frames += 1

    def cut_picture(self, bgr: np.ndarray) -> np.ndarray:
        """The picture scored: ``bgr`` shrunk by a whole factor to at most ``cut_width`` pixels."""
        import cv2

        h, w = bgr.shape[:2]
        factor = -(-w // max(1, self.cut_width))
        if factor <= 1:
            return bgr
        return cv2.resize(bgr, (w // factor, h // factor), interpolation=cv2.INTER_AREA)

    def post_process(self) -> list[int]:
        """Frames (first frame of the new shot) where PySceneDetect cut, in order, before filtering."""
        from scenedetect.common import FrameTimecode

        if self.frames:
            self._cuts.extend(c.frame_num for c in self._detector.post_process(FrameTimecode(self.frames - 1, self.rate)))
        self._cuts = sorted(set(self._cuts))
        return list(self._cuts)

    def boundaries(self, signatures: Signatures, frame_times: Sequence[FrameTime]) -> list[ShotBoundary]:
        """The cuts worth keeping (after :meth:`post_process`): inside the film, a visible change of
        the colour signature, not a flash; each with its :meth:`confidence`."""
        n = signatures.frames
        content = self.frame_scores.get("content_val")
        out = []
        for c in self._cuts:
            if c <= 0 or c >= n or signatures.diff[c] < self.min_change or self.flash.is_flash(signatures.flat, c):
                continue
            out.append(ShotBoundary(frame_times[c], TransitionKind.CUT, self.confidence(c, content), c, c, self.source))
        return out

    def confidence(self, cut: int, content: np.ndarray | None = None) -> float:
        """0.05-1: how far the content score at ``cut`` clears the threshold, in absolute terms and
        against its neighbours (half each; three times the threshold is full marks).

        ``content``: the published ``content_val`` column (read from the scores when omitted)."""
        content = self.frame_scores.get("content_val") if content is None else content
        if content is None:
            return 0.5
        s = float(content[cut])
        w = self.adaptive_window
        nb = np.concatenate([content[max(0, cut - w) : cut], content[cut + 1 : cut + 1 + w]])
        avg = float(nb.mean()) if len(nb) else 0.0
        ratio = s / avg if avg > 1e-5 else 255.0
        ref = self.adaptive_min_content if self.method == "adaptive" else self.content_threshold
        thr = self.adaptive_threshold if self.method == "adaptive" else 1.5
        conf = 0.5 * min(1.0, s / (3 * ref)) + 0.5 * min(1.0, ratio / (3 * thr))
        return float(np.clip(conf, 0.05, 1.0))
