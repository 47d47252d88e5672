"""Dissolves (cross-fades): for a while each frame is a mix of the outgoing and incoming shot.

Test: frame ``t`` is (nearly) the mean of frames ``t-k`` and ``t+k`` while those two differ a lot,
no single frame step explains the change (that would be a cut), the change is not a brightness
gain (a fade ramp, a light going on), it covers most of the picture (a title fading in does not)
and it is confined to the window (a steady pan changes at the same rate everywhere). Several
half-windows ``k`` catch short and long dissolves.

When both shots move, the window is not confined (the camera changes the picture before and
after it too) and the mix is only roughly linear. A second test then accepts the window when the
picture's fine detail dips in its middle (two unrelated pictures half and half have about 0.7 of
their detail; a pan keeps its detail) and the signature path is still close to a straight line at
the middle and at the quarter points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..vocabulary import TransitionKind
from .base import TransitionDetector
from .boundary import ShotBoundary
from .config import DEFAULTS, ShotDetectionConfig
from .scores import FrameScores
from .signatures import runs

if TYPE_CHECKING:  # pragma: no cover
    from ..timecode import FrameTime
    from .signatures import Signatures


class DissolveDetector(TransitionDetector):
    """Dissolves between two shots; publishes the per-frame ``dissolve`` score (0 outside one).

    A dissolve whose ends touch black or white is reported as a fade. Differences are mean
    absolute differences of colour signatures, grey levels 0-255.

    Args:
        scales: half-window sizes ``k`` (frames) tried for the "frame t = mean(t-k, t+k)" test.
        min_diff: least difference between frames ``t-k`` and ``t+k``.
        max_residual: largest ``|f_t - (f_t-k + f_t+k)/2|`` as a fraction of ``|f_t+k - f_t-k|``.
        max_step: largest single-frame step inside the window as a fraction of the window's change.
        min_gain_free: least share of the change not explained by a brightness gain.
        max_context: largest change over the ``k`` frames before/after the window, as a fraction
            of the window's change.
        cell_change: a signature cell "changes" when it differs by more than this.
        min_coverage: least share of signature cells that change across a dissolve.
        min_frames: shortest dissolve reported.
        max_dip: the moving-shots test: largest detail in the middle of the window as a fraction
            of the mean detail at its ends.
        dip_max_residual: the moving-shots test: largest residual from the straight line (middle
            and quarter points) as a fraction of the window's change.
        dip_min_diff: the moving-shots test: least difference between frames ``t-k`` and ``t+k``.
        dip_max_path: the moving-shots test: largest sum of frame steps in the window as a
            multiple of the window's change.
        dip_min_gain_free: the moving-shots test: least share of the change not explained by a
            brightness gain (a shot brightening out of the dark loses detail too).
        straight_max_residual, straight_max_dip, straight_min_gain_free: the same test for a path
            that is nearly straight: a shallower dip and a larger brightness share are allowed.
        black_level, white_level: a window starting or ending this dark (bright) belongs to the
            fade detector.
    """

    columns = ("dissolve",)

    def __init__(
        self,
        *,
        scales: tuple[int, ...] = DEFAULTS.dissolve_scales,
        min_diff: float = DEFAULTS.dissolve_min_diff,
        max_residual: float = DEFAULTS.dissolve_max_residual,
        max_step: float = DEFAULTS.dissolve_max_step,
        min_gain_free: float = DEFAULTS.dissolve_min_gain_free,
        max_context: float = DEFAULTS.dissolve_max_context,
        cell_change: float = DEFAULTS.dissolve_cell_change,
        min_coverage: float = DEFAULTS.dissolve_min_coverage,
        min_frames: int = DEFAULTS.dissolve_min_frames,
        max_dip: float = DEFAULTS.dissolve_max_dip,
        dip_max_residual: float = DEFAULTS.dissolve_dip_max_residual,
        dip_min_diff: float = DEFAULTS.dissolve_dip_min_diff,
        dip_max_path: float = DEFAULTS.dissolve_dip_max_path,
        dip_min_gain_free: float = DEFAULTS.dissolve_dip_min_gain_free,
        straight_max_residual: float = DEFAULTS.dissolve_straight_max_residual,
        straight_max_dip: float = DEFAULTS.dissolve_straight_max_dip,
        straight_min_gain_free: float = DEFAULTS.dissolve_straight_min_gain_free,
        black_level: float = DEFAULTS.fade_black_level,
        white_level: float = DEFAULTS.fade_white_level,
        scores: FrameScores | None = None,
    ):
        super().__init__(scores)
        self.scales = tuple(scales)
        self.min_diff = min_diff
        self.max_residual = max_residual
        self.max_step = max_step
        self.min_gain_free = min_gain_free
        self.max_context = max_context
        self.cell_change = cell_change
        self.min_coverage = min_coverage
        self.min_frames = min_frames
        self.max_dip = max_dip
        self.dip_max_residual = dip_max_residual
        self.dip_min_diff = dip_min_diff
        self.dip_max_path = dip_max_path
        self.dip_min_gain_free = dip_min_gain_free
        self.straight_max_residual = straight_max_residual
        self.straight_max_dip = straight_max_dip
        self.straight_min_gain_free = straight_min_gain_free
        self.black_level = black_level
        self.white_level = white_level

    @classmethod
    def from_config(cls, config: ShotDetectionConfig, scores: FrameScores | None = None) -> DissolveDetector:
        return cls(
            scales=config.dissolve_scales,
            min_diff=config.dissolve_min_diff,
            max_residual=config.dissolve_max_residual,
            max_step=config.dissolve_max_step,
            min_gain_free=config.dissolve_min_gain_free,
            max_context=config.dissolve_max_context,
            cell_change=config.dissolve_cell_change,
            min_coverage=config.dissolve_min_coverage,
            min_frames=config.dissolve_min_frames,
            max_dip=config.dissolve_max_dip,
            dip_max_residual=config.dissolve_dip_max_residual,
            dip_min_diff=config.dissolve_dip_min_diff,
            dip_max_path=config.dissolve_dip_max_path,
            dip_min_gain_free=config.dissolve_dip_min_gain_free,
            straight_max_residual=config.dissolve_straight_max_residual,
            straight_max_dip=config.dissolve_straight_max_dip,
            straight_min_gain_free=config.dissolve_straight_min_gain_free,
            black_level=config.fade_black_level,
            white_level=config.fade_white_level,
            scores=scores,
        )

    def score(self, signatures: Signatures) -> tuple[np.ndarray, np.ndarray]:
        """Per frame, the best dissolve score over the scales (0: not inside a dissolve) and the
        half-window ``k`` that gave it."""
        n = signatures.frames
        flat, d1, edges = signatures.flat, signatures.diff, signatures.edges
        cs = np.concatenate([[0.0], np.cumsum(d1, dtype=np.float64)])
        best_score = np.zeros(n, np.float32)
        best_k = np.zeros(n, np.int32)
        for k in self.scales:
            if n <= 2 * k:
                continue
            a, c, b = flat[: n - 2 * k], flat[k : n - k], flat[2 * k :]
            absd = np.abs(b - a)
            D = absd.mean(axis=1)
            # a dissolve changes the whole picture; a title fading in/out changes a part of it
            cover = (absd.reshape(len(absd), -1, 3).max(axis=2) > self.cell_change).mean(axis=1)
            E = np.abs(c - 0.5 * (a + b)).mean(axis=1)
            # same picture, brighter/darker (a fade ramp, a light change) is not a dissolve
            ma = np.maximum(a.mean(axis=1, keepdims=True), 1.0)
            mb = np.maximum(b.mean(axis=1, keepdims=True), 1.0)
            G = np.abs(a / ma - b / mb).mean(axis=1) * 0.5 * (ma[:, 0] + mb[:, 0])
            # largest single step in (t-k, t+k]
            steps = np.lib.stride_tricks.sliding_window_view(d1[1:], 2 * k).max(axis=1)
            steps = steps[: n - 2 * k]
            total = (cs[2 * k + 1 :] - cs[1 : n - 2 * k + 1])[: n - 2 * k]  # sum of steps in window
            # shared by both tests: no cut inside, not a brightness gain, most of the picture
            # changes, and neither end is black or white (a fade: the fade detector owns it)
            common = (
                (cover >= self.min_coverage) & (np.minimum(ma, mb)[:, 0] > self.black_level) & (np.maximum(ma, mb)[:, 0] < self.white_level)
            )
            ok = (
                common
                & (G >= self.min_gain_free * D)
                & (D >= self.min_diff)
                & (E <= self.max_residual * D)
                & (steps <= self.max_step * D)
                & (D >= 0.5 * total)  # the steps add up coherently (not motion back and forth)
            )
            # the change is confined to the window: the k frames before and after are steadier
            # (a slow pan changes at the same rate everywhere)
            t = np.arange(k, n - k)
            pre = np.abs(flat[t - k] - flat[np.maximum(0, t - 2 * k)]).mean(axis=1)
            post = np.abs(flat[np.minimum(n - 1, t + 2 * k)] - flat[t + k]).mean(axis=1)
            ok &= np.maximum(pre, post) <= self.max_context * D
            if edges is not None and k >= 4:
                # moving shots: the detail dips mid-window and the path stays nearly straight
                h = k // 2
                dip = edges[k : n - k] / np.maximum(0.5 * (edges[: n - 2 * k] + edges[2 * k :]), 1e-3)
                q1 = np.abs(flat[k - h : n - k - h] - 0.75 * a - 0.25 * b).mean(axis=1)
                q3 = np.abs(flat[k + h : n - k + h] - 0.25 * a - 0.75 * b).mean(axis=1)
                bend = np.maximum(E, 0.5 * (q1 + q3))  # distance from the straight line A -> B
                moving = common & (D >= self.dip_min_diff) & (steps <= self.max_step * D) & (total <= self.dip_max_path * D)
                ok |= moving & (
                    # a clear dip on a roughly straight path, most of it not a brightness gain
                    ((dip <= self.max_dip) & (bend <= self.dip_max_residual * D) & (G >= self.dip_min_gain_free * D))
                    # or a straight path with some dip: between shots of unlike brightness, too
                    # (the less straight, the less of a brightness change it may be: a shot
                    # brightening while the camera moves also loses some detail)
                    | (
                        (dip <= self.straight_max_dip)
                        & (bend <= self.straight_max_residual * D)
                        & (G >= self.straight_min_gain_free * D + 2.5 * np.maximum(0.0, bend - 0.1 * D))
                    )
                )
            score = np.where(ok, D * (1 - E / np.maximum(D, 1e-6)), 0.0)
            idx = np.arange(k, n - k)
            better = score > best_score[idx]
            best_score[idx[better]] = score[better]
            best_k[idx[better]] = k
        return best_score, best_k

    def detect(self, signatures: Signatures, frame_times: Sequence[FrameTime]) -> list[ShotBoundary]:
        n = signatures.frames
        flat, luma = signatures.flat, signatures.luma
        best_score, best_k = self.score(signatures)
        self.frame_scores.set_column("dissolve", best_score)
        out = []
        for lo, hi in runs(best_score > 0):
            c = lo + int(np.argmax(best_score[lo : hi + 1]))
            k = int(best_k[lo : hi + 1].max())
            # span: frames whose projection on the line A=f[c-k] -> B=f[c+k] is a real mix
            A, B = flat[c - k], flat[c + k]
            ab = B - A
            alpha = (flat[c - k : c + k + 1] - A) @ ab / max(float(ab @ ab), 1e-6)
            s0 = s1 = k
            while s0 > 0 and alpha[s0 - 1] > 0.08:
                s0 -= 1
            while s1 < 2 * k and alpha[s1 + 1] < 0.92:
                s1 += 1
            s0, s1 = c - k + s0, c - k + s1
            if s1 - s0 + 1 < self.min_frames:
                continue
            at = (s0 + s1 + 1) // 2
            if at < 1 or at >= n:
                continue
            kind = TransitionKind.DISSOLVE
            ends = [max(0, s0 - 1), min(n - 1, s1 + 1)]
            if any(luma[e] <= self.black_level or luma[e] >= self.white_level for e in ends):
                kind = TransitionKind.FADE
            conf = float(np.clip(0.4 + 0.6 * min(1.0, best_score[c] / (3 * self.min_diff)), 0, 1))
            out.append(ShotBoundary(frame_times[at], kind, conf, s0, s1, "dissolve"))
        return out
