"""Shot boundary detection: hard cuts, dissolves and fades, found inside our single decode pass.

:class:`ShotBoundaryDetector` is a frame analyser for :func:`media.run_decode_pass`. Per frame it
does two cheap things: feeds PySceneDetect's ``AdaptiveDetector`` (or ``ContentDetector``) with the
already-downscaled BGR analysis picture, and keeps a 16x9 colour signature of the frame. At
``finish`` it works on the signatures:

* **fades** - runs of flat black (or white) frames with a luminance ramp on either side. A fade-in
  at the very start (or fade-out at the very end) of the film is not a boundary: it becomes the
  first shot's ``transition_in="fade"`` (the last shot's ``transition_out``).
* **dissolves** - windows where frame ``t`` is (nearly) the average of frames ``t-k`` and ``t+k``
  while those two differ a lot and no single frame step explains the change (that would be a cut).
* **cuts** - the adaptive detector's cuts, minus flashes (content that returns to the previous
  picture within a few frames) and minus cuts inside a gradual transition.

Optional detectors: ``transnetv2`` (the shipped TransNetV2 weights, fed our 48x27 frames) and
``hybrid`` (adaptive cuts + our gradual detection + TransNetV2 to confirm/find gradual ones).
Pure domain code: no Dagster imports.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .timecode import FrameTime

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .media import DecodedFrame, DecodePass

BoundaryKind = Literal["cut", "dissolve", "fade"]
TransitionIn = Literal["start", "fade_in", "cut", "dissolve", "fade"]
# Transitions between two shots (the first shot opens with "start" or "fade_in", which are not).
BOUNDARY_KINDS = ("cut", "dissolve", "fade")

_LUMA = np.array([0.114, 0.587, 0.299], np.float32)  # BGR weights


class ShotDetectionConfig(BaseModel):
    """How shots are found. Defaults are the benchmarked ones (see ``bench/shot_detection.py``).

    Grey levels are 0-255; differences are mean absolute differences of 16x9 colour signatures.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    detector: Literal["adaptive", "content", "transnetv2", "hybrid"] = Field(
        "adaptive",
        description="adaptive: PySceneDetect AdaptiveDetector cuts + our fade/dissolve detection (fast, default); "
        "content: ContentDetector cuts + our fade/dissolve detection; transnetv2: TransNetV2 alone (slow on CPU); "
        "hybrid: adaptive cuts + our gradual detection + TransNetV2 for gradual transitions.",
    )
    # --- hard cuts (PySceneDetect) ---
    adaptive_threshold: float = Field(3.0, description="AdaptiveDetector: frame score / mean of neighbours' scores needed for a cut")
    adaptive_window: int = Field(2, ge=1, description="AdaptiveDetector: frames either side in the rolling average")
    adaptive_min_content: float = Field(15.0, description="AdaptiveDetector: minimum HSV content score for a cut")
    content_threshold: float = Field(27.0, description="ContentDetector: HSV content score threshold for a cut")
    cut_width: int = Field(160, ge=16, description="width (px) at most of the picture PySceneDetect scores for cuts")
    luma_only: bool = Field(False, description="score cuts on luminance only (black-and-white films)")
    min_shot_s: float = Field(0.5, ge=0, description="no shot shorter than this; the weaker boundary is dropped")
    cut_min_change: float = Field(5.0, description="min mean change of the 16x9 signature at a cut (drops codec glitches the HSV score flags)")
    # --- flashes ---
    flash_max_frames: int = Field(6, ge=0, description="a picture that returns to the pre-cut picture within this many frames is a flash, not a cut")
    flash_return_ratio: float = Field(0.4, description="'returns' = differs from the pre-cut picture by less than this fraction of the jump")
    # --- fades (to/from black or white) ---
    fade_black_level: float = Field(20.0, description="mean grey at or below which a flat frame is black")
    fade_white_level: float = Field(235.0, description="mean grey at or above which a flat frame is white")
    fade_flat_std: float = Field(10.0, description="max grey std-dev of a black/white frame")
    fade_max_s: float = Field(4.0, gt=0, description="longest fade ramp (seconds) followed on either side of the black/white frames")
    fade_min_change: float = Field(10.0, description="pictures before and after the black must differ by this much to be a transition")
    # --- dissolves ---
    dissolve_scales: tuple[int, ...] = Field((3, 6, 10, 16, 24), description="half-window sizes k (frames) for the 'frame t = mean(t-k, t+k)' test")
    dissolve_min_diff: float = Field(16.0, description="min difference between frames t-k and t+k")
    dissolve_max_residual: float = Field(0.22, description="max |f_t - (f_t-k + f_t+k)/2| as a fraction of |f_t+k - f_t-k|")
    dissolve_max_step: float = Field(0.4, description="max single-frame step inside the window as a fraction of the window's change (else it is a cut)")
    dissolve_min_gain_free: float = Field(0.5, description="min share of the window's change not explained by a brightness gain (else it is a fade ramp)")
    dissolve_max_context: float = Field(0.35, description="max change over the k frames before/after the window as a fraction of the window's change (a steady pan fails this)")
    dissolve_cell_change: float = Field(12.0, description="a signature cell 'changes' when it differs by more than this")
    dissolve_min_coverage: float = Field(0.5, description="min share of signature cells that change across a dissolve (titles/overlays change less)")
    dissolve_min_frames: int = Field(4, ge=2, description="shortest dissolve span reported")
    # --- TransNetV2 ---
    transnet_threshold: float = Field(0.5, description="TransNetV2 one-hot probability for a transition frame")
    transnet_gradual_threshold: float = Field(0.5, description="TransNetV2 many-hot probability marking frames inside a gradual transition")
    transnet_threads: int = Field(0, ge=0, description="torch CPU threads for TransNetV2 (0 = min(4, cpu count))")
    # --- internals ---
    signature_size: tuple[int, int] = Field((16, 9), description="(w, h) of the per-frame colour signature")


@dataclass(frozen=True)
class ShotBoundary:
    """A transition between two shots.

    ``at`` is the first frame of the incoming shot. ``start_frame``..``end_frame`` (inclusive) are
    the frames inside the transition: for a cut both equal ``at.frame``; for a dissolve the blended
    frames; for a fade the ramp(s) and the black/white frames.
    """

    at: FrameTime
    kind: BoundaryKind
    confidence: float
    start_frame: int
    end_frame: int
    source: str = "adaptive"

    def to_record(self) -> dict:
        return {
            "frame": self.at.frame,
            "seconds": self.at.seconds,
            "timecode": self.at.timecode,
            "kind": self.kind,
            "confidence": round(float(self.confidence), 4),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "source": self.source,
        }


@dataclass(frozen=True)
class Shot:
    """A shot ``[start, end)``; ``end`` is the first frame of the next shot (or one past the last).

    ``head_transition``/``tail_transition`` are inclusive frame ranges at the start/end of the shot
    that are still inside a transition (dissolve/fade frames): keyframes should avoid them.
    """

    index: int
    start: FrameTime
    end: FrameTime
    transition_in: TransitionIn
    transition_in_confidence: float
    transition_out: str = "end"
    head_transition: tuple[int, int] | None = None
    tail_transition: tuple[int, int] | None = None

    @property
    def duration_s(self) -> float:
        return self.end.seconds - self.start.seconds

    @property
    def frame_count(self) -> int:
        return self.end.frame - self.start.frame

    @property
    def clean_frames(self) -> tuple[int, int]:
        """``[first, last)`` frames outside any transition (falls back to the whole shot)."""
        lo, hi = self.start.frame, self.end.frame
        if self.head_transition:
            lo = max(lo, self.head_transition[1] + 1)
        if self.tail_transition:
            hi = min(hi, self.tail_transition[0])
        return (lo, hi) if hi > lo else (self.start.frame, self.end.frame)

    def to_record(self) -> dict:
        rec = asdict(self)
        rec["start"] = {"frame": self.start.frame, "seconds": self.start.seconds, "timecode": self.start.timecode}
        rec["end"] = {"frame": self.end.frame, "seconds": self.end.seconds, "timecode": self.end.timecode}
        rec["duration_s"] = round(self.duration_s, 6)
        return rec


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` index runs where ``mask`` is true."""
    if not len(mask):
        return []
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a - b)))


class ShotBoundaryDetector:
    """Frame analyser: ``update(frame)`` once per decoded frame, then ``finish(frame_times)``.

    After ``finish``: ``opening``/``closing`` hold a fade-in at the film's start / fade-out at its
    end (not boundaries), and :meth:`scores` gives the per-frame signals.
    """

    def __init__(self, config: ShotDetectionConfig | None = None, rate: Fraction | float = 24):
        import cv2  # noqa: F401  (fail early if missing)

        self.config = config or ShotDetectionConfig()
        self.rate = Fraction(rate).limit_denominator(100000)
        self.min_len = max(1, int(round(self.config.min_shot_s * float(self.rate))))
        cfg = self.config
        self._sd = None
        if cfg.detector in ("adaptive", "hybrid"):
            from scenedetect.detectors import AdaptiveDetector

            self._sd = AdaptiveDetector(
                adaptive_threshold=cfg.adaptive_threshold,
                min_scene_len=self.min_len,
                window_width=cfg.adaptive_window,
                min_content_val=cfg.adaptive_min_content,
                luma_only=cfg.luma_only,
            )
        elif cfg.detector == "content":
            from scenedetect.detectors import ContentDetector

            self._sd = ContentDetector(threshold=cfg.content_threshold, min_scene_len=self.min_len, luma_only=cfg.luma_only)
        self._transnet = None
        if cfg.detector in ("transnetv2", "hybrid"):
            from .transnet import TransNetV2Stream

            self._transnet = TransNetV2Stream(threads=cfg.transnet_threads or None)
        self._sigs: list[np.ndarray] = []
        self._content: list[float] = []
        self._sd_cuts: list[int] = []
        self._n = 0
        self._tn_single: np.ndarray | None = None
        self._tn_many: np.ndarray | None = None
        self._signals: dict[str, np.ndarray] = {}
        self.opening: ShotBoundary | None = None
        self.closing: ShotBoundary | None = None
        self.boundaries: list[ShotBoundary] = []

    # ------------------------------------------------------------------ per frame
    def update(self, frame: "DecodedFrame") -> None:
        import cv2

        bgr = frame.bgr
        i = self._n
        if self._sd is not None:
            from scenedetect.common import FrameTimecode

            cuts = self._sd.process_frame(FrameTimecode(i, self.rate), self._cut_picture(bgr))
            if cuts:
                self._sd_cuts.extend(c.frame_num for c in cuts)
            self._content.append(float(getattr(self._sd, "_frame_score", 0.0) or 0.0))
        self._sigs.append(cv2.resize(bgr, self.config.signature_size, interpolation=cv2.INTER_AREA))
        if self._transnet is not None:
            self._transnet.update(frame.tiny_rgb)
        self._n += 1

    def _cut_picture(self, bgr: np.ndarray) -> np.ndarray:
        """The picture PySceneDetect scores: the analysis picture shrunk by a whole factor to at
        most ``cut_width`` pixels (its HSV scoring cost grows with pixels; cuts change every pixel)."""
        import cv2

        h, w = bgr.shape[:2]
        factor = -(-w // max(1, self.config.cut_width))
        if factor <= 1:
            return bgr
        return cv2.resize(bgr, (w // factor, h // factor), interpolation=cv2.INTER_AREA)

    # ------------------------------------------------------------------ end of film
    def finish(self, frame_times: list[FrameTime] | None = None) -> list[ShotBoundary]:
        n = self._n
        if frame_times is None:
            frame_times = [FrameTime.from_frame(i, self.rate) for i in range(n)]
        if len(frame_times) != n:
            raise ValueError(f"detector saw {n} frames but {len(frame_times)} frame times were given")
        self._frame_times = frame_times
        if n == 0:
            return []
        if self._sd is not None:
            from scenedetect.common import FrameTimecode

            self._sd_cuts.extend(c.frame_num for c in self._sd.post_process(FrameTimecode(n - 1, self.rate)))
        sig = np.stack(self._sigs).astype(np.float32)  # (n, h, w, 3)
        self._sigs = []  # free the per-frame list; keep the array
        self._sig = sig
        luma = sig @ _LUMA
        self._y = luma.reshape(n, -1).mean(axis=1)
        self._ystd = luma.reshape(n, -1).std(axis=1)
        flat = sig.reshape(n, -1)
        self._flat = flat
        d1 = np.zeros(n, np.float32)
        if n > 1:
            d1[1:] = np.abs(flat[1:] - flat[:-1]).mean(axis=1)
        self._d1 = d1
        self._signals = {"luma": self._y, "luma_std": self._ystd, "diff": d1}
        if self._sd is not None:
            self._signals["content_val"] = np.asarray(self._content, np.float32)

        gradual: list[ShotBoundary] = []
        if self._transnet is not None:
            self._tn_single, self._tn_many = self._transnet.finish()
            self._signals["transnet"] = self._tn_single
            self._signals["transnet_many"] = self._tn_many
        if self.config.detector != "transnetv2":
            gradual = self._fades()
            gradual += [b for b in self._dissolves() if not any(_overlap(b, g, 1) for g in gradual)]
            cuts = self._cuts_from_sd()
            if self.config.detector == "hybrid":
                gradual = self._hybrid_gradual(gradual)
        else:
            fades = self._fades()  # opening/closing fades + fade classification
            tn_cuts, tn_grad = self._transnet_boundaries()
            gradual = [g if not any(_overlap(g, f, 1) for f in fades) else _as_fade(g, fades) for g in tn_grad]
            cuts = tn_cuts
        ends = [e for e in (self.opening, self.closing) if e is not None]
        gradual = [g for g in gradual if not any(_overlap(g, e, 0) for e in ends)]
        cuts = [c for c in cuts if not any(g.start_frame - 1 <= c.at.frame <= g.end_frame + 1 for g in gradual + ends)]
        self.boundaries = self._enforce_min_len(sorted(gradual + cuts, key=lambda b: b.at.frame))
        return self.boundaries

    # ------------------------------------------------------------------ cuts
    def _ft(self, i: int) -> FrameTime:
        return self._frame_times[i]

    def _is_flash(self, c: int) -> bool:
        cfg = self.config
        n = self._n
        if c < 1 or cfg.flash_max_frames <= 0:
            return False
        pre, new = self._flat[c - 1], self._flat[c]
        jump = _mad(pre, new)
        if jump <= 1e-6:
            return True
        lim = cfg.flash_return_ratio * jump
        for m in range(1, cfg.flash_max_frames + 1):
            # onset: the picture comes back to the pre-cut picture
            if c + m < n and _mad(pre, self._flat[c + m]) < lim:
                return True
            # end of a flash: the new picture is the one from before the flash
            if c - 1 - m >= 0 and _mad(new, self._flat[c - 1 - m]) < lim:
                return True
        return False

    def _cut_confidence(self, c: int) -> float:
        cfg = self.config
        content = self._signals.get("content_val")
        if content is None or not len(content):
            return 0.5
        s = float(content[c])
        w = cfg.adaptive_window
        nb = np.concatenate([content[max(0, c - w) : c], content[c + 1 : c + 1 + w]])
        avg = float(nb.mean()) if len(nb) else 0.0
        ratio = s / avg if avg > 1e-5 else 255.0
        ref = cfg.adaptive_min_content if cfg.detector != "content" else cfg.content_threshold
        thr = cfg.adaptive_threshold if cfg.detector != "content" else 1.5
        conf = 0.5 * min(1.0, s / (3 * ref)) + 0.5 * min(1.0, ratio / (3 * thr))
        return float(np.clip(conf, 0.05, 1.0))

    def _cuts_from_sd(self) -> list[ShotBoundary]:
        out = []
        for c in sorted(set(self._sd_cuts)):
            if c <= 0 or c >= self._n or self._d1[c] < self.config.cut_min_change or self._is_flash(c):
                continue
            out.append(ShotBoundary(self._ft(c), "cut", self._cut_confidence(c), c, c, self.config.detector))
        return out

    # ------------------------------------------------------------------ fades
    def _fades(self) -> list[ShotBoundary]:
        cfg = self.config
        n = self._n
        y, ystd = self._y, self._ystd
        self.opening = self.closing = None
        out: list[ShotBoundary] = []
        for colour in ("black", "white"):
            if colour == "black":
                ext = (y <= cfg.fade_black_level) & (ystd <= cfg.fade_flat_std)
                v = y  # distance from black
            else:
                ext = (y >= cfg.fade_white_level) & (ystd <= cfg.fade_flat_std)
                v = 255.0 - y
            # frame steps explained by a brightness gain (same picture, scaled towards the colour)
            X = self._flat if colour == "black" else 255.0 - self._flat
            m = np.maximum(X.mean(axis=1, keepdims=True), 1.0)
            shape = np.zeros(n, np.float32)
            if n > 1:
                shape[1:] = np.abs(X[1:] / m[1:] - X[:-1] / m[:-1]).mean(axis=1) * np.maximum(m[1:], m[:-1])[:, 0]
            dim = np.zeros(n, bool)  # near the colour, compression noise swamps the shape test
            if n > 1:
                dim[1:] = np.minimum(m[1:], m[:-1])[:, 0] < 2 * cfg.fade_black_level
            gainy = (shape <= 0.6 * self._d1 + 0.3) | dim
            for a, b in _runs(ext):
                hidden = int(np.sum(v[a : b + 1] > 2.0))  # ramp frames already below the black level
                out_start = a - self._ramp(v, ext, a - 1, -1, gainy, hidden)
                in_end = b + self._ramp(v, ext, b + 1, +1, gainy, hidden)
                ramps = (a - out_start) + (in_end - b)
                if a <= self.min_len:  # film opens on black / fades in
                    if self.opening is None or in_end > self.opening.end_frame:
                        self.opening = ShotBoundary(self._ft(min(b + 1, n - 1)), "fade", 1.0, 0, in_end, "fade")
                    continue
                if b >= n - 1 - self.min_len:  # film ends on black
                    if self.closing is None or out_start < self.closing.start_frame:
                        self.closing = ShotBoundary(self._ft(out_start), "fade", 1.0, out_start, n - 1, "fade")
                    continue
                pre = self._flat[max(0, out_start - 1)]
                post = self._flat[min(n - 1, in_end + 1)]
                change = _mad(pre, post)
                if change < cfg.fade_min_change:
                    continue  # dims and comes back to the same picture: not a transition
                if b - a + 1 <= cfg.flash_max_frames and a - out_start <= 2 and in_end - b <= 2:
                    jump = max(_mad(pre, self._flat[a]), _mad(post, self._flat[b]))
                    if change < cfg.flash_return_ratio * jump:
                        continue  # a flash (or a blink to black) inside one shot
                conf = 0.55 + 0.25 * min(1.0, ramps / 8) + 0.2 * min(1.0, (b - a + 1) / 3)
                out.append(ShotBoundary(self._ft(b + 1), "fade", float(min(1.0, conf)), out_start, in_end, "fade"))
        return out

    def _ramp(self, v: np.ndarray, ext: np.ndarray, t: int, step: int, gainy: np.ndarray, hidden: int = 0) -> int:
        """Length of the fade ramp starting at frame ``t`` and walking in direction ``step``:
        frames whose distance ``v`` from black/white keeps growing (plateaus of <= 2 frames allowed)."""
        n = len(v)
        limit = max(1, int(round(self.config.fade_max_s * float(self.rate))))
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

    # ------------------------------------------------------------------ dissolves
    def _dissolves(self) -> list[ShotBoundary]:
        cfg = self.config
        n = self._n
        flat, d1 = self._flat, self._d1
        cs = np.concatenate([[0.0], np.cumsum(d1, dtype=np.float64)])
        best_score = np.zeros(n, np.float32)
        best_k = np.zeros(n, np.int32)
        for k in cfg.dissolve_scales:
            if n <= 2 * k:
                continue
            a, c, b = flat[: n - 2 * k], flat[k : n - k], flat[2 * k :]
            absd = np.abs(b - a)
            D = absd.mean(axis=1)
            # a dissolve changes the whole picture; a title fading in/out changes a part of it
            cover = (absd.reshape(len(absd), -1, 3).max(axis=2) > cfg.dissolve_cell_change).mean(axis=1)
            E = np.abs(c - 0.5 * (a + b)).mean(axis=1)
            # same picture, brighter/darker (a fade ramp, a light change) is not a dissolve
            ma = np.maximum(a.mean(axis=1, keepdims=True), 1.0)
            mb = np.maximum(b.mean(axis=1, keepdims=True), 1.0)
            G = np.abs(a / ma - b / mb).mean(axis=1) * 0.5 * (ma[:, 0] + mb[:, 0])
            # largest single step in (t-k, t+k]
            steps = np.lib.stride_tricks.sliding_window_view(d1[1:], 2 * k).max(axis=1)
            steps = steps[: n - 2 * k]
            total = (cs[2 * k + 1 :] - cs[1 : n - 2 * k + 1])[: n - 2 * k]  # sum of steps in window
            ok = (
                (D >= cfg.dissolve_min_diff)
                & (E <= cfg.dissolve_max_residual * D)
                & (steps <= cfg.dissolve_max_step * D)
                & (D >= 0.5 * total)  # the steps add up coherently (not motion back and forth)
                & (G >= cfg.dissolve_min_gain_free * D)
                & (cover >= cfg.dissolve_min_coverage)
                # to/from black or white is a fade: the fade detector owns it
                & (np.minimum(ma, mb)[:, 0] > cfg.fade_black_level)
                & (np.maximum(ma, mb)[:, 0] < cfg.fade_white_level)
            )
            # the change is confined to the window: the k frames before and after are steadier
            # (a slow pan changes at the same rate everywhere)
            t = np.arange(k, n - k)
            pre = np.abs(flat[t - k] - flat[np.maximum(0, t - 2 * k)]).mean(axis=1)
            post = np.abs(flat[np.minimum(n - 1, t + 2 * k)] - flat[t + k]).mean(axis=1)
            ok &= np.maximum(pre, post) <= cfg.dissolve_max_context * D
            score = np.where(ok, D * (1 - E / np.maximum(D, 1e-6)), 0.0)
            idx = np.arange(k, n - k)
            better = score > best_score[idx]
            best_score[idx[better]] = score[better]
            best_k[idx[better]] = k
        self._signals["dissolve"] = best_score
        out = []
        for lo, hi in _runs(best_score > 0):
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
            if s1 - s0 + 1 < cfg.dissolve_min_frames:
                continue
            at = (s0 + s1 + 1) // 2
            if at < 1 or at >= n:
                continue
            kind: BoundaryKind = "dissolve"
            ends = [max(0, s0 - 1), min(n - 1, s1 + 1)]
            if any(self._y[e] <= cfg.fade_black_level or self._y[e] >= cfg.fade_white_level for e in ends):
                kind = "fade"
            conf = float(np.clip(0.4 + 0.6 * min(1.0, best_score[c] / (3 * cfg.dissolve_min_diff)), 0, 1))
            out.append(ShotBoundary(self._ft(at), kind, conf, s0, s1, "dissolve"))
        return out

    # ------------------------------------------------------------------ TransNetV2
    def _transnet_boundaries(self) -> tuple[list[ShotBoundary], list[ShotBoundary]]:
        cfg = self.config
        n = self._n
        single, many = self._tn_single, self._tn_many
        cuts, grad = [], []
        for lo, hi in _runs(single > cfg.transnet_threshold):
            # extend over the many-hot span (frames of a gradual transition)
            s0, s1 = lo, hi
            while s0 > 0 and many[s0 - 1] > cfg.transnet_gradual_threshold:
                s0 -= 1
            while s1 < n - 1 and many[s1 + 1] > cfg.transnet_gradual_threshold:
                s1 += 1
            conf = float(single[lo : hi + 1].max())
            if s1 - s0 + 1 <= 2:
                # one-hot marks the last frame of the outgoing shot: the cut is the largest step
                win = np.arange(max(1, s0), min(n, s1 + 2))
                if not len(win):
                    continue
                c = int(win[np.argmax(self._d1[win])])
                cuts.append(ShotBoundary(self._ft(c), "cut", conf, c, c, "transnetv2"))
            else:
                at = min(n - 1, (s0 + s1 + 1) // 2)
                grad.append(ShotBoundary(self._ft(at), "dissolve", conf, s0, s1, "transnetv2"))
        return cuts, grad

    def _hybrid_gradual(self, ours: list[ShotBoundary]) -> list[ShotBoundary]:
        """Keep our fades; keep our dissolves TransNetV2 agrees with; add TransNetV2's long ones."""
        _, tn_grad = self._transnet_boundaries()
        out = []
        for g in ours:
            if g.kind == "fade" or any(_overlap(g, t, 2) for t in tn_grad) or g.confidence >= 0.8:
                out.append(g)
        for t in tn_grad:
            if not any(_overlap(t, g, 2) for g in out) and t.confidence >= 0.8:
                out.append(t)
        return out

    # ------------------------------------------------------------------ tidy up
    def _enforce_min_len(self, bounds: list[ShotBoundary]) -> list[ShotBoundary]:
        n = self._n
        keep = [b for b in bounds if self.min_len <= b.at.frame <= n - self.min_len]
        changed = True
        while changed and len(keep) > 1:
            changed = False
            for i in range(len(keep) - 1):
                if keep[i + 1].at.frame - keep[i].at.frame < self.min_len:
                    drop = i if keep[i].confidence < keep[i + 1].confidence else i + 1
                    keep.pop(drop)
                    changed = True
                    break
        return keep

    def scores(self) -> "pd.DataFrame":
        """Per-frame signals (after ``finish``): luma, luma_std, diff, content_val, dissolve, transnet..."""
        import pandas as pd

        df = pd.DataFrame({k: v for k, v in self._signals.items() if len(v) == self._n})
        df.index.name = "frame"
        return df


def _overlap(a: ShotBoundary, b: ShotBoundary, slack: int = 0) -> bool:
    return a.start_frame <= b.end_frame + slack and b.start_frame <= a.end_frame + slack


def _as_fade(g: ShotBoundary, fades: list[ShotBoundary]) -> ShotBoundary:
    f = next(f for f in fades if _overlap(g, f, 1))
    return ShotBoundary(f.at, "fade", max(g.confidence, f.confidence), min(g.start_frame, f.start_frame), max(g.end_frame, f.end_frame), g.source)


def segment_shots(
    boundaries: list[ShotBoundary],
    frame_times: list[FrameTime],
    duration_s: float,
    opening: ShotBoundary | None = None,
    closing: ShotBoundary | None = None,
) -> list[Shot]:
    """Cut the film ``[0, duration_s)`` into shots at ``boundaries``; durations sum to ``duration_s``."""
    if not frame_times:
        return []
    n = len(frame_times)
    rate = frame_times[0].rate
    bounds = sorted((b for b in boundaries if 0 < b.at.frame < n), key=lambda b: b.at.frame)
    end_ft = FrameTime(frame=n, seconds=round(float(duration_s), 6), rate=rate)
    starts = [frame_times[0]] + [frame_times[b.at.frame] for b in bounds]
    ends = [frame_times[b.at.frame] for b in bounds] + [end_ft]
    shots = []
    for i, (s, e) in enumerate(zip(starts, ends)):
        bin_ = bounds[i - 1] if i > 0 else None
        bout = bounds[i] if i < len(bounds) else None
        head = tail = None
        if bin_ is not None:
            t_in, conf = bin_.kind, bin_.confidence
            if bin_.end_frame >= s.frame and bin_.kind != "cut":
                head = (s.frame, min(bin_.end_frame, e.frame - 1))
        elif opening is not None:
            t_in, conf = "fade_in", opening.confidence
            head = (0, min(opening.end_frame, e.frame - 1))
        else:
            t_in, conf = "start", 1.0
        if bout is not None:
            t_out = bout.kind
            if bout.start_frame < bout.at.frame and bout.kind != "cut":
                tail = (max(s.frame, bout.start_frame), bout.at.frame - 1)
        elif closing is not None:
            t_out = "fade_out"
            tail = (max(s.frame, closing.start_frame), n - 1)
        else:
            t_out = "end"
        shots.append(Shot(i, s, e, t_in, float(conf), t_out, head, tail))
    return shots


def detect_shots(
    path: str | os.PathLike,
    config: ShotDetectionConfig | None = None,
    analysis_width: int = 256,
    film: str | None = None,
) -> tuple[list[Shot], "DecodePass"]:
    """Decode ``path`` once with only the shot detector; return the shots and the decode pass."""
    from .media import probe, run_decode_pass

    info = probe(path, film)
    det = ShotBoundaryDetector(config, info.frame_rate)
    dp = run_decode_pass(path, [det], analysis_width, film, info)
    bounds = det.finish(dp.frame_times)
    return segment_shots(bounds, dp.frame_times, dp.duration_s, det.opening, det.closing), dp
