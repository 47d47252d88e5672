"""Fades to and from black (or white, or a dark grey).

A fade is a run of flat black (white) frames with a brightness ramp on either side: the outgoing
picture darkens towards the black, the incoming one brightens out of it. Fade-out plus hard cut-in
counts too. Black at the very start of the film is its opening fade-in, and black at the very end
its closing fade-out: those open and close the film and are not boundaries between shots.

Not every fade reaches black: some stop at a dark grey, or at a dim, low-contrast picture. Those
are runs of flat dark frames (no black among them); there the ramp is followed by the picture's
contrast coming back rather than by its brightness.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..vocabulary import TransitionKind
from .base import TransitionDetector
from .boundary import ShotBoundary
from .config import DEFAULTS, ShotDetectionConfig
from .flash import FlashFilter
from .scores import FrameScores
from .signatures import mad, runs

if TYPE_CHECKING:  # pragma: no cover
    from ..timecode import FrameTime
    from .signatures import Signatures


class FadeDetector(TransitionDetector):
    """Fades through black or white; after :meth:`detect`, ``opening``/``closing`` hold the film's
    own fade-in and fade-out (or ``None``).

    Args:
        rate: the film's frame rate (ramp lengths are limited in seconds).
        black_level: mean grey at or below which a flat frame is black.
        white_level: mean grey at or above which a flat frame is white.
        flat_std: largest grey spread of a black/white frame.
        grey_level: mean grey at or below which a flat frame (without black among its run) is a
            dark-grey fade's bottom.
        max_s: longest ramp (seconds) followed on either side of the black/white frames.
        min_change: the pictures before and after the black must differ by this much (else the
            shot dimmed and came back: no transition).
        min_shot_frames: black within this many frames of the film's start/end opens/closes it.
        flash: tells a blink to black inside a shot from a fade.
    """

    def __init__(
        self,
        rate: Fraction | float = 24,
        *,
        black_level: float = DEFAULTS.fade_black_level,
        white_level: float = DEFAULTS.fade_white_level,
        flat_std: float = DEFAULTS.fade_flat_std,
        grey_level: float = DEFAULTS.fade_grey_level,
        max_s: float = DEFAULTS.fade_max_s,
        min_change: float = DEFAULTS.fade_min_change,
        min_shot_frames: int = DEFAULTS.min_frames(24),
        flash: FlashFilter | None = None,
        scores: FrameScores | None = None,
    ):
        super().__init__(scores)
        self.rate = Fraction(rate).limit_denominator(100000)
        self.black_level = black_level
        self.white_level = white_level
        self.flat_std = flat_std
        self.grey_level = grey_level
        self.max_s = max_s
        self.min_change = min_change
        self.min_shot_frames = min_shot_frames
        self.flash = flash if flash is not None else FlashFilter()
        self.opening: ShotBoundary | None = None
        self.closing: ShotBoundary | None = None

    @classmethod
    def from_config(cls, config: ShotDetectionConfig, rate: Fraction | float, scores: FrameScores | None = None) -> FadeDetector:
        return cls(
            rate,
            black_level=config.fade_black_level,
            white_level=config.fade_white_level,
            flat_std=config.fade_flat_std,
            grey_level=config.fade_grey_level,
            max_s=config.fade_max_s,
            min_change=config.fade_min_change,
            min_shot_frames=config.min_frames(rate),
            flash=FlashFilter(config.flash_max_frames, config.flash_return_ratio),
            scores=scores,
        )

    def detect(self, signatures: Signatures, frame_times: Sequence[FrameTime]) -> list[ShotBoundary]:
        y, ystd, flat, d1 = signatures.luma, signatures.luma_std, signatures.flat, signatures.diff
        self.opening = self.closing = None
        out: list[ShotBoundary] = []
        for colour in ("black", "white", "grey"):
            if colour == "black":
                ext = (y <= self.black_level) & (ystd <= self.flat_std)
                v = y  # distance from black
                X = flat
            elif colour == "white":
                ext = (y >= self.white_level) & (ystd <= self.flat_std)
                v = 255.0 - y
                X = 255.0 - flat
            else:
                ext = (y <= self.grey_level) & (ystd <= self.flat_std)
                v = ystd  # distance from a flat grey: the picture's contrast
            for a, b in runs(ext):
                if colour == "grey":
                    if np.any(y[a : b + 1] <= self.black_level):
                        continue  # it reaches black: the black pass owns it
                    # the ramps head for this run's own grey
                    X = flat - float(np.median(y[a : b + 1]))
                gainy = self._gainy(X, d1, a, b)
                out.extend(self._fade(colour, a, b, v, ext, gainy, flat, frame_times))
        return out

    def _gainy(self, X: np.ndarray, d1: np.ndarray, a: int, b: int) -> np.ndarray:
        """Per frame near the run ``a``..``b``, whether the step into it is explained by a gain
        (the same picture, scaled towards the fade's colour ``X = 0``); False farther away."""
        n = len(X)
        limit = max(1, round(self.max_s * float(self.rate))) + 2
        lo, hi = max(0, a - limit), min(n, b + limit + 1)
        gainy = np.zeros(n, bool)
        A = np.abs(X[lo:hi])
        m = np.maximum(A.mean(axis=1, keepdims=True), 1.0)
        if hi - lo > 1:
            shape = np.abs(X[lo + 1 : hi] / m[1:] - X[lo : hi - 1] / m[:-1]).mean(axis=1) * np.maximum(m[1:], m[:-1])[:, 0]
            # near the colour, compression noise swamps the shape test
            dim = np.minimum(m[1:], m[:-1])[:, 0] < 2 * self.black_level
            gainy[lo + 1 : hi] = (shape <= 0.6 * d1[lo + 1 : hi] + 0.3) | dim
        return gainy

    def _fade(self, colour, a, b, v, ext, gainy, flat, frame_times) -> list[ShotBoundary]:
        """The fade (or the film's opening/closing) around the run of ``colour`` frames ``a``..``b``."""
        n = len(flat)
        hidden = int(np.sum(v[a : b + 1] > 2.0))  # ramp frames already below the black level
        out_start = a - self._ramp(v, ext, a - 1, -1, gainy, hidden)
        in_end = b + self._ramp(v, ext, b + 1, +1, gainy, hidden)
        ramps = (a - out_start) + (in_end - b)
        if a <= self.min_shot_frames:  # film opens on black / fades in
            if self.opening is None or in_end > self.opening.end_frame:
                self.opening = ShotBoundary(frame_times[min(b + 1, n - 1)], TransitionKind.FADE, 1.0, 0, in_end, "fade")
            return []
        if b >= n - 1 - self.min_shot_frames:  # film ends on black
            if self.closing is None or out_start < self.closing.start_frame:
                self.closing = ShotBoundary(frame_times[out_start], TransitionKind.FADE, 1.0, out_start, n - 1, "fade")
            return []
        change = mad(flat[max(0, out_start - 1)], flat[min(n - 1, in_end + 1)])
        if change < self.min_change:
            return []  # dims and comes back to the same picture: not a transition
        if colour == "grey" and ramps == 0:
            return []  # a flat dark stretch with a cut on either side: the cut detector's
        if self.flash.is_blink(flat, out_start, a, b, in_end):
            return []  # a flash (or a blink to black) inside one shot
        conf = 0.55 + 0.25 * min(1.0, ramps / 8) + 0.2 * min(1.0, (b - a + 1) / 3)
        return [ShotBoundary(frame_times[b + 1], TransitionKind.FADE, float(min(1.0, conf)), out_start, in_end, "fade")]

    def _ramp(self, v: np.ndarray, ext: np.ndarray, t: int, step: int, gainy: np.ndarray, hidden: int = 0) -> int:
        """Length of the fade ramp starting at frame ``t`` and walking in direction ``step``:
        frames whose distance ``v`` from black/white keeps growing (plateaus of <= 2 frames allowed)."""
        n = len(v)
        limit = max(1, round(self.max_s * float(self.rate)))
        start, prev, last = t, t - step, None
        while 0 <= t < n and abs(t - start) < limit and not ext[t]:
            # a linear ramp grows by ~1/j relative at frame j from the black: ask for half that
            j = abs(t - start) + 1 + hidden
            need = v[prev] * (1.0 + 0.5 / j) + 0.1
            if not gainy[t if step > 0 else t + 1]:
                break  # the picture itself changes: the ramp is over
            if v[t] > need:
                prev = last = t
            elif not any(0 <= t + j * step < n and v[t + j * step] > need for j in (1, 2)):
                break
            t += step
        return 0 if last is None else abs(last - start) + 1
