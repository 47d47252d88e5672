"""The shot boundary detector the decode pass feeds: the small detectors wired together.

Per frame: the colour signature, PySceneDetect's cut test and (optionally) TransNetV2. At the end
of the film: fades, dissolves, the cuts that survive the flash filter and lie outside any gradual
transition, and no shot shorter than ``min_shot_s``.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..timecode import FrameTime
from ..vocabulary import TransitionKind
from .boundary import Shot, ShotBoundary, overlaps
from .config import ShotDetectionConfig
from .cuts import CutDetector
from .dissolves import DissolveDetector
from .fades import FadeDetector
from .scores import FrameScores
from .segmentation import enforce_min_length, segment_shots
from .signatures import SignatureRecorder, mad, runs
from .transnet import TransitionNetwork, TransNetDetector

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..media import DecodedFrame, DecodePass
    from .signatures import Signatures


class ShotBoundaryDetector:
    """Frame analyser: ``update(frame)`` once per decoded frame, then ``finish(frame_times)``.

    After ``finish``: ``boundaries`` holds the transitions between shots, ``opening``/``closing``
    a fade-in at the film's start / fade-out at its end (not boundaries), and :meth:`scores` the
    per-frame scores every detector published.

    ``transition_network``: an already loaded TransNetV2 for the ``transnetv2`` and ``hybrid``
    detectors (default: the shipped weights, loaded once per process).
    """

    def __init__(
        self,
        config: ShotDetectionConfig | None = None,
        rate: Fraction | float = 24,
        transition_network: TransitionNetwork | None = None,
    ):
        import cv2  # noqa: F401  (fail early if missing)

        self.config = cfg = config or ShotDetectionConfig()
        self.rate = Fraction(rate).limit_denominator(100000)
        self.min_len = cfg.min_frames(self.rate)
        # built in the order of the score table's columns
        self.frame_scores = FrameScores()
        self.signature_recorder = SignatureRecorder(cfg.signature_size, self.frame_scores)
        self.cut_detector = CutDetector.from_config(cfg, self.rate, self.frame_scores) if cfg.detector != "transnetv2" else None
        self.transnet_detector = (
            TransNetDetector.from_config(cfg, transition_network, self.frame_scores) if cfg.detector in ("transnetv2", "hybrid") else None
        )
        self.dissolve_detector = DissolveDetector.from_config(cfg, self.frame_scores)
        self.fade_detector = FadeDetector.from_config(cfg, self.rate, self.frame_scores)
        self._n = 0
        self.opening: ShotBoundary | None = None
        self.closing: ShotBoundary | None = None
        self.boundaries: list[ShotBoundary] = []

    def update(self, frame: DecodedFrame) -> None:
        if self.cut_detector is not None:
            self.cut_detector.process_frame(frame)
        self.signature_recorder.process_frame(frame)
        if self.transnet_detector is not None:
            self.transnet_detector.process_frame(frame)
        self._n += 1

    def finish(self, frame_times: list[FrameTime] | None = None) -> list[ShotBoundary]:
        """The boundaries between shots, in film order (``frame_times``: one per frame seen)."""
        n = self._n
        if frame_times is None:
            frame_times = [FrameTime.from_frame(i, self.rate) for i in range(n)]
        if len(frame_times) != n:
            raise ValueError(f"detector saw {n} frames but {len(frame_times)} frame times were given")
        if n == 0:
            return []
        if self.cut_detector is not None:
            self.cut_detector.post_process()
        signatures = self.signature_recorder.post_process()
        if self.transnet_detector is not None:
            self.transnet_detector.post_process()
        fades = self.fade_detector.detect(signatures, frame_times)
        self.opening, self.closing = self.fade_detector.opening, self.fade_detector.closing
        if self.cut_detector is not None:
            dissolves = self.dissolve_detector.detect(signatures, frame_times)
            gradual = fades + [d for d in dissolves if not any(overlaps(d, f, 1) for f in fades)]
            cuts = self.cut_detector.boundaries(signatures, frame_times)
            if self.transnet_detector is not None:  # hybrid
                gradual += self._recover_gradual(gradual + cuts, signatures, frame_times)
        else:  # TransNetV2 alone; our fade test still names its fades and finds the film's opening/closing
            assert self.transnet_detector is not None
            cuts, tn_gradual = self.transnet_detector.boundaries(signatures, frame_times)
            gradual = [g if not any(overlaps(g, f, 1) for f in fades) else _as_fade(g, fades) for g in tn_gradual]
        ends = [e for e in (self.opening, self.closing) if e is not None]
        gradual = [g for g in gradual if not any(overlaps(g, e, 0) for e in ends)]
        # a cut inside (or touching) a gradual transition is the transition's own picture change
        cuts = [c for c in cuts if not any(g.start_frame - 1 <= c.at.frame <= g.end_frame + 1 for g in gradual + ends)]
        self.boundaries = enforce_min_length(sorted(gradual + cuts, key=lambda b: b.at.frame), n, self.min_len)
        return self.boundaries

    def _recover_gradual(self, found: list[ShotBoundary], signatures: Signatures, frame_times: list[FrameTime]) -> list[ShotBoundary]:
        """Hybrid: the gradual transitions TransNetV2's many-hot head sees where we found nothing.

        A span of at least ``hybrid_min_frames`` frames whose many-hot probability ("inside a
        gradual transition") stays above ``transnet_gradual_threshold``, touching none of our
        boundaries, becomes a dissolve (a fade if either end is a flat dark or bright frame), when
        the pictures just before and after it differ by ``dissolve_min_diff`` (a cheap check that
        the shot really changed: a whip pan or a flash the network mistakes comes back to the
        same colours less often than a new shot does)."""
        assert self.transnet_detector is not None
        cfg = self.config
        many = self.transnet_detector.many
        n = signatures.frames
        out = []
        for lo, hi in runs(many > cfg.transnet_gradual_threshold):
            if hi - lo + 1 < cfg.hybrid_min_frames or lo < 1 or hi >= n - 1:
                continue
            span = ShotBoundary(frame_times[(lo + hi + 1) // 2], TransitionKind.DISSOLVE, 0.0, lo, hi, "transnetv2")
            if any(overlaps(span, b, 2) for b in found):
                continue
            before, after = max(0, lo - 2), min(n - 1, hi + 2)
            if mad(signatures.flat[before], signatures.flat[after]) < cfg.dissolve_min_diff:
                continue
            # an end that is a flat dark (or bright) picture makes it a fade
            flat_end = [
                signatures.luma_std[e] <= cfg.fade_flat_std and not cfg.fade_grey_level < signatures.luma[e] < cfg.fade_white_level
                for e in (before, after)
            ]
            kind = TransitionKind.FADE if any(flat_end) else TransitionKind.DISSOLVE
            conf = float(np.clip(many[lo : hi + 1].mean(), 0.0, 1.0))
            out.append(ShotBoundary(span.at, kind, conf, lo, hi, "transnetv2"))
        return out

    def scores(self) -> pd.DataFrame:
        """Per-frame scores (after ``finish``): luma, luma_std, diff, content_val, transnet,
        transnet_many, dissolve (those the configured detectors publish)."""
        return self.frame_scores.table(self._n)


def _as_fade(g: ShotBoundary, fades: list[ShotBoundary]) -> ShotBoundary:
    """TransNetV2's gradual transition ``g`` as the fade it overlaps (our fade test saw black)."""
    f = next(f for f in fades if overlaps(g, f, 1))
    return ShotBoundary(
        f.at,
        TransitionKind.FADE,
        max(g.confidence, f.confidence),
        min(g.start_frame, f.start_frame),
        max(g.end_frame, f.end_frame),
        g.source,
    )


def detect_shots(
    path: str | os.PathLike,
    config: ShotDetectionConfig | None = None,
    analysis_width: int = 256,
    film: str | None = None,
    transition_network: TransitionNetwork | None = None,
) -> tuple[list[Shot], DecodePass]:
    """Decode ``path`` once with only the shot detector; return the shots and the decode pass."""
    from ..media import probe, run_decode_pass

    info = probe(path, film)
    det = ShotBoundaryDetector(config, info.frame_rate, transition_network)
    dp = run_decode_pass(path, [det], analysis_width, film, info)
    bounds = det.finish(dp.frame_times)
    return segment_shots(bounds, dp.frame_times, dp.duration_s, det.opening, det.closing), dp
