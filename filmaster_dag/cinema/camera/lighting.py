"""Lighting and colour of a shot: lighting key, brightness, contrast, saturation, colour
temperature and a dominant-colour palette."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
import pandas as pd

from ..vocabulary import LightingKey

_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])


def _srgb_linear_lut() -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


_LIN_LUT = _srgb_linear_lut()


def cct_from_linear_rgb(r: float, g: float, b: float) -> float:
    """Correlated colour temperature (K) of a linear-sRGB colour, McCamy's cubic on CIE xy.

    NaN for (near) black. Clipped to 1000..25000 K: McCamy's formula is only meaningful near the
    Planckian locus (~2000-12000 K); strongly saturated colours give a nominal value.
    """
    X, Y, Z = _SRGB_TO_XYZ @ np.array([r, g, b], dtype=np.float64)
    s = X + Y + Z
    if not np.isfinite(s) or s <= 1e-4 or Y <= 1e-4:
        return float("nan")
    x, y = X / s, Y / s
    if abs(0.1858 - y) < 1e-6:
        return float("nan")
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1000.0, 25000.0))


def colour_temperature_k(picture: np.ndarray, bgr: bool = False) -> float:
    """CCT (K) of a uint8 picture's mean colour (RGB, or BGR with ``bgr=True``), averaged in linear light."""
    lin = cv2.LUT(np.ascontiguousarray(picture[..., :3]), _LIN_LUT)
    c0, c1, c2 = cv2.mean(lin)[:3]
    return cct_from_linear_rgb(c2, c1, c0) if bgr else cct_from_linear_rgb(c0, c1, c2)


#: Lighting key from the luma (Rec.601, 0..1) of the keyframes (else the per-frame signals):
#: low key if the mean luma <= LOW_KEY_MEAN or at least LOW_KEY_DARK_FRACTION of the pixels are
#: darker than DARK_LUMA; high key if the mean luma >= HIGH_KEY_MEAN and at most
#: HIGH_KEY_DARK_FRACTION of the pixels are darker than DARK_LUMA; normal otherwise.
LOW_KEY_MEAN = 0.28
LOW_KEY_DARK_FRACTION = 0.55
HIGH_KEY_MEAN = 0.62
HIGH_KEY_DARK_FRACTION = 0.08
DARK_LUMA = 0.2


@dataclass
class Lighting:
    """Lighting key and colour of a shot. ``palette``: hex colours, heaviest first, with ``weights``."""

    key: str  # a LightingKey value
    brightness: float
    contrast: float
    saturation: float
    colour_temperature_k: float
    dark_fraction: float
    palette: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def to_record(self) -> dict:
        return asdict(self)


def _kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means (k-means++ init from ``seed``): returns (labels, centres)."""
    rng = np.random.default_rng(seed)
    k = min(k, len(x))
    centres = [x[rng.integers(len(x))]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        if d2.sum() <= 0:
            break
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((x - centres[-1]) ** 2).sum(1))
    c = np.array(centres, dtype=np.float64)
    labels = np.zeros(len(x), dtype=np.int64)
    for it in range(iters):
        dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(2)
        new = dist.argmin(1)
        if it and np.array_equal(new, labels):
            break
        labels = new
        for j in range(len(c)):
            members = x[labels == j]
            if len(members):
                c[j] = members.mean(0)
    return labels, c


def palette(images: Sequence[np.ndarray], k: int = 5, sample: int = 4000, seed: int = 0) -> tuple[list[str], list[float]]:
    """~``k`` dominant colours of RGB pictures: k-means in CIELAB on a deterministic pixel sample.

    Returns hex colours (the mean sRGB of each cluster), heaviest first, and their weights
    (fractions of the sample, summing to 1). Near-duplicate clusters are not merged.
    """
    pix = []
    for img in images:
        if img is None or img.size == 0 or img.ndim != 3:
            continue
        small = cv2.resize(img[..., :3], (64, max(1, round(img.shape[0] * 64 / img.shape[1]))), interpolation=cv2.INTER_AREA)
        pix.append(small.reshape(-1, 3))
    if not pix:
        return [], []
    rgb = np.concatenate(pix)
    rng = np.random.default_rng(seed)
    if len(rgb) > sample:
        rgb = rgb[rng.choice(len(rgb), sample, replace=False)]
    lab = cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
    labels, _ = _kmeans(lab, k, seed)
    out = []
    for j in np.unique(labels):
        members = rgb[labels == j]
        r, g, b = (round(v) for v in members.mean(0))
        out.append((len(members) / len(rgb), f"#{r:02x}{g:02x}{b:02x}"))
    out.sort(key=lambda t: (-t[0], t[1]))
    return [h for _, h in out], [round(float(w), 4) for w, _ in out]


def _nanmedian(series) -> float:
    v = np.asarray(series, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def measure_lighting(signals: pd.DataFrame | None, images: Sequence[np.ndarray] = ()) -> Lighting:
    """Lighting key, brightness/contrast/saturation/colour temperature and palette of a shot.

    Brightness, contrast, saturation and colour temperature are medians of the per-frame signals
    (robust to flashes and the odd transition frame); without signals they come from the
    images. The key follows the rule documented at :data:`LOW_KEY_MEAN` on the images' luma
    histogram (the signals' median brightness when there are no images). Palette from the images.
    """
    imgs = [im for im in images if im is not None and getattr(im, "ndim", 0) == 3 and im.size]
    luma = np.concatenate([cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2GRAY).ravel() for im in imgs]) / 255.0 if imgs else None
    if signals is not None and len(signals) > 0:
        brightness = _nanmedian(signals["brightness"])
        contrast = _nanmedian(signals["contrast"])
        saturation = _nanmedian(signals["saturation"])
        cct = _nanmedian(signals["colour_temperature_k"])
    elif luma is not None:  # there are images
        brightness = float(luma.mean())
        contrast = float(luma.std())
        saturation = float(np.mean([cv2.mean(cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2HSV))[1] for im in imgs]) / 255.0)
        cct = _nanmedian([colour_temperature_k(im) for im in imgs])
    else:
        nan = float("nan")
        return Lighting(LightingKey.UNKNOWN.value, nan, nan, nan, nan, nan)
    if luma is not None:
        mean_l = float(luma.mean())
        dark = float(np.mean(luma < DARK_LUMA))
    else:
        mean_l, dark = brightness, float("nan")
    if mean_l <= LOW_KEY_MEAN or (np.isfinite(dark) and dark >= LOW_KEY_DARK_FRACTION):
        key = LightingKey.LOW_KEY
    elif mean_l >= HIGH_KEY_MEAN and (not np.isfinite(dark) or dark <= HIGH_KEY_DARK_FRACTION):
        key = LightingKey.HIGH_KEY
    else:
        key = LightingKey.NORMAL
    hexes, weights = palette(imgs) if imgs else ([], [])
    return Lighting(
        key.value,
        round(brightness, 4),
        round(contrast, 4),
        round(saturation, 4),
        round(cct, 1) if np.isfinite(cct) else cct,
        round(dark, 4) if np.isfinite(dark) else dark,
        hexes,
        weights,
    )
