"""Continuity signals across a cut: does the next shot carry on the same scene?

Each signal scores a pair of shots 0 (nothing carries over) .. 1 (the same scene for certain), or
``None`` when it has no evidence (no keyframe, an unknown shot scale, silence on both sides of the
cut). The grouping (:mod:`.grouping`) weighs the signals that have evidence.

* **structure**: the same set seen again. ORB feature matches that agree on one homography
  (RANSAC inliers) between the two shots' keyframes, or, for a near-identical framing (a jump
  cut, a return to the master shot), the structural similarity (SSIM) of small grey thumbnails.
* **colour**: the same light and production design. Histogram intersection of hue-saturation-
  value histograms.
* **scale**: a plausible shot-scale step. Inside a scene editors move a step or two along the
  scale; a jump out to a wide shot after a close one is how a new scene is usually established.
* **audio**: the soundtrack carries on across the cut (same level and spectrum ~0.5 s either side).
* **clip**: CLIP image-embedding cosine of the two shots, when embeddings exist.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from ..keyframes import decode_jpeg_rgb
from ..vocabulary import ShotScale

# Thumbnail for the structural similarity: small enough to ignore grain and slight motion.
SSIM_SIZE = (64, 36)
# ORB homography inliers between keyframes (bench/sequences.py, 630 keyframe-shot pairs of the
# assembled films): shots of different set-ups or films reach at most 11, the same set-up cut
# again has 26 or more in 9 pairs of 10 (median 143).
FEATURE_INLIERS_NONE, FEATURE_INLIERS_FULL = 10, 25
# SSIM of 64x36 thumbnails: different set-ups reach up to ~0.55 (two dark frames), so only a
# near-identical framing counts; it catches a static set-up too plain for features.
SSIM_NONE, SSIM_FULL = 0.55, 0.9


def colour_signature(jpeg: bytes) -> np.ndarray:
    """A normalised hue-saturation-value histogram of a keyframe (the shot's look)."""
    return _colour_signature_rgb(decode_jpeg_rgb(jpeg))


def _colour_signature_rgb(rgb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [12, 4, 4], [0, 180, 0, 256, 0, 256]).astype(np.float32)
    return (hist / max(float(hist.sum()), 1.0)).reshape(-1)


def visual_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram intersection of two colour signatures, 0 (nothing shared) .. 1 (same look)."""
    return float(np.minimum(a, b).sum())


_ORB = cv2.ORB_create  # type: ignore[attr-defined]  # created per call: OpenCV feature objects are not safe to share between threads


@dataclass
class ShotLook:
    """What one keyframe offers to the visual signals (computed once per keyframe)."""

    rgb: np.ndarray

    @cached_property
    def colour(self) -> np.ndarray:
        return _colour_signature_rgb(self.rgb)

    @cached_property
    def grey(self) -> np.ndarray:
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)

    @cached_property
    def thumb(self) -> np.ndarray:
        return cv2.resize(self.grey, SSIM_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)

    @cached_property
    def features(self) -> tuple[list, np.ndarray | None]:
        # Scale to a fixed width so that feature counts do not depend on the film's resolution.
        h, w = self.grey.shape
        grey = cv2.resize(self.grey, (320, max(1, round(h * 320 / w))), interpolation=cv2.INTER_AREA)
        orb = _ORB(nfeatures=500, fastThreshold=10)
        keypoints, descriptors = orb.detectAndCompute(grey, None)
        return list(keypoints), descriptors

    @classmethod
    def from_jpeg(cls, jpeg: bytes) -> ShotLook:
        return cls(decode_jpeg_rgb(jpeg))


def _ramp(x: float, none: float, full: float) -> float:
    return float(np.clip((x - none) / (full - none), 0.0, 1.0))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004) of two equal-size grey images, -1..1."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (7, 7), 1.5)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


def feature_inliers(a: ShotLook, b: ShotLook, ratio: float = 0.75) -> int:
    """ORB matches between two keyframes that pass Lowe's ratio test and agree on one homography."""
    (ka, da), (kb, db) = a.features, b.features
    if da is None or db is None or len(ka) < 8 or len(kb) < 8:
        return 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    if len(good) < 8:
        return len(good) // 2  # too few to fit a homography: weak evidence either way
    src = np.array([ka[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kb[m.trainIdx].pt for m in good], np.float32)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    return int(mask.sum()) if mask is not None else 0


def structure_score(a: list[ShotLook], b: list[ShotLook]) -> float | None:
    """0..1: the two shots show the same set (best pair of keyframes; features or thumbnail SSIM)."""
    if not a or not b:
        return None
    best = 0.0
    for x in a:
        for y in b:
            features = _ramp(feature_inliers(x, y), FEATURE_INLIERS_NONE, FEATURE_INLIERS_FULL)
            layout = _ramp(ssim(x.thumb, y.thumb), SSIM_NONE, SSIM_FULL)
            best = max(best, features, layout)
    return best


def features_score(a: list[ShotLook], b: list[ShotLook]) -> float | None:
    """0..1 from ORB homography inliers alone (best keyframe pair)."""
    if not a or not b:
        return None
    return max(_ramp(feature_inliers(x, y), FEATURE_INLIERS_NONE, FEATURE_INLIERS_FULL) for x in a for y in b)


def layout_score(a: list[ShotLook], b: list[ShotLook]) -> float | None:
    """0..1 from thumbnail SSIM alone (best keyframe pair)."""
    if not a or not b:
        return None
    return max(_ramp(ssim(x.thumb, y.thumb), SSIM_NONE, SSIM_FULL) for x in a for y in b)


# Histogram intersection: the same set-up cut again scores 0.73+ (9 pairs of 10); different set-ups of
# one scene and different scenes of one film overlap (medians 0.22 and 0.24, up to 0.6), different
# films mostly below 0.25. Colour separates films and looks, not the set-ups of one scene.
COLOUR_NONE, COLOUR_FULL = 0.3, 0.8


def colour_score(a: list[ShotLook], b: list[ShotLook]) -> float | None:
    """0..1: the two shots share a look (histogram intersection of the whole shots' keyframes)."""
    if not a or not b:
        return None
    ha = np.mean([x.colour for x in a], axis=0)
    hb = np.mean([y.colour for y in b], axis=0)
    return _ramp(visual_similarity(ha, hb), COLOUR_NONE, COLOUR_FULL)


# Wide (establishing) end of the scale first, so "wider" is a smaller number.
_SCALE_ORDER: list[str] = [
    str(s)
    for s in (
        ShotScale.EXTREME_WIDE,
        ShotScale.WIDE,
        ShotScale.MEDIUM_LONG,
        ShotScale.MEDIUM,
        ShotScale.MEDIUM_CLOSE_UP,
        ShotScale.CLOSE_UP,
        ShotScale.EXTREME_CLOSE_UP,
    )
]


def scale_score(before: str | None, after: str | None) -> float | None:
    """0..1: how plausible the cut ``before`` -> ``after`` is inside one scene (None if a scale is unknown).

    A step of up to two places either way is ordinary coverage (1.0). A larger jump in is still
    common (cutting to an insert), so it costs little; a large jump *out* to a wide shot is how a
    new scene is established, so it scores low.
    """
    try:
        i = _SCALE_ORDER.index(str(ShotScale.parse(before)))
        j = _SCALE_ORDER.index(str(ShotScale.parse(after)))
    except ValueError:
        return None
    step = j - i  # > 0: tighter, < 0: wider
    if abs(step) <= 2:
        return 1.0
    if step > 0:
        return 0.7
    return 0.2 if after in (ShotScale.WIDE, ShotScale.EXTREME_WIDE) else 0.4


# Audio: windows either side of the cut, skipping the frames at the cut itself (codec smear).
AUDIO_WINDOW_S, AUDIO_GAP_S = 0.5, 0.04
SILENCE_DBFS = -55.0


def _window_spectrum(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Log-magnitude spectrum (64 log-spaced bands, 60 Hz..8 kHz) and RMS level (dBFS) of a window."""
    n = 1024
    if len(samples) < n:
        samples = np.pad(samples, (0, n - len(samples)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, n)[:: n // 2]
    mag = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    edges = np.geomspace(60, min(8000, sample_rate / 2), 65)
    bands = np.array(
        [mag[(freqs >= lo) & (freqs < hi)].mean() if ((freqs >= lo) & (freqs < hi)).any() else 0.0 for lo, hi in itertools.pairwise(edges)]
    )
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return np.log10(bands + 1e-6), 20 * np.log10(max(rms, 1e-9))


def audio_score(samples: np.ndarray, sample_rate: int, cut_s: float) -> float | None:
    """0..1: the soundtrack carries on across a cut at ``cut_s`` (None: too near an end, or silence).

    Compares ~0.5 s before with ~0.5 s after: the correlation of the two log spectra (the same
    music, room tone or voice) times a level term (a drop of 10 dB costs half).
    """
    win, gap = int(AUDIO_WINDOW_S * sample_rate), int(AUDIO_GAP_S * sample_rate)
    at = round(cut_s * sample_rate)
    before = samples[max(0, at - gap - win) : max(0, at - gap)]
    after = samples[at + gap : at + gap + win]
    if len(before) < win // 2 or len(after) < win // 2:
        return None
    spec_a, level_a = _window_spectrum(before, sample_rate)
    spec_b, level_b = _window_spectrum(after, sample_rate)
    if max(level_a, level_b) < SILENCE_DBFS:
        return None  # silence on both sides says nothing about the scene
    if min(level_a, level_b) < SILENCE_DBFS:
        return 0.0  # sound stops (or starts) dead at the cut
    corr = float(np.corrcoef(spec_a, spec_b)[0, 1])
    level = 0.5 ** (abs(level_a - level_b) / 10.0)
    return float(np.clip(corr, 0.0, 1.0) * level)


# CLIP image-image cosine: unrelated frames ~0.5, a scene's shots ~0.8+ (ViT-B/32).
CLIP_NONE, CLIP_FULL = 0.55, 0.85


def clip_score(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """0..1 from the cosine of two shots' CLIP image embeddings (None when either is missing)."""
    if a is None or b is None:
        return None
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    return _ramp(cos, CLIP_NONE, CLIP_FULL)
